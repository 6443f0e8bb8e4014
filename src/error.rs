//! `ApiError`: every way a request can fail, and the only place that knows the exact bodies
//! the real server sends for each (see `docs/CONTRACT.md`, section 2), per Rocket.Chat version.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::config::RocketChatVersion;
use crate::domain::account::LoginError;
use crate::domain::livechat::LivechatError;
use crate::domain::rules::ContactError;
use crate::domain::search::{InvalidSort, SearchError};
use crate::mock::sessions::SessionError;

/// The 401 message, shared by every Rocket.Chat route that requires a login.
pub(crate) const NOT_LOGGED_IN: &str = "You must be logged in to do this.";
/// The message of Rocket.Chat's `notFound()` helper when a route gives none.
pub(crate) const RESOURCE_NOT_FOUND: &str = "Resource not found";
/// The 403 message of the permission check, without its error code.
const NO_PERMISSION: &str = "User does not have the permissions required for this action";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing headers, unknown user, wrong token or deactivated user.
    #[error("{NOT_LOGGED_IN}")]
    Unauthorized,
    /// Logged in, but none of the user's roles holds the route's permission.
    #[error("{NO_PERMISSION}")]
    Forbidden,
    /// A handler's own permission check failed: `API.v1.forbidden()`'s bare body.
    #[error("forbidden")]
    BareForbidden,
    /// The body or query failed schema validation in a legacy route (`addRoute`); the
    /// payload is AJV's message(s).
    #[error("{0} [invalid-params]")]
    InvalidParams(String),
    /// The body failed schema validation in a typed route (`API.v1.post`), checked by the
    /// router before authentication, in the router's own error shape.
    #[error("{0}")]
    TypedInvalidParams(String),
    /// `POST /api/v1/login` refused the credentials.
    #[error("{0}")]
    LoginFailed(LoginError),
    /// `parseJsonQuery` refused the `sort` parameter.
    #[error("{0} [error-invalid-sort]")]
    InvalidSort(InvalidSort),
    /// A business rule of the handler failed; the payload is Rocket.Chat's error code or text.
    #[error("{0}")]
    Business(String),
    /// A rule failed with a `Meteor.Error(code, reason?, details?)`: the message is
    /// `"<reason> [<code>]"` (`"[<code>]"` without a reason) and the code is the `errorType`.
    #[error("{}", meteor_message(code, reason.as_deref()))]
    Meteor {
        code: &'static str,
        reason: Option<String>,
        details: Option<Value>,
    },
    /// The body is larger than the configured limit.
    #[error("Request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// No route serves this method and path; the message names the closest ones served.
    #[error("{0}")]
    NotFound(String),
    /// A `Prefer` header the operation cannot honour; the message lists what it offers.
    #[error("{0}")]
    InvalidPreference(String),
    /// A request to the `/_mock/` control API that cannot be carried out.
    #[error("{0}")]
    Control(String),
    /// The control API refused a request from a page or host it does not serve (see
    /// `docs/SECURITY.md`): the message says which and how to allow it.
    #[error("{0}")]
    ControlRefused(String),
    /// `--control-token` is set and the request did not carry it.
    #[error("{0}")]
    ControlToken(String),
    /// The request body did not arrive within `--body-timeout`.
    #[error("the request body did not arrive within {0} (--body-timeout)")]
    BodyTimeout(String),
    /// Every `X-Mock-Session` slot is taken.
    #[error("{0}")]
    SessionsExhausted(String),
    /// The server is stopping: work handed to the blocking pool was not run.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A fault of the mock itself (a route served without its schema): answered 500 and
    /// logged, never a crash.
    #[error("internal error of the mock: {0}")]
    Internal(String),
}

/// `Meteor.Error`'s message: `"<reason> [<code>]"`, or `"[<code>]"` without a reason.
fn meteor_message(code: &str, reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!("{reason} [{code}]"),
        None => format!("[{code}]"),
    }
}

impl ApiError {
    /// What an enterprise route answers on a community workspace: the license check's
    /// `Meteor.Error('error-action-not-allowed', 'This is an enterprise feature')`.
    pub(crate) fn enterprise_only() -> Self {
        Self::Meteor {
            code: "error-action-not-allowed",
            reason: Some("This is an enterprise feature".to_owned()),
            details: None,
        }
    }

