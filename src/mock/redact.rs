//! Secrets never reach the journal: they are replaced before an entry is stored, so that
//! `GET /_mock/requests` (and a memory dump of the process) has nothing to give away.
//!
//! What is a secret here is what grants a Rocket.Chat account: passwords, login tokens, the
//! password hash, two-factor codes, and the headers that carry them. Visitor tokens
//! (`token`, `x-visitor-token`) are not: they name a Livechat visitor, appear in paths
//! (`livechat/visitor/{token}`), and Rocket.Chat itself hands them to agents
//! (`livechat/visitors.info`). A test of a widget needs to see them.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use serde_json::Value;

/// What replaces a secret.
pub(crate) const MARKER: &str = "[redacted]";

/// Request and response headers whose value is a credential.
const SECRET_HEADERS: [&str; 6] = [
    "x-auth-token",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-2fa-code",
];

/// Body fields (at any depth) whose value is a secret:
/// - `password`: `POST /api/v1/login` (`{"user", "password"}`, JSON or form);
/// - `resume`: a resume login's token;
/// - `authToken`: the login answer's new token;
/// - `bcrypt`, `hashedToken`, `loginTokens`: Rocket.Chat's stored password hash and tokens,
///   should a document carrying them pass through a route.
///
/// Login's fields add, last, its two-factor code (`{"user", "password", "code"}`).
/// Elsewhere a `code` is data (a custom field may be called so).
const LOGIN_FIELDS: [&str; 7] = [
    "password",
    "resume",
    "authToken",
    "bcrypt",
    "hashedToken",
    "loginTokens",
    "code",
];

/// Every route's secret fields: login's but its `code`.
const SECRET_FIELDS: &[&str] = LOGIN_FIELDS.split_last().expect("fields").1;

/// A searcher per field of [`LOGIN_FIELDS`], built once; `fields` is that list or its
/// [`SECRET_FIELDS`] start.
fn finders(fields: &[&str]) -> &'static [memchr::memmem::Finder<'static>] {
    debug_assert!(LOGIN_FIELDS.starts_with(fields), "{fields:?}");
    static FINDERS: std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>> =
        std::sync::LazyLock::new(|| {
            LOGIN_FIELDS
                .iter()
                .map(|field| memchr::memmem::Finder::new(field.as_bytes()))
                .collect()
        });
    &FINDERS[..fields.len()]
}

/// The secret fields of a route's bodies.
pub(crate) fn fields_of(path: &str) -> &'static [&'static str] {
    if path.ends_with("/login") {
        &LOGIN_FIELDS
    } else {
        SECRET_FIELDS
    }
}

pub(crate) fn header(name: &HeaderName, value: HeaderValue) -> HeaderValue {
    if SECRET_HEADERS.contains(&name.as_str()) {
        HeaderValue::from_static(MARKER)
    } else {
        value
    }
}

/// `body` with every secret field's value replaced, as JSON or as a form; unchanged (and
/// not copied) when it names no secret field, which is every request but a few.
pub(crate) fn body(fields: &[&str], bytes: Bytes) -> Bytes {
    // Every response and request body passes here: searched with finders built once.
    if !finders(fields)
        .iter()
        .any(|finder| finder.find(&bytes).is_some())
    {
        return bytes;
    }
    if let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) {
        return if redact_value(fields, &mut value) {
            Bytes::from(serde_json::to_vec(&value).expect("a JSON value serialises"))
        } else {
            bytes
        };
    }
    if let Some(form) = redact_form(fields, &bytes) {
        return form;
    }
    // Neither JSON nor a form (cut short, or broken): kept only up to the first secret
    // field's name, so that what follows it cannot leak.
    let first = finders(fields)
        .iter()
        .filter_map(|finder| finder.find(&bytes))
        .min()
        .unwrap_or(bytes.len());
    let mut kept = bytes[..first].to_vec();
    kept.extend_from_slice(format!("{MARKER} (not JSON; the rest is not kept)").as_bytes());
    Bytes::from(kept)
}

/// A query string with the values of secret fields replaced.
pub(crate) fn query(fields: &[&str], query: &str) -> String {
    if !fields.iter().any(|field| query.contains(field)) {
        return query.to_owned();
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(query.as_bytes()).map(|(name, value)| {
                let value = if fields.contains(&name.as_ref()) {
                    MARKER.into()
                } else {
                    value
                };
                (name, value)
            }),
        )
        .finish()
}

