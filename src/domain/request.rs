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

fn schema_from(value: Value) -> RefOr<Schema> {
    // The values below are constants; a failure here is a typo caught by every test run.
    RefOr::T(serde_json::from_value(value).expect("request schema is a valid OpenAPI schema"))
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
