//! `contacts.update`: the business rules of section 4 of the contract.

use serde_json::{Value, json};

use crate::helpers::*;

/// The contact as the default fixtures hold it, normalised as the server loads it.
fn fixture(id: &str) -> Value {
    let fixtures = rocketchat_mock::store::fixtures::Fixtures::built_in().unwrap();
    fixtures.store.to_state()["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["_id"] == id)
        .cloned()
        .unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn is_iso_millis(text: &str) -> bool {
    text.len() == 24 && text.ends_with('Z') && text.parse::<jiff::Timestamp>().is_ok()
}

#[tokio::test]
async fn the_reference_example_succeeds_and_writes_only_what_it_sends() {
    let app = TestApp::spawn().await;
    let example = contract().request_example(UPDATE, "Example 1");
    let reply = app.update(ADMIN, example).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(keys(&reply.body), ["contact", "success"]);
    assert_eq!(reply.body["success"], true);

    let contact = &reply.body["contact"];
    let mut expected = fixture(JOHN);
    expected["phones"] = json!([{ "phoneNumber": "+123456789" }]);
    expected["_updatedAt"] = contact["_updatedAt"].clone();
    assert_eq!(contact, &expected);
    assert_eq!(
        keys(contact),
        keys(&expected),
        "fields keep the fixture's order"
    );
    let updated_at = contact["_updatedAt"].as_str().unwrap();
    assert!(
        is_iso_millis(updated_at) && updated_at != "2024-11-29T13:31:43.595Z",
        "{updated_at}"
    );
}

#[tokio::test]
async fn an_update_is_visible_on_the_next_request() {
    let app = TestApp::spawn().await;
    app.update(
        ADMIN,
        json!({ "contactId": CARLOS, "name": "Carlos P.", "emails": ["new@example.com"] }),
    )
    .await;
    let reply = app.update(ADMIN, json!({ "contactId": CARLOS })).await;
    assert_eq!(reply.body["contact"]["name"], "Carlos P.");
    assert_eq!(
        reply.body["contact"]["emails"],
        json!([{ "address": "new@example.com" }])
    );
}

#[tokio::test]
async fn unknown_and_deleted_contacts_are_not_found() {
    let app = TestApp::spawn().await;
    for id in ["000000000000000000000000", DELETED] {
        let reply = app
            .update(ADMIN, json!({ "contactId": id, "name": "x" }))
            .await;
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            json!({ "success": false, "error": "error-contact-not-found" })
        );
    }
}

#[tokio::test]
async fn the_contact_manager_must_be_an_agent_and_empty_clears_it() {
    let app = TestApp::spawn().await;
    for manager in [MANAGER.id, "no-such-user"] {
        let reply = app
            .update(
                ADMIN,
                json!({ "contactId": JOHN, "contactManager": manager }),
            )
            .await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "error-contact-manager-not-found"),
            "{manager}"
        );
    }
    let reply = app
        .update(
            ADMIN,
            json!({ "contactId": JOHN, "contactManager": HASHED_TOKEN_AGENT.id }),
        )
        .await;
    assert_eq!(
        reply.body["contact"]["contactManager"],
        HASHED_TOKEN_AGENT.id
    );

    let reply = app
        .update(ADMIN, json!({ "contactId": JOHN, "contactManager": "" }))
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.body["contact"].get("contactManager").is_none(),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn emails_and_phones_are_written_as_documents_and_empty_clears() {
    let app = TestApp::spawn().await;
    let reply = app
        .update(
            ADMIN,
            json!({ "contactId": CARLOS, "emails": ["a@x.io", 7], "phones": [] }),
        )
        .await;
    assert_eq!(
        reply.body["contact"]["emails"],
        json!([{ "address": "a@x.io" }, { "address": "7" }])
    );
    assert_eq!(reply.body["contact"]["phones"], json!([]));
}

#[tokio::test]
async fn null_fields_are_not_sent_and_an_empty_name_is_written() {
    let app = TestApp::spawn().await;
    let reply = app
        .update(ADMIN, json!({ "contactId": CARLOS, "name": "", "emails": null, "contactManager": null, "customFields": null }))
        .await;
    let contact = &reply.body["contact"];
    let before = fixture(CARLOS);
    assert_eq!(contact["name"], "");
    assert_eq!(contact["emails"], before["emails"]);
    assert_eq!(contact["contactManager"], before["contactManager"]);
    assert_eq!(contact["customFields"], before["customFields"]);
}

