//! The load benchmark's baseline (`benches/load/bench.py`): a bare actix-web JSON handler on
//! the route of `contacts.update`. It reads the body into a `serde_json::Value` and answers
//! a contact of about the size of the mock's answer, so what the mock's update costs beyond
//! this is the mock's own work (auth, validation, store, journal, log).
//!
//! `cargo run --release --example bare_actix -- --port 3001 --workers 1` (127.0.0.1 only).

use std::str::FromStr;

use actix_web::{App, HttpResponse, HttpServer, post, web};
use serde_json::{Value, json};

#[post("/api/v1/omnichannel/contacts.update")]
async fn update(body: web::Json<Value>) -> HttpResponse {
    let field = |name: &str| body.get(name).cloned().unwrap_or(Value::Null);
    let chat = json!({ "_id": "bC5x3zmBdgtmA4m3W", "ts": "2024-11-29T10:44:55.016Z" });
    HttpResponse::Ok().json(json!({
        "contact": {
            "_id": field("contactId"),
            "createdAt": "2024-11-28T14:33:41.487Z",
            "name": field("name"),
            "emails": [{ "address": "email@example.com" }],
            "phones": [{ "phoneNumber": "+123383883838" }],
            "channels": [{
                "name": "widget",
                "visitor": { "visitorId": "67499b2243725ce31dd57fc7", "source": { "type": "widget" } },
                "blocked": false,
                "verified": false,
                "details": { "type": "widget", "destination": "example.com" },
                "lastChat": chat.clone(),
            }],
            "customFields": {},
            "unknown": false,
            "preRegistration": false,
            "_updatedAt": "2024-11-29T13:31:43.595Z",
            "conflictingFields": [],
            "lastChat": chat,
            "contactManager": "9sLvmAcQk4EAGdi6e",
        },
        "success": true,
    }))
}

/// The value after `--name` on the command line, or `default`.
fn flag<T: FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|arg| arg == name) {
        Some(at) => args
            .get(at + 1)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a number")),
        None => default,
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = flag("--port", 3001);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers: usize = flag("--workers", cores);
    HttpServer::new(|| App::new().service(update))
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
