//! The typed readings of the Livechat collections, as `mongoexport --jsonArray` writes them
//! (after Extended JSON is normalised): they check fixtures and describe the answers in the
//! OpenAPI document. Every document keeps its other fields as loaded.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A Livechat visitor (`rocketchat_livechat_visitor`): who talks to the workspace through
/// the widget or an app using the same API.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitorDocument {
    #[serde(rename = "_id")]
    pub id: String,
    /// What the widget authenticates with; a deleted visitor has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `guest-N` unless the registration sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "visitorEmails", skip_serializing_if = "Option::is_none")]
    pub visitor_emails: Option<Vec<VisitorEmail>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Vec<VisitorPhone>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `online` after every registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ISO 8601 registration time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    #[serde(rename = "_updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Values of the visitor-scope custom fields, by field `_id`.
    #[serde(rename = "livechatData", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub livechat_data: Option<Map<String, Value>>,
    /// The agent managing the visitor's contact: `{_id, username, name, emails}`.
    #[serde(rename = "contactManager", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub contact_manager: Option<Value>,
    /// The visitor's latest room: `{_id, ts}`.
    #[serde(rename = "lastChat", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_chat: Option<Value>,
    /// Months (`YYYY-MM`) in which the visitor was active; none makes its contact `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Vec<String>>,
    /// `true` once deleted: such a visitor keeps only its `_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitorEmail {
    pub address: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitorPhone {
    #[serde(rename = "phoneNumber")]
    pub phone_number: String,
}

/// A room (`rocketchat_room`). The Livechat routes read the omnichannel ones (`t: "l"`);
/// rooms of other types are kept as loaded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomDocument {
    #[serde(rename = "_id")]
    pub id: String,
    /// `l` for a Livechat room.
    pub t: String,
    /// The display name: the contact's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    /// The visitor: `{_id, username, token, status}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<RoomVisitor>,
    #[serde(rename = "contactId", skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// `true` while the conversation goes on; a closed room has no `open`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The agent serving the room: `{_id, username, ts}`.
    #[serde(rename = "servedBy", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub served_by: Option<Value>,
    /// Where the conversation came from: `{type: "api"}`, `{type: "widget", destination}`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub source: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msgs: Option<i64>,
    #[serde(rename = "closedAt", skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// `visitor` or `user`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closer: Option<String>,
    #[serde(rename = "_updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomVisitor {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A message (`rocketchat_message`): a visitor's or agent's text, or a system message
/// (`t`: `livechat-started`, `livechat-close`, `command`, `uj`, …).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageDocument {
    #[serde(rename = "_id")]
    pub id: String,
    /// The room's `_id`.
    pub rid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// The system message type; absent on a visitor's or agent's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    /// The author: `{_id, username, name}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub u: Option<Value>,
    /// The visitor's token, on a visitor's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(rename = "_updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// A workspace setting (`rocketchat_settings`): its `_id` and `value`; a setting no
/// document names has Rocket.Chat's default.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettingDocument {
    #[serde(rename = "_id")]
    pub id: String,
    #[schema(value_type = Object)]
    pub value: Value,
}
