//! Safe to leave running next to a browser and in CI: every connection is answered or closed
//! in bounded time, the journal is bounded in bytes and keeps no secrets, the control API
//! answers only this machine's pages, and no answered write is lost.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// `host:port` of a test server.
fn authority(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Sends `request` on a new connection and reads until the server closes it or `wait`
/// passes: the text read, and how long it took.
async fn raw(app: &TestApp, request: &[u8], wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(authority(app)).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut read = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut read)).await;
    (
        String::from_utf8_lossy(&read).into_owned(),
        started.elapsed(),
    )
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

fn json_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

#[tokio::test]
async fn websocket_upgrades_and_connect_are_answered_at_once_with_the_journal_on() {
    let app = TestApp::spawn().await;
    let upgrade = b"GET /websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";
    let (response, took) = raw(&app, upgrade, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(2), "took {took:?}: {response:?}");
    assert!(status_line(&response).contains("404"), "{response:?}");
    let body = json_body(&response);
    assert_eq!(body["success"], false);
    assert!(
        body["error"].as_str().unwrap().contains("no realtime API"),
        "{body}"
    );

    // Even on a route that exists, and with a body the route would wait for.
    let upgrade_post = format!(
        "POST {UPDATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    );
    let (response, took) = raw(&app, upgrade_post.as_bytes(), Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(2), "took {took:?}: {response:?}");
    assert!(status_line(&response).contains("404"), "{response:?}");

    let connect = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    let (response, took) = raw(&app, connect, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(2), "took {took:?}: {response:?}");
    assert!(status_line(&response).contains("404"), "{response:?}");

    let journal = app.journal("?path=/websocket").await;
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0]["status"], 404);
}

