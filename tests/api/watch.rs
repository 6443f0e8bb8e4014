//! `--watch`: a changed fixture file is reloaded; a broken one is reported and the old state
//! kept.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

/// Polls `probe` until it holds, for up to 10 s.
async fn eventually<F: Future<Output = bool>>(mut probe: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !probe().await {
        assert!(
            Instant::now() < deadline,
            "the change was not picked up in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The reload error `/_mock/health` reports, once it does.
async fn reload_error(app: &TestApp) -> String {
    eventually(|| async {
        app.health().await.body["fixtures"]
            .get("reloadError")
            .is_some()
    })
    .await;
    app.health().await.body["fixtures"]["reloadError"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rename_john(dir: &Path, name: &str) {
    let file = dir.join("contacts.json");
    let mut contacts: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    contacts[0]["name"] = json!(name);
    // As editors save: a new file renamed over the old one.
    let temporary = dir.join(".contacts.json.swp");
    std::fs::write(&temporary, contacts.to_string()).unwrap();
    std::fs::rename(temporary, file).unwrap();
}

#[tokio::test]
async fn a_changed_fixture_file_is_reloaded_and_a_broken_one_is_not() {
    let dir = fixture_dir("watch", &[]);
    let app = TestApp::spawn_with_args(&["--fixtures", dir.to_str().unwrap(), "--watch"]).await;
    let session = app.in_session("before-reload");
    session
        .update(ADMIN, json!({"contactId": JANE, "name": "Session change"}))
        .await;
    app.update(ADMIN, json!({"contactId": JANE, "name": "Shared change"}))
        .await;

    rename_john(&dir, "John Reloaded");
    eventually(|| async { app.contact(JOHN).await["name"] == "John Reloaded" }).await;
    // The state reset to the new files, and sessions start again from them.
    assert_eq!(app.contact(JANE).await["name"], "Jane Doe");
    assert_eq!(session.contact(JANE).await["name"], "Jane Doe");
    assert_eq!(session.contact(JOHN).await["name"], "John Reloaded");
    let health = app.health().await.body;
    assert_eq!(health["fixtures"]["reloads"], 1);
    assert!(health["fixtures"].get("reloadError").is_none());

    std::fs::write(dir.join("users.json"), "[{\"_id\": 1}]").unwrap();
    let error = reload_error(&app).await;
    assert!(
        error.starts_with("users.json, document 0 (_id 1): _id: invalid type"),
        "{error}"
    );
    assert_eq!(app.contact(JOHN).await["name"], "John Reloaded");
    let reply = app.update(ADMIN, json!({"contactId": JOHN})).await;
    assert_eq!(reply.status, 200, "the old users still log in");
}

#[test]
fn watch_needs_a_fixtures_folder() {
    use clap::Parser;
    let error = rocketchat_mock::config::Config::try_parse_from(["rocketchat-mock", "--watch"])
        .unwrap_err();
    assert!(error.to_string().contains("--fixtures <DIR>"), "{error}");
}

#[tokio::test]
async fn a_fixture_file_that_vanishes_is_a_reload_error_and_sessions_keep_their_writes() {
    let dir = fixture_dir("watch-vanish", &[]);
    let app = TestApp::spawn_with_args(&["--fixtures", dir.to_str().unwrap(), "--watch"]).await;
    let session = app.in_session("kept");
    let reply = session
        .update(ADMIN, json!({"contactId": JANE, "name": "Session change"}))
        .await;
    assert_eq!(reply.status, 200);

    std::fs::remove_file(dir.join("contacts.json")).unwrap();
    let error = reload_error(&app).await;
    assert!(error.contains("contacts.json vanished"), "{error}");
    let health = app.health().await.body;
    // Nothing was emptied, and the session's write stands.
    assert_eq!(app.contact(JOHN).await["name"], "John");
    assert_eq!(session.contact(JANE).await["name"], "Session change");
    assert_eq!(health["sessions"], 1);
}