#[tokio::test]
async fn wipe_conflicts_empties_them_and_false_as_text_keeps_them() {
    let app = TestApp::spawn().await;
    let kept = app
        .update(
            ADMIN,
            json!({ "contactId": JANE, "wipeConflicts": "false" }),
        )
        .await;
    assert_eq!(
        kept.body["contact"]["conflictingFields"],
        fixture(JANE)["conflictingFields"]
    );
    let wiped = app
        .update(ADMIN, json!({ "contactId": JANE, "wipeConflicts": 1 }))
        .await;
    assert_eq!(wiped.body["contact"]["conflictingFields"], json!([]));
}

#[tokio::test]
async fn an_update_marks_an_unknown_contact_known() {
    let app = TestApp::spawn().await;
    let reply = app.update(ADMIN, json!({ "contactId": GUEST })).await;
    assert_eq!(reply.body["contact"]["unknown"], false);
}

#[tokio::test]
async fn custom_fields_are_trimmed_checked_and_replace_the_defined_ones() {
    let app = TestApp::spawn().await;
    // Carlos has cpf and company (defined) and oldCrmId (legacy: no definition).
    let reply = app
        .update(ADMIN, json!({ "contactId": CARLOS, "customFields": { "cpf": 98765432100_u64, "plan": "  pro ", "company": false, "oldCrmId": "changed" } }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["contact"]["customFields"],
        json!({ "cpf": "98765432100", "plan": "pro", "oldCrmId": "CRM-2291" }),
        "company is falsy so dropped; the legacy value is kept as stored"
    );

    let reply = app
        .update(ADMIN, json!({ "contactId": CARLOS, "customFields": {} }))
        .await;
    assert_eq!(
        reply.body["contact"]["customFields"],
        json!({ "oldCrmId": "CRM-2291" })
    );
}

#[tokio::test]
async fn custom_field_failures_name_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "cpf": "123" }), "Invalid value for CPF field"),
        (json!({ "plan": "gold" }), "Invalid value for plan field"),
        (
            json!({ "favouriteColour": "blue" }),
            "Custom field favouriteColour is not allowed",
        ),
        (
            json!({ "internalScore": "10" }),
            "Custom field internalScore is not allowed",
        ),
        (
            json!({ "ticketNumber": "10" }),
            "Custom field ticketNumber is not allowed",
        ),
        (
            json!({ "b": 1, "10": 1, "a": 1 }),
            "Custom field 10 is not allowed",
        ),
    ];
    for (custom_fields, error) in cases {
        let body = json!({ "contactId": CARLOS, "name": "must not be written", "customFields": custom_fields });
        let reply = app.update(ADMIN, body).await;
        assert_eq!(reply.body, json!({ "success": false, "error": error }));
    }
    let after = app.update(ADMIN, json!({ "contactId": CARLOS })).await;
    assert_eq!(after.body["contact"]["name"], "Carlos Pereira");
}

#[tokio::test]
async fn required_custom_fields_must_be_sent_and_not_blank() {
    let definitions = r#"[
        { "_id": "cpf", "label": "CPF", "scope": "visitor", "visibility": "visible", "regexp": "^[0-9]{11}$", "required": true },
        { "_id": "nickname", "label": "", "scope": "visitor", "visibility": "visible", "required": true }
    ]"#;
    let app =
        TestApp::spawn_with_fixtures("required-fields", &[("custom-fields.json", definitions)])
            .await;
    let cases = [
        (json!({}), "Invalid value for CPF field"),
        (
            json!({ "cpf": "12345678901" }),
            "Invalid value for nickname field",
        ),
        (
            json!({ "cpf": "12345678901", "nickname": "   " }),
            "Invalid value for nickname field",
        ),
        (
            json!({ "cpf": 0, "nickname": "x" }),
            "Invalid value for CPF field",
        ),
    ];
    for (custom_fields, error) in cases {
        let reply = app
            .update(
                ADMIN,
                json!({ "contactId": JOHN, "customFields": custom_fields }),
            )
            .await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, error),
            "{custom_fields}"
        );
    }
    // Without customFields nothing is checked.
    assert_eq!(
        app.update(ADMIN, json!({ "contactId": JOHN, "name": "J" }))
            .await
            .status,
        200
    );
}
