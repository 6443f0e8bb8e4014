//! The published contract: the committed document, what is served, and its examples.

use std::path::Path;

use serde_json::Value;

use crate::helpers::*;

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = rocketchat_mock::openapi::document_json(Default::default(), true);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the document the code generates; regenerate it with\n  \
         cargo run -- --print-openapi > openapi/openapi.json\n(or UPDATE_OPENAPI=1 cargo test) and review the diff"
    );
}

#[tokio::test]
async fn the_server_serves_the_document_and_swagger_ui() {
    let app = TestApp::spawn().await;
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(served, contract().document);

    let ui = app.get("/docs/").await;
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger-ui"));
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("\"url\": \"/openapi.json\""),
        "{initializer}"
    );

    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = root.get(format!("{}/", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/docs/");
}

#[test]
fn operations_carry_the_reference_ids_tags_and_both_security_headers() {
    let document = &contract().document;
    assert_eq!(document["openapi"], "3.1.0");
    for (path, id, summary) in [
        (
            UPDATE,
            "post-api-v1-omnichannel-contacts.update",
            "Update Omnichannel Contact",
        ),
        (
            CONFLICTS,
            "post-api-v1-omnichannel-contacts.conflicts",
            "Resolve Contact Conflicts",
        ),
    ] {
        let operation = &document["paths"][path]["post"];
        assert_eq!(operation["operationId"], id);
        assert_eq!(operation["summary"], summary);
        assert_eq!(
            operation["tags"],
            serde_json::json!(["Omnichannel Contacts"])
        );
        assert_eq!(
            operation["security"],
            serde_json::json!([{ "X-Auth-Token": [], "X-User-Id": [] }])
        );
        for status in ["200", "400", "401", "403"] {
            assert!(
                operation["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
    for header in ["X-Auth-Token", "X-User-Id"] {
        let scheme = &document["components"]["securitySchemes"][header];
        assert_eq!(
            (
                scheme["type"].as_str(),
                scheme["in"].as_str(),
                scheme["name"].as_str()
            ),
            (Some("apiKey"), Some("header"), Some(header))
        );
    }
}

#[test]
fn every_documented_response_example_fits_its_schema() {
    let contract = contract();
    let mut checked = 0;
    for path in [UPDATE, CONFLICTS] {
        for status in [200, 400, 401, 403] {
            let pointer = contract
                .response_schema_pointer("POST", path, status)
                .unwrap();
            let validator = contract.validator(&pointer);
            let examples_pointer = pointer.replace("/schema", "/examples");
            let examples = contract
                .document
                .pointer(&examples_pointer)
                .and_then(Value::as_object)
                .unwrap();
            assert!(!examples.is_empty(), "{path} {status} has no example");
            for (name, example) in examples {
                let value = &example["value"];
                let errors: Vec<String> = validator
                    .iter_errors(value)
                    .map(|e| e.to_string())
                    .collect();
                assert!(errors.is_empty(), "{path} {status} {name}: {errors:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12);
}

#[test]
fn the_request_schemas_are_rocket_chats() {
    // Keyword for keyword `@rocket.chat/rest-typings` (8.8.1), `nullable` written the 3.1 way.
    let document = serde_json::to_value(&contract().document).unwrap();
    let update = rocketchat_mock::openapi::request_schema(&document, UPDATE).unwrap();
    let properties: Vec<(&String, &Value)> =
        update["properties"].as_object().unwrap().iter().collect();
    let types: Vec<(String, String)> = properties
        .iter()
        .map(|(k, v)| (k.to_string(), v["type"].to_string()))
        .collect();
    assert_eq!(
        types,
        [
            ("contactId", "\"string\""),
            ("name", "\"string\""),
            ("emails", "[\"array\",\"null\"]"),
            ("phones", "[\"array\",\"null\"]"),
            ("customFields", "[\"object\",\"null\"]"),
            ("contactManager", "[\"string\",\"null\"]"),
            ("wipeConflicts", "[\"boolean\",\"null\"]"),
        ]
        .map(|(k, t)| (k.to_owned(), t.to_owned()))
    );
    assert_eq!(update["required"], serde_json::json!(["contactId"]));
    assert_eq!(update["additionalProperties"], false);
    assert_eq!(update["properties"]["emails"]["uniqueItems"], true);

    let conflicts = rocketchat_mock::openapi::request_schema(&document, CONFLICTS).unwrap();
    let names: Vec<&String> = conflicts["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        names,
        [
            "contactId",
            "name",
            "contactManager",
            "customFields",
            "wipeConflicts"
        ]
    );
    assert_eq!(conflicts["properties"]["customFields"]["type"], "object");
}
