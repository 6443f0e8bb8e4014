//! The `/_mock/` control API: health, reset, state, the journal.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_answers_ready_with_the_fixtures_it_serves() {
    let app = TestApp::spawn().await;
    let health = app.health().await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["rocketchatVersion"], "reference");
    assert_eq!(
        health.body["fixtures"]["source"],
        "built-in default fixtures"
    );
    assert_eq!(health.body["sessions"], 0);
}

#[tokio::test]
async fn reset_puts_the_fixtures_back_after_an_update() {
    let app = TestApp::spawn().await;
    let before = app.contact(JOHN).await;
    let reply = app
        .update(ADMIN, json!({"contactId": JOHN, "name": "Changed"}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.contact(JOHN).await["name"], "Changed");

    let reset = app.reset().await;
    assert_eq!(reset.status, 200);
    assert_eq!(reset.body["success"], true);
    assert_eq!(reset.body["counts"]["contacts"], 5);
    assert_eq!(app.contact(JOHN).await, before);
}

#[tokio::test]
async fn state_reads_back_the_fixtures_in_their_shapes_and_order() {
    let app = TestApp::spawn().await;
    let state = app.state().await;
    let keys: Vec<&String> = state.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "users",
            "permissions",
            "contacts",
            "customFields",
            "visitors",
            "rooms",
            "messages",
            "settings"
        ]
    );
    let ids: Vec<&str> = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [JOHN, JANE, CARLOS, GUEST, DELETED]);
    // Fields the mock does not use come back too.
    let admin = &state["users"][0];
    assert_eq!(admin["_id"], ADMIN.id);
    assert_eq!(admin["username"], "admin");
    // Extended JSON was normalised on load.
    assert_eq!(
        state["contacts"][1]["createdAt"],
        "2025-05-01T11:14:42.120Z"
    );
}

#[tokio::test]
async fn a_state_put_is_served_and_a_bad_one_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut state = app.state().await;
    state["contacts"] = json!([{ "_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "name": "Only One" }]);
    let reply = app.put_state(&state).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["counts"]["contacts"], 1);
    let updated = app
        .update(
            ADMIN,
            json!({"contactId": "aaaaaaaaaaaaaaaaaaaaaaaa", "name": "Renamed"}),
        )
        .await;
    assert_eq!(updated.status, 200);
    let gone = app.update(ADMIN, json!({"contactId": JOHN})).await;
    assert_eq!(gone.error(), "error-contact-not-found");

    let mut bad = app.state().await;
    bad["contacts"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "_id": "bbbbbbbbbbbbbbbbbbbbbbbb", "emails": "x@y" }));
    let before = app.state().await;
    let refused = app.put_state(&bad).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["success"], false);
    assert!(
        refused.error().starts_with(
            r#"contacts, document 1 (_id "bbbbbbbbbbbbbbbbbbbbbbbb"): emails: invalid type"#
        ),
        "{}",
        refused.error()
    );
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn a_state_must_name_every_collection() {
    let app = TestApp::spawn().await;
    for (state, problem) in [
        (
            json!({"contacts": []}),
            "users is missing (send [] to empty it)",
        ),
        (json!([]), "found an array"),
        (
            json!({"users": [], "permissions": [], "contacts": [], "customFields": [], "chats": []}),
            "\"chats\" is not a collection",
        ),
    ] {
        let reply = app.put_state(&state).await;
        assert_eq!(reply.status, 400);
        assert!(reply.error().ends_with(problem), "{}", reply.error());
    }
    let reply = app
        .put_state(&json!({"users": {}, "permissions": [], "contacts": [], "customFields": []}))
        .await;
    assert_eq!(
        reply.error(),
        "users: must be a JSON array of documents, found an object"
    );
    let broken = app
        .send(
            app.request(Method::PUT, "/_mock/state")
                .header("Content-Type", "application/json")
                .body("{"),
        )
        .await;
    assert_eq!(broken.status, 400);
    assert!(
        broken
            .error()
            .starts_with("the body must be a JSON state object")
    );
    assert_eq!(app.state().await["contacts"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_patch_upserts_documents_by_id_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let mut john = app.contact(JOHN).await;
    john["name"] = json!("John Patched");
    let newcomer = json!({ "_id": { "$oid": "cccccccccccccccccccccccc" }, "name": "New" });
    let reply = app
        .patch_state(&json!({ "contacts": [john, newcomer] }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["counts"]["contacts"], 6);
    assert_eq!(app.contact(JOHN).await["name"], "John Patched");
    assert_eq!(app.contact("cccccccccccccccccccccccc").await["name"], "New");
    assert_eq!(app.contact(JANE).await["name"], "Jane Doe");
    let state = app.state().await;
    assert_eq!(state["contacts"][5]["_id"], "cccccccccccccccccccccccc");
    assert_eq!(state["users"].as_array().unwrap().len(), 6);

    // A user added by a patch can log in straight away.
    let user = json!({"_id": "newAgent", "active": true, "roles": ["livechat-agent"], "authTokens": ["t0ken"]});
    assert_eq!(
        app.patch_state(&json!({ "users": [user] })).await.status,
        200
    );
    let reply = app
        .update(
            User {
                id: "newAgent",
                token: "t0ken",
            },
            json!({"contactId": JANE}),
        )
        .await;
    assert_eq!(reply.status, 200);

    let before = app.state().await;
    let refused = app
        .patch_state(&json!({ "contacts": [{ "_id": JOHN }, { "_id": JANE, "phones": [1] }] }))
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .error()
            .starts_with(&format!("contacts, document 1 (_id \"{JANE}\"): phones[0]")),
        "{}",
        refused.error()
    );
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn the_journal_records_what_was_sent_and_answered() {
    let app = TestApp::spawn().await;
    let reply = app
        .send(
            app.request(Method::POST, &format!("{UPDATE}?trace=1&trace=2"))
                .header("X-User-Id", ADMIN.id)
                .header("X-Auth-Token", ADMIN.token)
                .json(&json!({"contactId": JOHN, "name": "Journaled"})),
        )
        .await;
    assert_eq!(reply.status, 200);
    app.conflicts(NO_PERMISSION, json!({"contactId": JANE}))
        .await;
    app.get("/api/v1/omnichannel/contacts.updat").await;

    let journal = app.journal("").await;
    assert_eq!(journal.len(), 3, "{journal:?}");
    let first = &journal[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], UPDATE);
    assert_eq!(first["query"], json!({"trace": ["1", "2"]}));
    assert_eq!(first["headers"]["x-user-id"], ADMIN.id);
    assert_eq!(first["headers"]["x-auth-token"], "[redacted]");
    assert_eq!(
        first["body"],
        json!({"contactId": JOHN, "name": "Journaled"})
    );
    assert_eq!(first["status"], 200);
    assert_eq!(first["response"], reply.body);
    assert!(first["durationMs"].as_f64().unwrap() >= 0.0);
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(journal[1]["status"], 403);
    assert_eq!(journal[2]["status"], 404);
    let ids: Vec<u64> = journal.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);

    // Filters, and the control API itself is not journaled.
    assert_eq!(app.journal(&format!("?path={CONFLICTS}")).await.len(), 1);
    assert_eq!(app.journal("?method=get").await.len(), 1);
    let newest = app.journal("?limit=1").await;
    assert_eq!(newest[0]["id"], 3);
    let bad = app
        .call(Method::GET, "/_mock/requests?limit=many", None)
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.error().starts_with("bad journal filter"),
        "{}",
        bad.error()
    );

    let cleared = app.call(Method::DELETE, "/_mock/requests", None).await;
    assert_eq!(cleared.body, json!({"success": true}));
    assert!(app.journal("").await.is_empty());
}

