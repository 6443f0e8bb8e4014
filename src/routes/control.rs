//! `/_mock/`: the control API. Every route works on the session named by `X-Mock-Session`
//! (the shared default state without it).

use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, Scope, delete, get, patch, post, put, web};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::body;
use crate::error::ApiError;
use crate::mock::journal::{JournalFilter, JournalPage, JournalUse};
use crate::mock::sessions::{Session, SessionSummary, Sessions};
use crate::mock::watch::FixturesStatus;
use crate::startup::AppState;
use crate::store::fixtures::StateError;
use crate::store::{StateWriter, Store};

pub(crate) const TAG: &str = "Mock control";
/// Where the control API lives.
pub(crate) const SCOPE: &str = "/_mock";

pub(crate) fn is_control_path(path: &str) -> bool {
    path.strip_prefix(SCOPE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A state object can hold many contacts: it may be larger than a Rocket.Chat request.
const STATE_BODY_LIMIT: usize = 256 << 20;

pub(crate) fn scope() -> Scope {
    web::scope(SCOPE)
        .service(health)
        .service(reset)
        .service(get_state)
        .service(put_state)
        .service(patch_state)
        .service(get_requests)
        .service(delete_requests)
        .service(get_sessions)
        .service(delete_session)
}

/// The mock is up.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the mock answers.
    #[schema(example = "ok")]
    pub status: String,
    /// The mock's version.
    pub version: String,
    /// The Rocket.Chat version whose error bodies are reproduced (`--rocketchat-version`).
    #[serde(rename = "rocketchatVersion")]
    pub rocketchat_version: String,
    /// Named sessions alive.
    pub sessions: usize,
    pub fixtures: FixturesStatus,
    /// The journal's memory, all sessions together, and its bounds.
    pub journal: JournalUse,
}

/// The outcome of a state change in one session.
#[derive(Serialize, ToSchema)]
pub struct StateChanged {
    pub success: bool,
    /// The session changed; absent for the default session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// How many documents each collection holds now.
    #[schema(value_type = Object)]
    pub counts: Value,
}

/// The whole state of a session, in the fixture files' document shapes.
#[derive(Serialize, ToSchema)]
pub struct State {
    /// `users.json`: `_id`, `username`, `name`, `active`, `roles`, `authTokens` (plain
    /// tokens) and/or `services.resume.loginTokens[].hashedToken`.
    #[schema(value_type = Vec<Object>)]
    pub users: Vec<Value>,
    /// `permissions.json`: `{"_id": "<permission>", "roles": [...]}`.
    #[schema(value_type = Vec<Object>)]
    pub permissions: Vec<Value>,
    /// `contacts.json`: omnichannel contact documents.
    #[schema(value_type = Vec<Object>)]
    pub contacts: Vec<Value>,
    /// `custom-fields.json`: `_id`, `label`, `scope`, `visibility`, `type`, `regexp`, `required`.
    #[serde(rename = "customFields")]
    #[schema(value_type = Vec<Object>)]
    pub custom_fields: Vec<Value>,
}

/// The named sessions alive.
#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionSummary>,
    /// Sessions allowed at once (`--max-sessions`).
    pub max: usize,
    /// Idle time after which a session is discarded (`--session-idle`), in milliseconds.
    #[serde(rename = "idleTimeoutMs")]
    pub idle_timeout_ms: u64,
}

/// A control operation succeeded.
#[derive(Serialize, ToSchema)]
pub struct Done {
    #[schema(example = true)]
    pub success: bool,
}

/// A control API failure.
#[derive(Serialize, ToSchema)]
pub struct ControlError {
    pub success: bool,
    /// What went wrong; for a refused state, the collection, the document and the problem.
    pub error: String,
}

fn changed(session: &Session) -> HttpResponse {
    HttpResponse::Ok().json(StateChanged {
        success: true,
        session: session.name().map(str::to_owned),
        counts: session.read(Store::counts),
    })
}

