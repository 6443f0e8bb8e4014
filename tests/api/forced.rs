//! `Prefer` (forced responses, delay, faults), `--delay`, `--fault-rate`, and the 404 for
//! routes the mock does not serve.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// `contacts.update` as the admin with a `Prefer` header.
async fn prefer(app: &TestApp, preference: &str) -> (Reply, Option<String>) {
    let response = app
        .request(Method::POST, UPDATE)
        .header("X-User-Id", ADMIN.id)
        .header("X-Auth-Token", ADMIN.token)
        .header("Prefer", preference)
        .json(&json!({"contactId": JOHN, "name": "Forced?"}))
        .send()
        .await
        .unwrap();
    let applied = response
        .headers()
        .get("preference-applied")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    let reply = Reply { status, body };
    contract().check("POST", UPDATE, &reply);
    (reply, applied)
}

fn example(path: &str, status: u16, name: &str) -> serde_json::Value {
    contract()
        .document
        .pointer(&format!(
            "/paths/{}/post/responses/{status}/content/application~1json/examples/{name}/value",
            path.replace('/', "~1")
        ))
        .unwrap_or_else(|| panic!("no {status} example {name}"))
        .clone()
}

#[tokio::test]
async fn prefer_code_and_example_answer_the_documented_examples_and_change_nothing() {
    let app = TestApp::spawn().await;
    for (preference, status, name, applied_header) in [
        ("code=403", 403, "Permission Error", "code=403"),
        (
            "example=Unauthorized",
            403,
            "Unauthorized",
            "example=\"Unauthorized\"",
        ),
        (
            "code=400, example=Example 2",
            400,
            "Example 2",
            "code=400, example=\"Example 2\"",
        ),
        ("code=401", 401, "Authorization Error", "code=401"),
        ("code=200, delay=10", 200, "Example 1", "code=200, delay=10"),
    ] {
        let (reply, applied) = prefer(&app, preference).await;
        assert_eq!(reply.status, status, "{preference}");
        assert_eq!(reply.body, example(UPDATE, status, name), "{preference}");
        assert_eq!(applied.as_deref(), Some(applied_header), "{preference}");
    }
    assert_eq!(app.contact(JOHN).await["name"], "John");
    let journal = app.journal("").await;
    assert_eq!(journal.len(), 5);
    assert_eq!(journal[2]["forced"], "code=400, example=\"Example 2\"");
    assert_eq!(journal[2]["status"], 400);

    let reply = app
        .send(
            app.request(Method::POST, CONFLICTS)
                .header("Prefer", "code=400, example=Example 2"),
        )
        .await;
    assert_eq!(
        reply.body,
        json!({"success": false, "error": "error-contact-has-no-conflicts"})
    );
}

#[tokio::test]
async fn an_impossible_preference_lists_what_the_operation_offers() {
    let app = TestApp::spawn().await;
    let (reply, _) = prefer(&app, "code=404").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errorType"], "invalid-prefer");
    assert_eq!(
        reply.error(),
        "Prefer: code=404 is not documented for POST /api/v1/omnichannel/contacts.update; it offers \
         code=200 (example \"Example 1\"), code=400 (examples \"Example 1\", \"Example 2\"), \
         code=401 (example \"Authorization Error\"), code=403 (examples \"Permission Error\", \"Unauthorized\")"
    );
    let (reply, _) = prefer(&app, "code=401, example=Example 2").await;
    assert!(
        reply
            .error()
            .starts_with("Prefer: code=401, example=Example 2 is not documented")
    );
    let (reply, _) = prefer(&app, "fault=timeout").await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .error()
            .contains("use one of connection-reset, empty-response, malformed-json")
    );
    assert_eq!(app.contact(JOHN).await["name"], "John");
}

