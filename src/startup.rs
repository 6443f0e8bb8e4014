//! `Application`: the bound server, built the same way by `main` and by the tests.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use utoipa_actix_web::AppExt;

use crate::config::{Config, Delay, Edition, RocketChatVersion};
use crate::domain::request::QUERIES;
use crate::error::ApiError;
use crate::mock::SESSION_HEADER;
use crate::mock::catalogue::Catalogue;
use crate::mock::fault::{Connection, Fault};
use crate::mock::guard::ControlGuard;
use crate::mock::journal::JournalLimits;
use crate::mock::layer;
use crate::mock::sessions::{Limits, Sessions};
use crate::mock::watch::{self, FixturesStatus, SharedStatus};
use crate::openapi;
use crate::routes::{self, control, docs};
use crate::store::fixtures::{FixtureError, Fixtures, Origin};
use crate::store::iso_millis;
use crate::validation::{Coercion, RequestSchema, SchemaError};

/// The request validators, compiled once from the served OpenAPI document: every
/// operation's request body, and every query schema, by its name under
/// `components/schemas` (what a route's [`Input`](crate::routes::pipeline::Input) names).
pub struct Schemas {
    by_name: HashMap<String, RequestSchema>,
}

impl Schemas {
    fn from_document(document: &Value) -> Result<Self, StartupError> {
        let mut by_name = HashMap::new();
        for name in openapi::request_body_names(document) {
            let schema = document
                .pointer(&format!("/components/schemas/{name}"))
                .cloned()
                .ok_or_else(|| StartupError::MissingSchema(name.clone()))?;
            by_name.insert(name, RequestSchema::compile(schema)?);
        }
        for query in QUERIES {
            let schema = RequestSchema::compile_with((query.schema)(), Coercion::Arrays)?;
            by_name.insert(query.name.to_owned(), schema);
        }
        Ok(Self { by_name })
    }

    /// The validator of the schema `name`.
    pub(crate) fn get(&self, name: &str) -> Result<&RequestSchema, ApiError> {
        self.by_name
            .get(name)
            .ok_or_else(|| ApiError::Internal(format!("no request schema {name} is served")))
    }
}

/// New contact ids and login tokens. With `--seed` they repeat from run to run; otherwise
/// a contact id starts with the creation time, as a MongoDB ObjectId does.
pub(crate) struct Ids {
    seeded: bool,
    random: Mutex<StdRng>,
}

/// The alphabet of Meteor's `Random.secret()`, which makes login tokens.
const TOKEN_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

/// The alphabet of Meteor's `Random.id()`: no look-alike characters.
const ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

impl Ids {
    fn new(seed: Option<u64>) -> Self {
        let random = match seed {
            // A stream of its own, so that ids do not shift the fault and delay draws.
            Some(seed) => StdRng::seed_from_u64(seed ^ 0x1d5),
            None => StdRng::from_os_rng(),
        };
        Self {
            seeded: seed.is_some(),
            random: Mutex::new(random),
        }
    }

