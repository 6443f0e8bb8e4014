//! Differential test: the same generated bodies go to Rocket.Chat's own validator (AJV with
//! the rest-typings schemas, see tests/differential/) and to ours, and the verdicts must be
//! the same: valid with the same coerced body, or invalid with the same message. The
//! invalid-or-valid verdict is also checked through the real server.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rocketchat_mock::domain::request;
use rocketchat_mock::validation::{Coercion, RequestSchema};
use serde_json::{Map, Value, json};

use crate::helpers::*;

const BODIES_PER_SCHEMA: usize = 2500;

fn scalar(rng: &mut StdRng) -> Value {
    let pool = [
        json!(""),
        json!("a"),
        json!("true"),
        json!("false"),
        json!(" x "),
        json!("1"),
        json!("0"),
        json!("__proto__"),
        json!(0),
        json!(1),
        json!(-0.0),
        json!(1.5),
        json!(1e21),
        json!(1.5e-7),
        json!(12345678901234567890_u64),
        json!(true),
        json!(false),
        json!(null),
    ];
    pool.choose(rng).unwrap().clone()
}

fn value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..10) {
        0..=5 => scalar(rng),
        6 | 7 if depth < 2 => Value::Array(
            (0..rng.random_range(0..5))
                .map(|_| value(rng, depth + 1))
                .collect(),
        ),
        8 if depth < 2 => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..3) {
                map.insert(
                    ["a", "b", "1"].choose(rng).unwrap().to_string(),
                    value(rng, depth + 1),
                );
            }
            Value::Object(map)
        }
        _ => scalar(rng),
    }
}

/// A value a client would plausibly send for a required property, so that a good share of
/// the generated requests are valid.
fn plausible(name: &str) -> Value {
    match name {
        "contactId" => json!(JOHN),
        "name" => json!("Ana"),
        "emails" => json!(["ana@example.com"]),
        "token" => json!("nobody"),
        "key" => json!("cpf"),
        "value" | "rid" | "msg" => json!("a"),
        "overwrite" => json!(true),
        "customFields" => json!([{ "key": "cpf", "value": "1", "overwrite": false }]),
        "visitor" => {
            json!({ "visitorId": "68135b90e384b3ad127c7dc4", "source": { "type": "app", "id": "whatsapp" } })
        }
        _ => json!([]),
    }
}

fn body(rng: &mut StdRng, properties: &[&str], required: &[&str]) -> Value {
    if rng.random_ratio(1, 40) {
        return Value::Array(vec![value(rng, 1)]);
    }
    let extra = ["unknown", "channels", "10", "__proto__"];
    let mut map = Map::new();
    for name in properties {
        if required.contains(name) {
            if rng.random_ratio(9, 10) {
                let value = if rng.random_ratio(4, 5) {
                    plausible(name)
                } else {
                    value(rng, 1)
                };
                map.insert(name.to_string(), value);
            }
        } else if rng.random_ratio(1, 3) {
            map.insert(name.to_string(), value(rng, 0));
        }
    }
    if rng.random_ratio(1, 15) {
        map.insert(extra.choose(rng).unwrap().to_string(), value(rng, 1));
    }
    Value::Object(map)
}

/// A query string's text, as a client would type it.
fn query_text(rng: &mut StdRng) -> String {
    let pool = [
        "",
        " ",
        "5",
        "-3",
        "0",
        "1.5",
        "0x10",
        "1e3",
        "true",
        "false",
        "a@b",
        "@",
        "a@b@c",
        "john",
        JOHN,
        "{\"name\":1}",
        "null",
    ];
    pool.choose(rng).unwrap().to_string()
}

/// A parsed query string (`qs.parse`): strings, and arrays of strings for repeated names.
fn query(rng: &mut StdRng, properties: &[&str]) -> Value {
    let extra = ["unknown", "fields", "query"];
    let mut map = Map::new();
    for name in properties {
        if rng.random_ratio(1, 2) {
            let value = if rng.random_ratio(1, 6) {
                Value::Array(
                    (0..rng.random_range(1..3))
                        .map(|_| json!(query_text(rng)))
                        .collect(),
                )
            } else {
                json!(query_text(rng))
            };
            map.insert(name.to_string(), value);
        }
    }
    if rng.random_ratio(1, 15) {
        map.insert(
            extra.choose(rng).unwrap().to_string(),
            json!(query_text(rng)),
        );
    }
    Value::Object(map)
}

/// The query string that `qs.parse` reads back as `params`.
fn encode_query(params: &Value) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.as_object().unwrap() {
        match value {
            Value::Array(items) => {
                for item in items {
                    out.append_pair(&format!("{name}[]"), item.as_str().unwrap());
                }
            }
            other => {
                out.append_pair(name, other.as_str().unwrap());
            }
        }
    }
    out.finish()
}

