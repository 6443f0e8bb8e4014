//! The OpenAPI 3.1 document: generated from the routes and types, committed as
//! `openapi/openapi.json` (a test fails when the two differ), served at `/openapi.json`.
//!
//! The examples are the published reference pages' (`shared/seeds/`), with these corrections:
//! booleans are JSON booleans (as the contract says the server sends them); the
//! `contacts.update` 400 example names the property that route really requires (`contactId`;
//! the page shows `emails`, which only the create route requires); and the conflicts example's
//! e-mail address, which the page shows as an obfuscation placeholder, is a real address.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::example::Example;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

mod livechat;

use crate::config::RocketChatVersion;
use crate::domain::account::LoginError;
use crate::domain::contact::ContactDocument;
use crate::domain::request::{
    CHECK_EXISTENCE_QUERY, GET_CONTACT_QUERY, HISTORY_QUERY, QUERIES, QuerySchema, ROOM_QUERY,
    SEARCH_CONTACTS_QUERY,
};
use crate::domain::rules::ContactError;
use crate::domain::search::InvalidSort;
use crate::error::{ApiError, RESOURCE_NOT_FOUND};
use crate::mock::SESSION_HEADER;
use crate::mock::sessions::SessionError;
use crate::routes::{account, control};
use crate::store::Store;
use crate::store::fixtures::Fixtures;
use utoipa_actix_web::AppExt;

pub const UPDATE_PATH: &str = "/api/v1/omnichannel/contacts.update";
pub const CONFLICTS_PATH: &str = "/api/v1/omnichannel/contacts.conflicts";
pub(crate) const CREATE_PATH: &str = "/api/v1/omnichannel/contacts";
pub(crate) const DELETE_PATH: &str = "/api/v1/omnichannel/contacts.delete";
const GET_PATH: &str = "/api/v1/omnichannel/contacts.get";
const SEARCH_PATH: &str = "/api/v1/omnichannel/contacts.search";
const CHECK_EXISTENCE_PATH: &str = "/api/v1/omnichannel/contacts.checkExistence";
const LOGIN_PATH: &str = "/api/v1/login";
const LOGOUT_PATH: &str = "/api/v1/logout";
const ME_PATH: &str = "/api/v1/me";

/// Fixture values the examples use, so that "Try it out" works on the default fixtures.
const JOHN: &str = "67487f45e98719b7908d0f29";
const MARIA_AGENT: &str = "9sLvmAcQk4EAGdi6e";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rocket.Chat Omnichannel Contacts (rocketchat-mock)",
        description = "A mock of Rocket.Chat's Omnichannel Contacts REST API that answers as the real server does.\n\nAuthenticate with the `X-User-Id` and `X-Auth-Token` headers (**Authorize** above). On the default fixtures, the workspace admin is `X-User-Id: rbAXPnMktTFbNpwtJ`, `X-Auth-Token: RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f`; the README lists the other users.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = account::TAG, description = "Log in for a token, read the current user, log out."),
        (name = "Omnichannel Contacts", description = "Omnichannel contacts: the people your agents talk to, across channels."),
        (name = "Livechat", description = "The Livechat widget's API: visitors register, open rooms, chat and close them. No login: a visitor is its `token`. On the built-in workspace, `ana-widget-token` has no room yet, `jane-whatsapp-token` has an open one (`Ty7HbWq2KcnA9pLx3`), and `maria.agent` is online to serve new rooms.")
    )
)]
struct ApiDoc;

#[derive(OpenApi)]
#[openapi(
    paths(
        control::health,
        control::reset,
        control::get_state,
        control::put_state,
        control::patch_state,
        control::get_requests,
        control::delete_requests,
        control::get_sessions,
        control::delete_session,
    ),
    tags((name = control::TAG, description = "The mock's own API (not Rocket.Chat's): reset and replace the state, read the request journal, manage `X-Mock-Session` sessions. Off with `--no-control`.\n\nOn Rocket.Chat routes, `Prefer: code=403`, `Prefer: example=Example 2`, `Prefer: delay=500` and `Prefer: fault=connection-reset|empty-response|malformed-json` force an answer."))
)]
struct ControlDoc;