/// Replaces secret fields' values in place; whether any was found. An object under a secret
/// name (`services.password: {"exists": true}`, `services.resume: {...}`) is searched, not
/// replaced, unless it holds nothing else worth seeing.
fn redact_value(fields: &[&str], value: &mut Value) -> bool {
    match value {
        Value::Object(object) => {
            let mut found = false;
            for (name, member) in object.iter_mut() {
                if fields.contains(&name.as_str()) && !member.is_object() && !member.is_null() {
                    *member = Value::String(MARKER.to_owned());
                    found = true;
                } else {
                    found |= redact_value(fields, member);
                }
            }
            found
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |found, item| redact_value(fields, item) | found),
        _ => false,
    }
}

/// A form body (`a=1&b=2`) with secret fields replaced, or `None` when it is not one.
fn redact_form(fields: &[&str], bytes: &[u8]) -> Option<Bytes> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains(['{', '[', '"', ' ', '\n']) || !text.contains('=') {
        return None;
    }
    Some(Bytes::from(query(fields, text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Bytes) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn json_secrets_are_replaced_at_any_depth_and_other_fields_kept_in_order() {
        let login = Bytes::from_static(br#"{"user":"admin","password":"s3cret","code":"123456"}"#);
        assert_eq!(
            text(body(fields_of("/api/v1/login"), login.clone())),
            r#"{"user":"admin","password":"[redacted]","code":"[redacted]"}"#
        );
        // Elsewhere a `code` is data.
        assert_eq!(
            text(body(fields_of("/api/v1/omnichannel/contacts"), login)),
            r#"{"user":"admin","password":"[redacted]","code":"123456"}"#
        );
        let answer = Bytes::from_static(
            br#"{"status":"success","data":{"userId":"u","authToken":"tok","me":{"services":{"password":{"exists":true}}}}}"#,
        );
        assert_eq!(
            text(body(SECRET_FIELDS, answer)),
            r#"{"status":"success","data":{"userId":"u","authToken":"[redacted]","me":{"services":{"password":{"exists":true}}}}}"#
        );
        let tokens = Bytes::from_static(br#"[{"loginTokens":[{"hashedToken":"h"}]}]"#);
        assert_eq!(
            text(body(SECRET_FIELDS, tokens)),
            r#"[{"loginTokens":"[redacted]"}]"#
        );
    }

    #[test]
    fn bodies_without_secret_names_are_not_copied() {
        let plain = Bytes::from(r#"{"contactId":"x","name":"Jane"}"#.as_bytes().to_vec());
        let redacted = body(&LOGIN_FIELDS, plain.clone());
        assert_eq!(redacted.as_ptr(), plain.as_ptr());
    }

    #[test]
    fn form_and_query_secrets_are_replaced() {
        assert_eq!(
            text(body(
                &LOGIN_FIELDS,
                Bytes::from_static(b"user=admin&password=p%40ss")
            )),
            "user=admin&password=%5Bredacted%5D"
        );
        assert_eq!(
            query(&LOGIN_FIELDS, "resume=abc&x=1"),
            "resume=%5Bredacted%5D&x=1"
        );
        assert_eq!(query(&LOGIN_FIELDS, "token=visitor"), "token=visitor");
    }

    #[test]
    fn broken_json_is_cut_before_the_first_secret() {
        let cut = text(body(
            &LOGIN_FIELDS,
            Bytes::from_static(br#"{"user":"a","password":"s3cr"#),
        ));
        assert!(!cut.contains("s3cr"), "{cut}");
        assert!(cut.starts_with(r#"{"user":"a",""#), "{cut}");
    }

    #[test]
    fn credential_headers_are_replaced() {
        for name in ["authorization", "cookie", "x-auth-token", "x-2fa-code"] {
            let value = header(
                &HeaderName::from_static(name),
                HeaderValue::from_static("secret"),
            );
            assert_eq!(value, MARKER, "{name}");
        }
        let kept = header(
            &HeaderName::from_static("x-user-id"),
            HeaderValue::from_static("u"),
        );
        assert_eq!(kept, "u");
    }
}
