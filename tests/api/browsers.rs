//! CORS, for browser apps served from another origin: preflights over HTTP here, and a real
//! headless Chromium `fetch()` (tests/browser/cors.mjs).

use std::process::Command;
use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const APP_ORIGIN: &str = "http://localhost:5173";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, UPDATE)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "x-auth-token, x-user-id, content-type, x-mock-session, prefer",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn any_origin_is_echoed_with_credentials_and_the_mocks_headers() {
    let app = TestApp::spawn().await;
    let response = preflight(&app, APP_ORIGIN).await;
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "x-auth-token",
        "x-user-id",
        "content-type",
        "x-mock-session",
        "prefer",
    ] {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{method} not in {methods}");
    }

    let reply = app
        .request(Method::POST, UPDATE)
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
}

#[tokio::test]
async fn cors_origin_restricts_the_allowed_origins() {
    let app = TestApp::spawn_with_args(&["--cors-origin", APP_ORIGIN]).await;
    let allowed = preflight(&app, APP_ORIGIN).await;
    assert_eq!(allowed.headers()["access-control-allow-origin"], APP_ORIGIN);
    let other = app
        .request(Method::POST, UPDATE)
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Still a JSON answer, for tools that ignore CORS.
    assert_eq!(other.status(), 401);
}

/// Installs Chromium and playwright-core once per test run (quick when already there).
fn setup() {
    static SETUP: OnceLock<bool> = OnceLock::new();
    let done = SETUP.get_or_init(|| {
        Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/browser/setup.sh"
            ))
            .status()
            .expect("bash runs")
            .success()
    });
    assert!(
        done,
        "tests/browser/setup.sh failed: it installs Debian's chromium (apt-get, as root or with sudo) and playwright-core (npm)"
    );
}

/// Runs tests/browser/cors.mjs: a page on its own origin `fetch()`es the mock.
fn in_chromium(mock: &str) -> Value {
    setup();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/cors.mjs");
    let output = Command::new("node")
        .arg(script)
        .arg(mock)
        .output()
        .expect("node runs (see README: the browser test needs Node.js)");
    assert!(
        output.status.success(),
        "the browser script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the browser script prints JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_on_another_origin_calls_the_mock() {
    let app = TestApp::spawn().await;
    let address = app.address.clone();
    let seen = tokio::task::spawn_blocking(move || in_chromium(&address))
        .await
        .unwrap();
    let update = &seen["update"];
    assert_eq!(seen["reachable"], true, "{seen}");
    assert_eq!(update["status"], 200, "{seen}");
    assert_eq!(update["body"]["contact"]["name"], "From Chromium");
    assert_eq!(update["body"]["success"], true);
    // The session and Prefer headers pass the preflight too.
    let forced = &seen["forced"];
    assert_eq!(forced["status"], 403, "{seen}");
    assert_eq!(forced["preferenceApplied"], "code=403");
    assert_ne!(seen["pageOrigin"], json!(app.address));

    let in_session = app.in_session("browser");
    assert_eq!(in_session.contact(JOHN).await["name"], "From Chromium");
    assert_eq!(app.contact(JOHN).await["name"], "John");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_on_a_disallowed_origin_is_refused() {
    let app = TestApp::spawn_with_args(&["--cors-origin", "http://allowed.example"]).await;
    let address = app.address.clone();
    let seen = tokio::task::spawn_blocking(move || in_chromium(&address))
        .await
        .unwrap();
    assert_eq!(
        seen["update"]["error"], "TypeError: Failed to fetch",
        "{seen}"
    );
    assert_eq!(
        app.in_session("browser").contact(JOHN).await["name"],
        "John"
    );
}

/// Rocket.Chat with CORS on allows `Origin, X-Requested-With, Content-Type, Accept,
/// X-User-Id, X-Auth-Token, x-visitor-token, Authorization` and `HEAD`: clients (the widget,
/// axios) that send them pass the preflight.
#[tokio::test]
async fn rocket_chats_own_cors_headers_and_head_pass_the_preflight() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::OPTIONS, UPDATE)
        .header("Origin", APP_ORIGIN)
        .header("Access-Control-Request-Method", "HEAD")
        .header(
            "Access-Control-Request-Headers",
            "x-requested-with, authorization, x-visitor-token, origin, accept",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["x-requested-with", "authorization", "x-visitor-token"] {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
    let methods = response.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("HEAD"), "{methods}");
}
