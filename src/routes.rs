//! HTTP routes, one file per Rocket.Chat namespace, and the request pipeline they share:
//! authentication → body validation → permission → handler, the first failure answering.

pub mod control;
pub mod docs;
pub mod omnichannel;

pub(crate) mod body;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::mock::sessions::Session;
use crate::startup::AppState;
use crate::validation::RequestSchema;

/// Runs the pipeline of a legacy Rocket.Chat route up to the handler, and hands over the
/// validated body.
pub(crate) async fn authorize<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    session: &Session,
    schema: &RequestSchema,
    permission: &str,
) -> Result<T, ApiError> {
    let caller = session.with_store(|store| crate::auth::authenticate(request, store))?;
    let mut body = body::read(request, payload, state.body_limit).await?;
    schema
        .validate(&mut body)
        .map_err(ApiError::InvalidParams)?;
    session.with_store(|store| crate::auth::require_permission(store, &caller, permission))?;
    into_handler_input(body)
}

/// The route hands the handler the validated body without its top-level `null`s.
fn into_handler_input<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    let mut body = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.retain(|_, v| !v.is_null());
    // The body satisfies the schema here, and the schema and `T` describe the same fields;
    // should they ever drift apart, say so rather than answer 500.
    serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::InvalidParams(format!("request body does not fit: {e}")))
}

/// `{...payload, "success": true}`: every successful legacy route answers so.
pub(crate) fn success(key: &str, payload: Value) -> HttpResponse {
    let mut body = Map::new();
    body.insert(key.to_owned(), payload);
    body.insert("success".to_owned(), Value::Bool(true));
    HttpResponse::Ok().json(body)
}

/// Any method and path the mock does not serve: a JSON 404 in Rocket.Chat's `notFound`
/// shape, naming the closest routes served so that a typo in a client's URL is obvious.
pub(crate) async fn not_found(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let message = state
        .catalogue
        .not_found_message(request.method().as_str(), request.path());
    state.respond(Err(ApiError::NotFound(message)))
}
