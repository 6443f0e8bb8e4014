//! The request bodies of the contacts routes.
//!
//! Their schemas are Rocket.Chat's own (`@rocket.chat/rest-typings`, `dist/v1/omnichannel.js`)
//! written in OpenAPI 3.1: `nullable: true` becomes a `"null"` member of `type`. They are
//! written out rather than derived so that they stay keyword for keyword the same, and the
//! request validator compiles them from the served OpenAPI document.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

/// A schema written out as JSON, as utoipa holds it.
pub(crate) fn schema_from(value: Value) -> RefOr<Schema> {
    // The values below are constants; a failure here is a typo caught by every test run.
    RefOr::T(serde_json::from_value(value).expect("request schema is a valid OpenAPI schema"))
}

/// A query parameter of `kind` that may also be `null`, as an optional typings field is.
fn nullable(kind: &str, description: &str) -> Value {
    json!({ "type": [kind, "null"], "description": description })
}

fn unique_strings(nullable: bool) -> Value {
    let kind = if nullable {
        json!(["array", "null"])
    } else {
        json!("array")
    };
    json!({ "type": kind, "items": { "type": "string" }, "uniqueItems": true })
}

/// Body of `contacts.update`. Everything but `contactId` is optional; `null` means "not sent".
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateContactBody {
    pub contact_id: String,
    pub name: Option<String>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub custom_fields: Option<Map<String, Value>>,
    pub contact_manager: Option<String>,
    pub wipe_conflicts: Option<bool>,
}

impl PartialSchema for UpdateContactBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The contact to update and the fields to write. Fields left out are kept.",
            "properties": {
                "contactId": { "type": "string", "description": "The contact's `_id`." },
                "name": { "type": "string", "description": "The new name (an empty string is written as is)." },
                "emails": unique_strings(true),
                "phones": unique_strings(true),
                "customFields": { "type": ["object", "null"], "description": "Replaces the contact's custom fields (legacy fields are kept). Validated against the workspace's visitor custom fields." },
                "contactManager": { "type": ["string", "null"], "description": "The `_id` of a `livechat-agent` user; an empty string removes the manager." },
                "wipeConflicts": { "type": ["boolean", "null"], "description": "`true` empties `conflictingFields`." }
            },
            "required": ["contactId"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for UpdateContactBody {}

/// Body of `contacts.conflicts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveConflictsBody {
    pub contact_id: String,
    pub name: Option<String>,
    pub contact_manager: Option<String>,
    pub custom_fields: Option<Map<String, Value>>,
    pub wipe_conflicts: Option<bool>,
}

impl PartialSchema for ResolveConflictsBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The contact whose conflicts to resolve and the values to keep.",
            "properties": {
                "contactId": { "type": "string", "description": "The contact's `_id`." },
                "name": { "type": ["string", "null"], "description": "The name to keep; resolves a `name` conflict." },
                "contactManager": { "type": ["string", "null"], "description": "The manager to keep (a `livechat-agent` user's `_id`); resolves a `manager` conflict." },
                "customFields": { "type": "object", "description": "Values merged into the contact's custom fields, unvalidated; resolves each `customFields.<key>` conflict." },
                "wipeConflicts": { "type": ["boolean", "null"], "description": "`true` removes every conflict." }
            },
            "required": ["contactId"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for ResolveConflictsBody {}

/// A field that may be absent, `null` or a value: `contacts` (create) does not drop `null`s,
/// and a `null` it receives is stored or trips the handler as it does upstream.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Body of `POST /api/v1/omnichannel/contacts` (create).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateContactBody {
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// `None` when absent; `Some(Value::Null)` when sent as `null`.
    #[serde(default, deserialize_with = "present")]
    pub custom_fields: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub contact_manager: Option<Value>,
}

impl PartialSchema for CreateContactBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The new contact. `name`, `emails` and `phones` are required (send `[]` for none).",
            "properties": {
                "name": { "type": "string", "description": "The contact's name." },
                "emails": unique_strings(false),
                "phones": unique_strings(false),
                "customFields": { "type": ["object", "null"], "description": "Values of the workspace's visitor custom fields (required ones must be sent; `regexp` is checked; unknown keys are refused)." },
                "contactManager": { "type": ["string", "null"], "description": "The `_id` of a `livechat-agent` user." }
            },
            "required": ["name", "emails", "phones"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for CreateContactBody {}

/// Body of `POST /api/v1/omnichannel/contacts.delete`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteContactBody {
    pub contact_id: String,
}

