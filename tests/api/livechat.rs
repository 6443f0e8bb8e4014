//! The Livechat widget routes: visitors, custom fields, rooms and messages, and how
//! contacts, channels and conflicts arise through them (docs/LIVECHAT.md).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN, CONFLICTS, CREATE, GET, GUEST, JANE, JOHN, Reply, TestApp, UPDATE, contract,
};

const REGISTER: &str = "/api/v1/livechat/visitor";
const CUSTOM_FIELD: &str = "/api/v1/livechat/custom.field";
const CUSTOM_FIELDS: &str = "/api/v1/livechat/custom.fields";
const ROOM: &str = "/api/v1/livechat/room";
const CLOSE: &str = "/api/v1/livechat/room.close";
const MESSAGE: &str = "/api/v1/livechat/message";

/// Built-in visitors.
const ANA: &str = "ana-widget-token";
const JOHN_WIDGET: &str = "john-widget-token";
const JANE_WIDGET: &str = "jane-widget-token";
const JANE_WHATSAPP: &str = "jane-whatsapp-token";
const JANE_WHATSAPP_ROOM: &str = "Ty7HbWq2KcnA9pLx3";
const GUEST_42: &str = "guest-42-token";
const GUEST_42_ROOM: &str = "Hx7pQ2mZk9WcR4tYb";

async fn register(app: &TestApp, visitor: Value) -> Reply {
    app.post_json(REGISTER, None, &json!({ "visitor": visitor }))
        .await
}

/// A widget route with a path parameter, checked against its templated path's contract.
async fn widget(app: &TestApp, method: Method, path: &str, template: &str) -> Reply {
    let reply = app.send(app.request(method.clone(), path)).await;
    contract().check(method.as_str(), template, &reply);
    reply
}

async fn get_visitor(app: &TestApp, token: &str) -> Reply {
    let path = format!("/api/v1/livechat/visitor/{token}");
    widget(app, Method::GET, &path, "/api/v1/livechat/visitor/{token}").await
}

async fn delete_visitor(app: &TestApp, token: &str) -> Reply {
    let path = format!("/api/v1/livechat/visitor/{token}");
    widget(
        app,
        Method::DELETE,
        &path,
        "/api/v1/livechat/visitor/{token}",
    )
    .await
}

async fn history(app: &TestApp, rid: &str, query: &str) -> Reply {
    let path = format!("/api/v1/livechat/messages.history/{rid}?{query}");
    widget(
        app,
        Method::GET,
        &path,
        "/api/v1/livechat/messages.history/{rid}",
    )
    .await
}

async fn open_room(app: &TestApp, token: &str) -> Reply {
    app.get_json(&format!("{ROOM}?token={token}"), None).await
}