/// The document served by a mock emulating `version`, with or without the control API.
pub fn document(version: RocketChatVersion, control: bool) -> Document {
    // The paths are those the server registers (`routes::rocket_chat`), collected as they
    // are registered.
    let (_, mut document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::rocket_chat)
        .split_for_parts();
    Examples { version }.modify(&mut document);
    if control {
        let mut control = ControlDoc::openapi();
        StateExamples.modify(&mut control);
        SessionResponses.modify(&mut control);
        ControlSecurity.modify(&mut control);
        document.merge(control);
    }
    document
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_json(version: RocketChatVersion, control: bool) -> String {
    let mut text = document(version, control)
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

/// The names (under `components/schemas`) of every operation's request body schema.
pub fn request_body_names(document: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for item in document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, i)| i)
    {
        for (_, operation) in item.as_object().into_iter().flatten() {
            let reference = operation
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(Value::as_str);
            if let Some(name) = reference.and_then(|r| r.strip_prefix("#/components/schemas/"))
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// The request body schema of the operation at `path`, as served.
pub fn request_schema(document: &Value, path: &str) -> Option<Value> {
    let schema = document
        .pointer(&format!(
            "/paths/{}/post/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        ))?
        .clone();
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => document.pointer(reference.trim_start_matches('#')).cloned(),
        None => Some(schema),
    }
}

/// `contacts.update` answers the whole updated contact.
#[derive(Serialize, ToSchema)]
pub struct UpdateContactResponse {
    pub contact: ContactDocument,
    pub success: bool,
}

/// `contacts.conflicts` answers the whole updated contact under `result`.
#[derive(Serialize, ToSchema)]
pub struct ResolveConflictsResponse {
    pub result: ContactDocument,
    pub success: bool,
}

/// A validation failure (`errorType: "invalid-params"`, AJV's first message followed by
/// ` [invalid-params]`; or Meteor's `Match error: …`, no `errorType`), a refused `sort`
/// (`errorType: "error-invalid-sort"`, with `details`), a business error (the error code
/// alone, no `errorType`) or a `Meteor.Error` (`"<reason> [<code>]"`, the code as
/// `errorType`, sometimes `details`).
#[derive(Serialize, ToSchema)]
pub struct BadRequestError {
    pub success: bool,
    pub error: String,
    #[serde(rename = "errorType", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// A validation failure of a typed route, answered by Rocket.Chat's router before the
/// route runs (`errorType: "error-invalid-params"`, AJV's message(s), no suffix), or the
/// route's own failure (the error code alone, e.g. `error-invalid-contact`).
#[derive(Serialize, ToSchema)]
pub struct TypedBadRequestError {
    pub success: bool,
    #[serde(rename = "errorType", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    pub error: String,
}

/// Nothing found: `Resource not found`, or the route's own error code.
#[derive(Serialize, ToSchema)]
pub struct NotFoundError {
    pub success: bool,
    pub error: String,
}

/// The new contact's `_id`.
#[derive(Serialize, ToSchema)]
pub struct CreateContactResponse {
    #[serde(rename = "contactId")]
    pub contact_id: String,
    pub success: bool,
}

/// The contact.
#[derive(Serialize, ToSchema)]
pub struct GetContactResponse {
    pub contact: ContactDocument,
    pub success: bool,
}

/// A contact as `contacts.search` lists it: its manager is the user's `{_id, username, name}`.
pub struct SearchedContact;

impl utoipa::PartialSchema for SearchedContact {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        let mut schema =
            serde_json::to_value(ContactDocument::schema()).expect("the contact schema serializes");
        schema["properties"]["contactManager"] = json!({
            "type": "object",
            "description": "The contact's manager (absent when the user no longer exists).",
            "properties": {
                "_id": { "type": "string" },
                "username": { "type": "string" },
                "name": { "type": "string" }
            },
            "required": ["_id"]
        });
        schema["description"] = json!("A contact, with its manager's name and username.");
        RefOr::T(serde_json::from_value(schema).expect("a schema"))
    }
}

impl ToSchema for SearchedContact {}

/// One page of matching contacts.
#[derive(Serialize, ToSchema)]
pub struct SearchContactsResponse {
    #[schema(value_type = Vec<SearchedContact>)]
    pub contacts: Vec<Value>,
    /// The page size asked for (`0`: all).
    pub count: i64,
    pub offset: i64,
    /// How many contacts match in all.
    pub total: u64,
    pub success: bool,
}

/// Whether such a contact exists.
#[derive(Serialize, ToSchema)]
pub struct CheckExistenceResponse {
    pub exists: bool,
    pub success: bool,
}

/// The contact was deleted.
#[derive(Serialize, ToSchema)]
pub struct DeleteContactResponse {
    pub success: bool,
}

/// A successful login.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// `success`.
    pub status: String,
    pub data: LoginData,
    pub success: bool,
}

#[derive(Serialize, ToSchema)]
pub struct LoginData {
    /// Send as `X-User-Id`.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Send as `X-Auth-Token`.
    #[serde(rename = "authToken")]
    pub auth_token: String,
    /// The user, as `GET /api/v1/me` answers it.
    #[schema(value_type = Object)]
    pub me: Value,
}

/// The login failed. Before 8.0 every wrong credential reads `Unauthorized`
/// (`{success, error, status, message}`), and a deactivated user gets
/// `error-user-is-not-activated` with `details`; from 8.0 the body is
/// `{"success": false, "error": "unauthorized"}`.
#[derive(Serialize, ToSchema)]
pub struct LoginFailedError {
    pub success: bool,
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Logged out.
#[derive(Serialize, ToSchema)]
pub struct LogoutResponse {
    /// `success`.
    pub status: String,
    pub data: LogoutMessage,
}

#[derive(Serialize, ToSchema)]
pub struct LogoutMessage {
    /// `You've been logged out!`
    pub message: String,
}

/// The logged-in user (Rocket.Chat's `getUserInfo`): the user's profile fields as stored,
/// then `email` (the verified address), `settings`, `avatarUrl`, `isOAuthUser` and
/// `services` (which login services the user has, never their secrets).
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
    pub roles: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
    #[serde(rename = "avatarUrl")]
    pub avatar_url: String,
    #[serde(rename = "isOAuthUser")]
    pub is_oauth_user: bool,
    pub success: bool,
}

/// Not logged in: a header is missing, or it names no active user holding that token.
/// (The shape depends on `--rocketchat-version`; see the example.)
#[derive(Serialize, ToSchema)]
pub struct UnauthorizedError {
    pub status: String,
    pub message: String,
}

/// The 401 body's schema for `version`.
fn unauthorized_schema(version: RocketChatVersion) -> Value {
    let fields: &[&str] = match version {
        RocketChatVersion::Reference => &["status", "message"],
        RocketChatVersion::V7 => &["success", "error", "status", "message"],
        RocketChatVersion::V8 => &["success", "error"],
    };
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|&f| {
            let kind = if f == "success" { "boolean" } else { "string" };
            (f.to_owned(), json!({ "type": kind }))
        })
        .collect();
    json!({
        "type": "object",
        "description": "Not logged in: a header is missing, or it names no active user holding that token.",
        "required": fields,
        "properties": properties,
    })
}

/// Logged in, but no role of the user holds the route's permission.
#[derive(Serialize, ToSchema)]
pub struct ForbiddenError {
    pub success: bool,
    pub error: String,
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let header = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                name,
                description,
            )))
        };
        components.add_security_scheme(
            "X-Auth-Token",
            header(
                "X-Auth-Token",
                "The `authToken` of the authenticated user (default fixtures: `RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f`).",
            ),
        );
        components.add_security_scheme(
            "X-User-Id",
            header(
                "X-User-Id",
                "The `userId` of the authenticated user (default fixtures: `rbAXPnMktTFbNpwtJ`).",
            ),
        );
        components.add_security_scheme(
            CONTROL_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The mock's `--control-token`, when it runs with one: every `/_mock/` operation but `health` then needs it. Without the flag, leave it empty.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The control operations (but `health`) take the `--control-token`.
struct ControlSecurity;

impl Modify for ControlSecurity {
    fn modify(&self, openapi: &mut Document) {
        // Optional in the document (`{}` or the token), since it depends on the flag.
        let optional_token = vec![
            SecurityRequirement::default(),
            SecurityRequirement::new(CONTROL_TOKEN, Vec::<String>::new()),
        ];
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !control::is_control_path(path) || path == "/_mock/health" {
                continue;
            }
            for operation in [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                operation.security = Some(optional_token.clone());
            }
        }
    }
}

