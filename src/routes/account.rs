//! `/api/v1/login`, `/api/v1/logout` and `/api/v1/me`: logging in and out, and the
//! current user.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::{Map, Value, json};

use super::pipeline::Workspace;
use crate::auth::AUTH_TOKEN_HEADER;
use crate::domain::account::Credentials;
use crate::error::ApiError;
use crate::openapi::{
    BadRequestError, LoginFailedError, LoginResponse, LogoutResponse, MeResponse, UnauthorizedError,
};
use crate::startup::AppState;

pub(crate) const TAG: &str = "Authentication";

/// The server's own address, which Rocket.Chat's `Site_Url` setting would hold.
fn site_url(request: &HttpRequest) -> String {
    let info = request.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Login with Username and Password
///
/// Log in with a username or e-mail address and a password, or with a login token
/// (`resume`). The answer's `data.userId` and `data.authToken` are the `X-User-Id` and
/// `X-Auth-Token` headers of every other request; the token stays valid until logout.
///
/// The password may be plain text or, as Rocket.Chat's own clients send it,
/// `{"digest": <hex SHA-256 of the password>, "algorithm": "sha-256"}`. On the default
/// fixtures, `admin` / `admin-password` logs the workspace admin in.
///
/// Every wrong credential is answered alike (Rocket.Chat does not tell whether the user
/// exists); a deactivated user is told so.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-login",
    tag = TAG,
    request_body(content = Object, description = "`{\"user\", \"password\"}`, `{\"username\", \"password\"}`, `{\"email\", \"password\"}` or `{\"resume\"}`."),
    responses(
        (status = 200, description = "OK", body = LoginResponse),
        (status = 400, description = "The body is not JSON (the mock's answer; Rocket.Chat answers 401)", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = LoginFailedError),
    )
)]
#[post("/api/v1/login")]
pub(crate) async fn login(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    let body = super::body::read(&request, payload.into_inner(), state.body_limit).await?;
    let credentials = match &body {
        Value::Object(map) => Credentials::read(map),
        _ => Credentials::read(&Map::new()),
    };
    let token = workspace.login_token();
    let now = workspace.now();
    let site_url = site_url(&request);
    let resumed = match &credentials {
        Credentials::Resume(token) => Some(token.clone()),
        _ => None,
    };
    let user_id = if matches!(credentials, Credentials::Password { .. }) {
        // A bcrypt check takes milliseconds (about 60 at Rocket.Chat's cost of 10): aside,
        // so that this worker goes on serving.
        workspace
            .read_aside(move |store| store.check_credentials(&credentials))
            .await??
    } else {
        workspace.read(|store| store.check_credentials(&credentials))?
    };
    let login = match resumed {
        Some(resumed) => {
            workspace.read(|store| store.resume_login(&user_id, resumed, &site_url))?
        }
        None => {
            workspace.write(|store| store.issue_login_token(&user_id, token, &now, &site_url))?
        }
    };
    Ok(HttpResponse::Ok().json(json!({
        "status": "success",
        "data": { "userId": login.user_id, "authToken": login.token, "me": login.me },
        "success": true,
    })))
}

/// Logout
///
/// Ends the session of the `X-Auth-Token` sent: the token stops working at once. Other
/// tokens of the same user keep working.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-logout",
    tag = TAG,
    responses(
        (status = 200, description = "OK", body = LogoutResponse),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/logout")]
pub(crate) async fn logout(
    request: HttpRequest,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    end_session(&request, &workspace)
}

/// Logout (GET)
///
/// The same as `POST /api/v1/logout`; Rocket.Chat still answers GET, with a deprecation
/// warning in its own log.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-logout",
    tag = TAG,
    responses(
        (status = 200, description = "OK", body = LogoutResponse),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/logout")]
pub(crate) async fn logout_get(
    request: HttpRequest,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    end_session(&request, &workspace)
}

fn end_session(request: &HttpRequest, workspace: &Workspace) -> Result<HttpResponse, ApiError> {
    let caller = workspace.read(|store| crate::auth::authenticate(request, store))?;
    let token = request
        .headers()
        .get(AUTH_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    workspace.write(|store| store.logout(&caller, token));
    // Restivus' own answer, without the `success` key other routes add.
    Ok(HttpResponse::Ok().json(json!({
        "status": "success",
        "data": { "message": "You've been logged out!" },
    })))
}

/// Get Profile Information
///
/// The logged-in user: profile fields, roles, the verified e-mail address, settings and
/// avatar URL. Password hashes and login tokens are never included.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-me",
    tag = TAG,
    responses(
        (status = 200, description = "OK", body = MeResponse),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/me")]
pub(crate) async fn me(
    request: HttpRequest,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    let caller = workspace.read(|store| crate::auth::authenticate(&request, store))?;
    let site_url = site_url(&request);
    let mut info = workspace
        .read(|store| store.me(&caller, &site_url))
        .ok_or(ApiError::Unauthorized)?;
    info.insert("success".to_owned(), Value::Bool(true));
    Ok(HttpResponse::Ok().json(info))
}
