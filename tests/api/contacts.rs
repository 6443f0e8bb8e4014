//! `contacts.get`, `contacts.search`, `contacts.checkExistence`, `contacts` (create) and
//! `contacts.delete`, on the same state as `contacts.update` and `contacts.conflicts`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// A user with the `livechat-agent` role only: may view and create, not delete.
const AGENT: User = User {
    id: "9sLvmAcQk4EAGdi6e",
    token: "agent-maria-token",
};

fn names(reply: &Reply) -> Vec<&str> {
    reply.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("(none)"))
        .collect()
}

fn invalid(message: &str) -> Value {
    json!({ "success": false, "error": format!("{message} [invalid-params]"), "errorType": "invalid-params" })
}

#[tokio::test]
async fn get_answers_the_stored_contact_or_rocket_chats_404() {
    let app = TestApp::spawn().await;
    let reply = app
        .get_json(&format!("{GET}?contactId={JOHN}"), Some(AGENT))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["contact"], app.contact(JOHN).await);
    assert_eq!(reply.body["success"], true);

    let not_found = json!({ "success": false, "error": "Resource not found" });
    for id in ["nope", DELETED] {
        let reply = app
            .get_json(&format!("{GET}?contactId={id}"), Some(ADMIN))
            .await;
        assert_eq!((reply.status, &reply.body), (404, &not_found), "{id}");
    }
    let reply = app
        .get_json(&format!("{GET}?contactId=%20"), Some(ADMIN))
        .await;
    assert_eq!(
        reply.body,
        invalid("must pass \"isNotEmpty\" keyword validation")
    );
    let reply = app
        .get_json(&format!("{GET}?contactId={JOHN}&x=1"), Some(ADMIN))
        .await;
    assert_eq!(reply.body, invalid("must NOT have additional properties"));
    // Validation comes before the permission, and authentication before both.
    let reply = app.get_json(GET, Some(NO_PERMISSION)).await;
    assert_eq!(
        reply.body,
        invalid("must have required property 'contactId'")
    );
    let reply = app
        .get_json(&format!("{GET}?contactId={JOHN}"), Some(NO_PERMISSION))
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(app.get_json(GET, None).await.status, 401);
}

