//! The omnichannel contact document (`rocketchat_livechat_contact`).
//!
//! A contact is stored as the ordered JSON document it was loaded as, so that every field
//! round-trips in its place, including fields this mock does not know. [`ContactDocument`]
//! is the typed description of the known fields: it checks fixtures and documents the shape.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An omnichannel contact, as Rocket.Chat stores and returns it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactDocument {
    /// The contact's id (24 hexadecimal characters in real data).
    #[serde(rename = "_id")]
    pub id: String,
    /// ISO 8601 creation time.
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// ISO 8601 time of the last write.
    #[serde(rename = "_updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<ContactEmail>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<ContactPhone>>,
    /// The `_id` of the user who manages the contact.
    #[serde(rename = "contactManager", skip_serializing_if = "Option::is_none")]
    pub contact_manager: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<ContactChannel>>,
    /// Values of the workspace's custom fields, by field `_id`.
    #[serde(rename = "customFields", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
    /// Whether the contact was created from an unidentified visitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<bool>,
    #[serde(rename = "preRegistration", skip_serializing_if = "Option::is_none")]
    pub pre_registration: Option<bool>,
    /// Competing values recorded when another channel brought different details.
    #[serde(rename = "conflictingFields", skip_serializing_if = "Option::is_none")]
    pub conflicting_fields: Option<Vec<ConflictingField>>,
    #[serde(rename = "lastChat", skip_serializing_if = "Option::is_none")]
    pub last_chat: Option<LastChat>,
    /// Months (`YYYY-MM`) in which the contact was active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Vec<String>>,
    #[serde(rename = "importIds", skip_serializing_if = "Option::is_none")]
    pub import_ids: Option<Vec<String>>,
    /// `false` on a deleted contact; such a contact is not found by any route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactEmail {
    pub address: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactPhone {
    #[serde(rename = "phoneNumber")]
    pub phone_number: String,
}

/// One channel (widget, WhatsApp, e-mail, …) through which the contact reached the workspace.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactChannel {
    pub name: String,
    pub visitor: ChannelVisitor,
    pub blocked: bool,
    pub verified: bool,
    pub details: ChannelDetails,
    #[serde(rename = "lastChat", skip_serializing_if = "Option::is_none")]
    pub last_chat: Option<LastChat>,
    /// The field the channel was verified by (e.g. `email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "verifiedAt", skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelVisitor {
    #[serde(rename = "visitorId")]
    pub visitor_id: String,
    pub source: ChannelSource,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelSource {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelDetails {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LastChat {
    #[serde(rename = "_id")]
    pub id: String,
    pub ts: String,
}

/// A competing value: the contact keeps its current value, this records the other one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConflictingField {
    /// `name`, `manager` or `customFields.<key>`.
    pub field: String,
    pub value: String,
}

/// A stored contact: its document, in its stored field order.
///
/// The document is shared: a session made from the fixtures, a reset, and a reply all point
/// at the same document instead of copying it, and a change copies it first (copy on write).
/// That keeps a million-contact workspace in memory once, however many sessions use it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact(Arc<Map<String, Value>>);

impl Contact {
    pub(crate) fn from_document(document: Map<String, Value>) -> Self {
        Self(Arc::new(document))
    }

    pub fn id(&self) -> &str {
        self.0
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Upstream's delete reads `contact.channels.map(...)`, which needs the array.
    pub(crate) fn has_channel_list(&self) -> bool {
        self.0.get("channels").is_some_and(Value::is_array)
    }

    pub(crate) fn document(&self) -> &Map<String, Value> {
        &self.0
    }

    pub(crate) fn custom_fields(&self) -> Option<&Map<String, Value>> {
        self.0.get("customFields").and_then(Value::as_object)
    }

    /// The `conflictingFields` entries (`{field, value}`); none when the field is missing.
    pub(crate) fn conflicts(&self) -> &[Value] {
        self.0
            .get("conflictingFields")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Sets a field: an existing one keeps its place, a new one goes last (as MongoDB's `$set`).
    pub(crate) fn set(&mut self, field: &str, value: Value) {
        Arc::make_mut(&mut self.0).insert(field.to_owned(), value);
    }

    /// Removes a field, keeping the order of the others (as MongoDB's `$unset`).
    pub(crate) fn unset(&mut self, field: &str) {
        Arc::make_mut(&mut self.0).shift_remove(field);
    }

    pub fn to_value(&self) -> Value {
        Value::Object(Map::clone(&self.0))
    }
}

/// As the document: a reply serializes the shared document without copying it.
impl Serialize for Contact {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}