    /// 24 hexadecimal characters, as `new ObjectId().toHexString()`.
    pub(crate) fn object_id(&self) -> String {
        let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
        let mut bytes: [u8; 12] = random.random();
        if !self.seeded {
            let seconds = u32::try_from(jiff::Timestamp::now().as_second()).unwrap_or(u32::MAX);
            bytes[..4].copy_from_slice(&seconds.to_be_bytes());
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// 17 characters, as Meteor's `Random.id()` (room and message ids).
    pub(crate) fn random_id(&self) -> String {
        let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
        (0..17)
            .map(|_| char::from(ID_ALPHABET[random.random_range(0..ID_ALPHABET.len())]))
            .collect()
    }

    /// 43 characters, as Meteor's `Accounts._generateStampedLoginToken`.
    pub(crate) fn login_token(&self) -> String {
        let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
        (0..43)
            .map(|_| char::from(TOKEN_ALPHABET[random.random_range(0..TOKEN_ALPHABET.len())]))
            .collect()
    }
}

/// `--delay` and `--fault-rate`, drawn from one seeded generator.
pub(crate) struct Chaos {
    delay: Option<Delay>,
    fault_rate: f64,
    random: Mutex<StdRng>,
}

impl Chaos {
    fn new(config: &Config) -> Self {
        let random = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Self {
            delay: config.delay,
            fault_rate: config.fault_rate,
            random: Mutex::new(random),
        }
    }

    /// This request's `--delay`.
    pub(crate) fn delay(&self) -> Option<Duration> {
        let delay = self.delay?;
        if delay.min == delay.max {
            return Some(delay.min);
        }
        let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
        Some(random.random_range(delay.min..=delay.max))
    }

    /// This request's `--fault-rate` draw.
    pub(crate) fn fault(&self) -> Option<Fault> {
        if self.fault_rate <= 0.0 {
            return None;
        }
        let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
        random
            .random_bool(self.fault_rate)
            .then(|| Fault::ALL[random.random_range(0..Fault::ALL.len())])
    }
}

/// What every request handler shares.
pub struct AppState {
    pub sessions: Arc<Sessions>,
    pub schemas: Schemas,
    pub body_limit: usize,
    pub openapi_json: String,
    pub version: RocketChatVersion,
    pub edition: Edition,
    /// Whether `/_mock/` is served.
    pub control: bool,
    pub(crate) catalogue: Catalogue,
    pub(crate) chaos: Chaos,
    pub(crate) ids: Ids,
    pub(crate) fixtures_status: SharedStatus,
    /// Who may use the control API.
    pub(crate) guard: ControlGuard,
    /// `--body-timeout`.
    pub(crate) body_timeout: Duration,
}

impl AppState {
    /// Now, as Rocket.Chat writes `_updatedAt`.
    pub fn now(&self) -> String {
        iso_millis(jiff::Timestamp::now())
    }

    /// A route's answer, its error in the body of the emulated Rocket.Chat version.
    pub(crate) fn respond(&self, answer: Result<HttpResponse, ApiError>) -> HttpResponse {
        answer.unwrap_or_else(|error| error.response(self.version))
    }

    pub(crate) fn fixtures_status(&self) -> FixturesStatus {
        self.fixtures_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("fixtures: {0}")]
    Fixtures(#[from] FixtureError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("the OpenAPI document names the request schema {0} but does not hold it")]
    MissingSchema(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot watch the fixtures folder: {0}")]
    Watch(#[from] notify::Error),
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    origin: Origin,
}

/// The headers a browser may send, as preflight requests are told: Rocket.Chat's own list
/// (`API_Enable_CORS`: `Origin, X-Requested-With, Content-Type, Accept, X-User-Id,
/// X-Auth-Token, x-visitor-token, Authorization, MCP-Protocol-Version`), and the mock's
/// `X-Mock-Session` and `Prefer`.
const REQUEST_HEADERS: [&str; 11] = [
    "Origin",
    "X-Requested-With",
    "Content-Type",
    "Accept",
    "X-User-Id",
    "X-Auth-Token",
    "x-visitor-token",
    "Authorization",
    "MCP-Protocol-Version",
    SESSION_HEADER,
    "Prefer",
];

impl Application {
    /// Loads the fixtures, compiles the schemas and binds the listener; nothing is served
    /// until [`Application::run`].
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let (state, origin) = build_state(config)?;
        let address = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();

        let app_state = state.clone();
        let mut server = HttpServer::new(move || app(app_state.clone()))
            .on_connect(Connection::attach)
            .shutdown_timeout(config.shutdown_timeout.as_secs())
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                address: format!("{}:{port}", config.host),
                source,
            })?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            state,
            origin,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state the server runs on, for tests that look behind the API.
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone().into_inner()
    }

    /// Where the fixtures came from and which files were missing.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Serves until the process is stopped. SIGINT, SIGTERM and SIGHUP stop it gracefully:
    /// no new connections, and requests in flight get `--shutdown-timeout` to finish. (A
    /// terminal that closes sends SIGHUP; killing the process there would cut answers
    /// short.)
    pub async fn run(self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            let handle = self.server.handle();
            // `tokio::spawn`: the tests run the server on a plain Tokio runtime.
            tokio::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::hangup()) {
                    Ok(mut hangup) => {
                        if hangup.recv().await.is_some() {
                            tracing::info!("SIGHUP received, stopping gracefully");
                            handle.stop(true).await;
                        }
                    }
                    Err(error) => tracing::warn!("SIGHUP will not stop gracefully: {error}"),
                }
            });
        }
        self.server.await
    }
}