#[tokio::test]
async fn search_pages_sorts_and_finds_text_as_rocket_chat_does() {
    let app = TestApp::spawn().await;
    let reply = app.get_json(SEARCH, Some(AGENT)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Known, enabled contacts only, by name; the guest and the deleted one are left out.
    assert_eq!(names(&reply), ["Carlos Pereira", "Jane Doe", "John"]);
    assert_eq!(
        (
            &reply.body["count"],
            &reply.body["offset"],
            &reply.body["total"]
        ),
        (&json!(50), &json!(0), &json!(3))
    );
    let john = reply.body["contacts"][2].as_object().unwrap();
    assert_eq!(
        john["contactManager"],
        json!({ "_id": "9sLvmAcQk4EAGdi6e", "username": "maria.agent", "name": "Maria Agent" })
    );
    assert_eq!(john.keys().next_back().unwrap(), "contactManager");

    // Text in an e-mail address or phone number, any case; regex characters are literal.
    let reply = app
        .get_json(&format!("{SEARCH}?searchText=WORK.EXAMPLE"), Some(AGENT))
        .await;
    assert_eq!(names(&reply), ["Carlos Pereira"]);
    let reply = app
        .get_json(&format!("{SEARCH}?searchText=%2B5511"), Some(AGENT))
        .await;
    assert_eq!(names(&reply), ["Jane Doe"]);
    let reply = app
        .get_json(&format!("{SEARCH}?searchText=J.hn"), Some(AGENT))
        .await;
    assert_eq!(names(&reply), Vec::<&str>::new());

    let query = "count=1&offset=1&sort=%7B%22name%22%3A-1%7D";
    let reply = app
        .get_json(&format!("{SEARCH}?{query}"), Some(AGENT))
        .await;
    assert_eq!(names(&reply), ["Jane Doe"]);
    assert_eq!(
        (&reply.body["count"], &reply.body["total"]),
        (&json!(1), &json!(3))
    );
    let reply = app
        .get_json(&format!("{SEARCH}?unknown=true"), Some(AGENT))
        .await;
    assert_eq!(names(&reply), ["Guest-42"]);

    let reply = app
        .get_json(&format!("{SEARCH}?sort=name"), Some(AGENT))
        .await;
    assert_eq!(
        (reply.status, reply.body),
        (
            400,
            json!({
                "success": false,
                "error": "Invalid sort parameter provided: \"name\" [error-invalid-sort]",
                "errorType": "error-invalid-sort",
                "details": { "helperMethod": "parseJsonQuery" }
            })
        )
    );
    let reply = app
        .get_json(&format!("{SEARCH}?count=ten"), Some(AGENT))
        .await;
    assert_eq!(reply.body, invalid("must be number"));
    let reply = app
        .get_json(&format!("{SEARCH}?unknown=1"), Some(AGENT))
        .await;
    assert_eq!(reply.body, invalid("must be boolean"));
    assert_eq!(app.get_json(SEARCH, Some(NO_PERMISSION)).await.status, 403);
}

#[tokio::test]
async fn check_existence_takes_exactly_one_exact_value() {
    let app = TestApp::spawn().await;
    let exists = |reply: &Reply| {
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["exists"].as_bool().unwrap()
    };
    for (query, expected) in [
        ("email=jane.doe@example.com".to_owned(), true),
        ("email=JANE.DOE@example.com".to_owned(), false),
        ("phone=%2B5521988887777".to_owned(), true),
        ("phone=5521988887777".to_owned(), false),
        (format!("contactId={JOHN}"), true),
        // A deleted contact still exists by its `_id`.
        (format!("contactId={DELETED}"), true),
        ("contactId=nope".to_owned(), false),
    ] {
        let reply = app
            .get_json(&format!("{CHECK_EXISTENCE}?{query}"), Some(AGENT))
            .await;
        assert_eq!(exists(&reply), expected, "{query}");
    }
    let reply = app.get_json(CHECK_EXISTENCE, Some(AGENT)).await;
    assert_eq!(
        reply.body,
        invalid(
            "must have required property 'contactId'\n must have required property 'email'\n must have required property 'phone'\n must match exactly one schema in oneOf"
        )
    );
    let reply = app
        .get_json(
            &format!("{CHECK_EXISTENCE}?email=not-an-email"),
            Some(AGENT),
        )
        .await;
    assert_eq!(
        reply.body,
        invalid(
            "must have required property 'contactId'\n must match format \"basic_email\"\n must have required property 'phone'\n must match exactly one schema in oneOf"
        )
    );
}

#[tokio::test]
async fn a_created_contact_is_found_updated_resolved_and_seen_by_the_control_api() {
    let app = TestApp::spawn().await;
    let body = json!({
        "name": "Ana Souza",
        "emails": ["ana@example.com"],
        "phones": ["+5511988887777"],
        "customFields": { "company": " Acme ", "cpf": "12345678901" },
        "contactManager": AGENT.id
    });
    let reply = app.post_json(CREATE, Some(AGENT), &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let id = reply.body["contactId"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );

    let stored = app.contact(&id).await;
    let keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "_id",
            "createdAt",
            "name",
            "emails",
            "phones",
            "contactManager",
            "channels",
            "customFields",
            "unknown",
            "preRegistration",
            "_updatedAt"
        ]
    );
    assert_eq!(stored["emails"], json!([{ "address": "ana@example.com" }]));
    assert_eq!(
        stored["customFields"],
        json!({ "cpf": "12345678901", "company": "Acme" })
    );
    assert_eq!(
        (&stored["unknown"], &stored["preRegistration"]),
        (&json!(false), &json!(true))
    );

    let reply = app
        .get_json(&format!("{GET}?contactId={id}"), Some(AGENT))
        .await;
    assert_eq!(reply.body["contact"], stored);
    let reply = app
        .get_json(&format!("{SEARCH}?searchText=ana%40"), Some(AGENT))
        .await;
    assert_eq!(names(&reply), ["Ana Souza"]);
    let reply = app
        .update(ADMIN, json!({ "contactId": id, "name": "Ana S." }))
        .await;
    assert_eq!(reply.body["contact"]["name"], "Ana S.");
    let reply = app
        .conflicts(ADMIN, json!({ "contactId": id, "wipeConflicts": true }))
        .await;
    assert_eq!(reply.body["error"], "error-contact-has-no-conflicts");
}

