//! Raw bytes into every route's whole pipeline, in process (no socket): middleware, body
//! read with each content type, query-string parsing, coercion, validation and the
//! handler, on the built-in fixtures. The server must never panic and never answer 5xx.
//!
//! Input: byte 0 picks the route, byte 1 the Content-Type, byte 2 the credentials; the
//! rest is the body (POST, PUT, PATCH) or the query string (GET).
//!
//!   cargo +nightly fuzz run pipeline -- -max_total_time=60

#![no_main]

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::rt::{System, SystemRunner};
use actix_web::test::{self, TestRequest};
use actix_web::web;
use libfuzzer_sys::fuzz_target;
use rocketchat_mock::config::Config;
use rocketchat_mock::startup::{self, AppState};

const ROUTES: [(Method, &str); 34] = [
    (Method::POST, "/api/v1/login"),
    (Method::POST, "/api/v1/logout"),
    (Method::GET, "/api/v1/me"),
    (Method::POST, "/api/v1/omnichannel/contacts"),
    (Method::POST, "/api/v1/omnichannel/contacts.update"),
    (Method::GET, "/api/v1/omnichannel/contacts.get"),
    (Method::GET, "/api/v1/omnichannel/contacts.search"),
    (Method::GET, "/api/v1/omnichannel/contacts.checkExistence"),
    (Method::POST, "/api/v1/omnichannel/contacts.conflicts"),
    (Method::POST, "/api/v1/omnichannel/contacts.delete"),
    (Method::PUT, "/_mock/state"),
    (Method::PATCH, "/_mock/state"),
    (Method::GET, "/_mock/requests"),
    (Method::POST, "/api/v1/omnichannel/contacts.unknown"),
    // The Livechat widget's routes (no login) and the contact center's.
    (Method::POST, "/api/v1/livechat/visitor"),
    (Method::GET, "/api/v1/livechat/visitor/jane-widget-token"),
    (Method::DELETE, "/api/v1/livechat/visitor/ana-widget-token"),
    (Method::POST, "/api/v1/livechat/custom.field"),
    (Method::POST, "/api/v1/livechat/custom.fields"),
    (Method::GET, "/api/v1/livechat/room"),
    (Method::POST, "/api/v1/livechat/room.close"),
    (Method::POST, "/api/v1/livechat/message"),
    (Method::GET, "/api/v1/livechat/messages.history/Ty7HbWq2KcnA9pLx3"),
    (Method::PUT, "/api/v1/livechat/message/Sd3Pq7MvXk2Nb8WcF"),
    (Method::POST, "/api/v1/livechat/visitor.status"),
    (Method::GET, "/api/v1/omnichannel/contacts.history"),
    (Method::GET, "/api/v1/omnichannel/contacts.channels"),
    (Method::POST, "/api/v1/omnichannel/contacts.block"),
    (Method::GET, "/api/v1/livechat/custom-fields"),
    (Method::GET, "/api/v1/livechat/users/agent"),
    (Method::GET, "/api/v1/users.info"),
    (Method::GET, "/api/v1/livechat/bC5x3zmBdgtmA4m3W/messages"),
    (Method::GET, "/api/info"),
    (Method::GET, "/api/v1/livechat/message/Sd3Pq7MvXk2Nb8WcF"),
];

const CONTENT_TYPES: [Option<&str>; 7] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("multipart/form-data; boundary=x"),
    Some("application/octet-stream"),
    None,
];

/// The admin, a user without the contacts permissions, and nobody.
const CREDENTIALS: [Option<(&str, &str)>; 3] = [
    Some((
        "rbAXPnMktTFbNpwtJ",
        "RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f",
    )),
    Some(("pL2wQr8YxUsernoP", "user-nina-token")),
    None,
];

fn state() -> web::Data<AppState> {
    static STATE: OnceLock<web::Data<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let mut config = Config::for_tests();
            // Journaling stays on (its body buffering is part of the pipeline), kept small.
            config.journal_size = 16;
            startup::build_state(&config)
                .expect("the built-in fixtures load")
                .0
        })
        .clone()
}

fuzz_target!(
    // Built before the first input, so that actix-router's one-time leaks at start-up are not
    // reported as leaks of an input.
    init: HARNESS.with(|_| ()),
    |data: &[u8]| {
    let [route, content_type, credentials, rest @ ..] = data else {
        return;
    };
    let (method, path) = &ROUTES[usize::from(*route) % ROUTES.len()];
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    let credentials = CREDENTIALS[usize::from(*credentials) % CREDENTIALS.len()];

    let mut request = TestRequest::default().method(method.clone());
    if *method == Method::GET {
        let uri = format!("{path}?{}", query_text(rest));
        let Ok(uri) = uri.parse::<Uri>() else { return };
        request = request.uri(&uri.to_string());
    } else {
        request = request.uri(path).set_payload(rest.to_vec());
    }
    if let Some(content_type) = content_type {
        request = request.insert_header(ContentType(content_type.parse().expect("a media type")));
    }
    if let Some((user, token)) = credentials {
        request = request
            .insert_header(("X-User-Id", user))
            .insert_header(("X-Auth-Token", token));
    }

    // Every input starts from the fixtures, so that a crash reproduces from its input alone
    // (and an earlier logout or state replacement does not lock later inputs out).
    let state = state();
    state.sessions.reset(state.sessions.default_session());
    let status = HARNESS.with(|(system, call)| system.block_on(call(request)));
    assert!(
        !status.is_server_error(),
        "{method} {path} answered {status}"
    );
    }
);

/// Calls the application: built once per thread, because building it again for every input
/// would also repeat actix-router's deliberate one-time leaks (pattern names), which
/// LeakSanitizer reports.
type Call = Box<dyn Fn(TestRequest) -> Pin<Box<dyn Future<Output = StatusCode>>>>;

thread_local! {
    // Leaked, never dropped: dropping the runtime while the thread's other locals are being
    // destroyed at exit trips actix-http's own thread-local pools.
    static HARNESS: &'static (SystemRunner, Call) = Box::leak(Box::new({
        let system = System::new();
        let service = Rc::new(system.block_on(test::init_service(startup::app(state()))));
        let call: Call = Box::new(move |request| {
            let service = service.clone();
            Box::pin(async move {
                let response = test::call_service(&*service, request.to_request()).await;
                let status = response.status();
                // Reading the body runs the serializer and the journal's buffering too.
                let _ = test::read_body(response).await;
                status
            })
        });
        (system, call)
    }));
}

/// The bytes as a query string: bytes a URI may hold as they are stay (so `&`, `=`, `[`,
/// `]` and `%` keep their meaning to the parser), the others are percent-encoded.
fn query_text(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"&=[]%._-~+,!*'()$:@/?".contains(&byte) {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    text
}