async fn contact(app: &TestApp, id: &str) -> Value {
    let reply = app
        .get_json(&format!("{GET}?contactId={id}"), Some(ADMIN))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["contact"].clone()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// `errorType` of a 400, if any.
fn error_type(reply: &Reply) -> Option<&str> {
    reply.body.get("errorType").and_then(Value::as_str)
}

#[tokio::test]
async fn a_new_visitor_is_guest_n_online_with_its_address_lower_cased() {
    let app = TestApp::spawn().await;
    let reply = register(
        &app,
        json!({ "token": "t-new", "name": "Rui", "email": "  Rui@Example.COM ", "phone": "+351911" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(keys(&reply.body), ["visitor", "success"]);
    let visitor = &reply.body["visitor"];
    // The built-in guest counter stands at 43.
    assert_eq!(visitor["username"], "guest-44");
    assert_eq!(visitor["status"], "online");
    assert_eq!(
        visitor["visitorEmails"],
        json!([{ "address": "rui@example.com" }])
    );
    assert_eq!(visitor["phone"], json!([{ "phoneNumber": "+351911" }]));
    assert_eq!(visitor["_id"].as_str().unwrap().len(), 24);
    // An upsert's order: `_id` and the token first, then the fields set, sorted.
    assert_eq!(
        keys(visitor),
        [
            "_id",
            "token",
            "_updatedAt",
            "name",
            "phone",
            "status",
            "ts",
            "username",
            "visitorEmails"
        ]
    );
    // No contact yet: the first room makes it.
    assert!(app.state().await["contacts"].as_array().unwrap().len() == 5);
    let next = register(&app, json!({ "token": "t-next" })).await;
    assert_eq!(next.body["visitor"]["username"], "guest-45");
    let named = register(&app, json!({ "token": "t-named", "username": "rui.s" })).await;
    assert_eq!(named.body["visitor"]["username"], "rui.s");
}

#[tokio::test]
async fn the_body_is_checked_as_meteor_checks_it() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({}), "Match error: Missing key 'visitor'"),
        (
            json!({ "visitor": {} }),
            "Match error: Missing key 'token' in field visitor",
        ),
        (
            json!({ "visitor": null }),
            "Match error: Expected object, got null in field visitor",
        ),
        (
            json!({ "visitor": { "token": 5 } }),
            "Match error: Expected string, got number in field visitor.token",
        ),
        (
            json!({ "visitor": { "name": null, "token": "t" } }),
            "Match error: Expected string, got null in field visitor.name",
        ),
        (
            json!({ "visitor": { "token": "t", "customFields": [{ "key": "cpf", "value": "1" }] } }),
            "Match error: Missing key 'overwrite' in field visitor.customFields[0]",
        ),
        (
            json!({ "visitor": { "token": "t" }, "x": 1 }),
            "Match error: Unknown key in field x",
        ),
    ];
    for (body, expected) in cases {
        let reply = app.post_json(REGISTER, None, &body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(
            reply.body,
            json!({ "success": false, "error": expected }),
            "{body}"
        );
    }
    // Unknown keys inside `visitor` are let through.
    let reply = register(
        &app,
        json!({ "token": "t-extra", "connectionData": { "a": 1 } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn a_blank_token_a_bad_address_or_a_department_is_refused_before_anything_is_written() {
    let app = TestApp::spawn().await;
    let before = app.state().await;
    let blank = register(&app, json!({ "token": "  " })).await;
    assert_eq!(
        blank.body,
        json!({
            "success": false,
            "error": "Token cannot be empty [error-invalid-token]",
            "errorType": "error-invalid-token",
            "details": { "method": "livechat/visitor" }
        })
    );
    let email = register(&app, json!({ "token": "t", "email": "ana@" })).await;
    assert_eq!(email.status, 400);
    assert_eq!(email.error(), "Invalid email ana@ [error-invalid-email]");
    assert_eq!(error_type(&email), Some("error-invalid-email"));
    let department = register(&app, json!({ "token": "t", "department": "sales" })).await;
    assert_eq!(
        department.error(),
        "The provided department is invalid [error-invalid-department]"
    );
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn a_visitor_is_found_again_by_phone_keeping_its_token_or_by_address_taking_the_new_one() {
    let app = TestApp::spawn().await;
    let by_phone = register(
        &app,
        json!({ "token": "other-token", "phone": "+5511999990000" }),
    )
    .await;
    assert_eq!(by_phone.body["visitor"]["token"], JANE_WHATSAPP);
    assert_eq!(by_phone.body["visitor"]["_id"], "68135b90e384b3ad127c7dc4");
    let by_email = register(
        &app,
        json!({ "token": "new-ana-token", "email": "ana.souza@example.com" }),
    )
    .await;
    assert_eq!(by_email.body["visitor"]["_id"], "6751c0ffee00aa11bb22cc33");
    assert_eq!(by_email.body["visitor"]["token"], "new-ana-token");
    assert_eq!(get_visitor(&app, ANA).await.status, 400);
}

#[tokio::test]
async fn re_registering_a_known_contact_records_conflicts_and_adds_addresses() {
    let app = TestApp::spawn().await;
    let reply = register(
        &app,
        json!({ "token": JOHN_WIDGET, "name": "Johnny", "email": "johnny@example.com" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let john = contact(&app, JOHN).await;
    assert_eq!(john["name"], "John");
    assert_eq!(
        john["emails"],
        json!([{ "address": "email@example.com" }, { "address": "johnny@example.com" }])
    );
    assert_eq!(
        john["conflictingFields"],
        json!([{ "field": "name", "value": "Johnny" }])
    );
    // The same details again record nothing more.
    register(&app, json!({ "token": JOHN_WIDGET, "name": "Johnny" })).await;
    assert_eq!(
        contact(&app, JOHN).await["conflictingFields"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn re_registering_an_unknown_contact_overwrites_it() {
    let app = TestApp::spawn().await;
    register(
        &app,
        json!({ "token": GUEST_42, "name": "Grace", "phone": "+4470000" }),
    )
    .await;
    let guest = contact(&app, GUEST).await;
    assert_eq!(guest["name"], "Grace");
    assert_eq!(guest["phones"], json!([{ "phoneNumber": "+4470000" }]));
    assert_eq!(guest["conflictingFields"], json!([]));
    assert_eq!(guest["unknown"], true);
    // The visitor's open room takes the visitor's name.
    let room = open_room(&app, GUEST_42).await;
    assert_eq!(room.body["room"]["fname"], "Grace");
}

#[tokio::test]
async fn registration_custom_fields_keep_visitor_fields_and_skip_the_others() {
    let app = TestApp::spawn().await;
    let reply = register(
        &app,
        json!({ "token": ANA, "customFields": [
            { "key": "company", "value": "Acme", "overwrite": true },
            { "key": "nickname", "value": "x", "overwrite": true },
            { "key": "ticketNumber", "value": "12", "overwrite": true },
        ] }),
    )
    .await;
    assert_eq!(
        reply.body["visitor"]["livechatData"],
        json!({ "company": "Acme" })
    );
    let kept = register(
        &app,
        json!({ "token": ANA, "customFields": [{ "key": "company", "value": "Other", "overwrite": false }] }),
    )
    .await;
    assert_eq!(
        kept.body["visitor"]["livechatData"],
        json!({ "company": "Acme" })
    );
    let unknown = register(
        &app,
        json!({ "token": "t-unknown", "customFields": [{ "key": "nickname", "value": "x", "overwrite": true }] }),
    )
    .await;
    assert!(unknown.body["visitor"].get("livechatData").is_none());
}

#[tokio::test]
async fn a_required_custom_field_left_out_is_refused_after_the_visitor_is_saved() {
    let app = TestApp::spawn().await;
    let required = json!({ "_id": "vip", "label": "VIP", "scope": "visitor", "visibility": "visible", "required": true });
    assert_eq!(
        app.patch_state(&json!({ "customFields": [required] }))
            .await
            .status,
        200
    );
    // Without custom fields, nothing is enforced.
    assert_eq!(register(&app, json!({ "token": "t-1" })).await.status, 200);
    let reply = register(
        &app,
        json!({ "token": "t-2", "name": "Saved", "customFields": [{ "key": "company", "value": "A", "overwrite": true }] }),
    )
    .await;
    assert_eq!(
        reply.body,
        json!({ "success": false, "error": "Missing required custom fields: vip" })
    );
    assert_eq!(
        get_visitor(&app, "t-2").await.body["visitor"]["name"],
        "Saved"
    );
}

#[tokio::test]
async fn a_visitor_is_read_by_token() {
    let app = TestApp::spawn().await;
    let found = get_visitor(&app, JANE_WIDGET).await;
    assert_eq!(found.status, 200);
    assert_eq!(found.body["visitor"]["_id"], "68135a1fe384b3ad127c7dbb");
    let missing = get_visitor(&app, "invalid").await;
    assert_eq!(
        missing.body,
        json!({ "success": false, "error": "[invalid-token]", "errorType": "invalid-token" })
    );
}

#[tokio::test]
async fn deleting_a_visitor_wipes_its_contacts_visitors_rooms_and_messages() {
    let app = TestApp::spawn().await;
    let open = delete_visitor(&app, JANE_WHATSAPP).await;
    assert_eq!(open.status, 400);
    assert_eq!(
        open.error(),
        "Cannot remove visitors with opened rooms [visitor-has-open-rooms]"
    );
    assert_eq!(error_type(&open), Some("visitor-has-open-rooms"));

    // Jane's widget visitor has only a closed room; its contact links both visitors.
    let reply = delete_visitor(&app, JANE_WIDGET).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(keys(&reply.body["visitor"]), ["_id", "ts"]);
    assert_eq!(reply.body["visitor"]["_id"], "68135a1fe384b3ad127c7dbb");
    let state = app.state().await;
    let visitor = |id: &str| {
        state["visitors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["_id"] == id)
            .cloned()
            .unwrap()
    };
    // `activity` is not among the fields `disableById` removes.
    let left = ["_id", "_updatedAt", "activity", "disabled"];
    assert_eq!(keys(&visitor("68135a1fe384b3ad127c7dbb")), left);
    assert_eq!(keys(&visitor("68135b90e384b3ad127c7dc4")), left);
    let rooms = state["rooms"].as_array().unwrap();
    assert!(
        !rooms
            .iter()
            .any(|r| r["_id"] == JANE_WHATSAPP_ROOM || r["_id"] == "cz5uyBRyKPfoWHBat")
    );
    assert!(
        !state["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["rid"] == JANE_WHATSAPP_ROOM)
    );
    let jane = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["_id"] == JANE)
        .cloned()
        .unwrap();
    assert_eq!(jane["enabled"], false);
    assert!(jane.get("channels").is_none() && jane.get("emails").is_none());
    assert_eq!(jane["conflictingFields"].as_array().unwrap().len(), 5);
    assert_eq!(
        get_visitor(&app, JANE_WIDGET).await.error(),
        "[invalid-token]"
    );
}

#[tokio::test]
async fn a_workspace_storing_headers_deletes_visitors_with_open_rooms() {
    let app = TestApp::spawn().await;
    let setting = json!({ "_id": "Livechat_Allow_collect_and_store_HTTP_header_informations", "value": true });
    app.patch_state(&json!({ "settings": [setting] })).await;
    assert_eq!(delete_visitor(&app, GUEST_42).await.status, 200);
    // Such a workspace also keeps the new visitor's connection.
    let reply = register(&app, json!({ "token": "t-headers" })).await;
    assert!(
        reply.body["visitor"]["host"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1")
    );
}

#[tokio::test]
async fn a_custom_field_is_validated_as_rest_typings_and_the_definitions_say() {
    let app = TestApp::spawn().await;
    let missing = app
        .post_json(
            CUSTOM_FIELD,
            None,
            &json!({ "token": ANA, "key": "cpf", "value": "1" }),
        )
        .await;
    assert_eq!(
        missing.error(),
        "must have required property 'overwrite' [invalid-params]"
    );
    assert_eq!(error_type(&missing), Some("invalid-params"));
    let field = |token: &str, key: &str, value: &str| json!({ "token": token, "key": key, "value": value, "overwrite": true });
    let token = app
        .post_json(CUSTOM_FIELD, None, &field("nobody", "cpf", "1"))
        .await;
    assert_eq!(
        token.body,
        json!({ "success": false, "error": "invalid-token" })
    );
    let unknown = app
        .post_json(CUSTOM_FIELD, None, &field(ANA, "nickname", "1"))
        .await;
    assert_eq!(unknown.error(), "invalid-custom-field");
    let pattern = app
        .post_json(CUSTOM_FIELD, None, &field(ANA, "cpf", "123"))
        .await;
    assert_eq!(pattern.error(), "Invalid value for cpf field");
    // Coerced as AJV coerces: the answer echoes the value as a string.
    let coerced = app
        .post_json(
            CUSTOM_FIELD,
            None,
            &json!({ "token": ANA, "key": "cpf", "value": 12345678901u64, "overwrite": "true" }),
        )
        .await;
    assert_eq!(
        coerced.body,
        json!({ "field": { "key": "cpf", "value": "12345678901", "overwrite": true }, "success": true })
    );
    assert_eq!(
        get_visitor(&app, ANA).await.body["visitor"]["livechatData"],
        json!({ "cpf": "12345678901" })
    );
}

#[tokio::test]
async fn a_room_scope_field_goes_to_the_open_rooms_only() {
    let app = TestApp::spawn().await;
    let body =
        json!({ "token": JANE_WHATSAPP, "key": "ticketNumber", "value": "77", "overwrite": false });
    assert_eq!(app.post_json(CUSTOM_FIELD, None, &body).await.status, 200);
    let room = app
        .get_json(&format!("{ROOM}?token={JANE_WHATSAPP}"), None)
        .await;
    assert_eq!(
        room.body["room"]["livechatData"],
        json!({ "ticketNumber": "77" })
    );
    assert!(
        contact(&app, JANE).await["customFields"]
            .get("ticketNumber")
            .is_none()
    );
    // Without `overwrite`, the open room's value stays.
    let again =
        json!({ "token": JANE_WHATSAPP, "key": "ticketNumber", "value": "78", "overwrite": false });
    app.post_json(CUSTOM_FIELD, None, &again).await;
    let room = app
        .get_json(&format!("{ROOM}?token={JANE_WHATSAPP}"), None)
        .await;
    assert_eq!(room.body["room"]["livechatData"]["ticketNumber"], "77");
}

#[tokio::test]
async fn several_custom_fields_are_answered_room_scope_first_with_a_capital_key() {
    let app = TestApp::spawn().await;
    let body = json!({ "token": JANE_WHATSAPP, "customFields": [
        { "key": "company", "value": "Acme", "overwrite": true },
        { "key": "ticketNumber", "value": "9", "overwrite": true },
    ] });
    let reply = app.post_json(CUSTOM_FIELDS, None, &body).await;
    assert_eq!(
        reply.body,
        json!({ "fields": [
            { "Key": "ticketNumber", "value": "9", "overwrite": true },
            { "Key": "company", "value": "Acme", "overwrite": true },
        ], "success": true })
    );
    // One bad key refuses them all before anything is written.
    let bad = json!({ "token": ANA, "customFields": [
        { "key": "company", "value": "Acme", "overwrite": true },
        { "key": "nickname", "value": "x", "overwrite": true },
    ] });
    assert_eq!(
        app.post_json(CUSTOM_FIELDS, None, &bad).await.error(),
        "invalid-custom-field"
    );
    assert!(
        get_visitor(&app, ANA).await.body["visitor"]
            .get("livechatData")
            .is_none()
    );
    let empty = app
        .post_json(
            CUSTOM_FIELDS,
            None,
            &json!({ "token": ANA, "customFields": [] }),
        )
        .await;
    assert_eq!(empty.error(), "invalid-custom-field");
    let nobody = app
        .post_json(
            CUSTOM_FIELDS,
            None,
            &json!({ "token": "nobody", "customFields": [] }),
        )
        .await;
    assert_eq!(nobody.error(), "invalid-token");
}

/// The upstream recipe (`03-custom-fields.ts`, "[with Contacts]"), through the API alone.
#[tokio::test]
async fn a_widget_custom_field_conflict_arises_and_is_resolved() {
    let app = TestApp::spawn().await;
    let visitor = json!({ "token": "recipe", "name": "Rita Lopes", "email": "rita@example.com", "phone": "+5511955554444" });
    assert_eq!(register(&app, visitor).await.status, 200);
    let created = app
        .post_json(CREATE, Some(ADMIN), &json!({ "name": "Rita Lopes", "emails": ["rita@example.com"], "phones": ["+5511955554444"] }))
        .await;
    let contact_id = created.body["contactId"].as_str().unwrap().to_owned();
    let room = open_room(&app, "recipe").await;
    assert_eq!(room.body["room"]["contactId"], contact_id.as_str());
    assert_eq!(room.body["room"]["fname"], "Rita Lopes");

    let set = |value: &str, overwrite: bool| json!({ "token": "recipe", "key": "company", "value": value, "overwrite": overwrite });
    assert_eq!(
        app.post_json(CUSTOM_FIELD, None, &set("Acme", true))
            .await
            .status,
        200
    );
    assert_eq!(
        contact(&app, &contact_id).await["customFields"]["company"],
        "Acme"
    );
    assert_eq!(
        app.post_json(CUSTOM_FIELD, None, &set("Globex", false))
            .await
            .status,
        200
    );
    let rita = contact(&app, &contact_id).await;
    assert_eq!(rita["customFields"]["company"], "Acme");
    assert_eq!(
        rita["conflictingFields"],
        json!([{ "field": "customFields.company", "value": "Globex" }])
    );
    assert_eq!(
        get_visitor(&app, "recipe").await.body["visitor"]["livechatData"]["company"],
        "Acme"
    );

    let resolved = app
        .post_json(
            CONFLICTS,
            Some(ADMIN),
            &json!({ "contactId": contact_id, "customFields": { "company": "Globex" } }),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(resolved.body["result"]["customFields"]["company"], "Globex");
    assert_eq!(resolved.body["result"]["conflictingFields"], json!([]));
}

#[tokio::test]
async fn a_first_room_creates_an_unknown_contact_with_the_channel_and_its_last_chat() {
    let app = TestApp::spawn().await;
    let reply = open_room(&app, ANA).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(keys(&reply.body), ["room", "newRoom", "success"]);
    assert_eq!(reply.body["newRoom"], true);
    let room = &reply.body["room"];
    assert_eq!(room["t"], "l");
    assert_eq!(room["open"], true);
    assert_eq!(room["source"], json!({ "type": "api" }));
    assert_eq!(room["v"]["token"], ANA);
    assert_eq!(room["fname"], "Ana Souza");
    // Maria is the one online, available agent.
    assert_eq!(room["servedBy"]["username"], "maria.agent");
    assert_eq!(
        (room["usersCount"].clone(), room["msgs"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(room["lastMessage"]["t"], "livechat-started");
    let rid = room["_id"].as_str().unwrap();
    assert_eq!(rid.len(), 17);

    let created = contact(&app, room["contactId"].as_str().unwrap()).await;
    assert_eq!(created["name"], "Ana Souza");
    assert_eq!(created["unknown"], true);
    assert_eq!(
        created["emails"],
        json!([{ "address": "ana.souza@example.com" }])
    );
    assert_eq!(created["channels"][0]["name"], "api");
    assert_eq!(
        created["channels"][0]["visitor"],
        json!({ "visitorId": "6751c0ffee00aa11bb22cc33", "source": { "type": "api" } })
    );
    assert_eq!(created["channels"][0]["lastChat"]["_id"], rid);
    assert_eq!(created["lastChat"]["_id"], rid);
    assert_eq!(
        get_visitor(&app, ANA).await.body["visitor"]["lastChat"]["_id"],
        rid
    );

    // The open room is answered again; a second source would make a second channel.
    let again = open_room(&app, ANA).await;
    assert_eq!(
        (
            again.body["newRoom"].clone(),
            again.body["room"]["_id"].clone()
        ),
        (json!(false), json!(rid))
    );
    let by_rid = app
        .get_json(&format!("{ROOM}?token={ANA}&rid={rid}"), None)
        .await;
    assert_eq!(by_rid.body["newRoom"], false);
}

#[tokio::test]
async fn the_widget_cookies_make_a_widget_room() {
    let app = TestApp::spawn().await;
    let request = app
        .request(Method::GET, &format!("{ROOM}?token={ANA}"))
        .header("Cookie", "rc_room_type=l; rc_is_widget=t")
        .header("Host", "shop.example.com");
    let reply = app.send(request).await;
    assert_eq!(
        reply.body["room"]["source"],
        json!({ "type": "widget", "destination": "shop.example.com" })
    );
}

#[tokio::test]
async fn the_room_query_is_checked_as_meteor_checks_it() {
    let app = TestApp::spawn().await;
    for (query, expected) in [
        ("", "Match error: Missing key 'token'"),
        (
            "token=x&department=d",
            "Match error: Unknown key in field department",
        ),
        (
            "token=a&token=b",
            "Match error: Expected string, got object in field token",
        ),
        ("token=nobody", "invalid-token"),
        (&format!("token={ANA}&rid=nowhere"), "invalid-room"),
        // Another visitor's room is no room of this one.
        (
            &format!("token={ANA}&rid={JANE_WHATSAPP_ROOM}"),
            "invalid-room",
        ),
    ] {
        let reply = app.get_json(&format!("{ROOM}?{query}"), None).await;
        assert_eq!(
            reply.body,
            json!({ "success": false, "error": expected }),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_room_needs_an_online_agent_unless_the_workspace_accepts_chats_without() {
    let app = TestApp::spawn().await;
    let maria = json!({ "_id": "9sLvmAcQk4EAGdi6e", "username": "maria.agent", "active": true, "roles": ["livechat-agent"], "status": "online", "statusLivechat": "not-available" });
    app.patch_state(&json!({ "users": [maria] })).await;
    let refused = open_room(&app, ANA).await;
    assert_eq!(
        refused.body,
        json!({ "success": false, "error": "Sorry, no online agents [no-agent-online]", "errorType": "no-agent-online" })
    );
    let accept = json!({ "_id": "Livechat_accept_chats_with_no_agents", "value": true });
    app.patch_state(&json!({ "settings": [accept] })).await;
    let queued = open_room(&app, ANA).await;
    assert_eq!(queued.status, 200, "{}", queued.body);
    assert!(queued.body["room"].get("servedBy").is_none());
    assert_eq!(queued.body["room"]["msgs"], 1);
}

#[tokio::test]
async fn a_bot_agent_is_always_online_and_an_away_one_only_while_idle_agents_take_chats() {
    let maria = |extra: Value| {
        let mut user = json!({ "_id": "9sLvmAcQk4EAGdi6e", "username": "maria.agent", "active": true, "roles": ["livechat-agent"], "statusLivechat": "available" });
        user.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        user
    };
    let no_agent = json!({ "success": false, "error": "Sorry, no online agents [no-agent-online]", "errorType": "no-agent-online" });

    let app = TestApp::spawn().await;
    let offline = maria(json!({ "status": "offline" }));
    app.patch_state(&json!({ "users": [offline] })).await;
    assert_eq!(open_room(&app, ANA).await.body, no_agent);
    let bot = maria(json!({ "status": "offline", "roles": ["livechat-agent", "bot"] }));
    app.patch_state(&json!({ "users": [bot] })).await;
    let served = open_room(&app, ANA).await;
    assert_eq!(served.body["room"]["servedBy"]["username"], "maria.agent");

    // `Livechat_enabled_when_agent_idle` is on by default: an away agent takes chats.
    let app = TestApp::spawn().await;
    let away = maria(json!({ "status": "online", "statusConnection": "away" }));
    app.patch_state(&json!({ "users": [away.clone()] })).await;
    let served = open_room(&app, ANA).await;
    assert_eq!(served.body["room"]["servedBy"]["username"], "maria.agent");
    let app = TestApp::spawn().await;
    let idle_off = json!({ "_id": "Livechat_enabled_when_agent_idle", "value": false });
    app.patch_state(&json!({ "users": [away], "settings": [idle_off] }))
        .await;
    assert_eq!(open_room(&app, ANA).await.body, no_agent);
}

#[tokio::test]
async fn an_empty_token_opens_no_room_even_for_a_visitor_stored_with_one() {
    let app = TestApp::spawn().await;
    let blank = json!({ "_id": "blankTokenVisitor", "username": "guest-blank", "token": "", "status": "online" });
    app.patch_state(&json!({ "visitors": [blank] })).await;
    let refused = app.get_json(&format!("{ROOM}?token="), None).await;
    assert_eq!(
        refused.body,
        json!({ "success": false, "error": "invalid-token" })
    );
}

#[tokio::test]
async fn a_disabled_omnichannel_or_a_blocked_channel_opens_no_room() {
    let app = TestApp::spawn().await;
    let off = json!({ "_id": "Livechat_enabled", "value": false });
    app.patch_state(&json!({ "settings": [off] })).await;
    let disabled = open_room(&app, ANA).await;
    assert_eq!(disabled.error(), "[error-omnichannel-is-disabled]");
    assert_eq!(error_type(&disabled), Some("error-omnichannel-is-disabled"));
    // An open room is still answered.
    assert_eq!(open_room(&app, JANE_WHATSAPP).await.status, 200);

    let app = TestApp::spawn().await;
    let mut john = app.contact(JOHN).await;
    john["channels"][0]["blocked"] = json!(true);
    app.patch_state(&json!({ "contacts": [john] })).await;
    let request = app
        .request(Method::GET, &format!("{ROOM}?token={JOHN_WIDGET}"))
        .header("Cookie", "rc_room_type=l; rc_is_widget=t");
    let blocked = app.send(request).await;
    assert_eq!(
        blocked.body,
        json!({ "success": false, "error": "error-contact-channel-blocked" })
    );
    // Through another source the channel is another one.
    assert_eq!(open_room(&app, JOHN_WIDGET).await.status, 200);
}

#[tokio::test]
async fn a_first_room_links_a_pre_registered_contact_by_address() {
    let app = TestApp::spawn().await;
    let created = app
        .post_json(
            CREATE,
            Some(ADMIN),
            &json!({ "name": "Ana S.", "emails": ["ana.souza@example.com"], "phones": [] }),
        )
        .await;
    let id = created.body["contactId"].as_str().unwrap().to_owned();
    let room = open_room(&app, ANA).await;
    assert_eq!(room.body["room"]["contactId"], id.as_str());
    // The room takes the contact's name; the visitor's other name is a conflict.
    assert_eq!(room.body["room"]["fname"], "Ana S.");
    let linked = contact(&app, &id).await;
    assert_eq!(linked["name"], "Ana S.");
    assert_eq!(linked["unknown"], false);
    assert_eq!(linked["preRegistration"], false);
    assert_eq!(
        linked["phones"],
        json!([{ "phoneNumber": "+5531977776666" }])
    );
    assert_eq!(
        linked["conflictingFields"],
        json!([{ "field": "name", "value": "Ana Souza" }])
    );
    assert_eq!(linked["channels"].as_array().unwrap().len(), 1);
    assert_eq!(app.state().await["contacts"].as_array().unwrap().len(), 6);

    // Renaming the contact renames its rooms.
    app.post_json(
        UPDATE,
        Some(ADMIN),
        &json!({ "contactId": id, "name": "Ana Souza Lima" }),
    )
    .await;
    assert_eq!(
        open_room(&app, ANA).await.body["room"]["fname"],
        "Ana Souza Lima"
    );
}

#[tokio::test]
async fn a_visitor_closes_its_room_with_the_closing_message() {
    let app = TestApp::spawn().await;
    let close = |token: &str, rid: &str| json!({ "token": token, "rid": rid });
    let invalid = app
        .post_json(CLOSE, None, &json!({ "token": GUEST_42 }))
        .await;
    assert_eq!(
        invalid.error(),
        "must have required property 'rid' [invalid-params]"
    );
    assert_eq!(
        app.post_json(CLOSE, None, &close("nobody", GUEST_42_ROOM))
            .await
            .error(),
        "invalid-token"
    );
    assert_eq!(
        app.post_json(CLOSE, None, &close(ANA, GUEST_42_ROOM))
            .await
            .error(),
        "invalid-room"
    );

    let reply = app
        .post_json(CLOSE, None, &close(GUEST_42, GUEST_42_ROOM))
        .await;
    assert_eq!(
        reply.body,
        json!({ "rid": GUEST_42_ROOM, "comment": "Closed by visitor", "success": true })
    );
    let state = app.state().await;
    let room = state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["_id"] == GUEST_42_ROOM)
        .cloned()
        .unwrap();
    assert!(room.get("open").is_none());
    assert_eq!(room["closer"], "visitor");
    assert_eq!(
        room["closedBy"],
        json!({ "_id": "67aef0b9c3d4e5f6a7b8c9e2", "username": "guest-42" })
    );
    assert_eq!(room["v"]["status"], "offline");
    assert!(room["metrics"]["chatDuration"].as_f64().unwrap() > 0.0);
    assert_eq!(room["lastMessage"]["t"], "livechat-close");
    assert_eq!(room["lastMessage"]["msg"], "Closed by visitor");
    assert_eq!(room["lastMessage"]["transcriptRequested"], false);
    assert_eq!(
        app.post_json(CLOSE, None, &close(GUEST_42, GUEST_42_ROOM))
            .await
            .error(),
        "room-closed"
    );
    // The visitor's next room is a new one.
    assert_eq!(open_room(&app, GUEST_42).await.body["newRoom"], true);
}

#[tokio::test]
async fn a_workspace_may_forbid_visitors_to_close() {
    let app = TestApp::spawn().await;
    let off = json!({ "_id": "Omnichannel_allow_visitors_to_close_conversation", "value": false });
    app.patch_state(&json!({ "settings": [off] })).await;
    // Checked before the token.
    let reply = app
        .post_json(CLOSE, None, &json!({ "token": "nobody", "rid": "x" }))
        .await;
    assert_eq!(
        reply.body,
        json!({ "success": false, "error": "error-not-allowed-to-close-conversation" })
    );
}

#[tokio::test]
async fn a_visitor_message_becomes_the_rooms_last_message() {
    let app = TestApp::spawn().await;
    let send =
        |token: &str, rid: &str| json!({ "token": token, "rid": rid, "msg": "Where is my order?" });
    assert_eq!(
        app.post_json(MESSAGE, None, &json!({ "token": "t", "rid": "r" }))
            .await
            .error(),
        "must have required property 'msg' [invalid-params]"
    );
    assert_eq!(
        app.post_json(MESSAGE, None, &send("nobody", JANE_WHATSAPP_ROOM))
            .await
            .error(),
        "invalid-token"
    );
    assert_eq!(
        app.post_json(MESSAGE, None, &send(ANA, JANE_WHATSAPP_ROOM))
            .await
            .error(),
        "invalid-room"
    );
    assert_eq!(
        app.post_json(MESSAGE, None, &send(JANE_WIDGET, "cz5uyBRyKPfoWHBat"))
            .await
            .error(),
        "room-closed"
    );

    let reply = app
        .post_json(MESSAGE, None, &send(JANE_WHATSAPP, JANE_WHATSAPP_ROOM))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let message = &reply.body["message"];
    assert_eq!(
        keys(message),
        [
            "_id",
            "rid",
            "msg",
            "token",
            "alias",
            "ts",
            "u",
            "urls",
            "mentions",
            "channels",
            "md",
            "_updatedAt"
        ]
    );
    assert_eq!(message["alias"], "Jane");
    assert_eq!(
        message["u"],
        json!({ "_id": "68135b90e384b3ad127c7dc4", "username": "guest-40", "name": "Jane" })
    );
    let room = open_room(&app, JANE_WHATSAPP).await.body["room"].clone();
    assert_eq!(room["lastMessage"]["_id"], message["_id"]);
    assert_eq!(room["v"]["lastMessageTs"], message["ts"]);
    // Five in the fixtures, then this one.
    assert_eq!(room["msgs"], 6);
    // An `_id` sent twice.
    let with_id =
        json!({ "token": JANE_WHATSAPP, "rid": JANE_WHATSAPP_ROOM, "msg": "a", "_id": "mine" });
    assert_eq!(
        app.post_json(MESSAGE, None, &with_id).await.body["message"]["_id"],
        "mine"
    );
    assert_eq!(
        app.post_json(MESSAGE, None, &with_id).await.error(),
        "Cannot convert undefined or null to object"
    );
}

#[tokio::test]
async fn a_message_over_the_workspace_limit_is_refused() {
    let app = TestApp::spawn().await;
    let settings = json!([
        { "_id": "Livechat_enable_message_character_limit", "value": true },
        { "_id": "Livechat_message_character_limit", "value": 3 },
    ]);
    app.patch_state(&json!({ "settings": settings })).await;
    let send = |msg: &str| json!({ "token": JANE_WHATSAPP, "rid": JANE_WHATSAPP_ROOM, "msg": msg });
    assert_eq!(
        app.post_json(MESSAGE, None, &send("four")).await.error(),
        "message-length-exceeds-character-limit"
    );
    assert_eq!(app.post_json(MESSAGE, None, &send("abc")).await.status, 200);
}

#[tokio::test]
async fn the_history_lists_a_rooms_messages_newest_first() {
    let app = TestApp::spawn().await;
    let all = history(&app, JANE_WHATSAPP_ROOM, &format!("token={JANE_WHATSAPP}")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let messages = all.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 5);
    assert_eq!(messages[0]["msg"], "Hi Jane, how can I help?");
    assert_eq!(messages[4]["t"], "livechat-started");
    let page = history(
        &app,
        JANE_WHATSAPP_ROOM,
        &format!("token={JANE_WHATSAPP}&limit=1&offset=1"),
    )
    .await;
    assert_eq!(
        page.body["messages"][0]["msg"],
        "Olá! I am writing from WhatsApp now."
    );
    let before = history(
        &app,
        JANE_WHATSAPP_ROOM,
        &format!("token={JANE_WHATSAPP}&end=2025-05-28T07:30:04.551Z"),
    )
    .await;
    assert_eq!(before.body["messages"].as_array().unwrap().len(), 3);
    let other = history(&app, JANE_WHATSAPP_ROOM, &format!("token={ANA}")).await;
    assert_eq!(other.error(), "invalid-room");
    let missing = history(&app, JANE_WHATSAPP_ROOM, "limit=1").await;
    assert_eq!(
        missing.error(),
        "must have required property 'token' [invalid-params]"
    );
}

#[tokio::test]
async fn the_livechat_collections_are_state_reset_restores_and_sessions_keep_apart() {
    let app = TestApp::spawn().await;
    let counts = app.reset().await.body["counts"].clone();
    assert_eq!(
        (
            counts["visitors"].clone(),
            counts["rooms"].clone(),
            counts["messages"].clone()
        ),
        (json!(6), json!(5), json!(26))
    );
    let session = app.in_session("widget-test");
    assert_eq!(open_room(&session, ANA).await.body["newRoom"], true);
    assert_eq!(session.state().await["rooms"].as_array().unwrap().len(), 6);
    assert_eq!(app.state().await["rooms"].as_array().unwrap().len(), 5);
    session.reset().await;
    assert_eq!(session.state().await["rooms"].as_array().unwrap().len(), 5);
    // A state without the Livechat collections empties them.
    let mut state = app.state().await;
    for key in ["visitors", "rooms", "messages", "settings"] {
        state.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(app.put_state(&state).await.status, 200);
    assert_eq!(get_visitor(&app, ANA).await.status, 400);
}

/// The example values of an operation's parameters, as Swagger UI fills them in.
fn parameter_examples(method: &str, template: &str) -> Vec<(String, String, String)> {
    let pointer = format!("/paths/{}/{method}/parameters", template.replace('/', "~1"));
    contract()
        .document
        .pointer(&pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["in"].as_str()?.to_owned(),
                p["name"].as_str()?.to_owned(),
                p["example"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// The path and query Swagger UI sends with the documented parameter examples.
fn example_url(method: &str, template: &str) -> String {
    let mut path = template.to_owned();
    let mut query = Vec::new();
    for (place, name, example) in parameter_examples(method, template) {
        match place.as_str() {
            "path" => path = path.replace(&format!("{{{name}}}"), &example),
            _ => query.push(format!("{name}={example}")),
        }
    }
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Swagger UI's "Try it out" with the documented examples succeeds on a fresh start.
#[tokio::test]
async fn the_documented_livechat_examples_succeed_as_they_are() {
    for path in [REGISTER, CUSTOM_FIELD, CUSTOM_FIELDS, CLOSE, MESSAGE] {
        let app = TestApp::spawn().await;
        let example = contract().request_example(path, "Example 1");
        let reply = app.post_json(path, None, &example).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    for (method, template) in [
        (Method::GET, ROOM),
        (Method::GET, "/api/v1/livechat/visitor/{token}"),
        (Method::DELETE, "/api/v1/livechat/visitor/{token}"),
        (Method::GET, "/api/v1/livechat/messages.history/{rid}"),
    ] {
        let app = TestApp::spawn().await;
        let url = example_url(&method.as_str().to_lowercase(), template);
        assert!(!url.contains('{'), "{template} has examples");
        let reply = widget(&app, method.clone(), &url, template).await;
        assert_eq!(reply.status, 200, "{method} {url}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_changed_visitors_file_is_reloaded() {
    let dir = crate::helpers::fixture_dir("watch-visitors", &[]);
    let app = TestApp::spawn_with_args(&["--fixtures", dir.to_str().unwrap(), "--watch"]).await;
    let file = dir.join("visitors.json");
    let mut visitors: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    visitors[5]["name"] = json!("Ana Reloaded");
    let temporary = dir.join(".visitors.json.swp");
    std::fs::write(&temporary, visitors.to_string()).unwrap();
    std::fs::rename(temporary, &file).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while get_visitor(&app, ANA).await.body["visitor"]["name"] != "Ana Reloaded" {
        assert!(
            std::time::Instant::now() < deadline,
            "visitors.json was not reloaded in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn prefer_forces_the_answers_of_templated_routes_too() {
    let app = TestApp::spawn().await;
    let request = app
        .request(Method::GET, "/api/v1/livechat/visitor/anything")
        .header("Prefer", "code=400");
    let reply = app.send(request).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error(), "[invalid-token]");
    let wrong = app
        .send(app.request(Method::PUT, "/api/v1/livechat/visitor/abc"))
        .await;
    assert_eq!(wrong.status, 404);
    assert!(
        wrong.error().contains("answers GET, DELETE"),
        "{}",
        wrong.error()
    );
}

#[tokio::test]
async fn a_new_rooms_history_starts_with_its_opening() {
    let app = TestApp::spawn().await;
    let rid = open_room(&app, ANA).await.body["room"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let messages = history(&app, &rid, &format!("token={ANA}")).await.body["messages"].clone();
    let types: Vec<&Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["t"])
        .collect();
    // Newest first: the agent joining, connecting, and the opening last.
    assert_eq!(
        types,
        [&json!("uj"), &json!("command"), &json!("livechat-started")]
    );
}

#[tokio::test]
async fn an_id_is_text_and_names_the_visitor_it_updates() {
    let app = TestApp::spawn().await;
    let number = register(&app, json!({ "token": "t-id", "id": 5 })).await;
    assert_eq!(
        number.body,
        json!({ "success": false, "error": "Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation" })
    );
    // An `id` naming a visitor updates it by `_id`, keeping its other fields.
    let reply = register(
        &app,
        json!({ "token": "t-id", "id": "68135a1fe384b3ad127c7dbb" }),
    )
    .await;
    let visitor = &reply.body["visitor"];
    assert_eq!(visitor["token"], "t-id");
    assert_eq!(visitor["name"], "Jane Doe");
    assert_eq!(visitor["lastChat"]["_id"], "cz5uyBRyKPfoWHBat");
    assert_eq!(visitor["username"], "guest-44");
}

#[tokio::test]
async fn a_text_body_is_its_characters_and_integer_keys_come_first() {
    let app = TestApp::spawn().await;
    let text = app
        .post(REGISTER, None, Some("text/plain"), b"hello".to_vec())
        .await;
    assert_eq!(text.error(), "Match error: Unknown key in field 0");
    let body = json!({ "visitor": { "token": 5 }, "1": 2 });
    assert_eq!(
        app.post_json(REGISTER, None, &body).await.error(),
        "Match error: Unknown key in field 1"
    );
}

#[tokio::test]
async fn deleting_a_visitor_disables_every_contact_of_it() {
    let app = TestApp::spawn().await;
    // A second contact reached through Ana's widget visitor.
    let second = json!({ "_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "name": "Ana (work)", "unknown": false,
        "channels": [{ "name": "widget", "visitor": { "visitorId": "6751c0ffee00aa11bb22cc33", "source": { "type": "widget" } },
            "blocked": false, "verified": false, "details": { "type": "widget" } }] });
    let first = json!({ "_id": "bbbbbbbbbbbbbbbbbbbbbbbb", "name": "Ana", "unknown": false,
        "channels": [{ "name": "api", "visitor": { "visitorId": "6751c0ffee00aa11bb22cc33", "source": { "type": "api" } },
            "blocked": false, "verified": false, "details": { "type": "api" } }] });
    assert_eq!(
        app.patch_state(&json!({ "contacts": [first, second] }))
            .await
            .status,
        200
    );
    assert_eq!(delete_visitor(&app, ANA).await.status, 200);
    let state = app.state().await;
    let enabled: Vec<&Value> = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            ["aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"]
                .contains(&c["_id"].as_str().unwrap())
        })
        .map(|c| &c["enabled"])
        .collect();
    assert_eq!(enabled, [&json!(false), &json!(false)]);
}

#[tokio::test]
async fn a_workspace_with_transcripts_prompts_the_visitor_on_close() {
    let app = TestApp::spawn().await;
    app.patch_state(
        &json!({ "settings": [{ "_id": "Livechat_enable_transcript", "value": true }] }),
    )
    .await;
    let body = json!({ "token": GUEST_42, "rid": GUEST_42_ROOM });
    assert_eq!(app.post_json(CLOSE, None, &body).await.status, 200);
    let messages = history(&app, GUEST_42_ROOM, &format!("token={GUEST_42}&limit=2"))
        .await
        .body["messages"]
        .clone();
    assert_eq!(
        (messages[0]["t"].clone(), messages[0]["msg"].clone()),
        (json!("command"), json!("promptTranscript"))
    );
    assert_eq!(messages[1]["transcriptRequested"], false);

    let app = TestApp::spawn().await;
    app.patch_state(
        &json!({ "settings": [{ "_id": "Livechat_transcript_send_always", "value": true }] }),
    )
    .await;
    app.post_json(CLOSE, None, &body).await;
    let messages = history(&app, GUEST_42_ROOM, &format!("token={GUEST_42}&limit=1"))
        .await
        .body["messages"]
        .clone();
    assert_eq!(messages[0]["transcriptRequested"], true);
}

const JANE_MESSAGE: &str = "Sd3Pq7MvXk2Nb8WcF";

#[tokio::test]
async fn a_visitor_reads_edits_and_deletes_its_own_messages() {
    let app = TestApp::spawn().await;
    let template = "/api/v1/livechat/message/{_id}";
    let path = format!("/api/v1/livechat/message/{JANE_MESSAGE}");
    let read = widget(
        &app,
        Method::GET,
        &format!("{path}?token={JANE_WHATSAPP}&rid={JANE_WHATSAPP_ROOM}"),
        template,
    )
    .await;
    assert_eq!(
        read.body["message"]["msg"],
        "Olá! I am writing from WhatsApp now."
    );
    // Another room's message is no message of this one.
    let other = widget(
        &app,
        Method::GET,
        &format!("{path}?token={JANE_WIDGET}&rid=cz5uyBRyKPfoWHBat"),
        template,
    )
    .await;
    assert_eq!(
        other.body,
        json!({ "success": false, "error": "invalid-message" })
    );
    let missing = widget(
        &app,
        Method::GET,
        &format!("{path}?token={JANE_WHATSAPP}"),
        template,
    )
    .await;
    assert_eq!(
        missing.error(),
        "must have required property 'rid' [invalid-params]"
    );

    let edit =
        |token: &str, msg: &str| json!({ "token": token, "rid": JANE_WHATSAPP_ROOM, "msg": msg });
    let send = |method: Method, body: Value| {
        app.request(method, &path)
            .header("Content-Type", "application/json")
            .body(body.to_string())
    };
    let edited = app
        .send(send(Method::PUT, edit(JANE_WHATSAPP, "Edited")))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["message"]["msg"], "Edited");
    assert_eq!(
        edited.body["message"]["editedBy"]["_id"],
        "68135b90e384b3ad127c7dc4"
    );
    // The agent's message is not the visitor's to change.
    let agents = "/api/v1/livechat/message/Te6Hr2YwLj9Cz4QmG";
    let refused = app
        .send(
            app.request(Method::PUT, agents)
                .header("Content-Type", "application/json")
                .body(edit(JANE_WHATSAPP, "x").to_string()),
        )
        .await;
    assert_eq!(refused.error(), "error-action-not-allowed");

    let deleted = app
        .send(send(
            Method::DELETE,
            json!({ "token": JANE_WHATSAPP, "rid": JANE_WHATSAPP_ROOM }),
        ))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["message"]["_id"], JANE_MESSAGE);
    let gone = widget(
        &app,
        Method::GET,
        &format!("{path}?token={JANE_WHATSAPP}&rid={JANE_WHATSAPP_ROOM}"),
        template,
    )
    .await;
    assert_eq!(gone.error(), "invalid-message");
    assert_eq!(open_room(&app, JANE_WHATSAPP).await.body["room"]["msgs"], 4);
}

#[tokio::test]
async fn a_visitors_status_shows_on_its_open_rooms() {
    let app = TestApp::spawn().await;
    let body = json!({ "token": JANE_WHATSAPP, "status": "away" });
    let reply = app
        .post_json("/api/v1/livechat/visitor.status", None, &body)
        .await;
    assert_eq!(
        reply.body,
        json!({ "token": JANE_WHATSAPP, "status": "away", "success": true })
    );
    assert_eq!(
        open_room(&app, JANE_WHATSAPP).await.body["room"]["v"]["status"],
        "away"
    );
    assert_eq!(
        get_visitor(&app, JANE_WHATSAPP).await.body["visitor"]["status"],
        "online"
    );
    let unknown = app
        .post_json(
            "/api/v1/livechat/visitor.status",
            None,
            &json!({ "token": "x", "status": "away" }),
        )
        .await;
    assert_eq!(unknown.error(), "[invalid-token]");
    let bad = app
        .post_json(
            "/api/v1/livechat/visitor.status",
            None,
            &json!({ "token": "x" }),
        )
        .await;
    assert_eq!(bad.error(), "Match error: Missing key 'status'");

    let rooms = app
        .send(
            app.request(
                Method::GET,
                &format!("/api/v1/livechat/visitor/{JANE_WHATSAPP}/room"),
            )
            .header("X-User-Id", ADMIN.id)
            .header("X-Auth-Token", ADMIN.token),
        )
        .await;
    assert_eq!(rooms.body["rooms"][0]["_id"], JANE_WHATSAPP_ROOM);
    assert_eq!(
        rooms.body["rooms"][0]["servedBy"]["username"],
        "maria.agent"
    );
    let anonymous = app
        .send(app.request(
            Method::GET,
            &format!("/api/v1/livechat/visitor/{JANE_WHATSAPP}/room"),
        ))
        .await;
    assert_eq!(anonymous.status, 401);
}

/// `updateContact` renames the rooms only when the name changed, and never to `""`.
#[tokio::test]
async fn an_unchanged_or_empty_contact_name_renames_no_room() {
    let app = TestApp::spawn().await;
    // The visitor's registration names its open room (`saveRoomInfo`); the known contact
    // keeps its name.
    register(&app, json!({ "token": JANE_WHATSAPP, "name": "Janie" })).await;
    assert_eq!(
        open_room(&app, JANE_WHATSAPP).await.body["room"]["fname"],
        "Janie"
    );
    for name in ["Jane Doe", ""] {
        let body = json!({ "contactId": JANE, "name": name });
        assert_eq!(app.post_json(UPDATE, Some(ADMIN), &body).await.status, 200);
        assert_eq!(
            open_room(&app, JANE_WHATSAPP).await.body["room"]["fname"],
            "Janie",
            "{name:?}"
        );
    }
    let body = json!({ "contactId": JANE, "name": "Jane D." });
    app.post_json(UPDATE, Some(ADMIN), &body).await;
    assert_eq!(
        open_room(&app, JANE_WHATSAPP).await.body["room"]["fname"],
        "Jane D."
    );
}

/// `lib/emailValidator.ts`, basic style: `^[^@]+@[^@]+\.[a-zA-Z]{2,}$` on the trimmed text.
#[tokio::test]
async fn an_email_address_is_checked_as_livechat_checks_it() {
    let app = TestApp::spawn().await;
    let spaced = register(
        &app,
        json!({ "token": "t-mail", "email": "Ana Souza@Mail.Example.co" }),
    )
    .await;
    assert_eq!(spaced.status, 200, "{}", spaced.body);
    assert_eq!(
        spaced.body["visitor"]["visitorEmails"][0]["address"],
        "ana souza@mail.example.co"
    );
    let short = register(&app, json!({ "token": "t-mail-2", "email": "ana@x.c" })).await;
    assert_eq!(short.error(), "Invalid email ana@x.c [error-invalid-email]");
}