#[tokio::test]
async fn the_journal_is_a_bounded_ring() {
    let app = TestApp::spawn_with_args(&["--journal-size", "2"]).await;
    for name in ["a", "b", "c"] {
        app.update(ADMIN, json!({"contactId": JOHN, "name": name}))
            .await;
    }
    let page = app.call(Method::GET, "/_mock/requests", None).await.body;
    let names: Vec<&Value> = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["body"]["name"])
        .collect();
    assert_eq!(names, [&json!("b"), &json!("c")]);
    assert_eq!(page["capacity"], 2);
    assert_eq!(page["dropped"], 1);
}

#[tokio::test]
async fn form_and_oversized_bodies_are_journaled_as_received() {
    let app = TestApp::spawn_with_args(&["--body-limit", "64"]).await;
    app.update_raw(
        Some("application/x-www-form-urlencoded"),
        format!("contactId={JOHN}&name=Form"),
    )
    .await;
    let reply = app
        .update_raw(Some("application/json"), vec![b' '; 100])
        .await;
    assert_eq!(reply.status, 413);
    let journal = app.journal("").await;
    assert_eq!(journal[0]["body"], format!("contactId={JOHN}&name=Form"));
    assert_eq!(journal[0]["response"]["contact"]["name"], "Form");
    assert_eq!(journal[1]["body"], "<more than 64 bytes: not recorded>");
    assert_eq!(journal[1]["status"], 413);
}

#[tokio::test]
async fn no_control_serves_no_control_api() {
    let app = TestApp::spawn_with_args(&["--no-control"]).await;
    let reply = app.send(app.request(Method::POST, "/_mock/reset")).await;
    assert_eq!(reply.status, 404);
    let (_, closest) = reply.error().split_once("closest routes are").unwrap();
    assert!(!closest.contains("/_mock/"), "{}", reply.error());
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(document["paths"].get("/_mock/reset").is_none());
    assert!(document["paths"].get(UPDATE).is_some());
    // The Rocket.Chat routes still work.
    let reply = app.update(ADMIN, json!({"contactId": JOHN})).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_journal_of_size_zero_records_nothing_and_changes_no_answer() {
    let app = TestApp::spawn_with_args(&["--journal-size", "0", "--body-limit", "64"]).await;
    let reply = app
        .update(ADMIN, json!({"contactId": JOHN, "name": "Unjournaled"}))
        .await;
    assert_eq!(reply.body["contact"]["name"], "Unjournaled");
    let too_large = app
        .update_raw(Some("application/json"), vec![b' '; 100])
        .await;
    assert_eq!(too_large.status, 413);
    let forced = app
        .send(
            app.request(Method::POST, UPDATE)
                .header("Prefer", "code=401"),
        )
        .await;
    assert_eq!(forced.status, 401);
    let page = app.call(Method::GET, "/_mock/requests", None).await.body;
    assert_eq!(page["requests"], json!([]));
    assert_eq!(page["capacity"], 0);
}