/// The state every request shares: the fixtures loaded into the default session, the
/// compiled schemas and the OpenAPI document. Also starts the fixtures watcher (`--watch`).
pub fn build_state(config: &Config) -> Result<(web::Data<AppState>, Origin), StartupError> {
    let fixtures = match &config.fixtures {
        Some(dir) => Fixtures::from_dir(dir)?,
        None => Fixtures::built_in()?,
    };
    let origin = fixtures.origin.clone();
    let openapi_json = openapi::document_json(config.rocketchat_version, !config.no_control);
    let document: Value = serde_json::from_str(&openapi_json).expect("the served document is JSON");
    let sessions = Arc::new(Sessions::new(
        fixtures,
        Limits {
            max_sessions: config.max_sessions,
            idle: config.session_idle,
            journal: JournalLimits {
                entries: config.journal_size,
                bytes: config.journal_bytes,
                body_bytes: config.journal_body_limit,
            },
        },
    ));
    let fixtures_status = Arc::new(Mutex::new(FixturesStatus {
        source: origin.source.to_string(),
        loaded_at: iso_millis(jiff::Timestamp::now()),
        ..FixturesStatus::default()
    }));
    if let (true, Some(dir)) = (config.watch, &config.fixtures) {
        watch::spawn(
            dir.clone(),
            origin.missing.clone(),
            sessions.clone(),
            fixtures_status.clone(),
        )?;
    }
    let state = web::Data::new(AppState {
        sessions,
        schemas: Schemas::from_document(&document)?,
        body_limit: config.body_limit,
        catalogue: Catalogue::from_document(&document),
        openapi_json,
        version: config.rocketchat_version,
        edition: config.edition,
        control: !config.no_control,
        chaos: Chaos::new(config),
        ids: Ids::new(config.seed),
        fixtures_status,
        guard: ControlGuard::new(config),
        body_timeout: config.body_timeout,
    });
    release_freed_memory();
    Ok((state, origin))
}

/// Loading a large workspace frees many small allocations (the file's text, the documents
/// before normalisation); glibc keeps them in its arenas. Giving them back to the system
/// makes the idle RSS what the state really uses.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap memory to the system; it is safe to call
    // at any time, from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Every route and middleware on `state`: what a worker serves, and what an in-process
/// harness (the fuzz targets, `actix_web::test`) can call without a socket.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let control = state.control;
    let cors = cors(state.clone());
    let mut app = App::new()
        .app_data(state)
        .into_utoipa_app()
        .configure(routes::rocket_chat)
        .into_app();
    if control {
        app = app.service(routes::control::scope());
    }
    app.service(docs::openapi_json)
        .service(docs::root)
        .service(docs::swagger_ui())
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(layer::versioned))
        .wrap(from_fn(layer::mock_layer))
        .wrap(cors)
        .wrap(from_fn(layer::access_log))
}

/// Rocket.Chat routes: any origin by default (echoed, with credentials), or only
/// `--cors-origin`'s. The control API: only the origins its guard allows (this machine's
/// pages and `--cors-origin`'s). A request from another origin is served without CORS
/// headers, so the browser withholds the answer; the guard refuses it besides.
fn cors(state: web::Data<AppState>) -> Cors {
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            let path = head.uri.path();
            if state.control && control::is_control_path(&requoted(path)) {
                let host = head
                    .headers
                    .get(actix_web::http::header::HOST)
                    .and_then(|v| v.to_str().ok());
                return state.guard.allows_origin(origin, host);
            }
            state.guard.allows_api_origin(origin)
        })
        // Rocket.Chat's: `GET, POST, PUT, DELETE, HEAD, PATCH`.
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
            Method::PATCH,
        ])
        .allowed_headers(REQUEST_HEADERS)
        .expose_headers(["Preference-Applied"])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(600)
}

/// A path as the router reads it (see `mock::layer`), for the CORS layer, which runs before
/// routing; only a percent-encoded path needs the work.
fn requoted(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(path);
    }
    std::borrow::Cow::Owned(
        actix_web::dev::Url::new(path.parse().unwrap_or_default())
            .path()
            .to_owned(),
    )
}
