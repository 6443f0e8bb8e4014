//! The Livechat widget's side of the workspace: visitors, their rooms and messages, and the
//! workspace settings these read. The rules are Rocket.Chat's (`registerGuest`,
//! `ContactMerger`, `setCustomFields`, `prepareLivechatRoom`, `closeRoom`, `sendMessage`;
//! docs/LIVECHAT.md says where each was read), as pure functions over documents: the
//! store looks up what they need, hands it over, and writes back what they return.

pub mod documents;
pub mod merge;
pub mod settings;

use serde_json::{Map, Value, json};

use crate::validation::check::Pattern;

pub use documents::{MessageDocument, RoomDocument, SettingDocument, VisitorDocument};

/// The errors of the widget routes, each as Rocket.Chat words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LivechatError {
    /// `findGuest` found no visitor (`throw new Error('invalid-token')`).
    #[error("invalid-token")]
    InvalidToken,
    /// `livechat/visitor/:token`: `Meteor.Error('invalid-token')`.
    #[error("[invalid-token]")]
    UnknownVisitor,
    #[error("Token cannot be empty [error-invalid-token]")]
    EmptyToken,
    /// `registerGuest`'s `check(id, Match.Maybe(String))` of a truthy `id` that is no text.
    #[error("Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation")]
    IdNotText,
    #[error("Invalid email {0} [error-invalid-email]")]
    InvalidEmail(String),
    #[error("The provided department is invalid [error-invalid-department]")]
    InvalidDepartment,
    #[error("Missing required custom fields: {0}")]
    MissingRequiredCustomFields(String),
    #[error("Cannot remove visitors with opened rooms [visitor-has-open-rooms]")]
    VisitorHasOpenRooms,
    #[error("invalid-custom-field")]
    InvalidCustomField,
    #[error("Invalid value for {0} field")]
    InvalidCustomFieldValue(String),
    #[error("invalid-room")]
    InvalidRoom,
    #[error("room-closed")]
    RoomClosed,
    #[error("[error-omnichannel-is-disabled]")]
    OmnichannelDisabled,
    #[error("error-contact-channel-blocked")]
    ChannelBlocked,
    #[error("Sorry, no online agents [no-agent-online]")]
    NoAgentOnline,
    #[error("error-not-allowed-to-close-conversation")]
    NotAllowedToClose,
    #[error("message-length-exceeds-character-limit")]
    MessageTooLong,
    /// A message `_id` sent again: upstream's `sendMessage` returns nothing and the route
    /// fails assigning to it.
    #[error("Cannot convert undefined or null to object")]
    DuplicateMessage,
    #[error("error-token-param-not-provided")]
    TokenParamMissing,
    #[error("error-contact-not-found")]
    ContactNotFound,
    #[error("invalid-message")]
    InvalidMessage,
    #[error("error-action-not-allowed")]
    ActionNotAllowed,
    #[error("error-visitor-not-found")]
    VisitorNotFound,
}

impl LivechatError {
    /// The `errorType` of the errors Rocket.Chat throws as `Meteor.Error` (the others are
    /// plain `Error`s, answered without one), and their `details`.
    pub fn meteor(&self) -> Option<(&'static str, Option<Value>)> {
        Some(match self {
            Self::UnknownVisitor => ("invalid-token", None),
            Self::EmptyToken => (
                "error-invalid-token",
                Some(json!({ "method": "livechat/visitor" })),
            ),
            Self::InvalidEmail(email) => (
                "error-invalid-email",
                Some(json!({ "function": "Livechat.validateEmail", "email": email })),
            ),
            Self::InvalidDepartment => ("error-invalid-department", None),
            Self::VisitorHasOpenRooms => ("visitor-has-open-rooms", None),
            Self::OmnichannelDisabled => ("error-omnichannel-is-disabled", None),
            Self::NoAgentOnline => ("no-agent-online", None),
            _ => return None,
        })
    }
}

/// `POST /api/v1/livechat/visitor`'s `check`.
pub(crate) fn register_pattern() -> Pattern {
    let custom_field = Pattern::object_including(vec![
        ("key", Pattern::String),
        ("value", Pattern::String),
        ("overwrite", Pattern::Boolean),
    ]);
    Pattern::object(vec![(
        "visitor",
        Pattern::object_including(vec![
            ("token", Pattern::String),
            ("name", Pattern::maybe(Pattern::String)),
            ("email", Pattern::maybe(Pattern::String)),
            ("department", Pattern::maybe(Pattern::String)),
            ("phone", Pattern::maybe(Pattern::String)),
            ("username", Pattern::maybe(Pattern::String)),
            (
                "customFields",
                Pattern::maybe(Pattern::array_of(custom_field)),
            ),
        ]),
    )])
}