/// Rocket.Chat's answers for `bodies`, from tests/differential/verdicts.mjs.
fn ajv_verdicts(schema: &str, bodies: &[Value]) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential");
    let setup = Command::new("bash")
        .arg(dir.join("setup.sh"))
        .status()
        .expect("bash runs");
    assert!(
        setup.success(),
        "tests/differential/setup.sh failed: it needs node and npm (see README)"
    );
    let mut node = Command::new("node")
        .arg(dir.join("verdicts.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (see README: the differential test needs Node.js)");
    let mut input = String::new();
    for body in bodies {
        input.push_str(&json!({ "schema": schema, "body": body }).to_string());
        input.push('\n');
    }
    let mut stdin = node.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = node.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "verdicts.mjs failed");
    let verdicts: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), bodies.len());
    verdicts
}

/// Uncoerced numbers went through JavaScript as doubles; compare them as such.
fn as_doubles(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(as_doubles).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, as_doubles(v))).collect())
        }
        other => other,
    }
}

/// How a route reads and reports its input.
#[derive(Clone, Copy, PartialEq)]
enum Route {
    /// A legacy POST route: `<message> [invalid-params]`, `errorType: invalid-params`.
    LegacyBody,
    /// A typed POST route: `errorType: error-invalid-params`, the message alone.
    TypedBody,
    /// A legacy GET route, its query validated by `ajvQuery`.
    Query,
    /// A Livechat widget route (no login): a valid input reaches the route, which answers
    /// anything but a validation error.
    WidgetBody,
    WidgetQuery,
}

fn property_names(schema: &Value) -> Vec<String> {
    let branches = match schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        Some(branches) => branches.clone(),
        None => vec![schema.clone()],
    };
    let mut names: Vec<String> = Vec::new();
    for branch in branches {
        for name in branch["properties"].as_object().unwrap().keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names
}

async fn agree_with_rocket_chat(
    path: &str,
    schema_name: &str,
    route: Route,
    schema: Value,
    seed: u64,
) {
    let names = property_names(&schema);
    let properties: Vec<&str> = names.iter().map(String::as_str).collect();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let coercion = if matches!(route, Route::Query | Route::WidgetQuery) {
        Coercion::Arrays
    } else {
        Coercion::Scalars
    };
    let validator = RequestSchema::compile_with(schema.clone(), coercion).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let inputs: Vec<Value> = (0..BODIES_PER_SCHEMA)
        .map(|_| match route {
            Route::Query | Route::WidgetQuery => query(&mut rng, &properties),
            _ => body(&mut rng, &properties, &required),
        })
        .collect();
    let verdicts = ajv_verdicts(schema_name, &inputs);
    let app = TestApp::spawn().await;

    let mut valid = 0;
    for (input, verdict) in inputs.iter().zip(&verdicts) {
        let mut ours = input.clone();
        let result = validator.validate(&mut ours);
        let reply = match route {
            Route::Query | Route::WidgetQuery => {
                let url = format!("{path}?{}", encode_query(input));
                app.get_json(&url, Some(NO_PERMISSION)).await
            }
            _ => app.post_json(path, Some(NO_PERMISSION), input).await,
        };
        if verdict["valid"] == true {
            valid += 1;
            assert_eq!(result, Ok(()), "Rocket.Chat accepts {input}");
            assert_eq!(
                as_doubles(ours),
                as_doubles(verdict["data"].clone()),
                "coercion of {input}"
            );
            if matches!(route, Route::WidgetBody | Route::WidgetQuery) {
                assert_ne!(
                    reply.body["errorType"], "invalid-params",
                    "the server validates {input} as valid: {}",
                    reply.body
                );
            } else {
                assert_eq!(
                    reply.status, 403,
                    "the server validates {input} as valid: {}",
                    reply.body
                );
            }
        } else {
            let message = verdict["message"].as_str().unwrap();
            assert_eq!(
                result,
                Err(message.to_owned()),
                "Rocket.Chat refuses {input}"
            );
            assert_eq!(reply.status, 400, "{input}");
            match route {
                Route::TypedBody => {
                    assert_eq!(reply.body["errorType"], "error-invalid-params", "{input}");
                    assert_eq!(reply.error(), message, "{input}");
                }
                _ => assert_eq!(
                    reply.error(),
                    format!("{message} [invalid-params]"),
                    "{input}"
                ),
            }
        }
    }
    // The generator must exercise both sides.
    assert!(
        valid > BODIES_PER_SCHEMA / 20 && valid < BODIES_PER_SCHEMA * 19 / 20,
        "{valid} valid inputs"
    );
}

fn served_body_schema(path: &str) -> Value {
    rocketchat_mock::openapi::request_schema(&contract().document, path).unwrap()
}

#[tokio::test]
async fn update_validation_agrees_with_rocket_chat() {
    agree_with_rocket_chat(
        UPDATE,
        "update",
        Route::LegacyBody,
        served_body_schema(UPDATE),
        2,
    )
    .await;
}

#[tokio::test]
async fn conflicts_validation_agrees_with_rocket_chat() {
    let schema = served_body_schema(CONFLICTS);
    agree_with_rocket_chat(CONFLICTS, "conflicts", Route::LegacyBody, schema, 7).await;
}

