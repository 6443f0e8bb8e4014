//! The contact center's agent panels: custom field definitions, agents and managers, a
//! contact's history and channels, a past chat's messages, users.info.

use serde_json::{Value, json};

use crate::helpers::{ADMIN, NO_PERMISSION, Reply, TestApp, User, contract};

const CUSTOM_FIELDS: &str = "/api/v1/livechat/custom-fields";

/// A GET as `user`, checked against the contract of its (templated) path.
async fn get(app: &TestApp, path_and_query: &str, template: &str, user: Option<User>) -> Reply {
    let mut request = app.request(reqwest::Method::GET, path_and_query);
    if let Some(user) = user {
        request = request
            .header("X-User-Id", user.id)
            .header("X-Auth-Token", user.token);
    }
    let reply = app.send(request).await;
    contract().check("GET", template, &reply);
    reply
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn custom_field_definitions_are_listed_by_label_and_found_by_text() {
    let app = TestApp::spawn().await;
    let all = get(&app, CUSTOM_FIELDS, CUSTOM_FIELDS, Some(ADMIN)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    // By label: "" (plan) first, then CPF, Company, Internal score, Ticket number.
    assert_eq!(
        ids(&all.body["customFields"]),
        ["plan", "cpf", "company", "internalScore", "ticketNumber"]
    );
    assert_eq!(
        (
            all.body["count"].clone(),
            all.body["offset"].clone(),
            all.body["total"].clone()
        ),
        (json!(5), json!(0), json!(5))
    );
    let keys: Vec<&String> = all.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["customFields", "count", "offset", "total", "success"]
    );
    // `text` in the label or the `_id`, any case.
    let found = get(
        &app,
        &format!("{CUSTOM_FIELDS}?text=NUMB"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&found.body["customFields"]), ["ticketNumber"]);
    let by_id = get(
        &app,
        &format!("{CUSTOM_FIELDS}?text=intern"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&by_id.body["customFields"]), ["internalScore"]);
    let page = get(
        &app,
        &format!("{CUSTOM_FIELDS}?count=2&offset=1&sort={{\"_id\":-1}}"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(ids(&page.body["customFields"]), ["plan", "internalScore"]);
    assert_eq!(
        (page.body["count"].clone(), page.body["total"].clone()),
        (json!(2), json!(5))
    );
}

#[tokio::test]
async fn custom_field_definitions_are_refused_as_upstream_refuses() {
    let app = TestApp::spawn().await;
    let anonymous = get(&app, CUSTOM_FIELDS, CUSTOM_FIELDS, None).await;
    assert_eq!(anonymous.status, 401);
    let forbidden = get(&app, CUSTOM_FIELDS, CUSTOM_FIELDS, Some(NO_PERMISSION)).await;
    assert_eq!(forbidden.status, 403);
    let unknown = get(
        &app,
        &format!("{CUSTOM_FIELDS}?fields=x"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        unknown.error(),
        "must NOT have additional properties [invalid-params]"
    );
    let count = get(
        &app,
        &format!("{CUSTOM_FIELDS}?count=abc"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(count.error(), "must be number [invalid-params]");
    let sort = get(
        &app,
        &format!("{CUSTOM_FIELDS}?sort=label"),
        CUSTOM_FIELDS,
        Some(ADMIN),
    )
    .await;
    assert_eq!(sort.body["errorType"], "error-invalid-sort");
}

#[tokio::test]
async fn one_custom_field_definition_is_read_by_id_and_a_missing_one_is_null() {
    let app = TestApp::spawn().await;
    let template = "/api/v1/livechat/custom-fields/{_id}";
    let cpf = get(&app, &format!("{CUSTOM_FIELDS}/cpf"), template, Some(ADMIN)).await;
    assert_eq!(cpf.body["customField"]["regexp"], "^[0-9]{11}$");
    let missing = get(
        &app,
        &format!("{CUSTOM_FIELDS}/nope"),
        template,
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        missing.body,
        json!({ "customField": null, "success": true })
    );
    let forbidden = get(
        &app,
        &format!("{CUSTOM_FIELDS}/cpf"),
        template,
        Some(NO_PERMISSION),
    )
    .await;
    assert_eq!(forbidden.status, 403);
}