impl PartialSchema for DeleteContactBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The contact to delete.",
            "properties": {
                "contactId": { "type": "string", "description": "The contact's `_id`." }
            },
            "required": ["contactId"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for DeleteContactBody {}

/// A query string's schema (`ajvQuery`, `coerceTypes: "array"`), as rest-typings declares it.
/// The OpenAPI document lists its properties as query parameters and keeps the whole schema
/// under `components/schemas`.
pub struct QuerySchema {
    pub name: &'static str,
    pub schema: fn() -> Value,
}

fn not_empty_string(description: &str) -> Value {
    json!({ "type": "string", "isNotEmpty": true, "description": description })
}

/// Every query schema a route validates by: compiled at start-up, listed in the document.
pub const QUERIES: &[&QuerySchema] = &[
    &GET_CONTACT_QUERY,
    &SEARCH_CONTACTS_QUERY,
    &CHECK_EXISTENCE_QUERY,
    &ROOM_QUERY,
    &HISTORY_QUERY,
    &CUSTOM_FIELDS_QUERY,
    &CONTACT_HISTORY_QUERY,
    &CONTACT_CHANNELS_QUERY,
    &ROOM_MESSAGES_QUERY,
    &OMNICHANNEL_USERS_QUERY,
    &USERS_INFO_QUERY,
    &WIDGET_MESSAGE_QUERY,
];

/// `GET /api/v1/omnichannel/contacts.get`.
pub const GET_CONTACT_QUERY: QuerySchema = QuerySchema {
    name: "ContactsGetQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": { "contactId": not_empty_string("The contact's `_id`.") },
            "required": ["contactId"],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/omnichannel/contacts.search`.
pub const SEARCH_CONTACTS_QUERY: QuerySchema = QuerySchema {
    name: "ContactsSearchQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "count": { "type": "number", "description": "Page size: 50 when left out, at most 100; `0` returns every match." },
                "offset": { "type": "number", "description": "How many matches to skip." },
                "sort": { "type": "string", "description": "A JSON object of fields and `1`/`-1`, e.g. `{\"name\":-1}`. Default `{\"name\":1}`." },
                "searchText": { "type": "string", "description": "Case-insensitive text found in the name, an e-mail address or a phone number." },
                "unknown": { "type": "boolean", "description": "`true` lists the contacts of unidentified visitors instead (default `false`)." }
            },
            "required": [],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/omnichannel/contacts.checkExistence`: exactly one of the three.
pub const CHECK_EXISTENCE_QUERY: QuerySchema = QuerySchema {
    name: "ContactsCheckExistenceQuery",
    schema: || {
        let one = |name: &str, property: Value| {
            json!({
                "type": "object",
                "properties": { name: property },
                "required": [name],
                "additionalProperties": false
            })
        };
        let mut email = not_empty_string("An e-mail address (exact match).");
        email["format"] = json!("basic_email");
        json!({
            "oneOf": [
                one("contactId", not_empty_string("A contact `_id`.")),
                one("email", email),
                one("phone", not_empty_string("A phone number (exact match).")),
            ]
        })
    },
};

/// `GET /api/v1/livechat/room`: documented as rest-typings declares it; the route checks
/// it with Meteor's `check` (`Match error: …`).
pub const ROOM_QUERY: QuerySchema = QuerySchema {
    name: "LivechatRoomQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "rid": { "type": "string", "description": "The `_id` of the visitor's open room to answer." },
                "agentId": { "type": "string", "description": "The agent to serve a new room (if online)." }
            },
            "required": ["token"],
            "additionalProperties": false
        })
    },
};

pub const HISTORY_QUERY: QuerySchema = QuerySchema {
    name: "LivechatMessagesHistoryQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "searchText": nullable("string", "Accepted and ignored, as upstream."),
                "token": { "type": "string", "description": "The visitor's token." },
                "count": nullable("number", "Accepted and ignored, as upstream."),
                "offset": nullable("number", "How many of the newest messages to skip."),
                "sort": nullable("string", "Accepted and ignored, as upstream."),
                "ls": nullable("string", "Accepted and ignored, as upstream."),
                "end": nullable("string", "Only messages before this time."),
                "limit": nullable("number", "How many messages (default 20).")
            },
            "required": ["token"],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/livechat/custom-fields` (rest-typings `isLivechatCustomFieldsProps`).
pub const CUSTOM_FIELDS_QUERY: QuerySchema = QuerySchema {
    name: "LivechatCustomFieldsQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "text": nullable("string", "Case-insensitive text found in the label or the `_id`."),
                "count": nullable("number", "Page size: 50 when left out, at most 100; `0` returns every match."),
                "offset": nullable("number", "How many matches to skip."),
                "sort": nullable("string", "A JSON object of fields and `1`/`-1`. Default `{\"label\":1}`."),
                "query": nullable("string", "Accepted and ignored, as upstream.")
            },
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/omnichannel/contacts.history` (rest-typings
/// `isGETOmnichannelContactHistoryProps`).
pub const CONTACT_HISTORY_QUERY: QuerySchema = QuerySchema {
    name: "ContactsHistoryQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "contactId": { "type": "string", "description": "The contact's `_id`." },
                "source": { "type": "string", "description": "Only rooms whose source type or alias contains this (any case)." },
                "count": { "type": "number", "description": "Page size: 50 when left out, at most 100; `0` returns every room." },
                "offset": { "type": "number", "description": "How many rooms to skip." },
                "sort": { "type": "string", "description": "A JSON object of fields and `1`/`-1`. Default `{\"closedAt\":-1}`." }
            },
            "required": ["contactId"],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/omnichannel/contacts.channels` (rest-typings
/// `isGETOmnichannelContactsChannelsProps`).
pub const CONTACT_CHANNELS_QUERY: QuerySchema = QuerySchema {
    name: "ContactsChannelsQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": { "contactId": { "type": "string", "description": "The contact's `_id`." } },
            "required": ["contactId"],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/livechat/{rid}/messages` (rest-typings `isLivechatRidMessagesProps`).