/// The security scheme of `--control-token`.
const CONTROL_TOKEN: &str = "controlToken";

/// Adds the documented request and response examples (the 401 and 403 bodies of the
/// emulated version), and the form encoding of the bodies.
struct Examples {
    version: RocketChatVersion,
}

impl Modify for Examples {
    fn modify(&self, openapi: &mut Document) {
        if let Some(components) = openapi.components.as_mut() {
            let schema = serde_json::from_value(unauthorized_schema(self.version))
                .expect("the 401 schema is a schema");
            components
                .schemas
                .insert("UnauthorizedError".to_owned(), schema);
        }
        for (method, path, request, responses) in operations(self.version) {
            let Some(item) = openapi.paths.paths.get_mut(path) else {
                continue;
            };
            let operation = match method {
                "get" => item.get.as_mut(),
                "delete" => item.delete.as_mut(),
                _ => item.post.as_mut(),
            };
            let Some(operation) = operation else { continue };
            if let (Some(request), Some(RefOr::T(body))) =
                (request, operation.request_body.as_mut())
            {
                if let Some(RefOr::T(json)) = body.content.get_mut("application/json") {
                    json.examples
                        .insert("Example 1".to_owned(), example(request));
                    // Rocket.Chat also reads form bodies; their fields arrive as strings and
                    // are coerced like JSON scalars.
                    let form = Content::new(json.schema.clone());
                    body.content.insert(
                        "application/x-www-form-urlencoded".to_owned(),
                        RefOr::T(form),
                    );
                }
                body.required = Some(utoipa::openapi::Required::True);
            }
            for (status, named) in responses {
                let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) else {
                    continue;
                };
                if let Some(RefOr::T(content)) = response.content.get_mut("application/json") {
                    for (name, value) in named {
                        content.examples.insert(name.to_owned(), example(value));
                    }
                }
            }
        }
        // Every GET route with a query schema lists its parameters.
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let (Some(query), Some(operation)) = (query_schema(path), item.get.as_mut()) {
                let parameters = operation.parameters.get_or_insert_with(Vec::new);
                parameters.extend(query_parameters(path, query).into_iter().map(RefOr::T));
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            for query in QUERIES {
                let schema = serde_json::from_value((query.schema)()).expect("a query schema");
                components.schemas.insert(query.name.to_owned(), schema);
            }
        }
    }
}

