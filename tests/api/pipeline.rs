//! What every route shares: authentication, validation before permission, body encodings,
//! limits, and JSON answers to anything.

use rocketchat_mock::config::Config;
use serde_json::json;

use crate::helpers::*;

const NOT_LOGGED_IN: &str = r#"{"status":"error","message":"You must be logged in to do this."}"#;
const FORBIDDEN: &str = r#"{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}"#;

#[tokio::test]
async fn not_logged_in_is_401_with_the_documented_body() {
    let app = TestApp::spawn().await;
    let body = json!({ "contactId": JOHN });
    let wrong_token = User {
        id: ADMIN.id,
        token: "not-the-token",
    };
    let unknown_user = User {
        id: "nobody",
        token: ADMIN.token,
    };
    for (case, user) in [
        ("no headers", None),
        ("wrong token", Some(wrong_token)),
        ("unknown user", Some(unknown_user)),
        ("deactivated user", Some(DEACTIVATED)),
    ] {
        for path in [UPDATE, CONFLICTS] {
            let reply = app.post_json(path, user, &body).await;
            assert_eq!(reply.status, 401, "{case} on {path}");
            assert_eq!(reply.body.to_string(), NOT_LOGGED_IN, "{case} on {path}");
        }
    }
}

#[tokio::test]
async fn only_one_of_the_two_headers_is_not_logged_in() {
    let app = TestApp::spawn().await;
    let url = format!("{}{UPDATE}", app.address);
    let client = reqwest::Client::new();
    let only_id = client
        .post(&url)
        .header("X-User-Id", ADMIN.id)
        .json(&json!({ "contactId": JOHN }));
    assert_eq!(app.send(only_id).await.status, 401);
    let only_token = client
        .post(&url)
        .header("X-Auth-Token", ADMIN.token)
        .json(&json!({ "contactId": JOHN }));
    assert_eq!(app.send(only_token).await.status, 401);
}

