//! `POST /api/v1/login`, `POST|GET /api/v1/logout` and `GET /api/v1/me`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const UNAUTHORIZED_LOGIN: &str =
    r#"{"success":false,"error":"Unauthorized","status":"error","message":"Unauthorized"}"#;

fn token_of(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    (
        data["userId"].as_str().unwrap().to_owned(),
        data["authToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn every_credential_shape_logs_in_and_the_new_token_authenticates() {
    let app = TestApp::spawn().await;
    let digest = rocketchat_mock::domain::workspace::password_digest("admin-password");
    for body in [
        json!({ "user": "admin", "password": "admin-password" }),
        json!({ "username": "admin", "password": "admin-password" }),
        json!({ "user": "admin@example.com", "password": "admin-password" }),
        json!({ "email": "ADMIN@example.com", "password": "admin-password" }),
        json!({ "user": { "username": "admin" }, "password": { "digest": digest, "algorithm": "sha-256" } }),
    ] {
        let reply = app.login(body.clone()).await;
        let (user_id, token) = token_of(&reply);
        assert_eq!(user_id, ADMIN.id, "{body}");
        assert_eq!(reply.body["status"], "success");
        assert_eq!(reply.body["success"], true);
        assert_eq!(reply.body["data"]["me"]["username"], "admin");
        assert_eq!(token.len(), 43);
        let me = app.call_as(Method::GET, ME, &user_id, &token).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["_id"], ADMIN.id);
    }
    // Rocket.Chat's own storage: a bcrypt hash of the password's SHA-256.
    let reply = app
        .login(json!({ "user": "maria.agent", "password": "maria-password" }))
        .await;
    let (maria, maria_token) = token_of(&reply);
    assert_eq!(maria, "9sLvmAcQk4EAGdi6e");
    // Her token joins `services` beside the password hash, which keeps working.
    let resumed = app.login(json!({ "resume": maria_token })).await;
    assert_eq!(token_of(&resumed).0, maria);
    let again = app
        .login(json!({ "user": "maria.agent", "password": "maria-password" }))
        .await;
    assert_eq!(again.status, 200);

    // The token is kept hashed in the user document, where the control API sees it.
    let state = app.state().await;
    let admin = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["_id"] == ADMIN.id)
        .unwrap();
    let tokens = admin["services"]["resume"]["loginTokens"]
        .as_array()
        .unwrap();
    assert_eq!(tokens.len(), 5);
    let (_, last) = token_of(
        &app.login(json!({ "user": "admin", "password": "admin-password" }))
            .await,
    );
    let hashed = rocketchat_mock::domain::workspace::hash_login_token(&last);
    let state = app.state().await;
    assert!(state.to_string().contains(&hashed));
    assert!(
        !state.to_string().contains(&last),
        "plain tokens are never stored"
    );
}

#[tokio::test]
async fn wrong_credentials_all_read_unauthorized_and_a_deactivated_user_is_told() {
    let app = TestApp::spawn().await;
    let masked: Value = serde_json::from_str(UNAUTHORIZED_LOGIN).unwrap();
    for body in [
        json!({ "user": "admin", "password": "wrong" }),
        json!({ "user": "nobody", "password": "admin-password" }),
        json!({ "user": "test.agent", "password": "anything" }),
        json!({ "resume": "not-a-token" }),
        json!({ "user": "admin" }),
        json!({}),
    ] {
        let reply = app.login(body.clone()).await;
        assert_eq!((reply.status, &reply.body), (401, &masked), "{body}");
    }
    let reply = app
        .login(json!({ "user": "old.agent", "password": "old-password" }))
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        json!({
            "success": false,
            "error": "error-user-is-not-activated",
            "status": "error",
            "details": { "function": "Accounts.validateLoginAttempt" },
            "message": "User is not activated"
        })
    );
    // A deactivated user with a wrong password learns nothing more.
    let reply = app
        .login(json!({ "user": "old.agent", "password": "wrong" }))
        .await;
    assert_eq!(reply.body, masked);

    let v8 = TestApp::spawn_with_args(&["--rocketchat-version", "8"]).await;
    let reply = v8
        .login(json!({ "user": "admin", "password": "wrong" }))
        .await;
    assert_eq!(
        (reply.status, reply.body),
        (401, json!({ "success": false, "error": "unauthorized" }))
    );
}

#[tokio::test]
async fn resume_answers_the_token_sent_and_logout_ends_it() {
    let app = TestApp::spawn().await;
    let (user_id, first) = token_of(
        &app.login(json!({ "user": "admin", "password": "admin-password" }))
            .await,
    );
    let tokens = |state: &Value| {
        state["users"][0]["services"]["resume"]["loginTokens"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = tokens(&app.state().await);
    // Meteor's resume handler answers with the token sent and stores none.
    let (resumed_id, resumed) = token_of(&app.login(json!({ "resume": first })).await);
    assert_eq!(
        (resumed_id.as_str(), resumed.as_str()),
        (user_id.as_str(), first.as_str())
    );
    assert_eq!(tokens(&app.state().await), before);
    let (_, second) = token_of(
        &app.login(json!({ "user": "admin", "password": "admin-password" }))
            .await,
    );

    let reply = app.call_as(Method::POST, LOGOUT, &user_id, &first).await;
    assert_eq!(
        (reply.status, reply.body),
        (
            200,
            json!({ "status": "success", "data": { "message": "You've been logged out!" } })
        )
    );
    let reply = app.call_as(Method::GET, ME, &user_id, &first).await;
    assert_eq!(reply.status, 401, "the logged-out token no longer works");
    assert_eq!(app.login(json!({ "resume": first })).await.status, 401);
    assert_eq!(
        app.call_as(Method::GET, ME, &user_id, &second).await.status,
        200
    );
}

#[tokio::test]
async fn me_shows_the_profile_and_never_the_secrets() {
    let app = TestApp::spawn().await;
    let reply = app.get_json(ME, Some(ADMIN)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let me = reply.body.as_object().unwrap();
    let keys: Vec<&str> = me.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "_id",
            "username",
            "name",
            "emails",
            "active",
            "roles",
            "email",
            "settings",
            "avatarUrl",
            "isOAuthUser",
            "services",
            "success"
        ]
    );
    // The fixture's plain password stands for a hash: the admin has one, before any login.
    assert_eq!(me["services"], json!({ "password": { "exists": true } }));
    assert_eq!(me["email"], "admin@example.com");
    assert_eq!(me["avatarUrl"], format!("{}/avatar/admin", app.address));
    assert_eq!(me["settings"], json!({ "profile": {}, "preferences": {} }));

    let reply = app.get_json(ME, Some(HASHED_TOKEN_AGENT)).await;
    assert_eq!(
        reply.body["services"],
        json!({ "password": { "exists": false } })
    );
    let text = app.get_json(ME, Some(ADMIN)).await.body.to_string();
    assert!(!text.contains("admin-password") && !text.contains(ADMIN.token));

    let reply = app.get_json(ME, None).await;
    assert_eq!(reply.status, 401);
    let reply = app.get_json(ME, Some(DEACTIVATED)).await;
    assert_eq!(reply.status, 401);
}

/// The built-in admin logs in by password: `/me` says it has one.
#[tokio::test]
async fn me_says_a_password_user_has_a_password() {
    let app = TestApp::spawn().await;
    let (user_id, token) = token_of(
        &app.login(json!({ "user": "admin", "password": "admin-password" }))
            .await,
    );
    let me = app.call_as(Method::GET, ME, &user_id, &token).await;
    assert_eq!(
        me.body["services"]["password"],
        json!({ "exists": true }),
        "{}",
        me.body
    );
}