type OperationExamples = (&'static str, &'static str, Option<Value>, NamedExamples);

/// Every Rocket.Chat operation's request example (if it has a body) and response examples.
fn operations(version: RocketChatVersion) -> Vec<OperationExamples> {
    // The built-in fixtures as a store, so that the success examples are the mock's own
    // answers on the default fixtures.
    let store = Fixtures::built_in()
        .expect("the built-in fixtures load")
        .store;
    vec![
        (
            "post",
            LOGIN_PATH,
            Some(json!({ "user": "admin", "password": "admin-password" })),
            login_examples(&store, version),
        ),
        ("post", LOGOUT_PATH, None, logout_examples(version)),
        ("get", LOGOUT_PATH, None, logout_examples(version)),
        ("get", ME_PATH, None, me_examples(&store, version)),
        (
            "post",
            CREATE_PATH,
            Some(create_request_example()),
            create_examples(version),
        ),
        (
            "post",
            UPDATE_PATH,
            Some(update_request_example()),
            update_response_examples(version),
        ),
        ("get", GET_PATH, None, get_examples(&store, version)),
        ("get", SEARCH_PATH, None, search_examples(&store, version)),
        (
            "get",
            CHECK_EXISTENCE_PATH,
            None,
            check_existence_examples(version),
        ),
        (
            "post",
            CONFLICTS_PATH,
            Some(conflicts_request_example()),
            conflicts_response_examples(version),
        ),
        (
            "post",
            DELETE_PATH,
            Some(json!({ "contactId": JOHN })),
            delete_examples(version),
        ),
        (
            "post",
            "/api/v1/omnichannel/contacts.block",
            Some(block_example()),
            block_examples(version),
        ),
        (
            "post",
            "/api/v1/omnichannel/contacts.unblock",
            Some(block_example()),
            block_examples(version),
        ),
    ]
    .into_iter()
    .chain(livechat::operations(&store, version))
    .collect()
}

/// Jane's WhatsApp channel, as `contacts.channels` lists it.
fn block_example() -> Value {
    json!({ "visitor": { "visitorId": "68135b90e384b3ad127c7dc4", "source": { "type": "app", "id": "whatsapp" } } })
}

fn block_examples(version: RocketChatVersion) -> NamedExamples {
    let mut examples = vec![
        ("200", vec![("Example 1", json!({ "success": true }))]),
        (
            "400",
            vec![
                error_example(
                    "Invalid body",
                    &ApiError::InvalidParams("must have required property 'visitor'".to_owned()),
                    version,
                ),
                error_example(
                    "Unknown channel",
                    &ApiError::Business("error-contact-not-found".to_owned()),
                    version,
                ),
                error_example("Community workspace", &ApiError::enterprise_only(), version),
            ],
        ),
    ];
    examples.extend(auth_examples(version));
    examples
}