#[tokio::test]
async fn a_token_stored_hashed_logs_in() {
    let app = TestApp::spawn().await;
    let reply = app
        .update(HASHED_TOKEN_AGENT, json!({ "contactId": JOHN }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn validation_comes_before_the_permission_check() {
    let app = TestApp::spawn().await;
    for path in [UPDATE, CONFLICTS] {
        let bad = app.post_json(path, Some(NO_PERMISSION), &json!({})).await;
        assert_eq!(bad.status, 400, "{path}");
        assert_eq!(
            bad.error(),
            "must have required property 'contactId' [invalid-params]"
        );

        let good = app
            .post_json(path, Some(NO_PERMISSION), &json!({ "contactId": JOHN }))
            .await;
        assert_eq!(good.status, 403, "{path}");
        assert_eq!(good.body.to_string(), FORBIDDEN);
    }
}

#[tokio::test]
async fn the_permission_is_granted_by_role_not_by_being_an_agent() {
    let app = TestApp::spawn().await;
    let reply = app
        .update(
            MANAGER,
            json!({ "contactId": JOHN, "name": "By the manager" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["contact"]["name"], "By the manager");
}

#[tokio::test]
async fn invalid_params_bodies_are_exact() {
    let app = TestApp::spawn().await;
    let reply = app
        .update(ADMIN, json!({ "contactId": JOHN, "channels": [] }))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body.to_string(),
        r#"{"success":false,"error":"must NOT have additional properties [invalid-params]","errorType":"invalid-params"}"#
    );
}

#[tokio::test]
async fn a_json_array_body_must_be_an_object() {
    let app = TestApp::spawn().await;
    let reply = app
        .update_raw(Some("application/json"), b"[{\"contactId\":\"x\"}]")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error(), "must be object [invalid-params]");
}

#[tokio::test]
async fn other_bodies_read_as_rocket_chat_reads_them() {
    let app = TestApp::spawn().await;
    let required = "must have required property 'contactId' [invalid-params]";
    for (content_type, body) in [
        (Some("application/json"), ""),
        (Some("application/json"), "\"contactId\""),
        (Some("application/json"), "null"),
        (
            Some("text/plain"),
            "{\"contactId\":\"67487f45e98719b7908d0f29\"}",
        ),
        (None, "contactId=67487f45e98719b7908d0f29"),
    ] {
        let reply = app.update_raw(content_type, body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, required),
            "{content_type:?} {body:?}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_400_and_says_what_is_wrong() {
    let app = TestApp::spawn().await;
    let reply = app
        .update_raw(Some("application/json"), b"{\"contactId\": \"x\",}")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["errorType"], "invalid-params");
    assert_eq!(
        reply.error(),
        "Malformed JSON body: trailing comma at line 1 column 19 [invalid-params]"
    );
}

#[tokio::test]
async fn form_bodies_are_coerced_like_json_scalars() {
    let app = TestApp::spawn().await;
    let form = "application/x-www-form-urlencoded";
    let reply = app
        .update_raw(
            Some(form),
            format!("contactId={JANE}&name=Jane+Form&wipeConflicts=true").into_bytes(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["contact"]["name"], "Jane Form");
    assert_eq!(reply.body["contact"]["conflictingFields"], json!([]));

    let reply = app
        .update_raw(
            Some(form),
            format!("contactId={JOHN}&emails=a%40b.c").into_bytes(),
        )
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "must be array [invalid-params]")
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_in_json() {
    let mut config = Config::for_tests();
    config.body_limit = 1024;
    let app = TestApp::spawn_with(config).await;
    let big = json!({ "contactId": JOHN, "name": "x".repeat(2000) });
    let reply = app.update(ADMIN, big).await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.body,
        json!({ "success": false, "error": "Request body is larger than the limit of 1024 bytes" })
    );

    let small = app
        .update(ADMIN, json!({ "contactId": JOHN, "name": "small" }))
        .await;
    assert_eq!(small.status, 200);
}

#[tokio::test]
async fn deep_huge_and_broken_bodies_never_break_the_server() {
    let app = TestApp::spawn().await;
    let deep = format!(
        "{{\"contactId\":\"{JOHN}\",\"customFields\":{{\"a\":{}1{}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let broken: Vec<u8> = (0..=255u8).cycle().take(50_000).collect();
    let huge = json!({ "contactId": JOHN, "emails": (0..20_000).map(|i| format!("user{i}@example.com")).collect::<Vec<_>>() });

    let reply = app.update_raw(Some("application/json"), deep).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .error()
            .starts_with("Malformed JSON body: recursion limit exceeded at line 1"),
        "{}",
        reply.body
    );

    let reply = app.update_raw(Some("application/json"), broken).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error(),
        "Malformed JSON body: expected value at line 1 column 1 [invalid-params]"
    );

    let reply = app
        .update_raw(Some("application/json"), huge.to_string())
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body["contact"]["emails"].as_array().unwrap().len(),
        20_000
    );

    let after = app
        .update(ADMIN, json!({ "contactId": JOHN, "emails": [] }))
        .await;
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_413_too() {
    // Without Content-Length the limit is enforced while reading the chunks.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut config = Config::for_tests();
    config.body_limit = 1024;
    let app = TestApp::spawn_with(config).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "POST {UPDATE} HTTP/1.1\r\nHost: localhost\r\nX-User-Id: {}\r\nX-Auth-Token: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        ADMIN.id, ADMIN.token
    );
    let chunk = "x".repeat(600);
    for _ in 0..3 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();

    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        body,
        json!({ "success": false, "error": "Request body is larger than the limit of 1024 bytes" })
    );
}

#[tokio::test]
async fn unknown_routes_answer_a_json_404() {
    let app = TestApp::spawn().await;
    let reply = app
        .post_json(
            "/api/v1/omnichannel/contacts.updat",
            Some(ADMIN),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["success"], false);
    let get = app
        .send(reqwest::Client::new().get(format!("{}{UPDATE}", app.address)))
        .await;
    assert_eq!(get.status, 404);
}

#[tokio::test]
async fn concurrent_updates_of_different_fields_of_one_contact_all_land() {
    // A lost update would show as a name overwritten by a phones request that read the
    // contact before the name was written. Several workers, so requests really overlap.
    let mut config = Config::for_tests();
    config.workers = Some(4);
    let app = std::sync::Arc::new(TestApp::spawn_with(config).await);
    for round in 0..30 {
        let name = format!("name of round {round}");
        let mut tasks = Vec::new();
        for i in 0..16 {
            let app = app.clone();
            let body = if i == 8 {
                json!({ "contactId": CARLOS, "name": name })
            } else {
                json!({ "contactId": CARLOS, "phones": [format!("+55{round}{i}")] })
            };
            tasks.push(tokio::spawn(
                async move { app.update(ADMIN, body).await.status },
            ));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
        let after = app.update(ADMIN, json!({ "contactId": CARLOS })).await;
        assert_eq!(after.body["contact"]["name"], name.as_str());
        let phone = after.body["contact"]["phones"][0]["phoneNumber"]
            .as_str()
            .unwrap();
        assert!(phone.starts_with(&format!("+55{round}")), "{phone}");
    }
}