/// Reads a state object from the body and hands it to `write` (`PUT` or `PATCH`) on the
/// blocking pool: parsing and checking a large state takes seconds, and no request worker
/// (serving other sessions, or this one's readers) may wait on it.
async fn write_state(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    session: &Arc<Session>,
    write: fn(&Sessions, &Session, &[u8]) -> Result<(), StateError>,
) -> HttpResponse {
    let answer = async {
        let bytes = body::read_bytes(request, payload.into_inner(), STATE_BODY_LIMIT).await?;
        let sessions = state.sessions.clone();
        let target = session.clone();
        web::block(move || write(&sessions, &target, &bytes))
            .await
            .map_err(|e| ApiError::Control(format!("the state could not be written: {e}")))?
            .map_err(|e| ApiError::Control(e.to_string()))?;
        Ok(changed(session))
    };
    state.respond(answer.await)
}

/// Readiness probe
///
/// Answers 200 as soon as the mock serves requests, with its version and the fixtures it
/// serves (and the last `--watch` reload error, if one stands).
#[utoipa::path(
    get,
    path = "/_mock/health",
    operation_id = "mock-health",
    tag = TAG,
    responses((status = 200, description = "The mock is ready", body = Health))
)]
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        rocketchat_version: state.version.name().to_owned(),
        sessions: state.sessions.open_sessions(),
        fixtures: state.fixtures_status(),
        journal: state.sessions.journals().usage(),
    })
}

/// Reset the state to the fixtures
///
/// Puts the session's users, permissions, contacts and custom fields back to the loaded
/// fixtures. The request journal is kept (`DELETE /_mock/requests` clears it).
#[utoipa::path(
    post,
    path = "/_mock/reset",
    operation_id = "mock-reset",
    tag = TAG,
    params(SessionHeader),
    responses((status = 200, description = "The state is the fixtures again", body = StateChanged))
)]
#[post("/reset")]
async fn reset(state: web::Data<AppState>, session: web::ReqData<Arc<Session>>) -> HttpResponse {
    state.sessions.reset(&session);
    changed(&session)
}

/// Read the whole state
///
/// The session's state as one object, in the fixture files' shapes: save it as a starting
/// point, or send it back with `PUT`.
#[utoipa::path(
    get,
    path = "/_mock/state",
    operation_id = "mock-get-state",
    tag = TAG,
    params(SessionHeader),
    responses((status = 200, description = "The session's state", body = State))
)]
#[get("/state")]
async fn get_state(session: web::ReqData<Arc<Session>>) -> HttpResponse {
    // Written from a snapshot a chunk at a time: writes made meanwhile are not in it, and a
    // large state is never held twice in memory.
    let mut writer = StateWriter::new(session.snapshot());
    let chunks = futures_util::stream::iter(std::iter::from_fn(move || {
        writer.next_chunk().map(Ok::<_, std::convert::Infallible>)
    }));
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .streaming(chunks)
}

/// Replace the whole state
///
/// Replaces the session's state with the object sent, which must name all four collections
/// (`[]` empties one). It is checked as fixture files are (Extended JSON accepted); a
/// refused state changes nothing and the 400 names the collection, the document and the
/// problem.
#[utoipa::path(
    put,
    path = "/_mock/state",
    operation_id = "mock-put-state",
    tag = TAG,
    params(SessionHeader),
    request_body(content = State),
    responses(
        (status = 200, description = "The state was replaced", body = StateChanged),
        (status = 400, description = "The state was refused; nothing changed", body = ControlError),
    )
)]
#[put("/state")]
async fn put_state(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    write_state(&request, payload, &state, &session, Sessions::replace_state).await
}

