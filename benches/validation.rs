//! The validation pipeline alone (parse → coerce → validate → first message), on the
//! schemas the server compiles from its own OpenAPI document, so that a regression shows
//! without a load generator: `cargo bench --bench validation`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rocketchat_mock::config::RocketChatVersion;
use rocketchat_mock::domain::request::SEARCH_CONTACTS_QUERY;
use rocketchat_mock::openapi::{self, CONFLICTS_PATH, UPDATE_PATH};
use rocketchat_mock::validation::{Coercion, RequestSchema};
use serde_json::{Value, json};

fn served_schema(path: &str) -> RequestSchema {
    let document: Value =
        serde_json::from_str(&openapi::document_json(RocketChatVersion::default(), true))
            .expect("the served document is JSON");
    let schema = openapi::request_schema(&document, path).expect("the route has a body schema");
    RequestSchema::compile(schema).expect("the served schema compiles")
}

/// Parses `body` and validates it, as a route does with a request body.
fn check(schema: &RequestSchema, body: &[u8]) -> Result<Value, String> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    schema.validate(&mut value).map(|()| value)
}

fn bodies(c: &mut Criterion) {
    let update = served_schema(UPDATE_PATH);
    let conflicts = served_schema(CONFLICTS_PATH);
    let cases: [(&str, &RequestSchema, &[u8], bool); 6] = [
        (
            "update/valid",
            &update,
            br#"{"contactId":"67487f45e98719b7908d0f29","name":"John","emails":["john@example.com"],"phones":["+123456789"],"customFields":{"cpf":"12345678901"},"wipeConflicts":"false"}"#,
            true,
        ),
        ("update/coerced", &update, br#"{"contactId":1234,"emails":"","wipeConflicts":0}"#, true),
        ("update/missing-required", &update, br#"{"name":"John"}"#, false),
        (
            "update/duplicate-items",
            &update,
            br#"{"contactId":"x","emails":["a@example.com","b@example.com","a@example.com"]}"#,
            false,
        ),
        ("update/additional-property", &update, br#"{"contactId":"x","nickname":"J"}"#, false),
        ("conflicts/valid", &conflicts, br#"{"contactId":"x","name":"John","wipeConflicts":true}"#, true),
    ];
    let mut group = c.benchmark_group("body");
    for (name, schema, body, valid) in cases {
        // A benchmark of the wrong path would measure nothing useful.
        assert_eq!(check(schema, body).is_ok(), valid, "{name}");
        group.bench_function(name, |b| b.iter(|| check(schema, black_box(body))));
    }
    group.finish();
}

fn query(c: &mut Criterion) {
    let schema = RequestSchema::compile_with((SEARCH_CONTACTS_QUERY.schema)(), Coercion::Arrays)
        .expect("the query schema compiles");
    let parsed =
        json!({ "searchText": ["john"], "count": "10", "offset": "0", "sort": "{\"name\":1}" });
    let mut group = c.benchmark_group("query");
    group.bench_function("search/valid", |b| {
        b.iter(|| {
            let mut value = black_box(&parsed).clone();
            schema.validate(&mut value)
        })
    });
    group.finish();
}

criterion_group!(benches, bodies, query);
criterion_main!(benches);