fn query_schema(path: &str) -> Option<&'static QuerySchema> {
    match path {
        GET_PATH => Some(&GET_CONTACT_QUERY),
        SEARCH_PATH => Some(&SEARCH_CONTACTS_QUERY),
        CHECK_EXISTENCE_PATH => Some(&CHECK_EXISTENCE_QUERY),
        livechat::ROOM_PATH => Some(&ROOM_QUERY),
        livechat::HISTORY_PATH => Some(&HISTORY_QUERY),
        "/api/v1/livechat/custom-fields" => Some(&crate::domain::request::CUSTOM_FIELDS_QUERY),
        "/api/v1/omnichannel/contacts.history" => {
            Some(&crate::domain::request::CONTACT_HISTORY_QUERY)
        }
        "/api/v1/omnichannel/contacts.channels" => {
            Some(&crate::domain::request::CONTACT_CHANNELS_QUERY)
        }
        "/api/v1/livechat/{rid}/messages" => Some(&crate::domain::request::ROOM_MESSAGES_QUERY),
        "/api/v1/livechat/users/{type}" => Some(&crate::domain::request::OMNICHANNEL_USERS_QUERY),
        "/api/v1/users.info" => Some(&crate::domain::request::USERS_INFO_QUERY),
        "/api/v1/livechat/message/{_id}" => Some(&crate::domain::request::WIDGET_MESSAGE_QUERY),
        _ => None,
    }
}

/// The query schema's properties as query parameters (a `oneOf`'s branches together, none
/// required), each with its description; the examples are values of the default fixtures.
fn query_parameters(path: &str, query: &QuerySchema) -> Vec<Parameter> {
    let schema = (query.schema)();
    let any_of = schema.get("anyOf").and_then(Value::as_array);
    let branches: Vec<&Value> = match schema.get("oneOf").and_then(Value::as_array).or(any_of) {
        Some(branches) => branches.iter().collect(),
        None => vec![&schema],
    };
    let one_of = branches.len() > 1;
    let mut parameters = Vec::new();
    for branch in branches {
        let required: Vec<&str> = branch["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (name, property) in branch["properties"].as_object().into_iter().flatten() {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"))
                .and_then(|d| d.as_str().map(str::to_owned))
                .unwrap_or_default();
            if parameters.iter().any(|p: &Parameter| p.name == *name) {
                // A property every branch allows is one parameter.
                continue;
            }
            let description = match (one_of, any_of.is_some()) {
                (true, true) => format!(
                    "{description} Send one of `userId`, `username`, `importId`, `email` and `freeSwitchExtension`."
                ),
                (true, false) => {
                    format!("{description} Send exactly one of `contactId`, `email` and `phone`.")
                }
                _ => description,
            };
            let example = match name.as_str() {
                "contactId" if !one_of => Some(json!(JOHN)),
                "email" if any_of.is_none() => Some(json!("email@example.com")),
                "searchText" => Some(json!("john")),
                "userId" if any_of.is_some() => Some(json!(MARIA_AGENT)),
                _ => livechat::query_example(path, name),
            };
            let required = if !one_of && required.contains(&name.as_str()) {
                utoipa::openapi::Required::True
            } else {
                utoipa::openapi::Required::False
            };
            let schema: utoipa::openapi::schema::Schema =
                serde_json::from_value(property).expect("a parameter schema");
            let mut parameter = ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(required)
                .description(Some(description))
                .schema(Some(schema));
            if let Some(example) = example {
                parameter = parameter.example(Some(example));
            }
            parameters.push(parameter.build());
        }
    }
    parameters
}

fn example(value: Value) -> RefOr<Example> {
    RefOr::T(Example::builder().value(Some(value)).build())
}

type NamedExamples = Vec<(&'static str, Vec<(&'static str, Value)>)>;

/// Documented examples every route shares: 401 and 403, as `version` sends them.
fn auth_examples(version: RocketChatVersion) -> NamedExamples {
    vec![
        (
            "401",
            vec![("Authorization Error", ApiError::Unauthorized.body(version))],
        ),
        (
            "403",
            vec![
                ("Permission Error", ApiError::Forbidden.body(version)),
                // The server's bare forbidden helper; these routes never send it on their own.
                ("Unauthorized", ApiError::bare_forbidden_body(version)),
            ],
        ),
    ]
}

/// Examples of the state routes, cut from the built-in fixtures so that they are valid.
struct StateExamples;