    /// The JSON body the server of `version` sends, with keys in its order.
    pub fn body(&self, version: RocketChatVersion) -> Value {
        match self {
            Self::Unauthorized => match version {
                RocketChatVersion::Reference => {
                    json!({ "status": "error", "message": NOT_LOGGED_IN })
                }
                // `unauthorized(msg)` with the pre-8.0 compatibility fields assigned after.
                RocketChatVersion::V7 => json!({
                    "success": false,
                    "error": NOT_LOGGED_IN,
                    "status": "error",
                    "message": NOT_LOGGED_IN,
                }),
                RocketChatVersion::V8 => json!({ "success": false, "error": NOT_LOGGED_IN }),
            },
            Self::Forbidden => {
                let code = match version {
                    RocketChatVersion::V8 => "error-forbidden",
                    RocketChatVersion::Reference | RocketChatVersion::V7 => "error-unauthorized",
                };
                json!({ "success": false, "error": format!("{NO_PERMISSION} [{code}]") })
            }
            Self::InvalidParams(_) => {
                json!({ "success": false, "error": self.to_string(), "errorType": "invalid-params" })
            }
            Self::BareForbidden => Self::bare_forbidden_body(version),
            // The http-router's code: `error-invalid-params` until mid-2025 (7.x), then
            // `invalid-params` (packages/http-router Router.ts, the newest).
            Self::TypedInvalidParams(message) => json!({
                "success": false,
                "errorType": match version {
                    RocketChatVersion::V8 => "invalid-params",
                    RocketChatVersion::Reference | RocketChatVersion::V7 => "error-invalid-params",
                },
                "error": message,
            }),
            Self::LoginFailed(error) => match version {
                RocketChatVersion::V8 => json!({ "success": false, "error": "unauthorized" }),
                // `unauthorized()` with the Meteor error's fields assigned after; the masked
                // `User not found` reads `Unauthorized`.
                RocketChatVersion::Reference | RocketChatVersion::V7 => {
                    let (code, message) = match error {
                        LoginError::NotFound => (json!("Unauthorized"), "Unauthorized".to_owned()),
                        other => (other.code(), other.to_string()),
                    };
                    let mut body = json!({ "success": false, "error": code, "status": "error" });
                    if let Some(details) = error.details() {
                        body["details"] = details;
                    }
                    body["message"] = json!(message);
                    body
                }
            },
            Self::InvalidSort(_) => json!({
                "success": false,
                "error": self.to_string(),
                "errorType": "error-invalid-sort",
                "details": { "helperMethod": "parseJsonQuery" },
            }),
            Self::InvalidPreference(_) => {
                json!({ "success": false, "error": self.to_string(), "errorType": "invalid-prefer" })
            }
            Self::Meteor { code, details, .. } => {
                let mut body =
                    json!({ "success": false, "error": self.to_string(), "errorType": code });
                if let Some(details) = details {
                    body["details"] = details.clone();
                }
                body
            }
            Self::Business(_)
            | Self::PayloadTooLarge { .. }
            | Self::NotFound(_)
            | Self::Control(_)
            | Self::ControlRefused(_)
            | Self::ControlToken(_)
            | Self::BodyTimeout(_)
            | Self::SessionsExhausted(_)
            | Self::ShuttingDown
            | Self::Internal(_) => json!({ "success": false, "error": self.to_string() }),
        }
    }

    /// The body of Rocket.Chat's bare `forbidden()` helper, which the documented 403
    /// "Unauthorized" example shows.
    pub fn bare_forbidden_body(version: RocketChatVersion) -> Value {
        let error = match version {
            RocketChatVersion::V8 => "forbidden",
            RocketChatVersion::Reference | RocketChatVersion::V7 => "unauthorized",
        };
        json!({ "success": false, "error": error })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::LoginFailed(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::BareForbidden => StatusCode::FORBIDDEN,
            Self::InvalidParams(_)
            | Self::TypedInvalidParams(_)
            | Self::InvalidSort(_)
            | Self::Business(_)
            | Self::Meteor { .. }
            | Self::InvalidPreference(_)
            | Self::Control(_) => StatusCode::BAD_REQUEST,
            Self::ControlToken(_) => StatusCode::UNAUTHORIZED,
            Self::ControlRefused(_) => StatusCode::FORBIDDEN,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::SessionsExhausted(_) | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn response(&self, version: RocketChatVersion) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        match self {
            // The body was not read to its end: the connection cannot carry another request.
            Self::BodyTimeout(_) => {
                response.force_close();
            }
            Self::ControlToken(_) => {
                response.insert_header((
                    actix_web::http::header::WWW_AUTHENTICATE,
                    "Bearer realm=\"rocketchat-mock control API\"",
                ));
            }
            _ => {}
        }
        response.json(self.body(version))
    }
}

/// A handler or pipeline returns its `ApiError`; the error layer (`mock::layer::versioned`)
/// writes it again in the body of the emulated version, which only it knows. This answer,
/// in the default version's body, is what a harness without that layer sees.
impl actix_web::ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(message) = self {
            tracing::error!(message, "internal error");
        }
        self.response(RocketChatVersion::default())
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::InvalidName(_) => Self::Control(error.to_string()),
            SessionError::Exhausted { .. } => Self::SessionsExhausted(error.to_string()),
        }
    }
}

impl From<ContactError> for ApiError {
    fn from(error: ContactError) -> Self {
        Self::Business(error.to_string())
    }
}

impl From<LivechatError> for ApiError {
    fn from(error: LivechatError) -> Self {
        match error.meteor() {
            Some((code, details)) => {
                let message = error.to_string();
                // `Meteor.Error(code, reason)`: the message is `"<reason> [<code>]"`.
                let reason = message
                    .strip_suffix(&format!(" [{code}]"))
                    .map(str::to_owned);
                ApiError::Meteor {
                    code,
                    reason,
                    details,
                }
            }
            None => ApiError::Business(error.to_string()),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        Self::LoginFailed(error)
    }
}

impl From<crate::store::RoomAccessError> for ApiError {
    fn from(error: crate::store::RoomAccessError) -> Self {
        Self::Business(error.to_string())
    }
}

impl From<InvalidSort> for ApiError {
    fn from(sort: InvalidSort) -> Self {
        Self::InvalidSort(sort)
    }
}

impl From<crate::domain::paging::NegativeOffset> for ApiError {
    /// MongoDB's refusal is no Meteor error: the route answers its bare message.
    fn from(offset: crate::domain::paging::NegativeOffset) -> Self {
        Self::Business(offset.to_string())
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Sort(sort) => Self::InvalidSort(sort),
            // MongoDB's refusal is no Meteor error: the route answers its bare message.
            SearchError::Offset(offset) => Self::Business(offset.to_string()),
        }
    }
}
