//! The middleware around every route: picks the request's session, and on Rocket.Chat
//! routes applies `Prefer` (forced responses, delay, faults), `--delay` and `--fault-rate`,
//! and journals the request with its answer. One access-log line per request is written by
//! [`access_log`], outside CORS so that preflights are logged too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::StreamExt;

use super::SESSION_HEADER;
use super::fault::{Connection, Fault};
use super::journal::{Recorded, RecordedBody, millis};
use super::prefer::Preference;
use super::sessions::{Session, SessionError};
use crate::error::ApiError;
use crate::routes::body::declared_length;
use crate::routes::control;
use crate::routes::docs::{OPENAPI_PATH, SWAGGER_UI_PATH};
use crate::startup::AppState;

/// Where a request goes, which decides what the layer does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    /// Swagger UI and the document: served as they are, not journaled.
    Docs,
    /// `/_mock/`: in a session, not journaled.
    Control,
    /// Rocket.Chat routes and anything unknown (a 404 is worth journaling).
    Api,
}

impl Area {
    fn of(path: &str, control_served: bool) -> Self {
        let docs = SWAGGER_UI_PATH.trim_end_matches('/');
        if path == "/" || path == OPENAPI_PATH || path == docs || path.starts_with(SWAGGER_UI_PATH)
        {
            Self::Docs
        } else if control_served && control::is_control_path(path) {
            Self::Control
        } else {
            Self::Api
        }
    }
}

/// Marks a request whose body exceeded the limit; the route answers 413 in its own turn
/// (after authentication, as before).
#[derive(Clone, Copy)]
pub(crate) struct BodyOverLimit;

/// What `Prefer` or `--fault-rate` made of a response, for the journal and the access log.
#[derive(Clone)]
struct Applied {
    text: String,
    fault: Option<Fault>,
}

pub(crate) async fn mock_layer(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .expect("the application state is registered")
        .clone();
    let area = Area::of(request.path(), state.control);
    if area == Area::Docs {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let session = match session_of(&request, &state) {
        Ok(session) => session,
        Err(error) => {
            let response = error.response(state.version);
            return Ok(request.into_response(response));
        }
    };
    request.extensions_mut().insert(session.clone());
    if area == Area::Control {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    // `--journal-size 0`: nothing to record, so no body or response is copied.
    if !session.journal().is_recording() {
        return answer(request, next, &state).await;
    }

    let started = Instant::now();
    let id = session.journal().next_id();
    let arrived = jiff::Timestamp::now();
    let body = buffer_body(&mut request, state.body_limit).await;
    let mut entry = Recorded {
        id,
        arrived,
        session: session.name().map(str::to_owned),
        method: request.method().clone(),
        path: request.path().to_owned(),
        query: request.query_string().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        body,
        status: None,
        response: Bytes::new(),
        duration: Duration::ZERO,
        forced: None,
    };

    let response = answer(request, next, &state).await?;
    let applied = response.response().extensions().get::<Applied>().cloned();
    let drops_connection = applied
        .as_ref()
        .is_some_and(|a| matches!(a.fault, Some(Fault::ConnectionReset | Fault::EmptyResponse)));
    entry.forced = applied.map(|a| a.text);
    // When the connection is dropped nothing reaches the client: the entry records the
    // fault and no response.
    let response = if drops_connection {
        response
    } else {
        let (http_request, response) = response.into_parts();
        let (response, body) = response.into_parts();
        let bytes = actix_web::body::to_bytes(body)
            .await
            .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
        entry.status = Some(response.status().as_u16());
        entry.response = bytes.clone();
        ServiceResponse::new(http_request, response.set_body(BoxBody::new(bytes)))
    };
    entry.duration = started.elapsed();
    session.journal().record(entry);
    Ok(response)
}

/// The session named by `X-Mock-Session`, or the default one.
fn session_of(request: &ServiceRequest, state: &AppState) -> Result<Arc<Session>, ApiError> {
    let name = match request.headers().get(SESSION_HEADER) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            SessionError::InvalidName(String::from_utf8_lossy(value.as_bytes()).into_owned())
        })?),
    };
    Ok(state.sessions.resolve(name)?)
}

