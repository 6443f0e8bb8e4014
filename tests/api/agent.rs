//! The contact center's agent panels: custom field definitions, agents and managers, a
//! contact's history and channels, a past chat's messages, users.info.

use serde_json::{Value, json};

use crate::helpers::{ADMIN, NO_PERMISSION, Reply, TestApp, User, contract};

const CUSTOM_FIELDS: &str = "/api/v1/livechat/custom-fields";

/// A GET as `user`, checked against the contract of its (templated) path.
async fn get(app: &TestApp, path_and_query: &str, template: &str, user: Option<User>) -> Reply {
    let mut request = app.request(reqwest::Method::GET, path_and_query);
    if let Some(user) = user {
        request = request
            .header("X-User-Id", user.id)
            .header("X-Auth-Token", user.token);
    }
    let reply = app.send(request).await;
    contract().check("GET", template, &reply);
    reply
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn custom_field_definitions_are_listed_by_label_and_found_by_text() {
    let app = TestApp::spawn().await;
    let all = get(&app, CUSTOM_FIELDS, CUSTOM_FIELDS, Some(ADMIN)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    // By label: "" (plan) first, then CPF, Company, Internal score, Ticket number.
    assert_eq!(
        ids(&all.body["customFields"]),
        ["plan", "cpf", "company", "internalScore", "ticketNumber"]
    );
    assert_eq!(
        (
            all.body["count"].clone(),
            all.body["offset"].clone(),
            all.body["total"].clone()
        ),
        (json!(5), json!(0), json!(5))
    );
    let keys: Vec<&String> = all.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["customFields", "count", "offset", "total", "success"]
    );
    // `text` in the label or the `_id`, any case.
    let found = get(
        &app,
        &format!("{CUSTOM_FIELDS}?text=NUMB"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&found.body["customFields"]), ["ticketNumber"]);
    let by_id = get(
        &app,
        &format!("{CUSTOM_FIELDS}?text=intern"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&by_id.body["customFields"]), ["internalScore"]);
    let page = get(
        &app,
        &format!("{CUSTOM_FIELDS}?count=2&offset=1&sort={{\"_id\":-1}}"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&page.body["customFields"]), ["plan", "internalScore"]);
    assert_eq!(
        (page.body["count"].clone(), page.body["total"].clone()),
        (json!(2), json!(5))
    );
}

#[tokio::test]
async fn custom_field_definitions_are_refused_as_upstream_refuses() {
    let app = TestApp::spawn().await;
    let anonymous = get(&app, CUSTOM_FIELDS, CUSTOM_FIELDS, None).await;
    assert_eq!(anonymous.status, 401);
    let forbidden = get(&app, CUSTOM_FIELDS, CUSTOM_FIELDS, Some(NO_PERMISSION)).await;
    assert_eq!(forbidden.status, 403);
    let unknown = get(
        &app,
        &format!("{CUSTOM_FIELDS}?fields=x"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        unknown.error(),
        "must NOT have additional properties [invalid-params]"
    );
    let count = get(
        &app,
        &format!("{CUSTOM_FIELDS}?count=abc"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(count.error(), "must be number [invalid-params]");
    let sort = get(
        &app,
        &format!("{CUSTOM_FIELDS}?sort=label"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(sort.body["errorType"], "error-invalid-sort");
}

#[tokio::test]
async fn one_custom_field_definition_is_read_by_id_and_a_missing_one_is_null() {
    let app = TestApp::spawn().await;
    let template = "/api/v1/livechat/custom-fields/{_id}";
    let cpf = get(&app, &format!("{CUSTOM_FIELDS}/cpf"), template, Some(ADMIN)).await;
    assert_eq!(cpf.body["customField"]["regexp"], "^[0-9]{11}$");
    let missing = get(
        &app,
        &format!("{CUSTOM_FIELDS}/nope"),
        template,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        missing.body,
        json!({ "customField": null, "success": true })
    );
    let forbidden = get(
        &app,
        &format!("{CUSTOM_FIELDS}/cpf"),
        template,
        Some(NO_PERMISSION),
    )
    .await;
    assert_eq!(forbidden.status, 403);
}

const HISTORY: &str = "/api/v1/omnichannel/contacts.history";
const CHANNELS: &str = "/api/v1/omnichannel/contacts.channels";
const JOHN: &str = "67487f45e98719b7908d0f29";
const JANE: &str = "68135a22e384b3ad127c7dbc";

#[tokio::test]
async fn a_contacts_history_is_its_closed_rooms_newest_first() {
    let app = TestApp::spawn().await;
    let jane = get(
        &app,
        &format!("{HISTORY}?contactId={JANE}"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(jane.status, 200, "{}", jane.body);
    let keys: Vec<&String> = jane.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["history", "count", "offset", "total", "success"]);
    // Her WhatsApp room is open: only the widget one is history.
    assert_eq!(ids(&jane.body["history"]), ["cz5uyBRyKPfoWHBat"]);
    let item = &jane.body["history"][0];
    let fields: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "_id",
            "msgs",
            "fname",
            "ts",
            "v",
            "verified",
            "source",
            "servedBy",
            "lastMessage",
            "closedAt",
            "closedBy",
            "closer"
        ]
    );
    assert_eq!(item["closer"], "visitor");
    // Closing her WhatsApp room makes it the newest.
    let close = serde_json::json!({ "token": "jane-whatsapp-token", "rid": "Ty7HbWq2KcnA9pLx3" });
    app.post_json("/api/v1/livechat/room.close", None, &close)
        .await;
    let after = get(
        &app,
        &format!("{HISTORY}?contactId={JANE}"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        ids(&after.body["history"]),
        ["Ty7HbWq2KcnA9pLx3", "cz5uyBRyKPfoWHBat"]
    );
    let whatsapp = get(
        &app,
        &format!("{HISTORY}?contactId={JANE}&source=APP"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&whatsapp.body["history"]), ["Ty7HbWq2KcnA9pLx3"]);
    let page = get(
        &app,
        &format!("{HISTORY}?contactId={JANE}&count=1&offset=1"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        (
            ids(&page.body["history"]),
            page.body["count"].clone(),
            page.body["total"].clone()
        ),
        (vec!["cz5uyBRyKPfoWHBat"], json!(1), json!(2))
    );
    let oldest = get(
        &app,
        &format!("{HISTORY}?contactId={JANE}&sort={{\"closedAt\":1}}"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        ids(&oldest.body["history"]),
        ["cz5uyBRyKPfoWHBat", "Ty7HbWq2KcnA9pLx3"]
    );
}

#[tokio::test]
async fn a_contacts_history_is_refused_as_upstream_refuses() {
    let app = TestApp::spawn().await;
    let unknown = get(
        &app,
        &format!("{HISTORY}?contactId=invalid"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        unknown.body,
        json!({ "success": false, "error": "error-contact-not-found" })
    );
    // The sort is read before the contact is looked up.
    let sort = get(
        &app,
        &format!("{HISTORY}?contactId=invalid&sort=x"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(sort.body["errorType"], "error-invalid-sort");
    let missing = get(&app, HISTORY, HISTORY, Some(ADMIN)).await;
    assert_eq!(
        missing.error(),
        "must have required property 'contactId' [invalid-params]"
    );
    let extra = get(
        &app,
        &format!("{HISTORY}?contactId={JOHN}&query=x"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        extra.error(),
        "must NOT have additional properties [invalid-params]"
    );
    assert_eq!(
        get(&app, &format!("{HISTORY}?contactId={JOHN}"), HISTORY, None)
            .await
            .status,
        401
    );
    let forbidden = get(
        &app,
        &format!("{HISTORY}?contactId={JOHN}"),
        HISTORY,
        Some(NO_PERMISSION),
    )
    .await;
    assert_eq!(forbidden.status, 403);
    // A contact that never chatted has none.
    let created = app
        .post_json(
            "/api/v1/omnichannel/contacts",
            Some(ADMIN),
            &json!({ "name": "New", "emails": [], "phones": [] }),
        )
        .await;
    let id = created.body["contactId"].as_str().unwrap();
    let none = get(
        &app,
        &format!("{HISTORY}?contactId={id}"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        (none.body["history"].clone(), none.body["total"].clone()),
        (json!([]), json!(0))
    );
}

#[tokio::test]
async fn a_contacts_channels_are_one_per_name_with_the_latest_chat() {
    let app = TestApp::spawn().await;
    let jane = get(
        &app,
        &format!("{CHANNELS}?contactId={JANE}"),
        CHANNELS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(jane.status, 200, "{}", jane.body);
    let names: Vec<&Value> = jane.body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(names, [&json!("widget"), &json!("WhatsApp")]);
    // A second widget channel with a later chat takes the first's place.
    let mut contact = app.contact(JANE).await;
    let mut later = contact["channels"][0].clone();
    later["visitor"]["visitorId"] = json!("aaaaaaaaaaaaaaaaaaaaaaaa");
    later["lastChat"] = json!({ "_id": "later", "ts": "2026-01-01T00:00:00.000Z" });
    contact["channels"].as_array_mut().unwrap().push(later);
    app.patch_state(&json!({ "contacts": [contact] })).await;
    let grouped = get(
        &app,
        &format!("{CHANNELS}?contactId={JANE}"),
        CHANNELS,
        Some(ADMIN),
    )
    .await;
    let channels = grouped.body["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    assert_eq!(channels[0]["lastChat"]["_id"], "later");
    let unknown = get(
        &app,
        &format!("{CHANNELS}?contactId=invalid"),
        CHANNELS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(unknown.body, json!({ "channels": [], "success": true }));
    let missing = get(&app, CHANNELS, CHANNELS, Some(ADMIN)).await;
    assert_eq!(missing.body["errorType"], "invalid-params");
    assert_eq!(
        get(
            &app,
            &format!("{CHANNELS}?contactId={JANE}"),
            CHANNELS,
            Some(NO_PERMISSION)
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn a_past_chats_messages_are_its_texts_and_its_closing() {
    let app = TestApp::spawn().await;
    let template = "/api/v1/livechat/{rid}/messages";
    let path = "/api/v1/livechat/bC5x3zmBdgtmA4m3W/messages";
    let all = get(&app, path, template, Some(ADMIN)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let keys: Vec<&String> = all.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["messages", "offset", "count", "total", "success"]);
    // Three texts and the closing message; the opening and joining ones are left out.
    assert_eq!(all.body["total"], 4);
    assert_eq!(all.body["count"], 50);
    assert_eq!(all.body["messages"][0]["t"], "livechat-close");
    let found = get(
        &app,
        &format!("{path}?searchTerm=LAMP"),
        template,
        Some(ADMIN),
    )
    .await;
    assert_eq!(found.body["total"], 1);
    assert_eq!(found.body["messages"][0]["_id"], "JwQ5mB7nXc2Lp9RtA");
    let oldest = get(
        &app,
        &format!("{path}?sort={{\"ts\":1}}&count=1"),
        template,
        Some(ADMIN),
    )
    .await;
    assert_eq!(oldest.body["messages"][0]["_id"], "JwQ5mB7nXc2Lp9RtA");
    let missing = get(
        &app,
        "/api/v1/livechat/test/messages",
        template,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        missing.body,
        json!({ "success": false, "error": "invalid-room" })
    );
    assert_eq!(
        get(&app, path, template, Some(NO_PERMISSION)).await.status,
        403
    );
}

#[tokio::test]
async fn an_agent_sees_the_rooms_it_serves_and_closed_ones_only_with_the_permission() {
    let app = TestApp::spawn().await;
    let template = "/api/v1/livechat/{rid}/messages";
    // Maria serves Jane's open WhatsApp room; the hashed-token agent does not.
    let maria = User {
        id: "9sLvmAcQk4EAGdi6e",
        token: "agent-maria-token",
    };
    let other = crate::helpers::HASHED_TOKEN_AGENT;
    let open = "/api/v1/livechat/Ty7HbWq2KcnA9pLx3/messages";
    assert_eq!(get(&app, open, template, Some(maria)).await.status, 200);
    let refused = get(&app, open, template, Some(other)).await;
    assert_eq!(
        refused.body,
        json!({ "success": false, "error": "not-allowed" })
    );
    // A closed room another agent served needs view-livechat-room-closed-by-another-agent.
    let closed = "/api/v1/livechat/bC5x3zmBdgtmA4m3W/messages";
    assert_eq!(
        get(&app, closed, template, Some(other)).await.error(),
        "not-allowed"
    );
    let grant =
        json!({ "_id": "view-livechat-room-closed-by-another-agent", "roles": ["livechat-agent"] });
    app.patch_state(&json!({ "permissions": [grant] })).await;
    assert_eq!(get(&app, closed, template, Some(other)).await.status, 200);
}

const BLOCK: &str = "/api/v1/omnichannel/contacts.block";
const UNBLOCK: &str = "/api/v1/omnichannel/contacts.unblock";

/// Jane's open WhatsApp channel.
fn whatsapp() -> Value {
    json!({ "visitor": { "visitorId": "68135b90e384b3ad127c7dc4", "source": { "type": "app", "id": "whatsapp" } } })
}

#[tokio::test]
async fn blocking_a_channel_closes_its_room_and_keeps_it_from_opening_another() {
    let app = TestApp::spawn().await;
    let reply = app.post_json(BLOCK, Some(ADMIN), &whatsapp()).await;
    assert_eq!(reply.body, json!({ "success": true }));
    let jane = app.contact(JANE).await;
    assert_eq!(jane["channels"][1]["blocked"], true);
    assert_eq!(jane["channels"][0]["blocked"], false);
    // The open room was closed by the admin, for the visitor.
    let history = get(
        &app,
        &format!("{HISTORY}?contactId={JANE}"),
        HISTORY,
        Some(ADMIN),
    )
    .await;
    let room = &history.body["history"][0];
    assert_eq!(room["_id"], "Ty7HbWq2KcnA9pLx3");
    assert_eq!(room["closer"], "user");
    assert_eq!(
        room["closedBy"],
        json!({ "_id": "rbAXPnMktTFbNpwtJ", "username": "admin" })
    );
    assert_eq!(room["lastMessage"]["msg"], "This channel has been blocked");
    assert_eq!(room["lastMessage"]["token"], "jane-whatsapp-token");
    // Blocking again succeeds; unblocking lets it be again.
    assert_eq!(
        app.post_json(BLOCK, Some(ADMIN), &whatsapp()).await.status,
        200
    );
    assert_eq!(
        app.post_json(UNBLOCK, Some(ADMIN), &whatsapp()).await.body,
        json!({ "success": true })
    );
    assert_eq!(app.contact(JANE).await["channels"][1]["blocked"], false);

    // A channel opened through the API: blocked, its visitor opens no room through it.
    let ana = app
        .get_json("/api/v1/livechat/room?token=ana-widget-token", None)
        .await;
    let visitor = ana.body["room"]["v"]["_id"].clone();
    let api = json!({ "visitor": { "visitorId": visitor, "source": { "type": "api" } } });
    assert_eq!(app.post_json(BLOCK, Some(ADMIN), &api).await.status, 200);
    let refused = app
        .get_json("/api/v1/livechat/room?token=ana-widget-token", None)
        .await;
    assert_eq!(
        refused.body,
        json!({ "success": false, "error": "error-contact-channel-blocked" })
    );
    app.post_json(UNBLOCK, Some(ADMIN), &api).await;
    let again = app
        .get_json("/api/v1/livechat/room?token=ana-widget-token", None)
        .await;
    assert_eq!(again.body["newRoom"], true);
}

#[tokio::test]
async fn blocking_is_refused_as_upstream_refuses() {
    let app = TestApp::spawn().await;
    for (body, expected) in [
        (
            json!({}),
            "must have required property 'visitor' [invalid-params]",
        ),
        (
            json!({ "visitor": { "source": { "type": "api" } } }),
            "must have required property 'visitorId' [invalid-params]",
        ),
        (
            json!({ "visitor": { "visitorId": "x" } }),
            "must have required property 'source' [invalid-params]",
        ),
        (
            json!({ "visitor": { "visitorId": "x", "source": {} } }),
            "must have required property 'type' [invalid-params]",
        ),
    ] {
        let reply = app.post_json(UNBLOCK, Some(ADMIN), &body).await;
        assert_eq!((reply.status, reply.error()), (400, expected), "{body}");
    }
    let mut unknown = whatsapp();
    unknown["visitor"]["visitorId"] = json!("invalid");
    assert_eq!(
        app.post_json(BLOCK, Some(ADMIN), &unknown).await.error(),
        "error-contact-not-found"
    );
    let mut other_source = whatsapp();
    other_source["visitor"]["source"] = json!({ "type": "sms" });
    assert_eq!(
        app.post_json(BLOCK, Some(ADMIN), &other_source)
            .await
            .error(),
        "error-contact-not-found"
    );
    assert_eq!(app.post_json(BLOCK, None, &whatsapp()).await.status, 401);
    assert_eq!(
        app.post_json(BLOCK, Some(NO_PERMISSION), &whatsapp())
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn a_community_workspace_has_no_blocking() {
    let app = TestApp::spawn_with_args(&["--edition", "community"]).await;
    let reply = app.post_json(BLOCK, None, &whatsapp()).await;
    assert_eq!(
        reply.body,
        json!({ "success": false, "error": "This is an enterprise feature [error-action-not-allowed]", "errorType": "error-action-not-allowed" })
    );
    assert_eq!(
        app.post_json(UNBLOCK, Some(ADMIN), &whatsapp())
            .await
            .status,
        400
    );
}

const AGENTS: &str = "/api/v1/livechat/users/agent";
const USERS_TEMPLATE: &str = "/api/v1/livechat/users/{type}";
const MARIA: User = User {
    id: "9sLvmAcQk4EAGdi6e",
    token: "agent-maria-token",
};

#[tokio::test]
async fn the_manager_picker_lists_agents_by_name() {
    let app = TestApp::spawn().await;
    // As Rocket.Chat's picker asks, as an agent.
    let query =
        "showIdleAgents=true&onlyAvailable=false&offset=0&count=25&sort=%7B%20%22name%22%3A%201%7D";
    let reply = get(
        &app,
        &format!("{AGENTS}?{query}"),
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let names: Vec<&Value> = reply.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["name"])
        .collect();
    assert_eq!(
        names,
        [
            &json!("Deactivated Agent"),
            &json!("Maria Agent"),
            &json!("Test Agent"),
            &json!("Workspace Admin")
        ]
    );
    let maria = &reply.body["users"][1];
    let keys: Vec<&String> = maria.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "_id",
            "username",
            "status",
            "statusLivechat",
            "name",
            "emails",
            "livechat",
            "departments"
        ]
    );
    assert_eq!(
        (maria["statusLivechat"].clone(), maria["livechat"].clone()),
        (json!("available"), Value::Null)
    );
    let text = get(
        &app,
        &format!("{AGENTS}?text=MARIA.A"),
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(ids(&text.body["users"]), ["9sLvmAcQk4EAGdi6e"]);
    let available = get(
        &app,
        &format!("{AGENTS}?onlyAvailable=true"),
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(ids(&available.body["users"]), ["9sLvmAcQk4EAGdi6e"]);
    let others = get(
        &app,
        &format!("{AGENTS}?excludeId=9sLvmAcQk4EAGdi6e&count=1"),
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(
        (others.body["count"].clone(), others.body["total"].clone()),
        (json!(1), json!(3))
    );
    // Not idle: only those whose status is set and not offline.
    let online = get(
        &app,
        &format!("{AGENTS}?showIdleAgents=false"),
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(ids(&online.body["users"]), ["9sLvmAcQk4EAGdi6e"]);
}

#[tokio::test]
async fn agents_and_managers_need_their_permissions_and_a_known_type() {
    let app = TestApp::spawn().await;
    let managers = get(
        &app,
        "/api/v1/livechat/users/manager",
        USERS_TEMPLATE,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&managers.body["users"]), ["kM3nXq7TzPmanagr"]);
    let forbidden = get(
        &app,
        "/api/v1/livechat/users/manager",
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(
        (forbidden.status, forbidden.body["success"].clone()),
        (403, json!(false))
    );
    assert_eq!(
        get(&app, AGENTS, USERS_TEMPLATE, Some(NO_PERMISSION))
            .await
            .status,
        403
    );
    let invalid = get(
        &app,
        "/api/v1/livechat/users/boss",
        USERS_TEMPLATE,
        Some(NO_PERMISSION),
    )
    .await;
    assert_eq!(
        invalid.body,
        json!({ "success": false, "error": "Invalid type" })
    );
    let bad = get(
        &app,
        &format!("{AGENTS}?onlyAvailable=yes"),
        USERS_TEMPLATE,
        Some(MARIA),
    )
    .await;
    assert_eq!(bad.error(), "must be boolean [invalid-params]");
    assert_eq!(get(&app, AGENTS, USERS_TEMPLATE, None).await.status, 401);
}

const USERS_INFO: &str = "/api/v1/users.info";

#[tokio::test]
async fn users_info_shows_what_the_caller_may_see() {
    let app = TestApp::spawn().await;
    // An agent reading the contact manager's card: the default fields only.
    let other = get(
        &app,
        &format!("{USERS_INFO}?userId=test.agent"),
        USERS_INFO,
        Some(MARIA),
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.body);
    let user = &other.body["user"];
    assert_eq!(user["username"], "test.agent");
    assert_eq!(user["canViewAllInfo"], false);
    assert!(
        user.get("emails").is_none()
            && user.get("roles").is_none()
            && user.get("services").is_none()
    );
    // The admin sees e-mails and roles, not services; a username finds by `userId` too.
    let admin = get(
        &app,
        &format!("{USERS_INFO}?userId=maria.agent"),
        USERS_INFO,
        Some(ADMIN),
    )
    .await;
    assert_eq!(admin.body["user"]["_id"], "9sLvmAcQk4EAGdi6e");
    assert_eq!(
        admin.body["user"]["roles"],
        json!(["user", "livechat-agent"])
    );
    assert_eq!(admin.body["user"]["canViewAllInfo"], true);
    assert!(admin.body["user"].get("services").is_none());
    // Yourself: services, the password as `true`, no login tokens.
    let me = get(
        &app,
        &format!("{USERS_INFO}?username=maria.agent"),
        USERS_INFO,
        Some(MARIA),
    )
    .await;
    assert_eq!(me.body["user"]["services"], json!({ "password": true }));
    let keys: Vec<&String> = me.body["user"].as_object().unwrap().keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "canViewAllInfo");
}

#[tokio::test]
async fn users_info_is_refused_as_upstream_refuses() {
    let app = TestApp::spawn().await;
    let missing = get(
        &app,
        &format!("{USERS_INFO}?username=nobody"),
        USERS_INFO,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        missing.body,
        json!({ "success": false, "error": "User not found." })
    );
    let empty = get(
        &app,
        &format!("{USERS_INFO}?userId="),
        USERS_INFO,
        Some(ADMIN),
    )
    .await;
    assert_eq!(empty.error(), "Invalid search query.");
    // By e-mail, another's needs view-full-other-user-info.
    let by_email = format!("{USERS_INFO}?email=ADMIN@example.com");
    assert_eq!(
        get(&app, &by_email, USERS_INFO, Some(MARIA)).await.error(),
        "User not found."
    );
    assert_eq!(
        get(&app, &by_email, USERS_INFO, Some(ADMIN)).await.status,
        200
    );
    let none = get(&app, USERS_INFO, USERS_INFO, Some(ADMIN)).await;
    assert_eq!(
        none.error(),
        "must have required property 'userId'\n must have required property 'username'\n must have required property 'importId'\n must have required property 'email'\n must have required property 'freeSwitchExtension'\n must match a schema in anyOf [invalid-params]"
    );
    assert_eq!(
        get(&app, &format!("{USERS_INFO}?userId=x"), USERS_INFO, None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn api_info_answers_the_version_anonymously_and_the_build_to_the_admin() {
    let app = TestApp::spawn_with_args(&["--rocketchat-version", "8"]).await;
    let anonymous = get(&app, "/api/info", "/api/info", None).await;
    assert_eq!(anonymous.status, 200);
    let keys: Vec<&String> = anonymous.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "workspaceUrl",
            "hashedWorkspaceUrl",
            "version",
            "minimumClientVersions",
            "cloudWorkspaceId",
            "success"
        ]
    );
    assert_eq!(anonymous.body["version"], "8.8");
    // Wrong credentials are anonymous, not 401; an agent has no view-statistics.
    let wrong = get(
        &app,
        "/api/info",
        "/api/info",
        Some(User {
            id: "x",
            token: "y",
        }),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.body["version"].clone()),
        (200, json!("8.8"))
    );
    let admin = get(&app, "/api/info", "/api/info", Some(ADMIN)).await;
    assert_eq!(admin.body["version"], "8.8.1");
    assert_eq!(admin.body["info"]["version"], "8.8.1");
    assert!(admin.body["info"]["build"].is_object() && admin.body["info"]["commit"].is_object());
    let v7 = TestApp::spawn_with_args(&["--rocketchat-version", "7"]).await;
    assert_eq!(
        get(&v7, "/api/info", "/api/info", None).await.body["version"],
        "7.13"
    );
}

/// Swagger UI's "Try it out" with the documented examples, as the admin, on a fresh start.
#[tokio::test]
async fn the_documented_contact_center_examples_succeed_as_they_are() {
    for path in [BLOCK, UNBLOCK] {
        let app = TestApp::spawn().await;
        let example = contract().request_example(path, "Example 1");
        let reply = app.post_json(path, Some(ADMIN), &example).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    for template in [
        HISTORY,
        CHANNELS,
        CUSTOM_FIELDS,
        "/api/v1/livechat/custom-fields/{_id}",
        "/api/v1/livechat/{rid}/messages",
        USERS_TEMPLATE,
        USERS_INFO,
        "/api/info",
    ] {
        let app = TestApp::spawn().await;
        let pointer = format!("/paths/{}/get/parameters", template.replace('/', "~1"));
        let mut path = template.to_owned();
        let mut query = Vec::new();
        for p in contract()
            .document
            .pointer(&pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(example)) = (p["name"].as_str(), p["example"].as_str()) else {
                continue;
            };
            match p["in"].as_str() {
                Some("path") => path = path.replace(&format!("{{{name}}}"), example),
                Some("query") => query.push(format!("{name}={example}")),
                _ => {}
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        assert!(!path.contains('{'), "{template} has its path examples");
        let reply = get(&app, &path, template, Some(ADMIN)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
}

/// What Rocket.Chat's contact page loads, in its order: the contact, its channels and
/// history, a past chat's messages, the custom field definitions, the manager's card and
/// the manager picker.
async fn walk_contact_page(app: &TestApp, user: User, contact_id: &str) -> Value {
    let contact = get(
        app,
        &format!("/api/v1/omnichannel/contacts.get?contactId={contact_id}"),
        "/api/v1/omnichannel/contacts.get",
        Some(user),
    )
    .await;
    assert_eq!(contact.status, 200, "{}", contact.body);
    let channels = get(
        app,
        &format!("{CHANNELS}?contactId={contact_id}"),
        CHANNELS,
        Some(user),
    )
    .await;
    assert_eq!(channels.status, 200, "{}", channels.body);
    let history = get(
        app,
        &format!("{HISTORY}?contactId={contact_id}"),
        HISTORY,
        Some(user),
    )
    .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let chat = history.body["history"][0]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let messages = get(
        app,
        &format!("/api/v1/livechat/{chat}/messages?offset=0&count=10&sort=%7B%22ts%22%3A1%7D"),
        "/api/v1/livechat/{rid}/messages",
        Some(user),
    )
    .await;
    assert_eq!(messages.status, 200, "{}", messages.body);
    let fields = get(app, CUSTOM_FIELDS, CUSTOM_FIELDS, Some(user)).await;
    assert_eq!(fields.status, 200, "{}", fields.body);
    let manager = contact.body["contact"]["contactManager"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = get(
        app,
        &format!("{USERS_INFO}?userId={manager}"),
        USERS_INFO,
        Some(user),
    )
    .await;
    assert_eq!(card.status, 200, "{}", card.body);
    let picker = get(
        app,
        &format!("{AGENTS}?showIdleAgents=true&onlyAvailable=false&offset=0&count=25&sort=%7B%20%22name%22%3A%201%7D"),
        USERS_TEMPLATE,
        Some(user),
    )
    .await;
    assert_eq!(picker.status, 200, "{}", picker.body);
    json!({
        "channels": channels.body["channels"],
        "history": history.body["history"],
        "messages": messages.body["messages"],
        "card": card.body["user"],
        "picker": picker.body["users"],
    })
}

#[tokio::test]
async fn an_agent_walks_a_built_in_contact_page() {
    let app = TestApp::spawn().await;
    let page = walk_contact_page(&app, MARIA, JOHN).await;
    assert_eq!(page["channels"][0]["name"], "widget");
    assert_eq!(page["history"][0]["_id"], "bC5x3zmBdgtmA4m3W");
    // Oldest first, as the transcript asks: the visitor's first words.
    assert_eq!(
        page["messages"][0]["msg"],
        "Hi, I ordered a lamp and it has not arrived yet."
    );
    // John's manager is Maria herself.
    assert_eq!(page["card"]["username"], "maria.agent");
    assert!(
        page["picker"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["_id"] == "9sLvmAcQk4EAGdi6e")
    );
}

#[tokio::test]
async fn an_agent_walks_the_page_of_a_contact_made_by_a_conversation() {
    let app = TestApp::spawn().await;
    let register =
        json!({ "visitor": { "token": "walk", "name": "Walker", "email": "walker@example.com" } });
    app.post_json("/api/v1/livechat/visitor", None, &register)
        .await;
    let created = app
        .post_json(
            "/api/v1/omnichannel/contacts",
            Some(ADMIN),
            &json!({ "name": "Walker", "emails": ["walker@example.com"], "phones": [], "contactManager": "9sLvmAcQk4EAGdi6e" }),
        )
        .await;
    let contact_id = created.body["contactId"].as_str().unwrap().to_owned();
    let room = app.get_json("/api/v1/livechat/room?token=walk", None).await;
    let rid = room.body["room"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(room.body["room"]["contactId"], contact_id.as_str());
    let message = json!({ "token": "walk", "rid": rid, "msg": "Where is my parcel?" });
    app.post_json("/api/v1/livechat/message", None, &message)
        .await;
    app.post_json(
        "/api/v1/livechat/room.close",
        None,
        &json!({ "token": "walk", "rid": rid }),
    )
    .await;

    let page = walk_contact_page(&app, MARIA, &contact_id).await;
    assert_eq!(page["channels"][0]["name"], "api");
    assert_eq!(page["channels"][0]["lastChat"]["_id"], rid.as_str());
    assert_eq!(page["history"][0]["_id"], rid.as_str());
    assert_eq!(page["history"][0]["closer"], "visitor");
    let texts: Vec<&Value> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["msg"])
        .collect();
    assert_eq!(
        texts,
        [&json!("Where is my parcel?"), &json!("Closed by visitor")]
    );
    assert_eq!(page["card"]["name"], "Maria Agent");
}

/// `parseJsonQuery` lets `0`, `false` and `[]` through: the first two take the default
/// order, the last none.
#[tokio::test]
async fn a_falsy_sort_is_the_default_one() {
    let app = TestApp::spawn().await;
    let zero = get(
        &app,
        &format!("{CUSTOM_FIELDS}?sort=0"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&zero.body["customFields"])[0], "plan");
    let natural = get(
        &app,
        &format!("{CUSTOM_FIELDS}?sort=[]"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&natural.body["customFields"])[0], "cpf");
    let null = get(
        &app,
        &format!("{CUSTOM_FIELDS}?sort=null"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(null.body["errorType"], "error-invalid-sort");
    // Every API answer is uncacheable, as Rocket.Chat's router marks them.
    let response = app.get(CUSTOM_FIELDS).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
}

#[tokio::test]
async fn users_info_of_yourself_shows_your_password_before_any_login() {
    let app = TestApp::spawn().await;
    let me = get(
        &app,
        &format!("{USERS_INFO}?userId={}", ADMIN.id),
        USERS_INFO,
        Some(ADMIN),
    )
    .await;
    assert_eq!(me.body["user"]["services"], json!({ "password": true }));
}