impl Modify for StateExamples {
    fn modify(&self, openapi: &mut Document) {
        let state = Fixtures::built_in()
            .expect("the built-in fixtures load")
            .store
            .to_state();
        // One document per collection: a small state that still logs the admin in.
        let small: serde_json::Map<String, Value> = state
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, documents)| {
                let first = documents.as_array().and_then(|d| d.first()).cloned();
                (key.clone(), Value::Array(first.into_iter().collect()))
            })
            .collect();
        let mut contact = small["contacts"][0].clone();
        contact["name"] = json!("John (patched)");
        let patch = json!({ "contacts": [contact] });
        let Some(item) = openapi.paths.paths.get_mut("/_mock/state") else {
            return;
        };
        for (operation, value) in [
            (item.put.as_mut(), Value::Object(small)),
            (item.patch.as_mut(), patch),
        ] {
            if let Some(RefOr::T(body)) = operation.and_then(|o| o.request_body.as_mut())
                && let Some(RefOr::T(json)) = body.content.get_mut("application/json")
            {
                json.examples.insert("Example 1".to_owned(), example(value));
            }
        }
    }
}

/// The answers of every operation that takes `X-Mock-Session`: a malformed name is refused
/// (400) and a new session past `--max-sessions` is refused (503), before the route runs.
struct SessionResponses;

impl Modify for SessionResponses {
    fn modify(&self, openapi: &mut Document) {
        let refusals = [
            (
                "400",
                "The `X-Mock-Session` name is malformed",
                SessionError::InvalidName(String::new()),
            ),
            (
                "503",
                "`X-Mock-Session` would open a session past `--max-sessions`",
                SessionError::Exhausted {
                    name: "checkout-test-17".to_owned(),
                    max: 100,
                    idle: "15m".to_owned(),
                },
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                let takes_session = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p, RefOr::T(p) if p.name == SESSION_HEADER));
                if !takes_session {
                    continue;
                }
                for (status, description, error) in &refusals {
                    let response = operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(*description)
                                    .content(
                                        "application/json",
                                        Content::new(Some(Ref::from_schema_name("ControlError"))),
                                    )
                                    .build(),
                            )
                        });
                    if let RefOr::T(response) = response
                        && let Some(RefOr::T(json)) = response.content.get_mut("application/json")
                    {
                        let body = ApiError::from(error.clone()).body(RocketChatVersion::default());
                        json.examples
                            .insert("Session refused".to_owned(), example(body));
                    }
                }
            }
        }
    }
}

fn update_request_example() -> Value {
    json!({
        "contactId": "67487f45e98719b7908d0f29",
        "name": "John",
        "phones": ["+123456789"],
        "emails": ["email@example.com"],
        "contactManager": "9sLvmAcQk4EAGdi6e",
        "customFields": {},
        "wipeConflicts": "false"
    })
}

fn update_response_examples(version: RocketChatVersion) -> NamedExamples {
    let mut examples = vec![
        (
            "200",
            vec![(
                "Example 1",
                json!({
                    "contact": {
                        "_id": "67487f45e98719b7908d0f29",
                        "createdAt": "2024-11-28T14:33:41.487Z",
                        "name": "John",
                        "emails": [{ "address": "email@example.com" }],
                        "phones": [{ "phoneNumber": "+123383883838" }],
                        "channels": [{
                            "name": "widget",
                            "visitor": { "visitorId": "67499b2243725ce31dd57fc7", "source": { "type": "widget" } },
                            "blocked": false,
                            "verified": false,
                            "details": { "type": "widget", "destination": "example.com" },
                            "lastChat": { "_id": "bC5x3zmBdgtmA4m3W", "ts": "2024-11-29T10:44:55.016Z" }
                        }],
                        "customFields": {},
                        "unknown": false,
                        "preRegistration": false,
                        "_updatedAt": "2024-11-29T13:31:43.595Z",
                        "conflictingFields": [],
                        "lastChat": { "_id": "bC5x3zmBdgtmA4m3W", "ts": "2024-11-29T10:44:55.016Z" },
                        "contactManager": "9sLvmAcQk4EAGdi6e"
                    },
                    "success": true
                }),
            )],
        ),
        (
            "400",
            vec![
                (
                    "Example 1",
                    json!({ "success": false, "error": "must have required property 'contactId' [invalid-params]", "errorType": "invalid-params" }),
                ),
                (
                    "Example 2",
                    json!({ "success": false, "error": "error-contact-manager-not-found" }),
                ),
            ],
        ),
    ];
    examples.extend(auth_examples(version));
    examples
}

