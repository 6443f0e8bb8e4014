//! The Livechat routes' examples: the mock's own answers on the built-in workspace (a copy
//! of it, with fixed ids and time), so that each "Try it out" succeeds on a fresh start.

use std::cell::Cell;

use serde_json::{Value, json};

use super::{OperationExamples, error_example};
use crate::config::RocketChatVersion;
use crate::domain::livechat::{FieldValue, Guest, LivechatError};
use crate::error::ApiError;
use crate::store::{HistoryQuery, NewIds, Store};

pub(super) const REGISTER_PATH: &str = "/api/v1/livechat/visitor";
pub(super) const VISITOR_PATH: &str = "/api/v1/livechat/visitor/{token}";
pub(super) const CUSTOM_FIELD_PATH: &str = "/api/v1/livechat/custom.field";
pub(super) const CUSTOM_FIELDS_PATH: &str = "/api/v1/livechat/custom.fields";
pub(super) const ROOM_PATH: &str = "/api/v1/livechat/room";
pub(super) const CLOSE_PATH: &str = "/api/v1/livechat/room.close";
pub(super) const MESSAGE_PATH: &str = "/api/v1/livechat/message";
pub(super) const HISTORY_PATH: &str = "/api/v1/livechat/messages.history/{rid}";

/// The built-in workspace's visitors the examples use.
pub(super) const ANA: &str = "ana-widget-token";
const JANE_WIDGET: &str = "jane-widget-token";
pub(super) const JANE_WHATSAPP: &str = "jane-whatsapp-token";
const JANE_WHATSAPP_ROOM: &str = "Ty7HbWq2KcnA9pLx3";
const GUEST_42: &str = "guest-42-token";
const GUEST_42_ROOM: &str = "Hx7pQ2mZk9WcR4tYb";
const NOW: &str = "2025-06-02T09:30:00.000Z";

/// Ids that count up, for examples that read the same in every build.
struct Counter(Cell<u32>);

impl NewIds for Counter {
    fn object_id(&self) -> String {
        self.0.set(self.0.get() + 1);
        format!("683d6f28e1b4c07a9d3f{:04x}", self.0.get())
    }

    fn random_id(&self) -> String {
        self.0.set(self.0.get() + 1);
        format!("nR8yQ2wL5kT7zX{:03}", self.0.get())
    }
}

fn ids() -> Counter {
    Counter(Cell::new(0))
}

fn error(
    name: &'static str,
    error: LivechatError,
    version: RocketChatVersion,
) -> (&'static str, Value) {
    error_example(name, &ApiError::from(error), version)
}

fn invalid(name: &'static str, message: &str, version: RocketChatVersion) -> (&'static str, Value) {
    error_example(name, &ApiError::InvalidParams(message.to_owned()), version)
}

fn matched(name: &'static str, message: &str, version: RocketChatVersion) -> (&'static str, Value) {
    error_example(name, &ApiError::Business(message.to_owned()), version)
}

