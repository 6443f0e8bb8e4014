//! HTTP routes, one file per Rocket.Chat namespace, and the request pipelines they share.
//! The first failure answers:
//! - legacy routes (`API.v1.addRoute`): authentication → body or query validation →
//!   permission → handler;
//! - typed routes (`API.v1.post`): body validation (by the router, in its own error shape) →
//!   authentication → permission → handler.

pub mod account;
pub mod control;
pub mod docs;
pub mod omnichannel;

pub(crate) mod body;
pub(crate) mod query;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::mock::sessions::Session;
use crate::startup::AppState;
use crate::store::Caller;
use crate::validation::RequestSchema;

/// Runs the pipeline of a legacy Rocket.Chat route up to the handler, and hands over the
/// validated body without its top-level `null`s (the routes' `removeEmpty`).
pub(crate) async fn authorize<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    session: &Session,
    schema: &RequestSchema,
    permission: &str,
) -> Result<T, ApiError> {
    let body = authorize_body(request, payload, state, session, schema, permission).await?;
    into_handler_input(body)
}

/// As [`authorize`], for a route that hands the body over as validated, `null`s included.
pub(crate) async fn authorize_body(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    session: &Session,
    schema: &RequestSchema,
    permission: &str,
) -> Result<Value, ApiError> {
    let caller = session.read(|store| crate::auth::authenticate(request, store))?;
    let mut body = body::read(request, payload, state.body_limit).await?;
    schema
        .validate(&mut body)
        .map_err(ApiError::InvalidParams)?;
    permit(session, &caller, permission)?;
    Ok(body)
}

/// The pipeline of a legacy GET route: its query string, read and coerced as Rocket.Chat's
/// query validator does, checked after authentication and before the permission.
pub(crate) fn authorize_query<T: DeserializeOwned>(
    request: &HttpRequest,
    session: &Session,
    schema: &RequestSchema,
    permission: &str,
) -> Result<T, ApiError> {
    let caller = session.read(|store| crate::auth::authenticate(request, store))?;
    let mut params = query::parse(request.query_string());
    schema
        .validate(&mut params)
        .map_err(ApiError::InvalidParams)?;
    permit(session, &caller, permission)?;
    handler_input(params)
}

/// The pipeline of a typed route: the router validates the body before the route's own
/// authentication runs, so a bad body is answered 400 even without credentials.
pub(crate) async fn authorize_typed<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    session: &Session,
    schema: &RequestSchema,
    permission: &str,
) -> Result<T, ApiError> {
    let mut body = body::read(request, payload, state.body_limit)
        .await
        .map_err(|error| match error {
            ApiError::InvalidParams(message) => ApiError::TypedInvalidParams(message),
            other => other,
        })?;
    schema
        .validate(&mut body)
        .map_err(ApiError::TypedInvalidParams)?;
    let caller = session.read(|store| crate::auth::authenticate(request, store))?;
    permit(session, &caller, permission)?;
    handler_input(body)
}

fn permit(session: &Session, caller: &Caller, permission: &str) -> Result<(), ApiError> {
    session.read(|store| crate::auth::require_permission(store, caller, permission))
}

/// The route hands the handler the validated body without its top-level `null`s.
fn into_handler_input<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    let mut body = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.retain(|_, v| !v.is_null());
    handler_input(Value::Object(body))
}

/// The validated input as the handler's type.
fn handler_input<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    // The input satisfies the schema here, and the schema and `T` describe the same fields;
    // should they ever drift apart, say so rather than answer 500.
    serde_json::from_value(input)
        .map_err(|e| ApiError::InvalidParams(format!("request does not fit: {e}")))
}

/// `{...payload, "success": true}`: every successful legacy route answers so.
pub(crate) fn success(key: &'static str, payload: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(Success { key, payload })
}

/// `{"<key>": payload, "success": true}`, serialized straight from the payload.
struct Success<T> {
    key: &'static str,
    payload: T,
}

impl<T: Serialize> Serialize for Success<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.key, &self.payload)?;
        map.serialize_entry("success", &true)?;
        map.end()
    }
}

/// Any method and path the mock does not serve: a JSON 404 in Rocket.Chat's `notFound`
/// shape, naming the closest routes served so that a typo in a client's URL is obvious.
pub(crate) async fn not_found(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let message = state
        .catalogue
        .not_found_message(request.method().as_str(), request.path());
    state.respond(Err(ApiError::NotFound(message)))
}