fn conflicts_request_example() -> Value {
    json!({
        "contactId": "68135a22e384b3ad127c7dbc",
        "name": "John Doe",
        "customFields": { "field1": "field1", "field2": "field2" },
        "contactManager": "test.agent",
        "wipeConflicts": false
    })
}

fn conflicts_response_examples(version: RocketChatVersion) -> NamedExamples {
    let mut examples = vec![
        (
            "200",
            vec![(
                "Example 1",
                json!({
                    "result": {
                        "_id": "68341efdd387e3d7509267fb",
                        "createdAt": "2025-05-26T07:57:49.616Z",
                        "name": "Jane Doe",
                        "channels": [{
                            "name": "widget",
                            "visitor": { "visitorId": "68341ef9d387e3d7509267fa", "source": { "type": "widget" } },
                            "blocked": false,
                            "verified": true,
                            "details": { "type": "widget", "destination": "writing-demo.dev.rocket.chat" },
                            "lastChat": { "_id": "cz5uyBRyKPfoWHBat", "ts": "2025-05-26T07:57:49.661Z" },
                            "field": "email",
                            "value": "jane.doe@example.com",
                            "verifiedAt": "2025-05-26T07:58:26.895Z"
                        }],
                        "customFields": { "field1": "field1", "field2": "field2" },
                        "unknown": false,
                        "preRegistration": false,
                        "_updatedAt": "2025-05-26T11:35:31.241Z",
                        "lastChat": { "_id": "cz5uyBRyKPfoWHBat", "ts": "2025-05-26T07:57:49.661Z" },
                        "activity": ["2025-05"],
                        "emails": [{ "address": "jane.doe@example.com" }],
                        "phones": [],
                        "conflictingFields": []
                    },
                    "success": true
                }),
            )],
        ),
        (
            "400",
            vec![
                (
                    "Example 1",
                    json!({ "success": false, "error": "must have required property 'contactId' [invalid-params]", "errorType": "invalid-params" }),
                ),
                (
                    "Example 2",
                    json!({ "success": false, "error": "error-contact-has-no-conflicts" }),
                ),
            ],
        ),
    ];
    examples.extend(auth_examples(version));
    examples
}

const EXAMPLE_SITE: &str = "http://localhost:3000";
const ADMIN: &str = "rbAXPnMktTFbNpwtJ";

fn admin() -> crate::store::Caller {
    crate::store::Caller {
        user_id: ADMIN.to_owned(),
        roles: vec!["admin".to_owned()],
    }
}

fn error_example(
    name: &'static str,
    error: &ApiError,
    version: RocketChatVersion,
) -> (&'static str, Value) {
    (name, error.body(version))
}

fn unauthorized_only(version: RocketChatVersion) -> NamedExamples {
    auth_examples(version)
        .into_iter()
        .filter(|(status, _)| *status == "401")
        .collect()
}

fn login_examples(store: &Store, version: RocketChatVersion) -> NamedExamples {
    use crate::domain::account::Credentials;
    let credentials = Credentials::read(
        json!({ "user": "admin", "password": "admin-password" })
            .as_object()
            .expect("an object"),
    );
    let token = "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq".to_owned();
    let user_id = store
        .check_credentials(&credentials)
        .expect("the example admin's password is right");
    let login = store
        .clone()
        .issue_login_token(&user_id, token, "2025-06-02T12:00:00.000Z", EXAMPLE_SITE)
        .expect("the example admin logs in");
    vec![
        (
            "200",
            vec![(
                "Example 1",
                json!({
                    "status": "success",
                    "data": { "userId": login.user_id, "authToken": login.token, "me": login.me },
                    "success": true
                }),
            )],
        ),
        (
            "401",
            vec![
                error_example(
                    "Wrong credentials",
                    &ApiError::LoginFailed(LoginError::NotFound),
                    version,
                ),
                error_example(
                    "Deactivated user",
                    &ApiError::LoginFailed(LoginError::NotActivated),
                    version,
                ),
            ],
        ),
        (
            "400",
            vec![error_example(
                "Not JSON",
                &ApiError::InvalidParams(
                    "Malformed JSON body: expected value at line 1 column 1".to_owned(),
                ),
                version,
            )],
        ),
    ]
}

fn logout_examples(version: RocketChatVersion) -> NamedExamples {
    let mut examples = vec![(
        "200",
        vec![(
            "Example 1",
            json!({ "status": "success", "data": { "message": "You've been logged out!" } }),
        )],
    )];
    examples.extend(unauthorized_only(version));
    examples
}

