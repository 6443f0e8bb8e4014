//! Spawns the real server on a free port and talks to it as a client would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use clap::Parser;
use reqwest::Method;
use rocketchat_mock::config::{Config, RocketChatVersion};
use rocketchat_mock::startup::Application;
use rocketchat_mock::store::fixtures::Collection;
use serde_json::Value;

pub const UPDATE: &str = "/api/v1/omnichannel/contacts.update";
pub const CONFLICTS: &str = "/api/v1/omnichannel/contacts.conflicts";
pub const CREATE: &str = "/api/v1/omnichannel/contacts";
pub const DELETE: &str = "/api/v1/omnichannel/contacts.delete";
pub const GET: &str = "/api/v1/omnichannel/contacts.get";
pub const SEARCH: &str = "/api/v1/omnichannel/contacts.search";
pub const CHECK_EXISTENCE: &str = "/api/v1/omnichannel/contacts.checkExistence";
pub const LOGIN: &str = "/api/v1/login";
pub const LOGOUT: &str = "/api/v1/logout";
pub const ME: &str = "/api/v1/me";

/// A fixture user and one of its tokens.
#[derive(Clone, Copy)]
pub struct User {
    pub id: &'static str,
    pub token: &'static str,
}

/// `admin` + `livechat-agent`, the user of the reference pages' examples.
pub const ADMIN: User = User {
    id: "rbAXPnMktTFbNpwtJ",
    token: "RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f",
};
/// An agent whose token is stored only hashed, as Rocket.Chat stores it.
pub const HASHED_TOKEN_AGENT: User = User {
    id: "test.agent",
    token: "test-agent-token",
};
/// `livechat-manager`, not an agent: may update contacts, cannot manage one.
pub const MANAGER: User = User {
    id: "kM3nXq7TzPmanagr",
    token: "manager-lucas-token",
};
/// Role `user` only: lacks `update-livechat-contact`.
pub const NO_PERMISSION: User = User {
    id: "pL2wQr8YxUsernoP",
    token: "user-nina-token",
};
/// An agent whose account is deactivated.
pub const DEACTIVATED: User = User {
    id: "dV9cBn4MxDeactiv",
    token: "deactivated-agent-token",
};

pub const JOHN: &str = "67487f45e98719b7908d0f29";
pub const JANE: &str = "68135a22e384b3ad127c7dbc";
pub const CARLOS: &str = "6750a1b2c3d4e5f6a7b8c9d0";
pub const GUEST: &str = "6750a1b2c3d4e5f6a7b8c9d1";
pub const DELETED: &str = "6750a1b2c3d4e5f6a7b8c9d2";

#[derive(Clone)]
pub struct TestApp {
    pub address: String,
    client: reqwest::Client,
    /// Sent as `X-Mock-Session` with every request.
    session: Option<String>,
    version: RocketChatVersion,
}

/// A response: its status and its JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The `error` of a failure body.
    pub fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", self.body))
    }
}

impl TestApp {
    /// The server on the built-in default fixtures.
    pub async fn spawn() -> Self {
        Self::spawn_with(Config::for_tests()).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        let app = Application::build(&config).expect("the application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run());
        Self {
            address,
            client: reqwest::Client::new(),
            session: None,
            version: config.rocketchat_version,
        }
    }

    /// The server on `args` (command-line flags after the program name).
    pub async fn spawn_with_args(args: &[&str]) -> Self {
        let mut argv = vec!["rocketchat-mock", "--port", "0"];
        if !args.contains(&"--workers") {
            argv.extend(["--workers", "1"]);
        }
        let config = Config::parse_from(argv.iter().chain(args));
        Self::spawn_with(config).await
    }

    /// The same server, every request made in the session `name`.
    pub fn in_session(&self, name: &str) -> Self {
        Self {
            session: Some(name.to_owned()),
            ..self.clone()
        }
    }

    /// A request to `path`, in this handle's session.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address));
        match &self.session {
            Some(name) => request.header("X-Mock-Session", name),
            None => request,
        }
    }

