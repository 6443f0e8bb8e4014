//! `Application`: the bound server, built the same way by `main` and by the tests.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use serde_json::Value;

use crate::config::Config;
use crate::openapi::{self, CONFLICTS_PATH, UPDATE_PATH};
use crate::routes::{self, docs};
use crate::store::fixtures::{FixtureError, Fixtures, Origin};
use crate::store::{Store, iso_millis};
use crate::validation::{RequestSchema, SchemaError};

/// The request schemas, compiled once from the served OpenAPI document.
pub struct Schemas {
    pub update_contact: RequestSchema,
    pub resolve_conflicts: RequestSchema,
}

impl Schemas {
    fn from_document(document: &Value) -> Result<Self, StartupError> {
        let compile = |path: &str| {
            let schema = openapi::request_schema(document, path)
                .ok_or_else(|| StartupError::MissingSchema(path.to_owned()))?;
            Ok::<_, StartupError>(RequestSchema::compile(schema)?)
        };
        Ok(Self {
            update_contact: compile(UPDATE_PATH)?,
            resolve_conflicts: compile(CONFLICTS_PATH)?,
        })
    }
}

/// What every request handler shares.
pub struct AppState {
    pub store: Store,
    pub schemas: Schemas,
    pub body_limit: usize,
    pub openapi_json: String,
}

impl AppState {
    /// Now, as Rocket.Chat writes `_updatedAt`.
    pub fn now(&self) -> String {
        iso_millis(jiff::Timestamp::now())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("fixtures: {0}")]
    Fixtures(#[from] FixtureError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("the OpenAPI document has no request schema for {0}")]
    MissingSchema(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    origin: Origin,
}

impl Application {
    /// Loads the fixtures, compiles the schemas and binds the listener; nothing is served
    /// until [`Application::run`].
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let fixtures = match &config.fixtures {
            Some(dir) => Fixtures::from_dir(dir)?,
            None => Fixtures::built_in()?,
        };
        let origin = fixtures.origin.clone();
        let openapi_json = openapi::document_json();
        let document: Value =
            serde_json::from_str(&openapi_json).expect("the served document is JSON");
        let state = web::Data::new(AppState {
            store: Store::new(fixtures),
            schemas: Schemas::from_document(&document)?,
            body_limit: config.body_limit,
            openapi_json,
        });

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
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .service(routes::omnichannel::contacts_update)
                .service(routes::omnichannel::contacts_conflicts)
                .service(docs::openapi_json)
                .service(docs::root)
                .service(docs::swagger_ui())
                .default_service(web::to(routes::not_found))
        })
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

    /// Serves until the process is stopped (SIGINT/SIGTERM stop it gracefully).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
