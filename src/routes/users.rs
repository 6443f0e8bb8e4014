//! `/api/v1/users.info`: a user's card (the contact manager's, on a contact page).

use actix_web::{HttpResponse, get};
use serde::Deserialize;

use super::pipeline::{Input, LegacyQuery};
use super::success;
use crate::auth::Anyone;
use crate::domain::request::USERS_INFO_QUERY;
use crate::error::ApiError;
use crate::openapi::{BadRequestError, UnauthorizedError};
use crate::store::UserKey;

/// The query of `users.info`: one of its keys.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersInfoQuery {
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub import_id: Option<String>,
    pub email: Option<String>,
    pub free_switch_extension: Option<String>,
}

impl Input for UsersInfoQuery {
    const SCHEMA: &'static str = USERS_INFO_QUERY.name;
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UserInfoAnswer {
    /// `_id`, `name`, `username`, `status`, `statusLivechat`, `active`, … in the stored
    /// order; e-mails, roles and dates too for yourself or with
    /// `view-full-other-user-info`; `services` (no secrets) for yourself; then
    /// `canViewAllInfo`.
    #[schema(value_type = Object)]
    pub user: serde_json::Value,
    pub success: bool,
}

/// Get User's Info
///
/// A user by `userId` or `username` (each matches either), `email`, `importId` or
/// `freeSwitchExtension`. Anyone logged in may ask; what is shown depends on who asks.
/// Searching by `email` or `importId` needs `view-full-other-user-info` (unless it is you).
#[utoipa::path(
    get,
    operation_id = "get-api-v1-users.info",
    tag = crate::routes::account::TAG,
    responses(
        (status = 200, description = "OK", body = UserInfoAnswer),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/users.info")]
pub(crate) async fn users_info(
    call: LegacyQuery<Anyone, UsersInfoQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input,
        workspace,
        caller,
        ..
    } = call;
    let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
    let term = nonempty(input.user_id)
        .map(|v| (v, UserKey::IdOrUsername))
        .or_else(|| nonempty(input.username).map(|v| (v, UserKey::IdOrUsername)))
        .or_else(|| nonempty(input.import_id).map(|v| (v, UserKey::ImportId)))
        .or_else(|| nonempty(input.email).map(|v| (v, UserKey::Email)))
        .or_else(|| {
            nonempty(input.free_switch_extension).map(|v| (v, UserKey::FreeSwitchExtension))
        });
    let (value, key) =
        term.ok_or_else(|| ApiError::Business("Invalid search query.".to_owned()))?;
    let user = workspace
        .read(|store| store.user_info(&caller, &value, key))
        .ok_or_else(|| ApiError::Business("User not found.".to_owned()))?;
    Ok(success("user", user))
}