fn me_examples(store: &Store, version: RocketChatVersion) -> NamedExamples {
    let mut me = store
        .me(&admin(), EXAMPLE_SITE)
        .expect("the example admin exists");
    me.insert("success".to_owned(), Value::Bool(true));
    let mut examples = vec![("200", vec![("Example 1", Value::Object(me))])];
    examples.extend(unauthorized_only(version));
    examples
}

fn create_request_example() -> Value {
    json!({
        "name": "Ana Souza",
        "emails": ["ana.souza@example.com"],
        "phones": ["+5511988887777"],
        "customFields": { "company": "Acme Inc." },
        "contactManager": MARIA_AGENT
    })
}

fn create_examples(version: RocketChatVersion) -> NamedExamples {
    let mut examples = vec![
        (
            "200",
            vec![(
                "Example 1",
                json!({ "contactId": "683d9a2fe1b4c07a9d3f5e21", "success": true }),
            )],
        ),
        (
            "400",
            vec![
                error_example(
                    "Example 1",
                    &ApiError::InvalidParams("must have required property 'name'".to_owned()),
                    version,
                ),
                error_example(
                    "Example 2",
                    &ApiError::Business("Custom field nickname is not allowed".to_owned()),
                    version,
                ),
            ],
        ),
    ];
    examples.extend(auth_examples(version));
    examples
}

fn get_examples(store: &Store, version: RocketChatVersion) -> NamedExamples {
    let contact = store.contact(JOHN).expect("John is a fixture");
    let mut examples = vec![
        (
            "200",
            vec![("Example 1", json!({ "contact": contact, "success": true }))],
        ),
        (
            "400",
            vec![error_example(
                "Example 1",
                &ApiError::InvalidParams("must pass \"isNotEmpty\" keyword validation".to_owned()),
                version,
            )],
        ),
    ];
    examples.extend(auth_examples(version));
    examples.push((
        "404",
        vec![error_example(
            "Example 1",
            &ApiError::NotFound(RESOURCE_NOT_FOUND.to_owned()),
            version,
        )],
    ));
    examples
}

fn search_examples(store: &Store, version: RocketChatVersion) -> NamedExamples {
    use crate::domain::search::Search;
    let search = Search::new(
        serde_json::from_value(json!({ "searchText": "john" })).expect("a search query"),
    )
    .expect("a valid search");
    let page = store.search_contacts(&search);
    let mut examples = vec![
        (
            "200",
            vec![(
                "Example 1",
                json!({
                    "contacts": page.contacts,
                    "count": search.page.count,
                    "offset": search.page.offset,
                    "total": page.total,
                    "success": true
                }),
            )],
        ),
        (
            "400",
            vec![
                error_example(
                    "Example 1",
                    &ApiError::InvalidParams("must be number".to_owned()),
                    version,
                ),
                error_example(
                    "Example 2",
                    &ApiError::InvalidSort(InvalidSort("{\"name\":\"asc\"}".to_owned())),
                    version,
                ),
            ],
        ),
    ];
    examples.extend(auth_examples(version));
    examples
}

fn check_existence_examples(version: RocketChatVersion) -> NamedExamples {
    let none_sent = [
        "must have required property 'contactId'",
        "must have required property 'email'",
        "must have required property 'phone'",
        "must match exactly one schema in oneOf",
    ]
    .join("\n ");
    let mut examples = vec![
        (
            "200",
            vec![("Example 1", json!({ "exists": true, "success": true }))],
        ),
        (
            "400",
            vec![error_example(
                "Example 1",
                &ApiError::InvalidParams(none_sent),
                version,
            )],
        ),
    ];
    examples.extend(auth_examples(version));
    examples
}

fn delete_examples(version: RocketChatVersion) -> NamedExamples {
    let mut examples = vec![
        ("200", vec![("Example 1", json!({ "success": true }))]),
        (
            "400",
            vec![
                error_example(
                    "Example 1",
                    &ApiError::TypedInvalidParams(
                        "must have required property 'contactId'".to_owned(),
                    ),
                    version,
                ),
                error_example(
                    "Example 2",
                    &ApiError::Business("error-invalid-contact".to_owned()),
                    version,
                ),
            ],
        ),
    ];
    examples.extend(auth_examples(version));
    examples.push((
        "404",
        vec![error_example(
            "Example 1",
            &ApiError::NotFound(ContactError::NotFound.to_string()),
            version,
        )],
    ));
    examples
}