pub const ROOM_MESSAGES_QUERY: QuerySchema = QuerySchema {
    name: "LivechatRoomMessagesQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "count": nullable("number", "Page size: 50 when left out, at most 100; `0` returns every message."),
                "offset": nullable("number", "How many messages to skip."),
                "sort": nullable("string", "A JSON object of fields and `1`/`-1`. Default `{\"ts\":-1}`."),
                "searchTerm": nullable("string", "Only messages whose text contains this (any case).")
            },
            "required": [],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/livechat/users/{type}` (rest-typings `isLivechatUsersManagerGETProps`).
pub const OMNICHANNEL_USERS_QUERY: QuerySchema = QuerySchema {
    name: "LivechatUsersQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "text": nullable("string", "Case-insensitive text found in the username, the name or an e-mail address."),
                "onlyAvailable": nullable("boolean", "Agents: only those available for Livechat."),
                "excludeId": nullable("string", "Agents: leave this `_id` out."),
                "showIdleAgents": nullable("boolean", "Agents: `false` leaves out offline ones (default `true`)."),
                "count": nullable("number", "Page size: 50 when left out, at most 100."),
                "offset": nullable("number", "How many users to skip."),
                "sort": nullable("string", "A JSON object of fields and `1`/`-1`. Default `{\"name\":1}`."),
                "query": nullable("string", "Accepted and ignored, as upstream."),
                "fields": nullable("string", "Accepted and ignored, as upstream.")
            },
            "required": [],
            "additionalProperties": false
        })
    },
};

/// `GET /api/v1/users.info` (rest-typings `isUsersInfoParamsGetProps`): one of five keys.
pub const USERS_INFO_QUERY: QuerySchema = QuerySchema {
    name: "UsersInfoQuery",
    schema: || {
        let branch = |key: &str, description: &str| {
            json!({
                "type": "object",
                "properties": {
                    key: { "type": "string", "description": description },
                    "includeUserRooms": { "type": "string", "description": "`true` adds the user's rooms (the mock holds no subscriptions: none)." },
                    "fields": { "type": ["string", "null"], "description": "Accepted and ignored." }
                },
                "required": [key],
                "additionalProperties": false
            })
        };
        json!({
            "anyOf": [
                branch("userId", "The user's `_id` (or username)."),
                branch("username", "The username (or `_id`)."),
                branch("importId", "An import id (needs `view-full-other-user-info`, unless it is yours)."),
                branch("email", "An e-mail address, any case (needs `view-full-other-user-info`, unless it is yours)."),
                branch("freeSwitchExtension", "A FreeSwitch extension."),
            ]
        })
    },
};

/// `GET /api/v1/livechat/message/{_id}` (rest-typings `isGETLivechatMessageIdParams`).
pub const WIDGET_MESSAGE_QUERY: QuerySchema = QuerySchema {
    name: "LivechatMessageQuery",
    schema: || {
        json!({
            "type": "object",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "rid": { "type": "string", "description": "The room's `_id`." }
            },
            "required": ["token", "rid"],
            "additionalProperties": false
        })
    },
};

/// The coerced query of `contacts.get`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetContactQuery {
    pub contact_id: String,
}

/// The coerced query of `contacts.search`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchContactsQuery {
    pub count: Option<serde_json::Number>,
    pub offset: Option<serde_json::Number>,
    pub sort: Option<String>,
    pub search_text: Option<String>,
    pub unknown: Option<bool>,
}

/// The coerced query of `contacts.checkExistence`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckExistenceQuery {
    pub contact_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}