/// `GET /api/v1/livechat/room`'s `check` (Community edition: no `sla`, no `priority`).
pub(crate) fn room_pattern() -> Pattern {
    Pattern::object(vec![
        ("token", Pattern::String),
        ("rid", Pattern::maybe(Pattern::String)),
        ("agentId", Pattern::maybe(Pattern::String)),
    ])
}

/// A visitor registration as the route hands it to `registerGuest`: empty strings are
/// "not sent".
#[derive(Debug, Clone, Default)]
pub struct Guest {
    pub token: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub username: Option<String>,
    /// `userAgent`, `ip` and `host` from the request headers.
    pub connection: Connection,
}

#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub host: Option<String>,
}

/// One `{key, value, overwrite}` of a widget custom field request.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FieldValue {
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub overwrite: bool,
}

/// Reads `body.visitor` (checked) as `registerGuest`'s input, or the route's refusal of an
/// empty token.
pub fn guest_of(
    visitor: &Map<String, Value>,
    connection: Connection,
) -> Result<Guest, LivechatError> {
    let text = |key: &str| {
        visitor
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let token = visitor
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if token.trim().is_empty() {
        return Err(LivechatError::EmptyToken);
    }
    // `...(id && { id })`, then `check(id, Match.Maybe(String))`.
    if let Some(id) = visitor.get("id")
        && crate::validation::js::is_truthy(id)
        && !id.is_string()
    {
        return Err(LivechatError::IdNotText);
    }
    Ok(Guest {
        token: token.to_owned(),
        id: text("id"),
        name: text("name"),
        email: text("email"),
        department: text("department"),
        phone: text("phone"),
        username: text("username"),
        connection,
    })
}

/// Livechat's `validateEmail` (`lib/Helper`), which calls `lib/emailValidator.ts` in its
/// `basic` style: the trimmed text must match `/^[^@]+@[^@]+\.[a-zA-Z]{2,}$/` — one `@`,
/// something before it, and after it something, a dot and two or more ASCII letters.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.trim().split_once('@') else {
        return false;
    };
    let Some((host, top)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && !host.is_empty()
        && !domain.contains('@')
        && top.len() >= 2
        && top.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Sets `fields` on `document` as a MongoDB `$set` does: a field it has keeps its place,
/// new ones are appended in lexicographic order (MongoDB 5.0 and later).
pub fn set_fields(document: &mut Map<String, Value>, mut fields: Vec<(String, Value)>) {
    fields.sort_by(|(a, _), (b, _)| a.cmp(b));
    for (key, value) in fields {
        document.insert(key, value);
    }
}

/// `$set` of a dotted path (`livechatData.address`, `metrics.chatDuration`): the objects
/// on the way are created as needed.
pub fn set_path(document: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut current = document;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = entry.as_object_mut().expect("just made an object");
    }
}

/// What `registerGuest` found and decided before its upsert.
pub struct Registration<'a> {
    pub guest: &'a Guest,
    /// The visitor found by token, phone or e-mail address.
    pub existing: Option<&'a Map<String, Value>>,
    /// The token the visitor ends with (a visitor found by phone keeps its own).
    pub token: &'a str,
    /// The online agent managing the contact of the visitor's e-mail address.
    pub contact_manager: Option<Value>,
    /// When none was found, the visitor whose `_id` the `id` sent names: the upsert by
    /// `_id` then sets the new visitor's fields on it.
    pub same_id: Option<&'a Map<String, Value>>,
    /// `Livechat_Allow_collect_and_store_HTTP_header_informations`.
    pub store_connection: bool,
    pub now: &'a str,
}

