//! `contacts.conflicts`: the business rules of section 5 of the contract.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_reference_example_resolves_what_it_names_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let example = contract().request_example(CONFLICTS, "Example 1");
    let reply = app.conflicts(ADMIN, example.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["result", "success"]);
    let result = &reply.body["result"];
    assert_eq!(result["name"], "John Doe");
    assert_eq!(result["contactManager"], "test.agent");
    assert_eq!(
        result["customFields"],
        json!({ "field1": "field1", "field2": "field2", "company": "Acme Inc." })
    );
    assert_eq!(
        result["conflictingFields"],
        json!([{ "field": "customFields.company", "value": "Acme Corporation" }])
    );
    assert_eq!(result["unknown"], false);

    // The remaining conflict lets "Try it out" succeed again.
    assert_eq!(app.conflicts(ADMIN, example).await.status, 200);
}

#[tokio::test]
async fn a_contact_without_conflicts_is_refused_even_when_wiping() {
    let app = TestApp::spawn().await;
    for body in [
        json!({ "contactId": JOHN, "name": "x" }),
        json!({ "contactId": JOHN, "wipeConflicts": true }),
    ] {
        let reply = app.conflicts(ADMIN, body).await;
        assert_eq!(
            reply.body,
            json!({ "success": false, "error": "error-contact-has-no-conflicts" })
        );
    }
}

#[tokio::test]
async fn wipe_conflicts_removes_them_all() {
    let app = TestApp::spawn().await;
    let reply = app
        .conflicts(ADMIN, json!({ "contactId": JANE, "wipeConflicts": "true" }))
        .await;
    assert_eq!(reply.body["result"]["conflictingFields"], json!([]));
    assert_eq!(reply.body["result"]["name"], "Jane Doe");
}

#[tokio::test]
/// `resolveContactConflicts` (the version built on `patchContact`, and its spec): the key
/// `contactManager` settles the `manager` conflict, even empty (which clears the manager).
async fn an_empty_manager_removes_the_manager_and_its_conflict() {
    let app = TestApp::spawn().await;
    let reply = app
        .conflicts(
            ADMIN,
            json!({ "contactId": JANE, "contactManager": "", "name": "" }),
        )
        .await;
    let result = &reply.body["result"];
    assert!(result.get("contactManager").is_none(), "{result}");
    assert_eq!(result["name"], "Jane Doe", "an empty name is not written");
    let fields: Vec<&str> = result["conflictingFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "customFields.field1",
            "customFields.field2",
            "customFields.company"
        ]
    );
}

#[tokio::test]
async fn the_manager_must_be_an_agent() {
    let app = TestApp::spawn().await;
    let reply = app
        .conflicts(
            ADMIN,
            json!({ "contactId": JANE, "contactManager": MANAGER.id }),
        )
        .await;
    assert_eq!(
        reply.body,
        json!({ "success": false, "error": "error-contact-manager-not-found" })
    );
}

#[tokio::test]
async fn custom_fields_merge_unvalidated() {
    let app = TestApp::spawn().await;
    let reply = app
        .conflicts(
            ADMIN,
            json!({ "contactId": CARLOS, "customFields": { "cpf": "not digits", "brandNew": 5 } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["result"]["customFields"],
        json!({ "cpf": "not digits", "company": "Pereira & Filhos", "oldCrmId": "CRM-2291", "brandNew": 5 })
    );
    assert_eq!(reply.body["result"]["conflictingFields"], json!([]));
}

#[tokio::test]
async fn custom_fields_may_not_be_null_here() {
    let app = TestApp::spawn().await;
    let reply = app
        .conflicts(ADMIN, json!({ "contactId": JANE, "customFields": null }))
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "must be object [invalid-params]")
    );
}

#[tokio::test]
async fn unknown_and_deleted_contacts_are_not_found() {
    let app = TestApp::spawn().await;
    for id in ["ffffffffffffffffffffffff", DELETED] {
        let reply = app
            .conflicts(ADMIN, json!({ "contactId": id, "wipeConflicts": true }))
            .await;
        assert_eq!(
            reply.body,
            json!({ "success": false, "error": "error-contact-not-found" })
        );
    }
}