    /// A request with an optional JSON body, its answer checked against the contract.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.request(method.clone(), path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = self.send(request).await;
        contract_for(self.version).check(method.as_str(), path, &reply);
        reply
    }

    pub async fn health(&self) -> Reply {
        self.call(Method::GET, "/_mock/health", None).await
    }

    pub async fn reset(&self) -> Reply {
        self.call(Method::POST, "/_mock/reset", None).await
    }

    /// `GET /_mock/state`, asserted to succeed.
    pub async fn state(&self) -> Value {
        let reply = self.call(Method::GET, "/_mock/state", None).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    pub async fn put_state(&self, state: &Value) -> Reply {
        self.call(Method::PUT, "/_mock/state", Some(state)).await
    }

    pub async fn patch_state(&self, patch: &Value) -> Reply {
        self.call(Method::PATCH, "/_mock/state", Some(patch)).await
    }

    /// The journal's entries, filtered by `query` (e.g. `?method=POST`), asserted to succeed.
    pub async fn journal(&self, query: &str) -> Vec<Value> {
        let reply = self
            .call(Method::GET, &format!("/_mock/requests{query}"), None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["requests"].as_array().unwrap().clone()
    }

    /// The stored contact `id` in this handle's session.
    pub async fn contact(&self, id: &str) -> Value {
        let state = self.state().await;
        state["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["_id"] == id)
            .unwrap_or_else(|| panic!("no contact {id}"))
            .clone()
    }

    /// The server on the default fixtures with some files replaced by `overrides`.
    pub async fn spawn_with_fixtures(name: &str, overrides: &[(&str, &str)]) -> Self {
        let dir = fixture_dir(name, overrides);
        let mut config = Config::for_tests();
        config.fixtures = Some(dir);
        Self::spawn_with(config).await
    }

    pub async fn update(&self, user: User, body: Value) -> Reply {
        self.post_json(UPDATE, Some(user), &body).await
    }

    pub async fn conflicts(&self, user: User, body: Value) -> Reply {
        self.post_json(CONFLICTS, Some(user), &body).await
    }

    /// A raw body to `contacts.update` as the admin.
    pub async fn update_raw(&self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Reply {
        self.post(UPDATE, Some(ADMIN), content_type, body.into())
            .await
    }

    pub async fn post_json(&self, path: &str, user: Option<User>, body: &Value) -> Reply {
        self.post(
            path,
            user,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Any body, with any content type; checks the answer against the contract.
    pub async fn post(
        &self,
        path: &str,
        user: Option<User>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self.request(Method::POST, path).body(body);
        if let Some(user) = user {
            request = request
                .header("X-User-Id", user.id)
                .header("X-Auth-Token", user.token);
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let reply = self.send(request).await;
        contract_for(self.version).check("POST", path, &reply);
        reply
    }

    /// A GET of `path_and_query` as `user`; the answer is checked against the contract of
    /// the path's operation.
    pub async fn get_json(&self, path_and_query: &str, user: Option<User>) -> Reply {
        let mut request = self.request(Method::GET, path_and_query);
        if let Some(user) = user {
            request = request
                .header("X-User-Id", user.id)
                .header("X-Auth-Token", user.token);
        }
        let reply = self.send(request).await;
        let path = path_and_query.split('?').next().unwrap_or(path_and_query);
        contract_for(self.version).check("GET", path, &reply);
        reply
    }

    /// A request as `user_id` with `token` (e.g. one a login returned), checked against
    /// the contract.
    pub async fn call_as(
        &self,
        method: Method,
        path_and_query: &str,
        user_id: &str,
        token: &str,
    ) -> Reply {
        let request = self
            .request(method.clone(), path_and_query)
            .header("X-User-Id", user_id)
            .header("X-Auth-Token", token);
        let reply = self.send(request).await;
        let path = path_and_query.split('?').next().unwrap_or(path_and_query);
        contract_for(self.version).check(method.as_str(), path, &reply);
        reply
    }

    pub async fn login(&self, body: Value) -> Reply {
        self.post_json(LOGIN, None, &body).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("the server answers")
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.expect("a body");
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "status {status}, body {text:?}"
        );
        let body =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
        Reply { status, body }
    }
}

/// The served OpenAPI document, with a validator per documented response.
pub struct Contract {
    pub document: Value,
    /// Compiled once per schema: every reply of every test is checked.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// The document a default server serves (reference version, control API on).
pub fn contract() -> &'static Contract {
    contract_for(RocketChatVersion::Reference)
}

/// The document a server emulating `version` serves.
pub fn contract_for(version: RocketChatVersion) -> &'static Contract {
    static CONTRACTS: OnceLock<[Contract; 3]> = OnceLock::new();
    let contracts = CONTRACTS.get_or_init(|| {
        [
            RocketChatVersion::Reference,
            RocketChatVersion::V7,
            RocketChatVersion::V8,
        ]
        .map(|version| Contract {
            document: serde_json::from_str(&rocketchat_mock::openapi::document_json(version, true))
                .unwrap(),
            validators: Mutex::default(),
        })
    });
    &contracts[version as usize]
}

/// JSON pointer of the `method` operation at `path` (query string ignored), then `rest`.
fn operation_pointer(method: &str, path: &str, rest: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    format!(
        "/paths/{}/{}/{rest}",
        path.replace('/', "~1"),
        method.to_ascii_lowercase()
    )
}

impl Contract {
    /// JSON pointer of the response schema of `path` for `status`, if documented.
    pub fn response_schema_pointer(&self, method: &str, path: &str, status: u16) -> Option<String> {
        let pointer = operation_pointer(
            method,
            path,
            &format!("responses/{status}/content/application~1json/schema"),
        );
        self.document.pointer(&pointer).map(|_| pointer)
    }

    /// A validator for the schema at `pointer`, resolving `$ref`s within the document.
    pub fn validator(&self, pointer: &str) -> Arc<jsonschema::Validator> {
        let mut validators = self.validators.lock().unwrap();
        validators
            .entry(pointer.to_owned())
            .or_insert_with(|| {
                let mut root = self.document.clone();
                // A URI fragment: the braces of a templated path are percent-encoded.
                let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
                root["$ref"] = Value::String(format!("#{fragment}"));
                Arc::new(
                    jsonschema::draft202012::new(&root).expect("the document's schemas compile"),
                )
            })
            .clone()
    }

    /// Every documented route's answer must fit the schema of its status code.
    pub fn check(&self, method: &str, path: &str, reply: &Reply) {
        let Some(pointer) = self.response_schema_pointer(method, path, reply.status) else {
            return;
        };
        let validator = self.validator(&pointer);
        let errors: Vec<String> = validator
            .iter_errors(&reply.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{path} answered {} with {} which breaks its schema: {errors:?}",
            reply.status,
            reply.body
        );
    }

    /// The request example `name` of the operation at `path`, as served.
    pub fn request_example(&self, path: &str, name: &str) -> Value {
        let pointer = operation_pointer(
            "POST",
            path,
            &format!("requestBody/content/application~1json/examples/{name}/value"),
        );
        self.document
            .pointer(&pointer)
            .cloned()
            .unwrap_or_else(|| panic!("no example at {pointer}"))
    }
}

/// A folder holding the default fixtures, with `overrides` written over them.
pub fn fixture_dir(name: &str, overrides: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fixtures-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let defaults = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for file in Collection::ALL.map(Collection::file_name) {
        std::fs::copy(defaults.join(file), dir.join(file)).unwrap();
    }
    for (file, text) in overrides {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}