#[tokio::test]
async fn create_validation_agrees_with_rocket_chat() {
    let schema = served_body_schema(CREATE);
    agree_with_rocket_chat(CREATE, "create", Route::LegacyBody, schema, 11).await;
}

#[tokio::test]
async fn delete_validation_agrees_with_rocket_chat_in_the_typed_route_shape() {
    let schema = served_body_schema(DELETE);
    agree_with_rocket_chat(DELETE, "delete", Route::TypedBody, schema, 13).await;
}

#[tokio::test]
async fn get_query_validation_agrees_with_rocket_chat() {
    let schema = (request::GET_CONTACT_QUERY.schema)();
    agree_with_rocket_chat(GET, "get", Route::Query, schema, 17).await;
}

#[tokio::test]
async fn search_query_validation_agrees_with_rocket_chat() {
    let schema = (request::SEARCH_CONTACTS_QUERY.schema)();
    agree_with_rocket_chat(SEARCH, "search", Route::Query, schema, 19).await;
}

#[tokio::test]
async fn check_existence_query_validation_agrees_with_rocket_chat() {
    let schema = (request::CHECK_EXISTENCE_QUERY.schema)();
    agree_with_rocket_chat(CHECK_EXISTENCE, "checkExistence", Route::Query, schema, 23).await;
}

#[tokio::test]
async fn livechat_custom_field_validation_agrees_with_rocket_chat() {
    let path = "/api/v1/livechat/custom.field";
    let schema = served_body_schema(path);
    agree_with_rocket_chat(path, "customField", Route::WidgetBody, schema, 29).await;
}

#[tokio::test]
async fn livechat_custom_fields_validation_agrees_with_rocket_chat() {
    let path = "/api/v1/livechat/custom.fields";
    let schema = served_body_schema(path);
    agree_with_rocket_chat(path, "customFields", Route::WidgetBody, schema, 31).await;
}

#[tokio::test]
async fn livechat_room_close_validation_agrees_with_rocket_chat() {
    let path = "/api/v1/livechat/room.close";
    let schema = served_body_schema(path);
    agree_with_rocket_chat(path, "roomClose", Route::WidgetBody, schema, 37).await;
}

#[tokio::test]
async fn livechat_message_validation_agrees_with_rocket_chat() {
    let path = "/api/v1/livechat/message";
    let schema = served_body_schema(path);
    agree_with_rocket_chat(path, "message", Route::WidgetBody, schema, 41).await;
}

#[tokio::test]
async fn livechat_history_query_validation_agrees_with_rocket_chat() {
    let schema = (request::HISTORY_QUERY.schema)();
    let path = "/api/v1/livechat/messages.history/Ty7HbWq2KcnA9pLx3";
    agree_with_rocket_chat(path, "history", Route::WidgetQuery, schema, 43).await;
}

#[tokio::test]
async fn contact_history_query_validation_agrees_with_rocket_chat() {
    let schema = (request::CONTACT_HISTORY_QUERY.schema)();
    let path = "/api/v1/omnichannel/contacts.history";
    agree_with_rocket_chat(path, "contactHistory", Route::Query, schema, 47).await;
}

#[tokio::test]
async fn contact_channels_query_validation_agrees_with_rocket_chat() {
    let schema = (request::CONTACT_CHANNELS_QUERY.schema)();
    let path = "/api/v1/omnichannel/contacts.channels";
    agree_with_rocket_chat(path, "contactChannels", Route::Query, schema, 53).await;
}

#[tokio::test]
async fn custom_field_list_query_validation_agrees_with_rocket_chat() {
    let schema = (request::CUSTOM_FIELDS_QUERY.schema)();
    let path = "/api/v1/livechat/custom-fields";
    agree_with_rocket_chat(path, "customFieldsList", Route::Query, schema, 59).await;
}

#[tokio::test]
async fn room_messages_query_validation_agrees_with_rocket_chat() {
    let schema = (request::ROOM_MESSAGES_QUERY.schema)();
    let path = "/api/v1/livechat/bC5x3zmBdgtmA4m3W/messages";
    agree_with_rocket_chat(path, "roomMessages", Route::Query, schema, 61).await;
}

/// The route reads its sort and the type's permission in the handler: a valid query is
/// answered anything but a validation error.
#[tokio::test]
async fn omnichannel_users_query_validation_agrees_with_rocket_chat() {
    let schema = (request::OMNICHANNEL_USERS_QUERY.schema)();
    let path = "/api/v1/livechat/users/agent";
    agree_with_rocket_chat(path, "users", Route::WidgetQuery, schema, 67).await;
}

#[tokio::test]
async fn users_info_query_validation_agrees_with_rocket_chat() {
    let schema = (request::USERS_INFO_QUERY.schema)();
    agree_with_rocket_chat(
        "/api/v1/users.info",
        "usersInfo",
        Route::WidgetQuery,
        schema,
        71,
    )
    .await;
}

#[tokio::test]
async fn block_validation_agrees_with_rocket_chat() {
    let path = "/api/v1/omnichannel/contacts.block";
    let schema = served_body_schema(path);
    agree_with_rocket_chat(path, "block", Route::LegacyBody, schema, 73).await;
}