#[tokio::test]
async fn prefer_delay_and_the_delay_flag_slow_rocket_chat_routes_only() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    let (reply, _) = prefer(&app, "delay=300").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A delay alone does not force anything: the route answers.
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["contact"]["name"], "Forced?");

    let slow = TestApp::spawn_with_args(&["--delay", "200ms..250ms"]).await;
    let started = Instant::now();
    slow.update(ADMIN, json!({"contactId": JOHN})).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(200), "{took:?}");
    let started = Instant::now();
    slow.health().await;
    assert!(started.elapsed() < Duration::from_millis(200));
    // Prefer overrides the flag.
    let started = Instant::now();
    prefer(&slow, "delay=0").await;
    assert!(started.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn faults_break_the_answer_as_named_and_are_journaled() {
    let app = TestApp::spawn().await;
    let send = |fault: &str| {
        app.request(Method::POST, UPDATE)
            .header("Prefer", format!("fault={fault}"))
            .send()
    };
    let reset = send("connection-reset").await.unwrap_err();
    let source = std::error::Error::source(&reset)
        .and_then(|e| e.source())
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        format!("{reset:?}").contains("ConnectionReset") || source.contains("reset"),
        "{reset:?}"
    );
    let empty = send("empty-response").await.unwrap_err();
    assert!(empty.is_request(), "{empty:?}");
    assert!(
        !format!("{empty:?}").contains("ConnectionReset"),
        "{empty:?}"
    );

    let malformed = send("malformed-json").await.unwrap();
    assert_eq!(malformed.status(), 200);
    assert_eq!(malformed.headers()["content-type"], "application/json");
    let text = malformed.text().await.unwrap();
    assert!(text.starts_with("{\"contact\":{"), "{text}");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());

    let journal = app.journal("").await;
    let forced: Vec<_> = journal
        .iter()
        .map(|e| e["forced"].as_str().unwrap())
        .collect();
    assert_eq!(
        forced,
        [
            "fault=connection-reset",
            "fault=empty-response",
            "fault=malformed-json"
        ]
    );
    assert!(journal[0].get("status").is_none());
    assert_eq!(journal[2]["status"], 200);
    assert_eq!(journal[2]["response"], text);
    assert_eq!(app.contact(JOHN).await["name"], "John");
}

#[tokio::test]
async fn the_fault_rate_injects_faults_at_about_that_rate() {
    let app = TestApp::spawn_with_args(&["--fault-rate", "0.5", "--seed", "7"]).await;
    let client = reqwest::Client::new();
    let mut broken = 0;
    for _ in 0..60 {
        let outcome = client
            .post(format!("{}{UPDATE}", app.address))
            .header("X-User-Id", ADMIN.id)
            .header("X-Auth-Token", ADMIN.token)
            .json(&json!({"contactId": JOHN}))
            .send()
            .await;
        let healthy = match outcome {
            Ok(response) => response.json::<serde_json::Value>().await.is_ok(),
            Err(_) => false,
        };
        broken += usize::from(!healthy);
    }
    assert!((15..=45).contains(&broken), "{broken} of 60 broken");
    // The control API is never broken.
    for _ in 0..10 {
        assert_eq!(app.health().await.status, 200);
    }
}

#[tokio::test]
async fn an_unknown_route_names_the_closest_served_ones() {
    let app = TestApp::spawn().await;
    let typo = app
        .send(app.request(Method::POST, "/api/v1/omnichannel/contact.update"))
        .await;
    assert_eq!(typo.status, 404);
    assert_eq!(typo.body["success"], false);
    assert!(
        typo.error().starts_with(
            "POST /api/v1/omnichannel/contact.update is not served; the closest routes are POST /api/v1/omnichannel/contacts.update, "
        ),
        "{}",
        typo.error()
    );
    let method = app.send(app.request(Method::GET, CONFLICTS)).await;
    assert_eq!(method.status, 404);
    assert_eq!(
        method.error(),
        "GET /api/v1/omnichannel/contacts.conflicts is not served; /api/v1/omnichannel/contacts.conflicts answers POST"
    );
}
