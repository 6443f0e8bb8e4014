//! `ApiError`: every way a Rocket.Chat route can fail, and the only place that knows
//! the exact bodies the real server sends for each (see `docs/CONTRACT.md`, section 2).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::domain::rules::ContactError;

/// The 401 message, shared by every Rocket.Chat route that requires a login.
pub(crate) const NOT_LOGGED_IN: &str = "You must be logged in to do this.";
/// The 403 message of the permission check on legacy routes.
pub(crate) const NO_PERMISSION: &str =
    "User does not have the permissions required for this action [error-unauthorized]";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing headers, unknown user, wrong token or deactivated user.
    #[error("{NOT_LOGGED_IN}")]
    Unauthorized,
    /// Logged in, but none of the user's roles holds the route's permission.
    #[error("{NO_PERMISSION}")]
    Forbidden,
    /// The body failed schema validation; the payload is AJV's single message.
    #[error("{0} [invalid-params]")]
    InvalidParams(String),
    /// A business rule of the handler failed; the payload is Rocket.Chat's error code or text.
    #[error("{0}")]
    Business(String),
    /// The body is larger than the configured limit.
    #[error("Request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// No route serves this method and path.
    #[error("Route not found: {method} {path}")]
    NotFound { method: String, path: String },
}

impl ApiError {
    /// The JSON body, with keys in the order the real server writes them.
    pub fn body(&self) -> Value {
        match self {
            Self::Unauthorized => json!({ "status": "error", "message": NOT_LOGGED_IN }),
            Self::InvalidParams(_) => {
                json!({ "success": false, "error": self.to_string(), "errorType": "invalid-params" })
            }
            Self::Forbidden
            | Self::Business(_)
            | Self::PayloadTooLarge { .. }
            | Self::NotFound { .. } => json!({ "success": false, "error": self.to_string() }),
        }
    }
}

impl From<ContactError> for ApiError {
    fn from(error: ContactError) -> Self {
        Self::Business(error.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::InvalidParams(_) | Self::Business(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}
