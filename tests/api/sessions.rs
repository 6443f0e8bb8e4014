//! `X-Mock-Session`: isolated copies of the state on one server.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_session_changes_only_its_own_state_and_journal() {
    let app = TestApp::spawn().await;
    let alice = app.in_session("alice");
    let bob = app.in_session("bob");

    let reply = alice
        .update(ADMIN, json!({"contactId": JOHN, "name": "Alice's John"}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(alice.contact(JOHN).await["name"], "Alice's John");
    assert_eq!(bob.contact(JOHN).await["name"], "John");
    assert_eq!(app.contact(JOHN).await["name"], "John");

    assert_eq!(alice.journal("").await.len(), 1);
    assert_eq!(alice.journal("").await[0]["session"], "alice");
    assert!(bob.journal("").await.is_empty());
    assert!(app.journal("").await.is_empty());

    // Resetting one session leaves the others alone.
    app.update(ADMIN, json!({"contactId": JOHN, "name": "Shared"}))
        .await;
    alice.reset().await;
    assert_eq!(alice.contact(JOHN).await["name"], "John");
    assert_eq!(app.contact(JOHN).await["name"], "Shared");

    let listed = app.call(Method::GET, "/_mock/sessions", None).await.body;
    let names: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(listed["max"], 100);
}

#[tokio::test]
async fn parallel_tests_share_one_server_without_trampling() {
    let app = TestApp::spawn_with_args(&["--workers", "4"]).await;
    let tests = (0..16).map(|n| {
        let session = app.in_session(&format!("test-{n}"));
        tokio::spawn(async move {
            for round in 0..5 {
                let name = format!("test-{n} round {round}");
                let reply = session
                    .update(ADMIN, json!({"contactId": JOHN, "name": name}))
                    .await;
                assert_eq!(reply.status, 200);
                assert_eq!(session.contact(JOHN).await["name"], name);
            }
            assert_eq!(session.journal("").await.len(), 5);
        })
    });
    for test in tests {
        test.await.unwrap();
    }
    assert_eq!(app.contact(JOHN).await["name"], "John");
}

#[tokio::test]
async fn sessions_are_bounded_and_can_be_ended() {
    let app = TestApp::spawn_with_args(&["--max-sessions", "2"]).await;
    for name in ["one", "two"] {
        assert_eq!(app.in_session(name).health().await.status, 200);
    }
    let refused = app.in_session("three").reset().await;
    assert_eq!(refused.status, 503);
    assert!(
        refused
            .error()
            .starts_with("cannot open mock session \"three\": all 2 sessions are in use"),
        "{}",
        refused.error()
    );
    // Existing sessions keep working; ending one makes room.
    assert_eq!(app.in_session("one").reset().await.status, 200);
    let ended = app.call(Method::DELETE, "/_mock/sessions/one", None).await;
    assert_eq!(ended.body, json!({"success": true}));
    assert_eq!(app.in_session("three").reset().await.status, 200);
    let missing = app.call(Method::DELETE, "/_mock/sessions/one", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error(), "there is no mock session named \"one\"");
}

#[tokio::test]
async fn an_idle_session_expires_and_starts_again_from_the_fixtures() {
    let app = TestApp::spawn_with_args(&["--session-idle", "300ms", "--max-sessions", "1"]).await;
    let ci = app.in_session("ci");
    ci.update(
        ADMIN,
        json!({"contactId": JOHN, "name": "Before the pause"}),
    )
    .await;
    assert_eq!(ci.contact(JOHN).await["name"], "Before the pause");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(app.health().await.body["sessions"], 0);
    // The expired session no longer counts against the limit…
    assert_eq!(app.in_session("other").reset().await.status, 200);
    tokio::time::sleep(Duration::from_millis(450)).await;
    // …and its name starts afresh.
    assert_eq!(ci.contact(JOHN).await["name"], "John");
    assert!(ci.journal("").await.is_empty());
}

#[tokio::test]
async fn a_bad_session_name_is_refused_before_anything_happens() {
    let app = TestApp::spawn().await;
    for name in [String::new(), "x".repeat(129)] {
        let reply = app
            .send(
                app.request(Method::POST, UPDATE)
                    .header("X-Mock-Session", name.as_str())
                    .json(&json!({"contactId": JOHN})),
            )
            .await;
        assert_eq!(reply.status, 400);
        assert!(
            reply
                .error()
                .starts_with("X-Mock-Session must be 1 to 128 visible ASCII characters")
        );
    }
    assert!(app.journal("").await.is_empty());
}

/// The header's documented schema (what generated clients and schemathesis send) and the
/// server's own check are written in two places; this keeps them saying the same thing.
#[tokio::test]
async fn the_documented_session_name_pattern_is_the_one_the_server_accepts() {
    let app = TestApp::spawn().await;
    let document = app.call(Method::GET, "/openapi.json", None).await.body;
    let parameter = document["paths"]["/_mock/state"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "X-Mock-Session")
        .expect("the header is documented")
        .clone();
    let schema = &parameter["schema"];
    let pattern = fancy_regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
    let documented = |name: &[u8]| {
        let text = String::from_utf8_lossy(name);
        let length = text.chars().count() as u64;
        length >= schema["minLength"].as_u64().unwrap()
            && length <= schema["maxLength"].as_u64().unwrap()
            && pattern.is_match(text.as_ref()).unwrap()
    };
    let mut names: Vec<Vec<u8>> = (0x20u8..0x7f).map(|b| vec![b]).collect();
    names.extend(
        [
            &b""[..],
            b"a b",
            b"a  b",
            b"\xc3\xa9t\xc3\xa9",
            b"ok\x80",
            b"tab\there",
        ]
        .map(<[u8]>::to_vec),
    );
    names.push(vec![b'x'; 128]);
    names.push(vec![b'x'; 129]);
    for name in names {
        let status = app
            .request(Method::GET, "/_mock/state")
            .header(
                "X-Mock-Session",
                reqwest::header::HeaderValue::from_bytes(&name).unwrap(),
            )
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        // A value that is only spaces arrives empty: HTTP trims the ends of header values.
        let sent = name.trim_ascii();
        assert_eq!(
            status == 200,
            documented(sent),
            "X-Mock-Session {:?} answered {status}",
            String::from_utf8_lossy(&name)
        );
    }
}
