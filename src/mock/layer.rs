//! The middleware around every route: picks the request's session, and on Rocket.Chat
//! routes applies `Prefer` (forced responses, delay, faults), `--delay` and `--fault-rate`,
//! and journals the request with its answer. One access-log line per request is written by
//! [`access_log`], outside CORS so that preflights are logged too.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue, UPGRADE};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::StreamExt;

use super::SESSION_HEADER;
use super::deadline;
use super::fault::{Connection, Fault};
use super::journal::{Recorded, RecordedBody, millis};
use super::prefer::Preference;
use super::sessions::{InUse, SessionError};
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
    // The path as the router matches it: percent-encoded characters other than `/`, `%`
    // and `+` decoded, so that `contacts%2Eget` and `/%5f%6dock/state` are decided on as the
    // routes they reach.
    let path = request.match_info().as_str().to_owned();
    let area = Area::of(&path, state.control);
    if area == Area::Docs {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    if area == Area::Control
        && let Err(refused) = state.guard.check(request.head(), &path)
    {
        tracing::warn!(path = %path, "control request refused: {refused}");
        return Ok(request.into_response(refused.response(state.version)));
    }
    // Held until the answer is made: the session cannot expire (and lose this request's
    // write) while the request works on it.
    let in_use = match session_of(&request, &state) {
        Ok(in_use) => in_use,
        Err(error) => {
            let response = error.response(state.version);
            return Ok(request.into_response(response));
        }
    };
    let session = in_use.session().clone();
    request.extensions_mut().insert(session.clone());
    let payload = request.take_payload();
    request.set_payload(deadline::bounded(payload, state.body_timeout));
    if area == Area::Control {
        let response = next.call(request).await?.map_into_boxed_body();
        drop(in_use);
        return Ok(response);
    }
    // `--journal-size 0`: nothing to record, so no body or response is copied.
    if !session.journal().is_recording() {
        let response = match endless(&request) {
            Some(refusal) => Ok(request.into_response(refusal.response(state.version))),
            None => answer(request, next, &state).await,
        };
        drop(in_use);
        return response;
    }

    let started = Instant::now();
    let id = session.journal().next_id();
    let arrived = jiff::Timestamp::now();
    let refusal = endless(&request);
    let body = match refusal {
        // Its "body" is the rest of the connection: never waited for.
        Some(_) => RecordedBody::Complete(Bytes::new()),
        None => buffer_body(&mut request, state.body_limit).await,
    };
    let mut entry = Recorded {
        id,
        arrived,
        session: session.name().map(str::to_owned),
        method: request.method().clone(),
        path: path.clone(),
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

    let response = match (refusal, &entry.body) {
        (Some(refusal), _) => request.into_response(refusal.response(state.version)),
        (None, RecordedBody::TimedOut) => {
            let late = crate::routes::body::late(request.request());
            request.into_response(late.response(state.version))
        }
        (None, _) => answer(request, next, &state).await?,
    };
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
    drop(in_use);
    Ok(response)
}

/// A request whose body is the rest of the connection, which no route reads to its end: a
/// WebSocket upgrade (Rocket.Chat's clients open `/websocket` for the realtime API) or
/// `CONNECT`. Answered at once in the `notFound` shape, and the connection closed.
fn endless(request: &ServiceRequest) -> Option<ApiError> {
    let upgrade = request.headers().get(UPGRADE);
    if request.method() != Method::CONNECT && upgrade.is_none() {
        return None;
    }
    let what = match upgrade {
        Some(protocol) => format!("Upgrade: {}", String::from_utf8_lossy(protocol.as_bytes())),
        None => "CONNECT".to_owned(),
    };
    Some(ApiError::NotFound(format!(
        "{what} is not served: rocketchat-mock has no realtime API (DDP over WebSocket); use the REST routes"
    )))
}

/// The session named by `X-Mock-Session`, or the default one, marked in use.
fn session_of(request: &ServiceRequest, state: &AppState) -> Result<InUse, ApiError> {
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
    let Some(operation) = state
        .catalogue
        .operation(&method, request.match_info().as_str())
    else {
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
    // Grown as the bytes arrive, not sized from `Content-Length`: a client may announce a
    // megabyte and send one byte, on as many connections as it likes.
    let mut bytes = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) if deadline::is_timeout(&error) => return RecordedBody::TimedOut,
            Err(_) => {
                request.set_payload(payload);
                return RecordedBody::Broken;
            }
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
    let api = request.match_info().as_str().starts_with("/api/");
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