pub(super) fn operations(store: &Store, version: RocketChatVersion) -> Vec<OperationExamples> {
    let v = version;
    let ana = Guest {
        token: ANA.to_owned(),
        name: Some("Ana Souza".to_owned()),
        email: Some("ana.souza@example.com".to_owned()),
        ..Guest::default()
    };
    let registered = store
        .clone()
        .register_visitor(ana, None, &ids(), NOW)
        .expect("Ana registers");
    let jane = store
        .visitor_by_token(JANE_WIDGET)
        .expect("Jane is a fixture");
    let field = FieldValue {
        key: "company".to_owned(),
        value: "Acme Corporation".to_owned(),
        overwrite: false,
    };
    let opened = store
        .clone()
        .open_room(ANA, None, None, json!({ "type": "api" }), &ids(), NOW)
        .expect("Ana's room opens");
    let message = store
        .clone()
        .send_visitor_message(
            JANE_WHATSAPP,
            JANE_WHATSAPP_ROOM,
            "Hello, is my order on its way?",
            None,
            &ids(),
            NOW,
        )
        .expect("Jane writes");
    let history = store
        .message_history(&HistoryQuery {
            token: JANE_WHATSAPP.to_owned(),
            rid: JANE_WHATSAPP_ROOM.to_owned(),
            end: None,
            limit: 20,
            offset: 0,
        })
        .expect("Jane's room has messages");
    let visitor_not_found = error("Unknown token", LivechatError::UnknownVisitor, v);
    vec![
        (
            "post",
            REGISTER_PATH,
            Some(
                json!({ "visitor": { "token": ANA, "name": "Ana Souza", "email": "ana.souza@example.com" } }),
            ),
            vec![
                (
                    "200",
                    vec![(
                        "Example 1",
                        json!({ "visitor": registered, "success": true }),
                    )],
                ),
                (
                    "400",
                    vec![
                        matched(
                            "Match error",
                            "Match error: Missing key 'token' in field visitor",
                            v,
                        ),
                        error("Empty token", LivechatError::EmptyToken, v),
                        error(
                            "Invalid e-mail address",
                            LivechatError::InvalidEmail("ana@".to_owned()),
                            v,
                        ),
                        error(
                            "Missing required custom field",
                            LivechatError::MissingRequiredCustomFields("internalScore".to_owned()),
                            v,
                        ),
                    ],
                ),
            ],
        ),
        (
            "get",
            VISITOR_PATH,
            None,
            vec![
                (
                    "200",
                    vec![("Example 1", json!({ "visitor": jane, "success": true }))],
                ),
                ("400", vec![visitor_not_found.clone()]),
            ],
        ),
        (
            "delete",
            VISITOR_PATH,
            None,
            vec![
                (
                    "200",
                    vec![(
                        "Example 1",
                        json!({ "visitor": { "_id": "6751c0ffee00aa11bb22cc33", "ts": NOW }, "success": true }),
                    )],
                ),
                (
                    "400",
                    vec![
                        visitor_not_found,
                        error("Open room", LivechatError::VisitorHasOpenRooms, v),
                    ],
                ),
            ],
        ),
        (
            "post",
            CUSTOM_FIELD_PATH,
            Some(
                json!({ "token": JANE_WIDGET, "key": field.key, "value": field.value, "overwrite": false }),
            ),
            vec![
                (
                    "200",
                    vec![(
                        "Example 1",
                        json!({ "field": { "key": field.key, "value": field.value, "overwrite": false }, "success": true }),
                    )],
                ),
                (
                    "400",
                    vec![
                        invalid("Invalid body", "must have required property 'overwrite'", v),
                        error("Unknown token", LivechatError::InvalidToken, v),
                        error("Unknown field", LivechatError::InvalidCustomField, v),
                        error(
                            "Invalid value",
                            LivechatError::InvalidCustomFieldValue("cpf".to_owned()),
                            v,
                        ),
                    ],
                ),
            ],
        ),
        (
            "post",
            CUSTOM_FIELDS_PATH,
            Some(
                json!({ "token": JANE_WIDGET, "customFields": [{ "key": "plan", "value": "pro", "overwrite": true }] }),
            ),
            vec![
                (
                    "200",
                    vec![(
                        "Example 1",
                        json!({ "fields": [{ "Key": "plan", "value": "pro", "overwrite": true }], "success": true }),
                    )],
                ),
                (
                    "400",
                    vec![
                        invalid(
                            "Invalid body",
                            "must have required property 'customFields'",
                            v,
                        ),
                        error("Unknown token", LivechatError::InvalidToken, v),
                        error("Unknown field", LivechatError::InvalidCustomField, v),
                    ],
                ),
            ],
        ),
        (
            "get",
            ROOM_PATH,
            None,
            vec![
                (
                    "200",
                    vec![(
                        "Example 1",
                        json!({ "room": opened.room, "newRoom": opened.new, "success": true }),
                    )],
                ),
                (
                    "400",
                    vec![
                        matched("Match error", "Match error: Missing key 'token'", v),
                        error("Unknown token", LivechatError::InvalidToken, v),
                        error("Unknown room", LivechatError::InvalidRoom, v),
                        error("No agent online", LivechatError::NoAgentOnline, v),
                    ],
                ),
            ],
        ),
        (
            "post",
            CLOSE_PATH,
            Some(json!({ "token": GUEST_42, "rid": GUEST_42_ROOM })),
            vec![
                (
                    "200",
                    vec![(
                        "Example 1",
                        json!({ "rid": GUEST_42_ROOM, "comment": "Closed by visitor", "success": true }),
                    )],
                ),
                (
                    "400",
                    vec![
                        invalid("Invalid body", "must have required property 'rid'", v),
                        error("Unknown token", LivechatError::InvalidToken, v),
                        error("Unknown room", LivechatError::InvalidRoom, v),
                        error("Closed room", LivechatError::RoomClosed, v),
                    ],
                ),
            ],
        ),
        (
            "post",
            MESSAGE_PATH,
            Some(
                json!({ "token": JANE_WHATSAPP, "rid": JANE_WHATSAPP_ROOM, "msg": "Hello, is my order on its way?" }),
            ),
            vec![
                (
                    "200",
                    vec![("Example 1", json!({ "message": message, "success": true }))],
                ),
                (
                    "400",
                    vec![
                        invalid("Invalid body", "must have required property 'msg'", v),
                        error("Unknown token", LivechatError::InvalidToken, v),
                        error("Closed room", LivechatError::RoomClosed, v),
                    ],
                ),
            ],
        ),
        (
            "get",
            HISTORY_PATH,
            None,
            vec![
                (
                    "200",
                    vec![("Example 1", json!({ "messages": history, "success": true }))],
                ),
                (
                    "400",
                    vec![
                        invalid("Invalid query", "must have required property 'token'", v),
                        error("Unknown room", LivechatError::InvalidRoom, v),
                    ],
                ),
            ],
        ),
    ]
}

/// The example value of a query parameter of these routes, so that "Try it out" works.
pub(super) fn query_example(path: &str, name: &str) -> Option<Value> {
    match (path, name) {
        (ROOM_PATH, "token") => Some(json!(ANA)),
        (HISTORY_PATH, "token") => Some(json!(JANE_WHATSAPP)),
        _ => None,
    }
}
