//! The omnichannel contact document (`rocketchat_livechat_contact`).
//!
//! A contact is stored as the ordered JSON document it was loaded as, so that every field
//! round-trips in its place, including fields this mock does not know. [`ContactDocument`]
//! is the typed description of the known fields: it checks fixtures and documents the shape.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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

/// A contact a rule is changing: its fields in stored order, each read from the stored text
/// only when a rule asks for it. A field a rule sets is held as the value it was given; an
/// untouched field is written back as the very text it was stored as. Parsing the whole
/// document for every update was an eighth of the server's time under load.
#[derive(Debug, Clone)]
pub struct Contact<'a> {
    fields: Vec<(Cow<'a, str>, Field<'a>)>,
}

#[derive(Debug, Clone)]
struct Field<'a> {
    /// The stored text, while the field is unchanged.
    stored: Option<&'a RawValue>,
    /// The value: parsed from `stored` on first reading, or as set.
    value: OnceCell<Value>,
}

impl Field<'_> {
    fn set(value: Value) -> Self {
        Self {
            stored: None,
            value: OnceCell::from(value),
        }
    }

    fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            // Stored texts were written by serde_json: they parse back.
            self.stored
                .and_then(|raw| serde_json::from_str(raw.get()).ok())
                .unwrap_or_default()
        })
    }
}

impl Contact<'static> {
    pub(crate) fn from_document(document: Map<String, Value>) -> Self {
        Self {
            fields: document
                .into_iter()
                .map(|(key, value)| (Cow::Owned(key), Field::set(value)))
                .collect(),
        }
    }
}

impl<'a> Contact<'a> {
    /// The contact stored as `text` (a JSON object, as the store writes it), its fields left
    /// unread.
    pub(crate) fn from_stored(text: &'a str) -> Self {
        let fields = serde_json::from_str::<crate::json::Members<'a>>(text)
            .map(|m| m.0)
            .unwrap_or_default();
        Self {
            fields: fields
                .into_iter()
                .map(|(key, raw)| {
                    let field = Field {
                        stored: Some(raw),
                        value: OnceCell::new(),
                    };
                    (key, field)
                })
                .collect(),
        }
    }

    /// The value of a top-level field.
    pub(crate) fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(key, _)| key == field)
            .map(|(_, f)| f.value())
    }

    pub fn id(&self) -> &str {
        self.get("_id").and_then(Value::as_str).unwrap_or_default()
    }

    /// Upstream's delete reads `contact.channels.map(...)`, which needs the array.
    pub(crate) fn has_channel_list(&self) -> bool {
        self.get("channels").is_some_and(Value::is_array)
    }

    pub(crate) fn custom_fields(&self) -> Option<&Map<String, Value>> {
        self.get("customFields").and_then(Value::as_object)
    }

    /// The `conflictingFields` entries (`{field, value}`); none when the field is missing.
    pub(crate) fn conflicts(&self) -> &[Value] {
        self.get("conflictingFields")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Sets a field: an existing one keeps its place, a new one goes last (as MongoDB's `$set`).
    pub(crate) fn set(&mut self, field: &str, value: Value) {
        match self.fields.iter_mut().find(|(key, _)| key == field) {
            Some((_, place)) => *place = Field::set(value),
            None => self
                .fields
                .push((Cow::Owned(field.to_owned()), Field::set(value))),
        }
    }

    /// Removes a field, keeping the order of the others (as MongoDB's `$unset`).
    pub(crate) fn unset(&mut self, field: &str) {
        self.fields.retain(|(key, _)| key != field);
    }

    /// The whole document, every field read.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|(key, field)| (key.to_string(), field.value().clone()))
                .collect(),
        )
    }
}

/// As the document: untouched fields are written as stored, byte for byte, which is what
/// serde_json writes for them (the store keeps compact JSON).
impl Serialize for Contact<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, field) in &self.fields {
            match (field.stored, field.value.get()) {
                (Some(raw), _) => map.serialize_entry(key, raw)?,
                (None, Some(value)) => map.serialize_entry(key, value)?,
                (None, None) => map.serialize_entry(key, &Value::Null)?,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(value: Value) -> String {
        serde_json::to_string(&value).unwrap()
    }

    #[test]
    fn an_unchanged_contact_is_written_back_byte_for_byte() {
        let text = stored(json!({
            "_id": "c1", "name": "Ana \"Nana\"", "we\"ird": [1, {"b": null}],
            "customFields": {"cpf": "1"}, "emails": [{"address": "a@x.io"}]
        }));
        let contact = Contact::from_stored(&text);
        assert_eq!(
            contact.custom_fields().unwrap()["cpf"],
            "1",
            "read on demand"
        );
        assert_eq!(serde_json::to_string(&contact).unwrap(), text);
        assert_eq!(
            contact.to_value(),
            serde_json::from_str::<Value>(&text).unwrap()
        );
    }

    #[test]
    fn set_and_unset_write_as_a_parsed_document_would() {
        let text = stored(json!({"_id": "c1", "name": "Ana", "unknown": false, "phones": []}));
        let mut lazy = Contact::from_stored(&text);
        let mut parsed = serde_json::from_str::<Map<String, Value>>(&text).unwrap();
        for (field, value) in [("name", json!("Bia")), ("lastChat", json!({"_id": "r"}))] {
            lazy.set(field, value.clone());
            parsed.insert(field.to_owned(), value);
        }
        lazy.unset("unknown");
        parsed.shift_remove("unknown");
        assert_eq!(
            serde_json::to_string(&lazy).unwrap(),
            serde_json::to_string(&parsed).unwrap()
        );
        assert_eq!(lazy.id(), "c1");
    }
}
