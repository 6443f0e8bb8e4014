//! `--rocketchat-version`: the error bodies of the reference pages, 7.x and 8.x, and the
//! document's examples that follow them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn errors_of(version: &str) -> (TestApp, Value, Value) {
    let app = TestApp::spawn_with_args(&["--rocketchat-version", version]).await;
    let unauthorized = app.update(DEACTIVATED, json!({"contactId": JOHN})).await;
    assert_eq!(unauthorized.status, 401);
    let forbidden = app.update(NO_PERMISSION, json!({"contactId": JOHN})).await;
    assert_eq!(forbidden.status, 403);
    (app, unauthorized.body, forbidden.body)
}

#[tokio::test]
async fn each_version_answers_its_own_401_and_403_bodies() {
    let (_, unauthorized, forbidden) = errors_of("reference").await;
    assert_eq!(
        unauthorized.to_string(),
        r#"{"status":"error","message":"You must be logged in to do this."}"#
    );
    assert_eq!(
        forbidden.to_string(),
        r#"{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}"#
    );

    let (_, unauthorized, forbidden) = errors_of("7.x").await;
    assert_eq!(
        unauthorized.to_string(),
        r#"{"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}"#
    );
    assert_eq!(
        forbidden["error"],
        "User does not have the permissions required for this action [error-unauthorized]"
    );

    let (_, unauthorized, forbidden) = errors_of("8").await;
    assert_eq!(
        unauthorized.to_string(),
        r#"{"success":false,"error":"You must be logged in to do this."}"#
    );
    assert_eq!(
        forbidden.to_string(),
        r#"{"success":false,"error":"User does not have the permissions required for this action [error-forbidden]"}"#
    );
}

#[tokio::test]
async fn the_served_examples_are_what_that_version_sends() {
    for version in ["reference", "7", "8"] {
        let (app, unauthorized, forbidden) = errors_of(version).await;
        let document: Value = app.get("/openapi.json").await.json().await.unwrap();
        let examples = |status: u16| {
            document
                .pointer(&format!(
                    "/paths/{}/post/responses/{status}/content/application~1json/examples",
                    UPDATE.replace('/', "~1")
                ))
                .unwrap()
                .clone()
        };
        assert_eq!(
            examples(401)["Authorization Error"]["value"],
            unauthorized,
            "{version}"
        );
        assert_eq!(
            examples(403)["Permission Error"]["value"],
            forbidden,
            "{version}"
        );
        // And Prefer answers from the same document.
        let forced = app
            .send(
                app.request(Method::POST, UPDATE)
                    .header("Prefer", "code=401"),
            )
            .await;
        assert_eq!(forced.body, unauthorized, "{version}");
        let health = app.health().await;
        assert_eq!(health.body["rocketchatVersion"], version);
    }
    let (app, ..) = errors_of("8").await;
    let bare = app
        .send(
            app.request(Method::POST, UPDATE)
                .header("Prefer", "example=Unauthorized"),
        )
        .await;
    assert_eq!(bare.body, json!({"success": false, "error": "forbidden"}));
}
