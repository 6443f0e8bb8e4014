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
use rocketchat_mock::validation::RequestSchema;
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

fn body(rng: &mut StdRng, properties: &[&str]) -> Value {
    if rng.random_ratio(1, 40) {
        return Value::Array(vec![value(rng, 1)]);
    }
    let extra = ["unknown", "channels", "10", "__proto__"];
    let mut map = Map::new();
    if rng.random_ratio(9, 10) {
        map.insert(
            "contactId".into(),
            if rng.random_ratio(4, 5) {
                json!(JOHN)
            } else {
                value(rng, 1)
            },
        );
    }
    for name in properties {
        if rng.random_ratio(1, 3) {
            map.insert(name.to_string(), value(rng, 0));
        }
    }
    if rng.random_ratio(1, 15) {
        map.insert(extra.choose(rng).unwrap().to_string(), value(rng, 1));
    }
    Value::Object(map)
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

async fn agree_with_rocket_chat(path: &str, schema_name: &str, seed: u64) {
    let schema = rocketchat_mock::openapi::request_schema(&contract().document, path).unwrap();
    let properties: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let validator = RequestSchema::compile(schema.clone()).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let bodies: Vec<Value> = (0..BODIES_PER_SCHEMA)
        .map(|_| body(&mut rng, &properties))
        .collect();
    let verdicts = ajv_verdicts(schema_name, &bodies);
    let app = TestApp::spawn().await;

    let mut valid = 0;
    for (body, verdict) in bodies.iter().zip(&verdicts) {
        let mut ours = body.clone();
        let result = validator.validate(&mut ours);
        let reply = app.post_json(path, Some(NO_PERMISSION), body).await;
        if verdict["valid"] == true {
            valid += 1;
            assert_eq!(result, Ok(()), "Rocket.Chat accepts {body}");
            assert_eq!(
                as_doubles(ours),
                as_doubles(verdict["data"].clone()),
                "coercion of {body}"
            );
            assert_eq!(
                reply.status, 403,
                "the server validates {body} as valid: {}",
                reply.body
            );
        } else {
            let message = verdict["message"].as_str().unwrap();
            assert_eq!(
                result,
                Err(message.to_owned()),
                "Rocket.Chat refuses {body}"
            );
            assert_eq!(reply.status, 400, "{body}");
            assert_eq!(
                reply.error(),
                format!("{message} [invalid-params]"),
                "{body}"
            );
        }
    }
    // The generator must exercise both sides.
    assert!(
        valid > BODIES_PER_SCHEMA / 10 && valid < BODIES_PER_SCHEMA * 9 / 10,
        "{valid} valid bodies"
    );
}

#[tokio::test]
async fn update_validation_agrees_with_rocket_chat() {
    agree_with_rocket_chat(UPDATE, "update", 2).await;
}

#[tokio::test]
async fn conflicts_validation_agrees_with_rocket_chat() {
    agree_with_rocket_chat(CONFLICTS, "conflicts", 7).await;
}