/// Insert or replace documents
///
/// Upserts, by `_id`, the documents of the collections sent (e.g. only `contacts`); other
/// documents and collections are kept. Checked as fixtures are; a refused document changes
/// nothing.
#[utoipa::path(
    patch,
    path = "/_mock/state",
    operation_id = "mock-patch-state",
    tag = TAG,
    params(SessionHeader),
    request_body(content = Object, description = "Some of `users`, `permissions`, `contacts`, `customFields`, each an array of documents"),
    responses(
        (status = 200, description = "The documents were written", body = StateChanged),
        (status = 400, description = "A document was refused; nothing changed", body = ControlError),
    )
)]
#[patch("/state")]
async fn patch_state(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    write_state(&request, payload, &state, &session, Sessions::upsert).await
}

/// The request journal
///
/// The Rocket.Chat requests the session received (and unknown paths it was sent), oldest
/// first, with what they were answered. `X-Auth-Token` is redacted. The journal keeps the
/// newest `--journal-size` requests; `dropped` counts those it let go.
#[utoipa::path(
    get,
    path = "/_mock/requests",
    operation_id = "mock-get-requests",
    tag = TAG,
    params(SessionHeader, JournalFilter),
    responses(
        (status = 200, description = "The journal", body = JournalPage),
        (status = 400, description = "A filter is malformed", body = ControlError),
    )
)]
#[get("/requests")]
async fn get_requests(
    request: HttpRequest,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let filter = web::Query::<JournalFilter>::from_query(request.query_string())
        .map_err(|e| ApiError::Control(format!("bad journal filter: {e}")));
    state.respond(filter.map(|filter| HttpResponse::Ok().json(session.journal().page(&filter))))
}

/// Clear the request journal
#[utoipa::path(
    delete,
    path = "/_mock/requests",
    operation_id = "mock-delete-requests",
    tag = TAG,
    params(SessionHeader),
    responses((status = 200, description = "The journal is empty", body = Done))
)]
#[delete("/requests")]
async fn delete_requests(session: web::ReqData<Arc<Session>>) -> HttpResponse {
    session.journal().clear();
    HttpResponse::Ok().json(Done { success: true })
}

/// List the sessions
///
/// The `X-Mock-Session` sessions alive, by name.
#[utoipa::path(
    get,
    path = "/_mock/sessions",
    operation_id = "mock-get-sessions",
    tag = TAG,
    responses((status = 200, description = "The sessions", body = SessionList))
)]
#[get("/sessions")]
async fn get_sessions(state: web::Data<AppState>) -> HttpResponse {
    let limits = state.sessions.limits();
    HttpResponse::Ok().json(SessionList {
        sessions: state.sessions.list(),
        max: limits.max_sessions,
        idle_timeout_ms: limits.idle.as_millis() as u64,
    })
}

/// End a session
///
/// Discards the session's state and journal; its name's next request starts afresh from
/// the fixtures.
#[utoipa::path(
    delete,
    path = "/_mock/sessions/{name}",
    operation_id = "mock-delete-session",
    tag = TAG,
    params(("name" = String, Path, description = "The `X-Mock-Session` value")),
    responses(
        (status = 200, description = "The session ended", body = Done),
        (status = 404, description = "No such session", body = ControlError),
    )
)]
#[delete("/sessions/{name}")]
async fn delete_session(state: web::Data<AppState>, name: web::Path<String>) -> HttpResponse {
    let answer = if state.sessions.end(&name) {
        Ok(HttpResponse::Ok().json(Done { success: true }))
    } else {
        Err(ApiError::NotFound(format!(
            "there is no mock session named {:?}",
            name.as_str()
        )))
    };
    state.respond(answer)
}

/// The session header, documented on every control route that honours it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct SessionHeader {
    /// The session to act on; without it, the shared default state. 1 to 128 visible ASCII
    /// characters (spaces only inside).
    #[param(
        rename = "X-Mock-Session",
        nullable = false,
        min_length = 1,
        max_length = 128,
        pattern = r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$"
    )]
    x_mock_session: Option<String>,
}