#[tokio::test]
async fn create_refuses_what_rocket_chat_refuses_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let before = app.state().await;
    let base = json!({ "name": "X", "emails": [], "phones": [] });
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (body, error) in [
        (
            json!({ "emails": [], "phones": [] }),
            "must have required property 'name' [invalid-params]",
        ),
        (
            json!({ "name": "X", "phones": [] }),
            "must have required property 'emails' [invalid-params]",
        ),
        (
            with("emails", json!(["a", "a"])),
            "must NOT have duplicate items (items ## 1 and 0 are identical) [invalid-params]",
        ),
        (
            with("channels", json!([])),
            "must NOT have additional properties [invalid-params]",
        ),
        (
            with("customFields", json!({ "cpf": "123" })),
            "Invalid value for CPF field",
        ),
        (
            with("customFields", json!({ "nickname": "x" })),
            "Custom field nickname is not allowed",
        ),
        (
            with("customFields", json!({ "internalScore": "9" })),
            "Custom field internalScore is not allowed",
        ),
        (
            with("customFields", Value::Null),
            "Cannot read properties of null (reading 'hasOwnProperty')",
        ),
        (
            with("contactManager", json!("kM3nXq7TzPmanagr")),
            "error-contact-manager-not-found",
        ),
    ] {
        let reply = app.post_json(CREATE, Some(ADMIN), &body).await;
        assert_eq!((reply.status, reply.error()), (400, error), "{body}");
    }
    assert_eq!(app.state().await, before);
    let reply = app.post_json(CREATE, Some(NO_PERMISSION), &base).await;
    assert_eq!(reply.status, 403);

    // What the schema lets through is accepted; a `null` manager is not stored.
    let reply = app
        .post_json(CREATE, Some(ADMIN), &with("contactManager", Value::Null))
        .await;
    let id = reply.body["contactId"].as_str().unwrap().to_owned();
    assert!(app.contact(&id).await.get("contactManager").is_none());
}

#[tokio::test]
async fn delete_is_a_typed_route_that_validates_before_it_authenticates() {
    let app = TestApp::spawn().await;
    let typed = json!({
        "success": false,
        "errorType": "error-invalid-params",
        "error": "must have required property 'contactId'"
    });
    let reply = app.post_json(DELETE, None, &json!({})).await;
    assert_eq!((reply.status, &reply.body), (400, &typed));
    let body = json!({ "contactId": JOHN });
    assert_eq!(app.post_json(DELETE, None, &body).await.status, 401);
    assert_eq!(app.post_json(DELETE, Some(AGENT), &body).await.status, 403);

    let reply = app.post_json(DELETE, Some(MANAGER), &body).await;
    assert_eq!(
        (reply.status, reply.body),
        (200, json!({ "success": true }))
    );
    let deleted = app.contact(JOHN).await;
    assert_eq!(deleted["enabled"], false);
    for gone in [
        "name",
        "emails",
        "phones",
        "channels",
        "customFields",
        "lastChat",
        "conflictingFields",
    ] {
        assert!(deleted.get(gone).is_none(), "{gone} removed: {deleted}");
    }
    assert_eq!(deleted["contactManager"], "9sLvmAcQk4EAGdi6e");
    let reply = app
        .get_json(&format!("{GET}?contactId={JOHN}"), Some(ADMIN))
        .await;
    assert_eq!(reply.status, 404);

    let not_found = json!({ "success": false, "error": "error-contact-not-found" });
    for id in [JOHN, "nope"] {
        let reply = app
            .post_json(DELETE, Some(ADMIN), &json!({ "contactId": id }))
            .await;
        assert_eq!((reply.status, &reply.body), (404, &not_found), "{id}");
    }
    let reply = app
        .update(ADMIN, json!({ "contactId": JOHN, "name": "Back" }))
        .await;
    assert_eq!(reply.error(), "error-contact-not-found");

    // Upstream reads the contact's channel list; a contact without one cannot be deleted.
    let patch =
        json!({ "contacts": [{ "_id": "no-channels", "name": "Legacy", "unknown": false }] });
    assert_eq!(app.patch_state(&patch).await.status, 200);
    let reply = app
        .post_json(DELETE, Some(ADMIN), &json!({ "contactId": "no-channels" }))
        .await;
    assert_eq!(
        (reply.status, reply.body),
        (
            400,
            json!({ "success": false, "error": "error-invalid-contact" })
        )
    );
}

