//! The request pipelines, as extractors: a handler names its pipeline, its permission and
//! its input in its signature, and is left with its store call and its answer.
//!
//! - [`Legacy`]: a body route registered with `API.v1.addRoute`: authentication → body
//!   validation → permission.
//! - [`LegacyQuery`]: the same for a GET route's query string (`ajvQuery`, coerced).
//! - [`Authorized`]: a legacy route without input validation: authentication → permission.
//! - [`Typed`]: a body route registered with `API.v1.post`: the router validates the body
//!   first, in its own error shape, then the route authenticates and checks the permission.
//! - [`Widget`]: a Livechat widget route: no user, the visitor's `token` travels in the
//!   input and the store call finds the visitor by it.
//! - [`Workspace`]: the session's state and the server's clocks and ids, which every
//!   pipeline hands over too.
//!
//! The first failure answers, as an [`ApiError`]; the error layer writes it in the body of
//! the emulated Rocket.Chat version.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{body, query};
use crate::auth::{self, Permission};
use crate::error::ApiError;
use crate::mock::sessions::Session;
use crate::startup::AppState;
use crate::store::NewIds;
use crate::store::{Caller, Store};
use crate::validation::RequestSchema;
use crate::validation::check::Pattern;

/// A route's validated input: its schema's name under the document's
/// `components/schemas`, where the request validator is compiled from.
pub(crate) trait Input: DeserializeOwned + 'static {
    const SCHEMA: &'static str;
    /// `contacts` (create) hands its handler the body as validated, `null`s included; the
    /// other legacy routes drop top-level `null`s first (their `removeEmpty`).
    const KEEPS_NULLS: bool = false;

    /// The Meteor `check` pattern of a route that validates with one instead of its schema
    /// (the schema then only documents the input).
    fn check() -> Option<Pattern> {
        None
    }
}

/// The session a request works on, and what the server shares with every request.
pub(crate) struct Workspace {
    state: web::Data<AppState>,
    session: Arc<Session>,
}

impl Workspace {
    fn of(request: &HttpRequest) -> Result<Self, ApiError> {
        let state = request
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("the application state is missing".into()))?;
        let session = request
            .extensions()
            .get::<Arc<Session>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("the request has no session".into()))?;
        Ok(Self { state, session })
    }

    /// Runs a read-only `operation` on a snapshot of the state.
    pub(crate) fn read<R>(&self, operation: impl FnOnce(&Store) -> R) -> R {
        self.session.read(operation)
    }

    /// Runs `operation` on the state itself; keep it synchronous and short.
    pub(crate) fn write<R>(&self, operation: impl FnOnce(&mut Store) -> R) -> R {
        self.session.write(operation)
    }

    /// Runs a long read (a sort over every contact, a bcrypt check) on the blocking pool,
    /// so that this worker goes on serving.
    pub(crate) async fn read_aside<R: Send + 'static>(
        &self,
        operation: impl FnOnce(&Store) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let store = self.session.snapshot();
        web::block(move || operation(&store))
            .await
            .map_err(|_| ApiError::ShuttingDown)
    }

    /// Now, as Rocket.Chat writes `_updatedAt`.
    pub(crate) fn now(&self) -> String {
        self.state.now()
    }

    /// A new MongoDB ObjectId, as hex.
    pub(crate) fn object_id(&self) -> String {
        self.state.ids.object_id()
    }

    /// A new Meteor `Random.id()` (17 characters), as Rocket.Chat gives messages and rooms.
    pub(crate) fn random_id(&self) -> String {
        self.state.ids.random_id()
    }

    /// A new login token.
    pub(crate) fn login_token(&self) -> String {
        self.state.ids.login_token()
    }

    /// The Rocket.Chat version the server emulates.
    pub(crate) fn state_version(&self) -> crate::config::RocketChatVersion {
        self.state.version
    }

    fn schema<T: Input>(&self) -> Result<&RequestSchema, ApiError> {
        self.state.schemas.get(T::SCHEMA)
    }

    /// The request's user (401 otherwise).
    fn caller(&self, request: &HttpRequest) -> Result<Caller, ApiError> {
        self.read(|store| auth::authenticate(request, store))
    }

    /// 403 unless the caller holds `P` (`Anyone` holds nothing).
    fn permit<P: Permission>(&self, caller: &Caller) -> Result<(), ApiError> {
        if P::NAME.is_empty() {
            return Ok(());
        }
        self.read(|store| auth::require_permission(store, caller, P::NAME))
    }

    /// Validates (and coerces) `input` by `T`'s schema; a refusal is `refused(message)`.
    fn validate<T: Input>(
        &self,
        input: &mut Value,
        refused: fn(String) -> ApiError,
    ) -> Result<(), ApiError> {
        self.schema::<T>()?.validate(input).map_err(refused)
    }

    fn body_limit(&self) -> usize {
        self.state.body_limit
    }
}

impl NewIds for Workspace {
    fn object_id(&self) -> String {
        Workspace::object_id(self)
    }

    fn random_id(&self) -> String {
        Workspace::random_id(self)
    }
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for Workspace {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(request))
    }
}

