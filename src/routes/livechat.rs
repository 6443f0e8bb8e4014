//! `/api/v1/livechat/*`: the Livechat widget's routes, through which visitors register,
//! open rooms, chat and close them, and through which contacts, their channels and their
//! conflicts arise. They authenticate by the visitor's `token`, not by user headers.

use actix_web::http::header::{COOKIE, HOST};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use super::pipeline::{Input, Widget, Workspace};
use super::success;
use crate::domain::livechat::{
    self, Connection, FieldValue, LivechatError, MessageDocument, RoomDocument, VisitorDocument,
};
use crate::domain::request::{HISTORY_QUERY, ROOM_QUERY, schema_from};
use crate::error::ApiError;
use crate::openapi::{BadRequestError, NotFoundError};
use crate::store::HistoryQuery;
use crate::validation::check::Pattern;

pub(crate) const TAG: &str = "Livechat";

// ----- Visitors --------------------------------------------------------------------------

/// Body of `POST /api/v1/livechat/visitor`, checked with Meteor's `check` as the route does.
#[derive(Debug, Deserialize)]
pub struct RegisterVisitorBody {
    pub visitor: Map<String, Value>,
}

impl PartialSchema for RegisterVisitorBody {
    fn schema() -> RefOr<Schema> {
        let field = json!({
            "type": "object",
            "properties": {
                "key": { "type": "string", "description": "A visitor-scope custom field's `_id`." },
                "value": { "type": "string" },
                "overwrite": { "type": "boolean", "description": "`false` keeps a value the visitor already has." }
            },
            "required": ["key", "value", "overwrite"]
        });
        schema_from(json!({
            "type": "object",
            "description": "The visitor to register, found again by `token` (else by phone, else by e-mail address). Checked with Meteor's `check`: errors read `Match error: …`.",
            "properties": {
                "visitor": {
                    "type": "object",
                    "properties": {
                        "token": { "type": "string", "description": "The widget's visitor token (required, not blank)." },
                        "name": { "type": "string" },
                        "email": { "type": "string", "description": "Stored trimmed and lower-cased; must look like an address." },
                        "phone": { "type": "string" },
                        "username": { "type": "string", "description": "A new visitor without one is `guest-N`." },
                        "department": { "type": "string", "description": "A department `_id` or name." },
                        "id": { "type": "string", "description": "The `_id` of a new visitor (default: a new ObjectId)." },
                        "customFields": { "type": "array", "items": field }
                    },
                    "required": ["token"]
                }
            },
            "required": ["visitor"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for RegisterVisitorBody {}

impl Input for RegisterVisitorBody {
    const SCHEMA: &'static str = "RegisterVisitorBody";

    fn check() -> Option<Pattern> {
        Some(livechat::register_pattern())
    }
}

/// A visitor, as the visitor routes answer it.
#[derive(serde::Serialize, ToSchema)]
pub struct VisitorResponse {
    pub visitor: VisitorDocument,
    pub success: bool,
}

/// The request's `userAgent`, `ip` and `host`, as `normalizeHttpHeaderData` reads them.
fn connection(request: &HttpRequest) -> Connection {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Connection {
        user_agent: header("user-agent"),
        ip: header("x-real-ip").or_else(|| header("x-forwarded-for")),
        host: header("host"),
    }
}

/// Register Livechat Visitor
///
/// Registers a visitor by `token`, or updates the one with that token (else the one with
/// that phone number, which keeps its own token; else the one with that e-mail address).
/// No login needed: the widget calls it.
///
/// A new visitor without `username` is `guest-N` (the workspace's guest counter). Every
/// registration sets `status: "online"`. The contacts already linked to the visitor take
/// the new details: a known contact keeps its name and records the new one in
/// `conflictingFields`; e-mail addresses and phone numbers are added; an `unknown`
/// contact is overwritten. `customFields` sets visitor-scope custom fields (unknown, room
/// and hidden ones are ignored), also on the linked contacts, where a value they already
/// have and `overwrite: false` becomes a `customFields.<key>` conflict. A required field
/// left out is refused, after the visitor was saved (as Rocket.Chat does).
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Contacts take the visitor's details |
#[utoipa::path(
    post,
    operation_id = "post-api-v1-livechat-visitor",
    tag = TAG,
    request_body(content = RegisterVisitorBody),
    responses(
        (status = 200, description = "OK", body = VisitorResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[post("/api/v1/livechat/visitor")]
pub(crate) async fn register_visitor(
    request: HttpRequest,
    call: Widget<RegisterVisitorBody>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let guest = livechat::guest_of(&input.visitor, connection(&request))?;
    let custom_fields: Option<Vec<FieldValue>> = input
        .visitor
        .get("customFields")
        .filter(|v| !v.is_null())
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| ApiError::InvalidParams(format!("request does not fit: {e}")))?;
    let now = workspace.now();
    let visitor =
        workspace.write(|store| store.register_visitor(guest, custom_fields, &workspace, &now))?;
    Ok(success("visitor", visitor))
}

/// Get Livechat Visitor
///
/// The visitor with this token. No login needed.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-visitor-token",
    tag = TAG,
    params(("token" = String, Path, description = "The visitor's token.", example = "jane-widget-token")),
    responses(
        (status = 200, description = "OK", body = VisitorResponse),
        (status = 400, description = "No visitor has this token", body = BadRequestError),
    )
)]
#[get("/api/v1/livechat/visitor/{token}")]
pub(crate) async fn get_visitor(
    token: web::Path<String>,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    let visitor = workspace
        .read(|store| store.visitor_by_token(&token))
        .ok_or(LivechatError::UnknownVisitor)?;
    Ok(success("visitor", visitor))
}

/// A deleted visitor.
#[derive(serde::Serialize, ToSchema)]
pub struct DeletedVisitor {
    #[serde(rename = "_id")]
    pub id: String,
    /// When it was deleted.
    pub ts: String,
}

#[derive(serde::Serialize, ToSchema)]
pub struct DeleteVisitorResponse {
    pub visitor: DeletedVisitor,
    pub success: bool,
}

/// Delete Livechat Visitor
///
/// Deletes the visitor with this token: refused while it has an open room (unless the
/// workspace stores HTTP header information). Every visitor of its contact loses its rooms
/// and messages and keeps only its `_id` (`disabled: true`); the contact is disabled (its
/// conflicts and manager are kept). No login needed.
#[utoipa::path(
    delete,
    operation_id = "delete-api-v1-livechat-visitor-token",
    tag = TAG,
    params(("token" = String, Path, description = "The visitor's token.", example = "ana-widget-token")),
    responses(
        (status = 200, description = "OK", body = DeleteVisitorResponse),
        (status = 400, description = "No visitor has this token, or it has an open room", body = BadRequestError),
    )
)]
#[delete("/api/v1/livechat/visitor/{token}")]
pub(crate) async fn delete_visitor(
    token: web::Path<String>,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    let now = workspace.now();
    let id = workspace.write(|store| store.remove_visitor(&token, &now))?;
    Ok(success("visitor", json!({ "_id": id, "ts": now })))
}

// ----- Custom fields ---------------------------------------------------------------------

/// Body of `POST /api/v1/livechat/custom.field` (rest-typings `isPOSTLivechatCustomFieldParams`).
#[derive(Debug, Deserialize)]
pub struct CustomFieldBody {
    pub token: String,
    pub key: String,
    pub value: String,
    pub overwrite: bool,
}

impl PartialSchema for CustomFieldBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "One custom field value of the visitor with this token.",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "key": { "type": "string", "description": "The custom field's `_id`." },
                "value": { "type": "string", "description": "Checked against the field's `regexp`." },
                "overwrite": { "type": "boolean", "description": "`false` keeps a value already set (and records a conflict on the contact)." }
            },
            "required": ["token", "key", "value", "overwrite"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for CustomFieldBody {}

impl Input for CustomFieldBody {
    const SCHEMA: &'static str = "CustomFieldBody";
}

/// The value sent, echoed.
#[derive(serde::Serialize, ToSchema)]
pub struct FieldEcho {
    pub key: String,
    pub value: String,
    pub overwrite: bool,
}

#[derive(serde::Serialize, ToSchema)]
pub struct CustomFieldResponse {
    pub field: FieldEcho,
    pub success: bool,
}

/// Set Livechat Custom Field
///
/// Sets one custom field of the visitor with this token. No login needed.
///
/// A visitor-scope field is written to the visitor's `livechatData` (with `overwrite:
/// false`, only if it has none) and to the contacts linked to the visitor: a contact that
/// already has a value keeps it and gains a `customFields.<key>` conflict, which
/// `contacts.conflicts` resolves. A room-scope field is written to the visitor's open
/// rooms. An unknown key is refused (`invalid-custom-field`), as is a value that does not
/// match the field's `regexp`.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-livechat-custom.field",
    tag = TAG,
    request_body(content = CustomFieldBody),
    responses(
        (status = 200, description = "OK", body = CustomFieldResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[post("/api/v1/livechat/custom.field")]
pub(crate) async fn set_custom_field(
    call: Widget<CustomFieldBody>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let value = FieldValue {
        key: input.key,
        value: input.value,
        overwrite: input.overwrite,
    };
    let now = workspace.now();
    let echo = json!({ "key": value.key, "value": value.value, "overwrite": value.overwrite });
    workspace
        .write(|store| store.set_widget_custom_fields(&input.token, vec![value], true, &now))?;
    Ok(success("field", echo))
}

/// Body of `POST /api/v1/livechat/custom.fields` (rest-typings
/// `isPOSTLivechatCustomFieldsParams`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldsBody {
    pub token: String,
    pub custom_fields: Vec<FieldValue>,
}

impl PartialSchema for CustomFieldsBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "Several custom field values of the visitor with this token.",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "customFields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "key": { "type": "string" },
                            "value": { "type": "string" },
                            "overwrite": { "type": "boolean" }
                        },
                        "required": ["key", "value", "overwrite"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["token", "customFields"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for CustomFieldsBody {}

impl Input for CustomFieldsBody {
    const SCHEMA: &'static str = "CustomFieldsBody";
}

/// One value set, as answered (note Rocket.Chat's capital `Key`).
#[derive(serde::Serialize, ToSchema)]
pub struct FieldsEcho {
    #[serde(rename = "Key")]
    pub key: String,
    pub value: String,
    pub overwrite: bool,
}

#[derive(serde::Serialize, ToSchema)]
pub struct CustomFieldsResponse {
    pub fields: Vec<FieldsEcho>,
    pub success: bool,
}

/// Set Livechat Custom Fields
///
/// Sets several custom fields of the visitor with this token, as `custom.field` does each
/// one; an unknown key or an invalid value refuses them all before any is written. The
/// answer lists the room-scope fields first. No login needed.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-livechat-custom.fields",
    tag = TAG,
    request_body(content = CustomFieldsBody),
    responses(
        (status = 200, description = "OK", body = CustomFieldsResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[post("/api/v1/livechat/custom.fields")]
pub(crate) async fn set_custom_fields(
    call: Widget<CustomFieldsBody>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let now = workspace.now();
    let fields = workspace.write(|store| {
        store.set_widget_custom_fields(&input.token, input.custom_fields, false, &now)
    })?;
    let fields: Vec<Value> = fields
        .into_iter()
        .map(|f| json!({ "Key": f.key, "value": f.value, "overwrite": f.overwrite }))
        .collect();
    Ok(success("fields", fields))
}

// ----- Rooms -----------------------------------------------------------------------------

/// The query of `GET /api/v1/livechat/room`, checked with Meteor's `check`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomQuery {
    pub token: String,
    pub rid: Option<String>,
    pub agent_id: Option<String>,
}

impl Input for RoomQuery {
    const SCHEMA: &'static str = ROOM_QUERY.name;

    fn check() -> Option<Pattern> {
        Some(livechat::room_pattern())
    }
}

#[derive(serde::Serialize, ToSchema)]
pub struct RoomResponse {
    pub room: RoomDocument,
    /// Whether this request opened the room.
    #[serde(rename = "newRoom")]
    pub new_room: bool,
    pub success: bool,
}

/// Does the request carry the widget's cookies (`rc_room_type=l`, `rc_is_widget=t`)?
fn from_widget(request: &HttpRequest) -> bool {
    let cookies: Vec<(String, String)> = request
        .headers()
        .get_all(COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    let has = |key: &str, value: &str| cookies.iter().any(|(k, v)| k == key && v == value);
    has("rc_room_type", "l") && has("rc_is_widget", "t")
}

/// Open Livechat Room
///
/// The visitor's open room, or a new one. No login needed.
///
/// With `rid`, that open room of the visitor (else `invalid-room`). Without, the visitor's
/// open room if it has one (`newRoom: false`), else a new room (`newRoom: true`): its
/// source is `widget` when the request carries the widget's cookies, `api` otherwise. The
/// first room through a source creates the visitor's contact, or links a pre-registered
/// contact with one of its e-mail addresses or phone numbers (whose conflicts the visitor's
/// other details become), and records the room as the contact's and the channel's
/// `lastChat`. With `Auto_Selection` routing an online, available agent is assigned (the
/// fewest chats first); without one, and unless the workspace accepts chats with no
/// agents, the room is refused with `no-agent-online`.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-room",
    tag = TAG,
    responses(
        (status = 200, description = "OK", body = RoomResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[get("/api/v1/livechat/room")]
pub(crate) async fn open_room(
    request: HttpRequest,
    call: Widget<RoomQuery>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let source = livechat::room_source(from_widget(&request), host.as_deref());
    let now = workspace.now();
    let opened = workspace.write(|store| {
        store.open_room(
            &input.token,
            input.rid.as_deref(),
            input.agent_id.as_deref(),
            source,
            &workspace,
            &now,
        )
    })?;
    Ok(HttpResponse::Ok().json(json!({
        "room": opened.room,
        "newRoom": opened.new,
        "success": true,
    })))
}

/// Body of `POST /api/v1/livechat/room.close` (rest-typings `isPOSTLivechatRoomCloseParams`).
#[derive(Debug, Deserialize)]
pub struct CloseRoomBody {
    pub token: String,
    pub rid: String,
}

impl PartialSchema for CloseRoomBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The visitor's open room to close.",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "rid": { "type": "string", "description": "The room's `_id`." }
            },
            "required": ["token", "rid"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for CloseRoomBody {}

impl Input for CloseRoomBody {
    const SCHEMA: &'static str = "CloseRoomBody";
}

#[derive(serde::Serialize, ToSchema)]
pub struct CloseRoomResponse {
    pub rid: String,
    /// `Closed by visitor`.
    pub comment: String,
    pub success: bool,
}

/// Close Livechat Room by Visitor
///
/// The visitor closes its open room: `closedAt`, `closer: "visitor"`, `closedBy`, the
/// durations in `metrics`, no more `open`, and the closing message (`t: "livechat-close"`,
/// `Closed by visitor`). No login needed.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-livechat-room.close",
    tag = TAG,
    request_body(content = CloseRoomBody),
    responses(
        (status = 200, description = "OK", body = CloseRoomResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[post("/api/v1/livechat/room.close")]
pub(crate) async fn close_room(call: Widget<CloseRoomBody>) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let now = workspace.now();
    let comment =
        workspace.write(|store| store.close_room(&input.token, &input.rid, &workspace, &now))?;
    Ok(HttpResponse::Ok().json(json!({ "rid": input.rid, "comment": comment, "success": true })))
}

// ----- Messages --------------------------------------------------------------------------

/// Body of `POST /api/v1/livechat/message` (rest-typings `isPOSTLivechatMessageParams`).
#[derive(Debug, Deserialize)]
pub struct SendMessageBody {
    pub token: String,
    pub rid: String,
    pub msg: String,
    #[serde(rename = "_id")]
    pub id: Option<String>,
}

impl PartialSchema for SendMessageBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "A visitor's message in its open room.",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "rid": { "type": "string", "description": "The room's `_id`." },
                "msg": { "type": "string", "description": "The text." },
                "_id": { "type": ["string", "null"], "description": "The message's `_id` (default: a new one)." },
                "agent": {
                    "type": "object",
                    "description": "Accepted and unused, as upstream.",
                    "properties": {
                        "agentId": { "type": "string" },
                        "username": { "type": "string" }
                    },
                    "required": ["agentId", "username"],
                    "additionalProperties": false
                }
            },
            "required": ["token", "rid", "msg"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for SendMessageBody {}

impl Input for SendMessageBody {
    const SCHEMA: &'static str = "SendMessageBody";
}

#[derive(serde::Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: MessageDocument,
    pub success: bool,
}

/// Send Livechat Message
///
/// A visitor's message in its open room: it becomes the room's last message. No login
/// needed.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-livechat-message",
    tag = TAG,
    request_body(content = SendMessageBody),
    responses(
        (status = 200, description = "OK", body = MessageResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[post("/api/v1/livechat/message")]
pub(crate) async fn send_message(call: Widget<SendMessageBody>) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let now = workspace.now();
    let message = workspace.write(|store| {
        store.send_visitor_message(
            &input.token,
            &input.rid,
            &input.msg,
            input.id,
            &workspace,
            &now,
        )
    })?;
    Ok(success("message", message))
}

/// The query of `GET /api/v1/livechat/messages.history/:rid` (rest-typings
/// `isGETLivechatMessagesHistoryRidParams`).
#[derive(Debug, Deserialize)]
pub struct HistoryParams {
    pub token: String,
    pub end: Option<String>,
    pub limit: Option<serde_json::Number>,
    pub offset: Option<serde_json::Number>,
}

impl Input for HistoryParams {
    const SCHEMA: &'static str = HISTORY_QUERY.name;
}

#[derive(serde::Serialize, ToSchema)]
pub struct HistoryResponse {
    pub messages: Vec<MessageDocument>,
    pub success: bool,
}

/// Livechat Message History
///
/// The messages of the visitor's room (open or closed), newest first, system messages
/// included. No login needed.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-messages.history-rid",
    tag = TAG,
    params(("rid" = String, Path, description = "The room's `_id`.", example = "Ty7HbWq2KcnA9pLx3")),
    responses(
        (status = 200, description = "OK", body = HistoryResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 404, description = "Not Found", body = NotFoundError),
    )
)]
#[get("/api/v1/livechat/messages.history/{rid}")]
pub(crate) async fn message_history(
    rid: web::Path<String>,
    call: Widget<HistoryParams>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let number =
        |n: &Option<serde_json::Number>| n.as_ref().and_then(crate::validation::js::parse_int);
    // `new Date(end)`: an unreadable date matches nothing.
    let end = input.end.as_deref().map(|end| {
        end.parse::<jiff::Timestamp>()
            .map(crate::store::iso_millis)
            .unwrap_or_default()
    });
    let query = HistoryQuery {
        token: input.token,
        rid: rid.into_inner(),
        end,
        limit: number(&input.limit)
            .filter(|l| *l != 0)
            .map_or(20, |l| usize::try_from(l).unwrap_or(0)),
        offset: number(&input.offset).map_or(0, |o| usize::try_from(o).unwrap_or(0)),
    };
    let messages = workspace.read(|store| store.message_history(&query))?;
    Ok(success("messages", messages))
}

// ----- A visitor's own messages, and its status ---------------------------------------

/// The query of `GET /api/v1/livechat/message/{_id}`.
#[derive(Debug, Deserialize)]
pub struct MessageQuery {
    pub token: String,
    pub rid: String,
}

impl Input for MessageQuery {
    const SCHEMA: &'static str = crate::domain::request::WIDGET_MESSAGE_QUERY.name;
}

/// Get Livechat Message
///
/// One message of the visitor's room (open or closed); a message of another room is
/// `invalid-message`. No login needed.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-message-_id",
    tag = TAG,
    params(("_id" = String, Path, description = "The message's `_id`.", example = "Sd3Pq7MvXk2Nb8WcF")),
    responses(
        (status = 200, description = "OK", body = MessageResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[get("/api/v1/livechat/message/{_id}")]
pub(crate) async fn get_message(
    id: web::Path<String>,
    call: Widget<MessageQuery>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let message =
        workspace.read(|store| store.visitor_room_message(&input.token, &input.rid, &id))?;
    Ok(success("message", message))
}

/// Body of `PUT /api/v1/livechat/message/{_id}` (rest-typings `isPUTLivechatMessageIdParams`).
#[derive(Debug, Deserialize)]
pub struct EditMessageBody {
    pub token: String,
    pub rid: String,
    pub msg: String,
}

impl PartialSchema for EditMessageBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The visitor's token, its room and the new text.",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "rid": { "type": "string", "description": "The room's `_id`." },
                "msg": { "type": "string", "description": "The new text." }
            },
            "required": ["token", "rid", "msg"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for EditMessageBody {}

impl Input for EditMessageBody {
    const SCHEMA: &'static str = "EditMessageBody";
}

/// Edit Livechat Message
///
/// The visitor edits its own message (`editedAt`, `editedBy`); another's is
/// `error-action-not-allowed`, as is any with `Message_AllowEditing` off. No login needed.
#[utoipa::path(
    put,
    operation_id = "put-api-v1-livechat-message-_id",
    tag = TAG,
    params(("_id" = String, Path, description = "The message's `_id`.", example = "Sd3Pq7MvXk2Nb8WcF")),
    request_body(content = EditMessageBody),
    responses(
        (status = 200, description = "OK", body = MessageResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[put("/api/v1/livechat/message/{_id}")]
pub(crate) async fn edit_message(
    id: web::Path<String>,
    call: Widget<EditMessageBody>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let now = workspace.now();
    let message = workspace.write(|store| {
        store.edit_visitor_message(&input.token, &input.rid, &id, &input.msg, &now)
    })?;
    Ok(success("message", message))
}

/// Body of `DELETE /api/v1/livechat/message/{_id}` (rest-typings
/// `isDELETELivechatMessageIdParams`).
#[derive(Debug, Deserialize)]
pub struct DeleteMessageBody {
    pub token: String,
    pub rid: String,
}

impl PartialSchema for DeleteMessageBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The visitor's token and its room (in the body, as upstream reads them).",
            "properties": {
                "token": { "type": "string", "description": "The visitor's token." },
                "rid": { "type": "string", "description": "The room's `_id`." },
                "count": { "type": ["number", "null"], "description": "Accepted and ignored." },
                "offset": { "type": ["number", "null"], "description": "Accepted and ignored." },
                "sort": { "type": ["string", "null"], "description": "Accepted and ignored." }
            },
            "required": ["token", "rid"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for DeleteMessageBody {}

impl Input for DeleteMessageBody {
    const SCHEMA: &'static str = "DeleteMessageBody";
}

/// Delete Livechat Message
///
/// The visitor deletes its own message; the room counts one fewer. No login needed.
#[utoipa::path(
    delete,
    operation_id = "delete-api-v1-livechat-message-_id",
    tag = TAG,
    params(("_id" = String, Path, description = "The message's `_id`.", example = "Sd3Pq7MvXk2Nb8WcF")),
    request_body(content = DeleteMessageBody),
    responses(
        (status = 200, description = "OK", body = DeleteVisitorResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[delete("/api/v1/livechat/message/{_id}")]
pub(crate) async fn delete_message(
    id: web::Path<String>,
    call: Widget<DeleteMessageBody>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let now = workspace.now();
    workspace.write(|store| store.delete_visitor_message(&input.token, &input.rid, &id))?;
    Ok(success(
        "message",
        json!({ "_id": id.into_inner(), "ts": now }),
    ))
}

/// Body of `POST /api/v1/livechat/visitor.status`, checked with Meteor's `check`.
#[derive(Debug, Deserialize)]
pub struct VisitorStatusBody {
    pub token: String,
    pub status: String,
}

impl PartialSchema for VisitorStatusBody {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "description": "The visitor's token and status (any text). Checked with Meteor's `check`.",
            "properties": {
                "token": { "type": "string" },
                "status": { "type": "string", "description": "e.g. `online`, `away`, `offline`." }
            },
            "required": ["token", "status"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for VisitorStatusBody {}

impl Input for VisitorStatusBody {
    const SCHEMA: &'static str = "VisitorStatusBody";

    fn check() -> Option<Pattern> {
        Some(Pattern::object(vec![
            ("token", Pattern::String),
            ("status", Pattern::String),
        ]))
    }
}

#[derive(serde::Serialize, ToSchema)]
pub struct VisitorStatusResponse {
    pub token: String,
    pub status: String,
    pub success: bool,
}

/// Set Livechat Visitor Status
///
/// The visitor's open rooms show the status (`v.status`); the visitor document keeps its
/// own. No login needed.
#[utoipa::path(
    post,
    operation_id = "post-api-v1-livechat-visitor.status",
    tag = TAG,
    request_body(content = VisitorStatusBody),
    responses(
        (status = 200, description = "OK", body = VisitorStatusResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
    )
)]
#[post("/api/v1/livechat/visitor.status")]
pub(crate) async fn visitor_status(
    call: Widget<VisitorStatusBody>,
) -> Result<HttpResponse, ApiError> {
    let Widget { input, workspace } = call;
    let now = workspace.now();
    workspace.write(|store| store.set_visitor_status(&input.token, &input.status, &now))?;
    Ok(HttpResponse::Ok()
        .json(json!({ "token": input.token, "status": input.status, "success": true })))
}

#[derive(serde::Serialize, ToSchema)]
pub struct VisitorRoomsResponse {
    /// The open rooms: `_id`, `t`, and `name`, `cl`, `u`, `usernames`, `servedBy` as they have.
    #[schema(value_type = Vec<Object>)]
    pub rooms: Vec<Value>,
    pub success: bool,
}

/// Livechat Visitor's Open Rooms
///
/// The visitor's open rooms, by token; an unknown token has none. Permission required:
/// `view-livechat-manager`.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-visitor-token-room",
    tag = TAG,
    params(("token" = String, Path, description = "The visitor's token.", example = "jane-whatsapp-token")),
    responses(
        (status = 200, description = "OK", body = VisitorRoomsResponse),
        (status = 401, description = "Unauthorized", body = crate::openapi::UnauthorizedError),
        (status = 403, description = "Forbidden", body = crate::openapi::ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/livechat/visitor/{token}/room")]
pub(crate) async fn visitor_rooms(
    token: web::Path<String>,
    call: super::pipeline::Authorized<crate::auth::ViewLivechatManager>,
) -> Result<HttpResponse, ApiError> {
    let rooms = call.workspace.read(|store| store.open_rooms_of(&token));
    Ok(success("rooms", rooms))
}
