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
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::config::RocketChatVersion;
use crate::domain::contact::ContactDocument;
use crate::domain::request::{ResolveConflictsBody, UpdateContactBody};
use crate::error::ApiError;
use crate::routes::{control, omnichannel};
use crate::store::fixtures::Fixtures;

pub(crate) const UPDATE_PATH: &str = "/api/v1/omnichannel/contacts.update";
pub(crate) const CONFLICTS_PATH: &str = "/api/v1/omnichannel/contacts.conflicts";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rocket.Chat Omnichannel Contacts (rocketchat-mock)",
        description = "A mock of Rocket.Chat's Omnichannel Contacts REST API that answers as the real server does.\n\nAuthenticate with the `X-User-Id` and `X-Auth-Token` headers (**Authorize** above). On the default fixtures, the workspace admin is `X-User-Id: rbAXPnMktTFbNpwtJ`, `X-Auth-Token: RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f`; the README lists the other users.",
        license(name = "MIT")
    ),
    paths(omnichannel::contacts_update, omnichannel::contacts_conflicts),
    components(schemas(UpdateContactBody, ResolveConflictsBody)),
    modifiers(&SecuritySchemes),
    tags((name = "Omnichannel Contacts", description = "Omnichannel contacts: the people your agents talk to, across channels."))
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
    let mut document = ApiDoc::openapi();
    Examples { version }.modify(&mut document);
    if control {
        let mut control = ControlDoc::openapi();
        StateExamples.modify(&mut control);
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
/// ` [invalid-params]`) or a business error (the error code alone, no `errorType`).
#[derive(Serialize, ToSchema)]
pub struct BadRequestError {
    pub success: bool,
    pub error: String,
    #[serde(rename = "errorType", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
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
    }
}

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
        for (path, request, responses) in [
            (
                UPDATE_PATH,
                update_request_example(),
                update_response_examples(self.version),
            ),
            (
                CONFLICTS_PATH,
                conflicts_request_example(),
                conflicts_response_examples(self.version),
            ),
        ] {
            let Some(operation) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
            else {
                continue;
            };
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
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
    }
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
            .into_state();
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