/// The README's walkthrough: log in → search → open → update → resolve conflicts.
#[tokio::test]
async fn the_readme_walkthrough_works_end_to_end() {
    let app = TestApp::spawn().await;
    let reply = app
        .login(json!({ "user": "maria.agent", "password": "maria-password" }))
        .await;
    let user_id = reply.body["data"]["userId"].as_str().unwrap().to_owned();
    let token = reply.body["data"]["authToken"].as_str().unwrap().to_owned();

    let found = app
        .call_as(
            Method::GET,
            &format!("{SEARCH}?searchText=jane"),
            &user_id,
            &token,
        )
        .await;
    let id = found.body["contacts"][0]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id, JANE);
    let opened = app
        .call_as(
            Method::GET,
            &format!("{GET}?contactId={id}"),
            &user_id,
            &token,
        )
        .await;
    assert!(
        !opened.body["contact"]["conflictingFields"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let update = app
        .request(Method::POST, UPDATE)
        .header("X-User-Id", &user_id)
        .header("X-Auth-Token", &token)
        .json(&json!({ "contactId": id, "phones": ["+5511999990000", "+5511911112222"] }));
    let updated = app.send(update).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let resolve = app
        .request(Method::POST, CONFLICTS)
        .header("X-User-Id", &user_id)
        .header("X-Auth-Token", &token)
        .json(&json!({ "contactId": id, "name": "Jane Doe", "wipeConflicts": true }));
    let resolved = app.send(resolve).await;
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    assert_eq!(resolved.body["result"]["conflictingFields"], json!([]));
    let reopened = app
        .call_as(
            Method::GET,
            &format!("{GET}?contactId={id}"),
            &user_id,
            &token,
        )
        .await;
    assert_eq!(reopened.body["contact"], resolved.body["result"]);
}

#[tokio::test]
async fn with_a_seed_created_ids_repeat_from_run_to_run() {
    let body = json!({ "name": "Same", "emails": [], "phones": [] });
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = TestApp::spawn_with_args(&["--seed", "42"]).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let reply = app.post_json(CREATE, Some(ADMIN), &body).await;
            ids.push(reply.body["contactId"].as_str().unwrap().to_owned());
        }
        runs.push(ids);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(
        runs[0]
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        3
    );
    let unseeded = TestApp::spawn().await;
    let reply = unseeded.post_json(CREATE, Some(ADMIN), &body).await;
    assert_ne!(reply.body["contactId"].as_str().unwrap(), runs[0][0]);
}

/// Swagger UI's "Try it out" sends the documented examples: each must succeed as it is.
#[tokio::test]
async fn the_documented_examples_succeed_as_they_are() {
    let app = TestApp::spawn().await;
    for (path, user) in [(LOGIN, None), (CREATE, Some(ADMIN)), (DELETE, Some(ADMIN))] {
        let example = contract().request_example(path, "Example 1");
        let reply = app.post_json(path, user, &example).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    for path in [GET, SEARCH, CHECK_EXISTENCE] {
        let pointer = format!("/paths/{}/get/parameters", path.replace('/', "~1"));
        let parameters = contract()
            .document
            .pointer(&pointer)
            .unwrap()
            .as_array()
            .unwrap();
        let query: Vec<String> = parameters
            .iter()
            .filter_map(|p| {
                Some(format!(
                    "{}={}",
                    p["name"].as_str()?,
                    p["example"].as_str()?
                ))
            })
            .collect();
        assert!(!query.is_empty(), "{path} has examples");
        // The delete example above removed John; reset so that his example is found again.
        app.reset().await;
        let reply = app
            .get_json(&format!("{path}?{}", query.join("&")), Some(ADMIN))
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
}

/// The newest `createContact` spreads only a truthy manager: `""` and `null` are not stored
/// (Rocket.Chat's own form sends `""` when no manager is picked).
#[tokio::test]
async fn an_empty_or_null_manager_is_not_stored_on_create() {
    let app = TestApp::spawn().await;
    for manager in [json!(""), json!(null)] {
        let body =
            json!({ "name": "No manager", "emails": [], "phones": [], "contactManager": manager });
        let reply = app.post_json(CREATE, Some(ADMIN), &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let contact = app.contact(reply.body["contactId"].as_str().unwrap()).await;
        assert!(
            contact.get("contactManager").is_none(),
            "{manager}: {contact}"
        );
    }
}

/// The newest http-router (8.x) names a typed route's validation error `invalid-params`.
#[tokio::test]
async fn an_8x_typed_route_says_invalid_params() {
    let app = TestApp::spawn_with_args(&["--rocketchat-version", "8"]).await;
    let reply = app.post_json(DELETE, None, &json!({})).await;
    assert_eq!(
        reply.body,
        json!({ "success": false, "errorType": "invalid-params", "error": "must have required property 'contactId'" })
    );
}