/// The visitor document after `registerGuest`'s upsert: the one found updated in place, or
/// a new one. `new_username` is asked for only when a new visitor sent none (it draws
/// `Livechat_guest_count`).
pub fn registered_visitor(
    registration: Registration<'_>,
    new_id: impl FnOnce() -> String,
    new_username: impl FnOnce() -> String,
) -> Map<String, Value> {
    let Registration {
        guest,
        existing,
        token,
        contact_manager,
        same_id,
        store_connection,
        now,
    } = registration;
    let mut fields: Vec<(String, Value)> = vec![
        ("token".into(), json!(token)),
        ("status".into(), json!("online")),
        ("_updatedAt".into(), json!(now)),
    ];
    if let Some(phone) = &guest.phone {
        fields.push(("phone".into(), json!([{ "phoneNumber": phone }])));
    }
    if let Some(name) = &guest.name {
        fields.push(("name".into(), json!(name)));
    }
    if let Some(email) = &guest.email {
        let address = email.trim().to_lowercase();
        fields.push(("visitorEmails".into(), json!([{ "address": address }])));
    }
    if let Some(manager) = contact_manager {
        fields.push(("contactManager".into(), manager));
    }
    match existing {
        Some(existing) => {
            let mut document = existing.clone();
            set_fields(&mut document, fields);
            document
        }
        None => {
            fields.push((
                "username".into(),
                json!(guest.username.clone().unwrap_or_else(new_username)),
            ));
            fields.push(("ts".into(), json!(now)));
            if store_connection {
                let connection = &guest.connection;
                for (key, value) in [
                    ("userAgent", &connection.user_agent),
                    ("ip", &connection.ip),
                    ("host", &connection.host),
                ] {
                    if let Some(value) = value {
                        fields.push((key.into(), json!(value)));
                    }
                }
            }
            let mut document = match same_id {
                Some(visitor) => visitor.clone(),
                None => {
                    let mut document = Map::new();
                    let id = guest.id.clone().unwrap_or_else(new_id);
                    document.insert("_id".into(), json!(id));
                    document.insert("token".into(), json!(token));
                    document
                }
            };
            set_fields(&mut document, fields);
            document
        }
    }
}