/// Headers announcing a large body, then one byte of it.
fn trickled(path: &str) -> String {
    let method = if path == "/_mock/state" {
        "PUT"
    } else {
        "POST"
    };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-User-Id: {}\r\nX-Auth-Token: {}\r\nContent-Length: 100000\r\n\r\n{{",
        ADMIN.id, ADMIN.token
    )
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_the_connection_closed() {
    for journal in ["1000", "0"] {
        let app =
            TestApp::spawn_with_args(&["--body-timeout", "1s", "--journal-size", journal]).await;
        for path in [UPDATE, "/_mock/state", "/api/v1/nowhere"] {
            let (response, took) =
                raw(&app, trickled(path).as_bytes(), Duration::from_secs(10)).await;
            // Answered about when the timeout passed, and the connection closed after
            // (`read_to_end` returned before the 10 s wait).
            assert!(
                took >= Duration::from_millis(900) && took < Duration::from_secs(5),
                "{path} (journal {journal}) took {took:?}: {response:?}"
            );
            if path == "/api/v1/nowhere" && journal == "0" {
                // No route waits for this body: answered at once, 404.
                continue;
            }
            assert!(
                status_line(&response).contains("408"),
                "{path} (journal {journal}): {response:?}"
            );
            assert!(
                response.to_ascii_lowercase().contains("connection: close"),
                "{response:?}"
            );
            assert_eq!(
                json_body(&response),
                json!({"success": false, "error": "the request body did not arrive within 1s (--body-timeout)"})
            );
        }
    }
}

/// This process's open file descriptors (the test server runs in it).
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[tokio::test]
async fn a_connection_holds_one_descriptor_on_the_server() {
    let app = TestApp::spawn().await;
    // Settle the runtime's own descriptors first.
    let _ = app.health().await;
    let before = open_descriptors();
    let mut streams = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(authority(&app)).await.unwrap();
        stream
            .write_all(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0_u8; 12];
        stream.read_exact(&mut first).await.unwrap();
        streams.push(stream);
    }
    let added = open_descriptors() - before;
    // 40 client ends in this process, and 40 server ends: not 80 more for duplicates.
    assert!(added <= 80 + 4, "40 connections added {added} descriptors");
}

#[tokio::test]
async fn the_journal_is_bounded_in_bytes_across_sessions_and_cuts_long_bodies() {
    let app =
        TestApp::spawn_with_args(&["--journal-bytes", "1MiB", "--journal-body-limit", "10KiB"])
            .await;
    let big = vec![b'x'; 200_000];
    for session in ["a", "b", "c"] {
        let handle = app.in_session(session);
        for _ in 0..40 {
            let response = handle
                .request(Method::POST, "/api/v1/unknown")
                .header("Content-Type", "text/plain")
                .body(big.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404);
        }
    }
    let journal = app.health().await.body["journal"].clone();
    assert!(journal["bytes"].as_u64().unwrap() <= 1 << 20, "{journal}");
    assert_eq!(journal["limitBytes"], 1 << 20);
    assert_eq!(journal["bodyLimitBytes"], 10 << 10);
    let kept = journal["entries"].as_u64().unwrap();
    assert!((40..120).contains(&kept), "{journal}");
    assert_eq!(journal["dropped"].as_u64().unwrap(), 120 - kept);

    // The oldest went first: the first sessions' entries, while the last keeps all 40.
    let last = app.in_session("c").journal("").await;
    assert_eq!(last.len(), 40);
    let first = app.in_session("a");
    let page = first.call(Method::GET, "/_mock/requests", None).await.body;
    assert!(page["dropped"].as_u64().unwrap() > 0, "{page}");
    let entry = &last[0];
    assert_eq!(entry["bodyTruncated"], 200_000);
    assert_eq!(entry["body"].as_str().unwrap().len(), 10 << 10);
    assert!(entry.get("responseTruncated").is_none(), "{entry}");
}

/// The whole default journal, as the text `GET /_mock/requests` serves.
async fn journal_text(app: &TestApp) -> String {
    app.get("/_mock/requests").await.text().await.unwrap()
}

#[tokio::test]
async fn passwords_tokens_and_cookies_are_redacted_before_they_are_stored() {
    let app = TestApp::spawn().await;
    let login = app
        .login(json!({"user": "maria.agent", "password": "maria-password"}))
        .await;
    let new_token = login.body["data"]["authToken"].as_str().unwrap().to_owned();
    app.post(
        LOGIN,
        None,
        Some("application/x-www-form-urlencoded"),
        b"user=admin&password=form-secret-pw".to_vec(),
    )
    .await;
    app.login(json!({"resume": new_token})).await;
    app.login(json!({"user": "admin", "password": "x", "code": "246810"}))
        .await;
    let me = app
        .request(Method::GET, ME)
        .header("X-User-Id", ADMIN.id)
        .header("X-Auth-Token", ADMIN.token)
        .header("Authorization", "Bearer header-secret")
        .header("Cookie", "rc_token=cookie-secret; rc_uid=x")
        .header("X-2fa-Code", "135790")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let text = journal_text(&app).await;
    for secret in [
        "maria-password",
        "form-secret-pw",
        new_token.as_str(),
        ADMIN.token,
        "header-secret",
        "cookie-secret",
        "135790",
        "246810",
    ] {
        assert!(!text.contains(secret), "{secret} is in the journal: {text}");
    }
    let journal = app.journal("").await;
    assert_eq!(journal[0]["body"]["password"], "[redacted]");
    assert_eq!(journal[0]["body"]["user"], "maria.agent");
    assert_eq!(journal[0]["response"]["data"]["authToken"], "[redacted]");
    assert!(journal[0]["response"]["data"]["userId"].is_string());
    // A form body stays a form, its password replaced.
    assert_eq!(journal[1]["body"], "user=admin&password=%5Bredacted%5D");
    assert_eq!(journal[2]["body"]["resume"], "[redacted]");
    assert_eq!(journal[3]["body"]["code"], "[redacted]");
    let headers = &journal[4]["headers"];
    for name in ["x-auth-token", "authorization", "cookie", "x-2fa-code"] {
        assert_eq!(headers[name], "[redacted]", "{name}: {headers}");
    }
    assert_eq!(headers["x-user-id"], ADMIN.id);
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn other_sites_cannot_drive_the_control_api_while_rocket_chat_routes_keep_their_cors() {
    let app = TestApp::spawn().await;
    let evil = "http://evil.example";
    assert_eq!(
        allowed_origin(&preflight(&app, "/_mock/state", evil).await),
        None
    );
    assert_eq!(
        allowed_origin(&preflight(&app, "/%5f%6dock/state", evil).await),
        None
    );
    assert_eq!(
        allowed_origin(&preflight(&app, UPDATE, evil).await),
        Some(evil)
    );
    let local = "http://localhost:5173";
    assert_eq!(
        allowed_origin(&preflight(&app, "/_mock/state", local).await),
        Some(local)
    );

    // A form post is sent before any CORS check: the guard refuses it on the server.
    app.update(ADMIN, json!({"contactId": JANE, "name": "Kept"}))
        .await;
    for path in ["/_mock/reset", "/%5f%6dock/reset"] {
        let reply = app
            .send(app.request(Method::POST, path).header("Origin", evil))
            .await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
        assert!(
            reply.error().contains("--cors-origin http://evil.example"),
            "{}",
            reply.body
        );
    }
    assert_eq!(app.contact(JANE).await["name"], "Kept");
    let reply = app
        .send(
            app.request(Method::GET, "/_mock/requests")
                .header("Origin", evil),
        )
        .await;
    assert_eq!(reply.status, 403);
    // The mock's own pages (Swagger UI) and this machine's are served.
    let own = format!("http://{}", authority(&app));
    let reply = app
        .send(
            app.request(Method::GET, "/_mock/requests")
                .header("Origin", &own),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = app
        .send(
            app.request(Method::POST, "/_mock/reset")
                .header("Origin", local),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // A listed origin may use both.
    let listed = TestApp::spawn_with_args(&["--cors-origin", "http://app.example"]).await;
    assert_eq!(
        allowed_origin(&preflight(&listed, "/_mock/state", "http://app.example").await),
        Some("http://app.example")
    );
    assert_eq!(
        allowed_origin(&preflight(&listed, UPDATE, evil).await),
        None
    );
}

#[tokio::test]
async fn the_control_api_answers_only_under_this_machines_names() {
    let app = TestApp::spawn().await;
    // DNS rebinding: the page's own name, now pointing at 127.0.0.1.
    let request = format!(
        "GET /_mock/requests HTTP/1.1\r\nHost: rebind.evil.example:{}\r\nConnection: close\r\n\r\n",
        authority(&app).rsplit(':').next().unwrap()
    );
    let (response, _) = raw(&app, request.as_bytes(), Duration::from_secs(5)).await;
    assert!(status_line(&response).contains("403"), "{response:?}");
    assert!(
        json_body(&response)["error"]
            .as_str()
            .unwrap()
            .contains("--allow-host rebind.evil.example"),
        "{response:?}"
    );
    // Health stays open (probes come by IP address), and so do the Rocket.Chat routes.
    for path in ["/_mock/health", ME] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n"
        );
        let (response, _) = raw(&app, request.as_bytes(), Duration::from_secs(5)).await;
        assert!(
            !status_line(&response).contains("403"),
            "{path}: {response:?}"
        );
    }
    for host in ["localhost", "127.0.0.1", "[::1]", "app.localhost"] {
        let request = format!(
            "GET /_mock/requests HTTP/1.1\r\nHost: {host}:3000\r\nConnection: close\r\n\r\n"
        );
        let (response, _) = raw(&app, request.as_bytes(), Duration::from_secs(5)).await;
        assert!(
            status_line(&response).contains("200"),
            "{host}: {response:?}"
        );
    }

    let allowed = TestApp::spawn_with_args(&["--allow-host", "rocketchat-mock"]).await;
    let request =
        "GET /_mock/requests HTTP/1.1\r\nHost: rocketchat-mock:3000\r\nConnection: close\r\n\r\n";
    let (response, _) = raw(&allowed, request.as_bytes(), Duration::from_secs(5)).await;
    assert!(status_line(&response).contains("200"), "{response:?}");
}

#[tokio::test]
async fn a_control_token_is_required_when_set() {
    let app = TestApp::spawn_with_args(&["--control-token", "s3cret-control"]).await;
    let missing = app.send(app.request(Method::POST, "/_mock/reset")).await;
    assert_eq!(missing.status, 401);
    assert!(
        missing.error().contains("Authorization: Bearer"),
        "{}",
        missing.body
    );
    let wrong = app
        .send(
            app.request(Method::POST, "/_mock/reset")
                .bearer_auth("guess"),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let right = app
        .send(
            app.request(Method::POST, "/_mock/reset")
                .bearer_auth("s3cret-control"),
        )
        .await;
    assert_eq!(right.status, 200, "{}", right.body);
    // Health needs none; the Rocket.Chat routes are unaffected.
    assert_eq!(app.health().await.status, 200);
    assert_eq!(app.get_json(ME, Some(ADMIN)).await.status, 200);
    // With the token, any Host will do: the token is the guard.
    let request = "POST /_mock/reset HTTP/1.1\r\nHost: rocketchat-mock\r\n\
        Authorization: Bearer s3cret-control\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let (response, _) = raw(&app, request.as_bytes(), Duration::from_secs(5)).await;
    assert!(status_line(&response).contains("200"), "{response:?}");

    // Swagger UI offers it under Authorize.
    let document = &contract().document;
    assert_eq!(
        document["components"]["securitySchemes"]["controlToken"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document["paths"]["/_mock/reset"]["post"]["security"],
        json!([{}, {"controlToken": []}])
    );
}

#[tokio::test]
async fn a_write_answered_200_survives_its_session_expiring_while_in_flight() {
    let app = TestApp::spawn_with_args(&["--session-idle", "1s"]).await;
    let session = app.in_session("slow");
    let slow = session
        .request(Method::POST, UPDATE)
        .header("X-User-Id", ADMIN.id)
        .header("X-Auth-Token", ADMIN.token)
        .header("Prefer", "delay=2500")
        .json(&json!({"contactId": JANE, "name": "Written while slow"}));
    let in_flight = {
        let session = session.clone();
        tokio::spawn(async move { session.send(slow).await })
    };
    // Past the idle time since the slow request started, another request of the session
    // comes: it must find the session in use, not expired.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(session.contact(JANE).await["name"], "Jane Doe");
    let answered = in_flight.await.unwrap();
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(session.contact(JANE).await["name"], "Written while slow");

    // Idle time counts from the end of the last request: still alive a moment later.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(session.contact(JANE).await["name"], "Written while slow");
    // And a session really left idle still expires.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(session.contact(JANE).await["name"], "Jane Doe");
}

#[tokio::test]
async fn percent_encoded_paths_are_decided_on_as_the_router_reads_them() {
    let app = TestApp::spawn().await;
    // `Prefer` applies to the route the request reaches.
    let forced = app
        .request(
            Method::GET,
            "/api/v1/omnichannel/contacts%2Eget?contactId=x",
        )
        .header("Prefer", "code=401")
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 401);
    assert_eq!(
        forced.headers().get("preference-applied").unwrap(),
        "code=401"
    );
    // A control request is not journaled, however it is spelled.
    let state = app.get("/%5f%6dock/state").await;
    assert_eq!(state.status(), 200);
    let journal = app.journal("").await;
    let paths: Vec<&str> = journal
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/api/v1/omnichannel/contacts.get"], "{journal:?}");
}