/// Applies the mock's preferences to a Rocket.Chat route, or calls the route. What was
/// forced travels in the response's [`Applied`] extension, for the journal and the log.
async fn answer(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = request.method().to_string();
    let Some(operation) = state.catalogue.operation(&method, request.path()) else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let preference = match Preference::parse(request.headers()) {
        Ok(preference) => preference,
        Err(message) => {
            let response = ApiError::InvalidPreference(message).response(state.version);
            return Ok(request.into_response(response));
        }
    };
    let delay = preference.delay.or_else(|| state.chaos.delay());
    if let Some(delay) = delay.filter(|d| !d.is_zero()) {
        actix_web::rt::time::sleep(delay).await;
    }
    if let Some(fault) = preference.fault.or_else(|| state.chaos.fault()) {
        let connection = request.conn_data::<Connection>();
        let mut response = fault.respond(connection, &operation.success_text());
        response.extensions_mut().insert(Applied {
            text: format!("fault={}", fault.name()),
            fault: Some(fault),
        });
        return Ok(request.into_response(response));
    }
    if !preference.forces_response() {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let response = match operation.example(preference.code, preference.example.as_deref()) {
        Ok((status, body)) => {
            let status = actix_web::http::StatusCode::from_u16(status)
                .expect("documented statuses are valid");
            let mut response = HttpResponse::build(status).json(body);
            let applied = preference.applied();
            if let Ok(value) = HeaderValue::from_str(&applied) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static("preference-applied"), value);
            }
            response.extensions_mut().insert(Applied {
                text: applied,
                fault: None,
            });
            response
        }
        Err(message) => ApiError::InvalidPreference(message).response(state.version),
    };
    Ok(request.into_response(response))
}

/// Reads the request body up to the limit and puts it back for the route. A broken upload
/// is left for the route to read what is left and report it.
async fn buffer_body(request: &mut ServiceRequest, limit: usize) -> RecordedBody {
    if declared_length(request.headers()).is_some_and(|n| n > limit) {
        request.extensions_mut().insert(BodyOverLimit);
        return RecordedBody::OverLimit(limit);
    }
    let mut payload = request.take_payload();
    let mut bytes = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            request.set_payload(payload);
            return RecordedBody::Broken;
        };
        if bytes.len() + chunk.len() > limit {
            request.extensions_mut().insert(BodyOverLimit);
            return RecordedBody::OverLimit(limit);
        }
        bytes.extend_from_slice(&chunk);
    }
    let bytes = bytes.freeze();
    request.set_payload(bytes.clone().into());
    RecordedBody::Complete(bytes)
}

/// Writes a route's [`ApiError`] in the body of the emulated Rocket.Chat version, and marks
/// API answers uncacheable (`Cache-Control: no-store`, `Pragma: no-cache`, as Rocket.Chat's
/// router does): the innermost layer, so that `Prefer`, the journal and the log see the
/// final answer.
pub(crate) async fn versioned(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let version = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.version);
    let api = request.path().starts_with("/api/");
    let response = next.call(request).await?;
    let rendered = match (version, response.response().error()) {
        (Some(version), Some(error)) => error
            .as_error::<ApiError>()
            .map(|error| error.response(version)),
        _ => None,
    };
    let mut response = match rendered {
        Some(answer) => response.into_response(answer),
        None => response.map_into_boxed_body(),
    };
    if api {
        // Rocket.Chat's router marks every API answer uncacheable.
        let headers = response.headers_mut();
        headers.insert(
            actix_web::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        headers.insert(
            actix_web::http::header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        );
    }
    Ok(response)
}

/// One line per request: method, path, status, duration and session, plus what the mock
/// forced. At `info`, so `RUST_LOG=warn` silences it.
pub(crate) async fn access_log(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.path().to_owned();
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let response = next.call(request).await;
    let duration = started.elapsed();
    match &response {
        Ok(response) => {
            let applied = response.response().extensions().get::<Applied>().cloned();
            tracing::info!(
                target: "rocketchat_mock::request",
                method = %method,
                path = %path,
                status = response.status().as_u16(),
                duration_ms = millis(duration),
                session = session.as_deref(),
                forced = applied.as_ref().map(|a| a.text.as_str()),
                "request"
            );
        }
        Err(error) => tracing::warn!(
            target: "rocketchat_mock::request",
            method = %method,
            path = %path,
            duration_ms = millis(duration),
            session = session.as_deref(),
            error = %error,
            "request failed"
        ),
    }
    response
}
