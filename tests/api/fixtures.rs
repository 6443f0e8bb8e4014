//! Fixture folders: Rocket.Chat's shapes, MongoDB Extended JSON, and clear refusals.

use std::process::Command;

use rocketchat_mock::store::fixtures::{Collection, Fixtures};
use serde_json::{Value, json};

use crate::helpers::*;

fn load_error(name: &str, overrides: &[(&str, &str)]) -> String {
    Fixtures::from_dir(&fixture_dir(name, overrides))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_broken_file_is_refused_with_file_document_and_problem() {
    assert_eq!(
        load_error("bad-json", &[("contacts.json", "[{\"_id\": }]")]),
        "contacts.json: not valid JSON: expected value at line 1 column 10"
    );
    assert_eq!(
        load_error("not-array", &[("users.json", "{}")]),
        "users.json: must be a JSON array of documents, found an object"
    );
    assert_eq!(
        load_error(
            "bad-type",
            &[(
                "contacts.json",
                r#"[{"_id": "a"}, {"_id": "b", "channels": [{"name": "w", "visitor": {"visitorId": "v", "source": {"type": "widget"}}, "blocked": "false", "verified": false, "details": {"type": "widget"}}]}]"#
            )]
        ),
        "contacts.json, document 1 (_id \"b\"): channels[0].blocked: invalid type: string \"false\", expected a boolean"
    );
    assert_eq!(
        load_error(
            "duplicate",
            &[(
                "permissions.json",
                r#"[{"_id": "p", "roles": []}, {"_id": "p", "roles": []}]"#
            )]
        ),
        "permissions.json, document 1 (_id \"p\"): document 0 has the same _id"
    );
    assert!(
        load_error("bad-date", &[("contacts.json", r#"[{"_id": {"$oid": "abc"}, "createdAt": {"$date": "soon"}}]"#)])
            .starts_with("contacts.json, document 0 (_id \"abc\"): at createdAt: $date \"soon\" is not an ISO 8601 date: ")
    );
    assert!(
        load_error(
            "bad-regexp",
            &[("custom-fields.json", r#"[{"_id": "f", "regexp": "("}]"#)]
        )
        .starts_with("custom-fields.json, document 0 (_id \"f\"): regexp \"(\" does not compile")
    );
}

#[test]
fn the_binary_exits_non_zero_naming_the_broken_file() {
    let dir = fixture_dir("binary", &[("users.json", "[1]")]);
    let output = Command::new(env!("CARGO_BIN_EXE_rocketchat-mock"))
        .args(["--port", "0", "--fixtures"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("users.json, document 0: must be an object, found a number"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_mongoexport_of_a_workspace_loads_as_it_is() {
    let users = r#"[{"_id": "u1", "username": "ana", "active": true, "roles": ["livechat-agent"],
        "createdAt": {"$date": {"$numberLong": "1700000000000"}},
        "services": {"resume": {"loginTokens": [{"when": {"$date": "2025-01-01T00:00:00Z"}, "hashedToken": "NbK7OltNNN8iqSvkOTfML4DNKKVgWJh/NT7q2TEBB0o="}]}}}]"#;
    let permissions = r#"[{"_id": "update-livechat-contact", "roles": ["livechat-agent"], "_updatedAt": {"$date": "2025-01-01T00:00:00.000Z"}}]"#;
    let contacts = r#"[{"_id": {"$oid": "65a000000000000000000001"}, "name": "Ex", "createdAt": {"$date": "2025-01-01T10:00:00+01:00"}, "customFields": {"legacyKey": "kept"}, "mystery": {"x": 1}},
        {"_id": {"$oid": "65a000000000000000000002"}, "createdAt": {"$date": "2025-01-01T00:00:00Z"}, "_updatedAt": {"$date": "2025-01-02T00:00:00Z"}, "enabled": false}]"#;
    let app = TestApp::spawn_with_fixtures(
        "export",
        &[
            ("users.json", users),
            ("permissions.json", permissions),
            ("contacts.json", contacts),
            ("custom-fields.json", "[]"),
        ],
    )
    .await;
    let user = User {
        id: "u1",
        token: "test-agent-token",
    };
    let reply = app
        .update(
            user,
            json!({ "contactId": "65a000000000000000000001", "contactManager": "u1" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let contact = &reply.body["contact"];
    assert_eq!(contact["createdAt"], "2025-01-01T09:00:00.000Z");
    assert_eq!(
        contact["mystery"],
        json!({ "x": 1 }),
        "unknown fields round-trip"
    );
    let deleted = app
        .update(user, json!({ "contactId": "65a000000000000000000002" }))
        .await;
    assert_eq!(deleted.error(), "error-contact-not-found");
}

#[tokio::test]
async fn a_missing_file_is_an_empty_collection() {
    let dir = fixture_dir("missing", &[]);
    std::fs::remove_file(dir.join("custom-fields.json")).unwrap();
    let fixtures = Fixtures::from_dir(&dir).unwrap();
    assert_eq!(fixtures.store.counts()["customFields"], 0);
    assert_eq!(fixtures.origin.missing, [Collection::CustomFields]);
}

/// `rocketchat-mock-fixtures`, the generator the load benchmark uses.
fn generate(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rocketchat-mock-fixtures"))
        .arg("--out")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_generated_workspace_loads_and_its_contacts_can_be_named_and_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let output = generate(dir.path(), &["--contacts", "30", "--conflict-every", "3"]);
    assert!(output.status.success(), "{output:?}");

    let mut config = rocketchat_mock::config::Config::for_tests();
    config.fixtures = Some(dir.path().to_owned());
    let app = TestApp::spawn_with(config).await;
    let page = app
        .get_json(&format!("{SEARCH}?count=0"), Some(ADMIN))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["total"], 30);

    // Contact i is `format!("{:024x}", i + 1)`; every third one (i = 0, 3, …) has conflicts.
    let first = format!("{:024x}", 1);
    let second = format!("{:024x}", 2);
    let resolved = app
        .conflicts(ADMIN, json!({ "contactId": first, "name": "Resolved" }))
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(resolved.body["result"]["name"], "Resolved");
    assert_eq!(
        resolved.body["result"]["conflictingFields"][0]["field"],
        "customFields.company"
    );
    let none = app
        .conflicts(ADMIN, json!({ "contactId": second, "name": "Resolved" }))
        .await;
    assert_eq!(none.error(), "error-contact-has-no-conflicts");
    // The built-in users come along, so the same logins work.
    let user = app.get_json(ME, Some(MANAGER)).await;
    assert_eq!(user.status, 200);
}

#[test]
fn the_generator_repeats_itself_and_keeps_existing_files() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&one, &two] {
        assert!(generate(dir.path(), &["--contacts", "50"]).status.success());
    }
    let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join("contacts.json")).unwrap();
    assert_eq!(read(&one), read(&two));

    let again = generate(one.path(), &["--contacts", "5"]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("already exists (pass --force to replace it)"),
        "{stderr}"
    );
    assert!(
        generate(one.path(), &["--contacts", "5", "--force"])
            .status
            .success()
    );
    assert_ne!(read(&one), read(&two));
}

#[tokio::test]
async fn generated_conversations_are_a_visitors_rooms_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let output = generate(dir.path(), &["--contacts", "4", "--conversations", "2"]);
    assert!(output.status.success(), "{output:?}");
    let mut config = rocketchat_mock::config::Config::for_tests();
    config.fixtures = Some(dir.path().to_owned());
    let app = TestApp::spawn_with(config).await;
    let counts = app.reset().await.body["counts"].clone();
    assert_eq!(
        (
            counts["visitors"].clone(),
            counts["rooms"].clone(),
            counts["messages"].clone()
        ),
        (json!(4), json!(8), json!(24))
    );
    // Contact 2's visitor, and its last room as the contact's `lastChat`.
    let visitor = app
        .send(app.request(
            reqwest::Method::GET,
            "/api/v1/livechat/visitor/visitor-token-2",
        ))
        .await;
    assert_eq!(visitor.status, 200, "{}", visitor.body);
    let contact = app.contact(&format!("{:024x}", 3)).await;
    assert_eq!(
        contact["channels"][0]["visitor"]["visitorId"],
        visitor.body["visitor"]["_id"]
    );
    let rid = contact["lastChat"]["_id"].as_str().unwrap().to_owned();
    let history = app
        .send(app.request(
            reqwest::Method::GET,
            &format!("/api/v1/livechat/messages.history/{rid}?token=visitor-token-2"),
        ))
        .await;
    let types: Vec<Value> = history.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["t"].clone())
        .collect();
    assert_eq!(
        types,
        [
            json!("livechat-close"),
            Value::Null,
            json!("livechat-started")
        ]
    );
    // Its rooms are closed: the visitor's next room is a new one.
    let room = app
        .send(app.request(
            reqwest::Method::GET,
            "/api/v1/livechat/room?token=visitor-token-2",
        ))
        .await;
    assert_eq!(room.body["newRoom"], true, "{}", room.body);
}