/// What a visitor registration brings to the contacts already linked to the visitor
/// (`registerGuest`'s contact step): its name, phone, e-mail address and username.
pub fn registration_fields(guest: &Guest, visitor: &Map<String, Value>) -> Vec<merge::Field> {
    let mut fields = Vec::new();
    if let Some(name) = &guest.name {
        fields.push(merge::Field::Name(name.clone()));
    }
    if let Some(phone) = &guest.phone {
        fields.push(merge::Field::Phone(phone.clone()));
    }
    if let Some(email) = &guest.email {
        fields.push(merge::Field::Email(email.trim().to_lowercase()));
    }
    let username = guest.username.clone().or_else(|| {
        visitor
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    if let Some(username) = username {
        fields.push(merge::Field::Username(username));
    }
    fields
}

/// `disableById`: what is left of a deleted visitor.
pub fn disabled_visitor(visitor: &Map<String, Value>, now: &str) -> Map<String, Value> {
    const REMOVED: [&str; 14] = [
        "department",
        "contactManager",
        "token",
        "visitorEmails",
        "phone",
        "name",
        "livechatData",
        "lastChat",
        "ip",
        "host",
        "userAgent",
        "username",
        "ts",
        "status",
    ];
    let mut document: Map<String, Value> = visitor
        .iter()
        .filter(|(k, _)| !REMOVED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    set_fields(
        &mut document,
        vec![
            ("disabled".into(), json!(true)),
            ("_updatedAt".into(), json!(now)),
        ],
    );
    document
}

/// Whether a value counts as "already set" for a custom field (`!value` is false).
pub fn has_value(value: Option<&Value>) -> bool {
    value.is_some_and(crate::validation::js::is_truthy)
}

/// A room's source as the widget routes tell it: `widget` when the widget's cookies say
/// so (with the `Host` as destination), `api` otherwise.
pub fn room_source(widget: bool, host: Option<&str>) -> Value {
    match (widget, host) {
        (true, Some(host)) => json!({ "type": "widget", "destination": host }),
        (true, None) => json!({ "type": "widget" }),
        (false, _) => json!({ "type": "api" }),
    }
}

/// `makeVisitorAssociation`'s `source`: the type, and the id when there is one.
pub fn association_source(source: &Value) -> (String, Option<String>) {
    let kind = source
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let id = source
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    (kind, id)
}

/// Does this contact channel belong to the visitor, through this source?
pub fn channel_matches(channel: &Value, visitor_id: &str, kind: &str, id: Option<&str>) -> bool {
    let visitor = &channel["visitor"];
    visitor["visitorId"].as_str() == Some(visitor_id)
        && visitor["source"]["type"].as_str() == Some(kind)
        && id.is_none_or(|id| visitor["source"]["id"].as_str() == Some(id))
}

/// `mapVisitorToContact` + `createContact` + `insertContact`: a new contact for a visitor's
/// first room through `source`.
pub fn contact_from_visitor(
    id: String,
    visitor: &Map<String, Value>,
    source: &Value,
    custom_fields: Map<String, Value>,
    contact_manager: Option<String>,
    now: &str,
) -> Map<String, Value> {
    let text = |key: &str| {
        visitor
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let name = text("name")
        .or_else(|| text("username"))
        .unwrap_or_default();
    let list = |field: &str, key: &str, out: &str| -> Option<Value> {
        let items = visitor.get(field)?.as_array()?;
        Some(Value::Array(
            items
                .iter()
                .filter_map(|item| item.get(key)?.as_str())
                .map(|v| json!({ out: v }))
                .collect(),
        ))
    };
    let activity = visitor.get("activity").and_then(Value::as_array);
    let unknown = activity.is_none_or(|a| a.is_empty());
    let mut document = Map::new();
    document.insert("_id".into(), json!(id));
    document.insert("createdAt".into(), json!(now));
    document.insert("name".into(), json!(name));
    if let Some(emails) = list("visitorEmails", "address", "address") {
        document.insert("emails".into(), emails);
    }
    if let Some(phones) = list("phone", "phoneNumber", "phoneNumber") {
        document.insert("phones".into(), phones);
    }
    if let Some(manager) = contact_manager {
        document.insert("contactManager".into(), json!(manager));
    }
    document.insert("channels".into(), json!([new_channel(visitor, source)]));
    document.insert("customFields".into(), Value::Object(custom_fields));
    if let Some(last_chat) = visitor.get("lastChat") {
        document.insert("lastChat".into(), last_chat.clone());
    }
    document.insert("unknown".into(), json!(unknown));
    document.insert("preRegistration".into(), json!(false));
    document.insert("_updatedAt".into(), json!(now));
    document
}

/// The contact channel of a visitor's source, as `mapVisitorToContact` writes it.
pub fn new_channel(visitor: &Map<String, Value>, source: &Value) -> Value {
    let (kind, id) = association_source(source);
    let label = source.get("label").and_then(Value::as_str).unwrap_or(&kind);
    let mut association = json!({ "type": kind });
    if let Some(id) = &id {
        association["id"] = json!(id);
    }
    let mut channel = json!({
        "name": label,
        "visitor": { "visitorId": visitor.get("_id").cloned().unwrap_or(Value::Null), "source": association },
        "blocked": false,
        "verified": false,
        "details": source,
    });
    if let Some(last_chat) = visitor.get("lastChat") {
        channel["lastChat"] = last_chat.clone();
    }
    channel
}

/// Everything `prepareLivechatRoom` decides about a new room.
pub struct NewRoom<'a> {
    pub id: String,
    pub visitor: &'a Map<String, Value>,
    pub contact_id: &'a str,
    pub contact_name: &'a str,
    pub verified: bool,
    pub source: Value,
    pub now: &'a str,
}

/// `prepareLivechatRoom` + `createLivechatRoom`: the room document, in insertion order.
pub fn room_document(room: NewRoom<'_>) -> Map<String, Value> {
    let visitor = room.visitor;
    let mut v = Map::new();
    for key in ["_id", "username", "token"] {
        v.insert(key.into(), visitor.get(key).cloned().unwrap_or(Value::Null));
    }
    v.insert(
        "status".into(),
        visitor
            .get("status")
            .cloned()
            .unwrap_or_else(|| json!("online")),
    );
    if let Some(activity) = visitor
        .get("activity")
        .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
    {
        v.insert("activity".into(), activity.clone());
    }
    let mut document = Map::new();
    document.insert("_id".into(), json!(room.id));
    document.insert("msgs".into(), json!(0));
    document.insert("usersCount".into(), json!(1));
    document.insert("lm".into(), json!(room.now));
    document.insert("fname".into(), json!(room.contact_name));
    document.insert("t".into(), json!("l"));
    document.insert("ts".into(), json!(room.now));
    if let Some(department) = visitor.get("department").filter(|d| !d.is_null()) {
        document.insert("departmentId".into(), department.clone());
    }
    document.insert("v".into(), Value::Object(v));
    document.insert("contactId".into(), json!(room.contact_id));
    document.insert("cl".into(), json!(false));
    document.insert("open".into(), json!(true));
    document.insert("waitingResponse".into(), json!(true));
    document.insert("verified".into(), json!(room.verified));
    document.insert("source".into(), room.source);
    document.insert("queuedAt".into(), json!(room.now));
    document.insert("priorityWeight".into(), json!(99));
    document.insert("estimatedWaitingTimeQueue".into(), json!(9_999_999));
    document.insert("_updatedAt".into(), json!(room.now));
    document
}

/// The author of a message: `{_id, username}` and the name when there is one.
pub fn author(document: &Map<String, Value>) -> Value {
    let mut author = Map::new();
    for key in ["_id", "username", "name"] {
        if let Some(value) = document.get(key).filter(|v| !v.is_null()) {
            author.insert(key.into(), value.clone());
        }
    }
    Value::Object(author)
}

/// `saveSystemMessage`'s document (`createWithTypeRoomIdMessageUserAndUnread`).
pub fn system_message(
    id: String,
    kind: &str,
    rid: &str,
    msg: &str,
    user: Value,
    extra: Vec<(&str, Value)>,
    now: &str,
) -> Map<String, Value> {
    let mut document = Map::new();
    document.insert("_id".into(), json!(id));
    document.insert("t".into(), json!(kind));
    document.insert("rid".into(), json!(rid));
    document.insert("ts".into(), json!(now));
    document.insert("msg".into(), json!(msg));
    document.insert("u".into(), user);
    document.insert("groupable".into(), json!(false));
    for (key, value) in extra {
        document.insert(key.into(), value);
    }
    document.insert("_updatedAt".into(), json!(now));
    document
}

/// A visitor's message, as `sendMessage` stores it.
pub fn visitor_message(
    id: String,
    rid: &str,
    msg: &str,
    visitor: &Map<String, Value>,
    now: &str,
) -> Map<String, Value> {
    let mut document = Map::new();
    document.insert("_id".into(), json!(id));
    document.insert("rid".into(), json!(rid));
    document.insert("msg".into(), json!(msg));
    document.insert(
        "token".into(),
        visitor.get("token").cloned().unwrap_or(Value::Null),
    );
    if let Some(name) = visitor
        .get("name")
        .filter(|n| n.as_str().is_some_and(|n| !n.is_empty()))
    {
        document.insert("alias".into(), name.clone());
    }
    document.insert("ts".into(), json!(now));
    document.insert("u".into(), author(visitor));
    document.insert("urls".into(), json!([]));
    document.insert("mentions".into(), json!([]));
    document.insert("channels".into(), json!([]));
    if !msg.is_empty() {
        document.insert("md".into(), markdown(msg));
    }
    document.insert("_updatedAt".into(), json!(now));
    document
}

/// The message parser's tree of a plain text: one paragraph of plain text per line (the
/// mock does not parse inline markup; docs/LIVECHAT.md says so).
pub fn markdown(msg: &str) -> Value {
    Value::Array(
        msg.split('\n')
            .map(|line| {
                if line.is_empty() {
                    json!({ "type": "LINE_BREAK", "value": null })
                } else {
                    json!({ "type": "PARAGRAPH", "value": [{ "type": "PLAIN_TEXT", "value": line }] })
                }
            })
            .collect(),
    )
}

/// Seconds between two ISO timestamps, as `(a - b) / 1000` in JavaScript.
pub fn seconds_between(later: &str, earlier: &str) -> Option<f64> {
    let later: jiff::Timestamp = later.parse().ok()?;
    let earlier: jiff::Timestamp = earlier.parse().ok()?;
    Some((later.as_millisecond() - earlier.as_millisecond()) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_keeps_known_fields_in_place_and_appends_new_ones_sorted() {
        let mut document: Map<String, Value> =
            serde_json::from_value(json!({"_id": "v", "token": "t", "status": "away"})).unwrap();
        set_fields(
            &mut document,
            vec![
                ("status".into(), json!("online")),
                ("name".into(), json!("N")),
                ("_updatedAt".into(), json!("now")),
            ],
        );
        let keys: Vec<&str> = document.keys().map(String::as_str).collect();
        assert_eq!(keys, ["_id", "token", "status", "_updatedAt", "name"]);
        assert_eq!(document["status"], "online");
        set_path(&mut document, "livechatData.address", json!("street"));
        assert_eq!(document["livechatData"], json!({"address": "street"}));
    }

    #[test]
    fn emails_are_checked_as_livechat_does() {
        assert!(is_valid_email("ana@example.com"));
        // The basic style accepts what is neither `@` nor a missing dot: spaces too.
        assert!(is_valid_email("ana souza@mail.example.co"));
        assert!(is_valid_email(" ana@x.io "));
        assert!(!is_valid_email("ana@example"));
        assert!(!is_valid_email("ana@x.c"));
        assert!(!is_valid_email("ana@x.c0m"));
        assert!(!is_valid_email("@x.com"));
        assert!(!is_valid_email("ana@.com"));
        assert!(!is_valid_email("a@b@x.com"));
        assert!(!is_valid_email("not an address"));
    }
}