/// A legacy body route's authenticated caller and validated body.
pub(crate) struct Legacy<P, T> {
    pub(crate) caller: Caller,
    pub(crate) input: T,
    pub(crate) workspace: Workspace,
    permission: PhantomData<P>,
}

impl<P: Permission, T: Input> FromRequest for Legacy<P, T> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (request, payload) = (request.clone(), payload.take());
        Box::pin(async move {
            let workspace = Workspace::of(&request)?;
            let caller = workspace.caller(&request)?;
            let mut body = body::read(&request, payload, workspace.body_limit()).await?;
            workspace.validate::<T>(&mut body, ApiError::InvalidParams)?;
            workspace.permit::<P>(&caller)?;
            let body = if T::KEEPS_NULLS {
                body
            } else {
                without_nulls(body)
            };
            Ok(Self {
                caller,
                input: handler_input(body)?,
                workspace,
                permission: PhantomData,
            })
        })
    }
}

/// A legacy GET route's authenticated caller and validated, coerced query.
pub(crate) struct LegacyQuery<P, T> {
    pub(crate) caller: Caller,
    pub(crate) input: T,
    pub(crate) workspace: Workspace,
    permission: PhantomData<P>,
}

impl<P: Permission, T: Input> FromRequest for LegacyQuery<P, T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let workspace = Workspace::of(request)?;
            let caller = workspace.caller(request)?;
            let mut params = query::parse(request.query_string());
            workspace.validate::<T>(&mut params, ApiError::InvalidParams)?;
            workspace.permit::<P>(&caller)?;
            Ok(Self {
                caller,
                input: handler_input(params)?,
                workspace,
                permission: PhantomData,
            })
        })())
    }
}

/// An enterprise route's license check (`license: ['livechat-enterprise']`), which comes
/// before the route's own pipeline: name it before the pipeline in the handler's arguments.
pub(crate) struct Licensed;

impl FromRequest for Licensed {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let community = request
            .app_data::<web::Data<AppState>>()
            .is_some_and(|state| state.edition == crate::config::Edition::Community);
        std::future::ready(if community {
            Err(ApiError::enterprise_only())
        } else {
            Ok(Self)
        })
    }
}

/// A legacy route without input validation: the authenticated caller, who holds `P`.
pub(crate) struct Authorized<P> {
    pub(crate) workspace: Workspace,
    permission: PhantomData<P>,
}

impl<P: Permission> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let workspace = Workspace::of(request)?;
            let caller = workspace.caller(request)?;
            workspace.permit::<P>(&caller)?;
            Ok(Self {
                workspace,
                permission: PhantomData,
            })
        })())
    }
}

/// A typed route's validated body and authenticated caller: a bad body is answered 400
/// even without credentials, in the router's error shape.
pub(crate) struct Typed<P, T> {
    pub(crate) input: T,
    pub(crate) workspace: Workspace,
    permission: PhantomData<P>,
}

impl<P: Permission, T: Input> FromRequest for Typed<P, T> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (request, payload) = (request.clone(), payload.take());
        Box::pin(async move {
            let workspace = Workspace::of(&request)?;
            let mut body = body::read(&request, payload, workspace.body_limit())
                .await
                .map_err(|error| match error {
                    ApiError::InvalidParams(message) => ApiError::TypedInvalidParams(message),
                    other => other,
                })?;
            workspace.validate::<T>(&mut body, ApiError::TypedInvalidParams)?;
            let caller = workspace.caller(&request)?;
            workspace.permit::<P>(&caller)?;
            Ok(Self {
                input: handler_input(body)?,
                workspace,
                permission: PhantomData,
            })
        })
    }
}

/// A Livechat widget route's validated input (its body, or its query string for a GET),
/// checked as the route checks it; the visitor is found by the `token` inside it.
pub(crate) struct Widget<T> {
    pub(crate) input: T,
    pub(crate) workspace: Workspace,
}

impl<T: Input> FromRequest for Widget<T> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (request, payload) = (request.clone(), payload.take());
        Box::pin(async move {
            let workspace = Workspace::of(&request)?;
            let mut input = if request.method() == actix_web::http::Method::GET {
                query::parse(request.query_string())
            } else {
                body::read(&request, payload, workspace.body_limit()).await?
            };
            match T::check() {
                // `check` failures are plain `Match.Error`s: their message, no `errorType`.
                Some(pattern) => pattern.check(&input).map_err(ApiError::Business)?,
                None => workspace.validate::<T>(&mut input, ApiError::InvalidParams)?,
            }
            Ok(Self {
                input: handler_input(input)?,
                workspace,
            })
        })
    }
}

/// The body without its top-level `null`s (the legacy routes' `removeEmpty`).
fn without_nulls(body: Value) -> Value {
    let mut body = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.retain(|_, v| !v.is_null());
    Value::Object(body)
}

/// The validated input as the handler's type.
fn handler_input<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    // The input satisfies the schema here, and the schema and `T` describe the same fields;
    // should they ever drift apart, say so rather than answer 500.
    serde_json::from_value(input)
        .map_err(|e| ApiError::InvalidParams(format!("request does not fit: {e}")))
}
