//! Reading a request body the way Rocket.Chat's router does (`parseBodyParams`):
//! - a `Content-Type` containing `application/json`: the parsed JSON; an array stays an
//!   array (and fails validation with `must be object`), other non-objects become `{}`;
//! - containing `application/x-www-form-urlencoded`: an object of the (string) fields, the
//!   last of repeated names winning (`Object.fromEntries(formData)`);
//! - anything else: the text spread into an object of its characters (`{ ..."abc" }`:
//!   `{"0": "a", "1": "b", "2": "c"}`), which a schema refuses for a missing property and
//!   Meteor's `check` for an unknown key `0`.
//!
//! One deliberate difference: the real server swallows a JSON syntax error and validates
//! `{}`; the mock answers 400 `invalid-params` with the parser's message, because a client
//! sending broken JSON is better told so. An empty JSON body is `{}`, as upstream.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::mock::deadline;
use crate::mock::layer::BodyOverLimit;
use crate::startup::AppState;

/// The 408 of a body that did not arrive within `--body-timeout`.
pub(crate) fn late(request: &HttpRequest) -> ApiError {
    let timeout = request
        .app_data::<web::Data<AppState>>()
        .map(|state| humantime::format_duration(state.body_timeout).to_string())
        .unwrap_or_default();
    ApiError::BodyTimeout(timeout)
}

pub(super) async fn read(
    request: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<Value, ApiError> {
    let bytes = read_bytes(request, payload, limit).await?;
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    decode(content_type, &bytes)
}

/// The raw body, or 413 when it is larger than `limit` (checked on `Content-Length` and
/// again while it streams in).
pub(super) async fn read_bytes(
    request: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit };
    // The mock layer read the body ahead (for the journal) and found it too large.
    if request.extensions().get::<BodyOverLimit>().is_some() {
        return Err(too_large);
    }
    let declared = declared_length(request.headers());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large);
    }
    // Sized once from Content-Length: growing a 100 MB state body by doubling copied it
    // several times on the request worker, while that worker's other connections waited.
    let mut bytes = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        // A late body (`--body-timeout`), or a broken or aborted upload: nothing usable
        // arrived.
        let chunk = chunk.map_err(|e| {
            if deadline::is_timeout(&e) {
                late(request)
            } else {
                ApiError::InvalidParams(format!("request body could not be read: {e}"))
            }
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The body length a request announces in `Content-Length`.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn decode(content_type: &str, bytes: &[u8]) -> Result<Value, ApiError> {
    if content_type.contains("application/json") {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Map::new()));
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::InvalidParams(format!("Malformed JSON body: {e}")))?;
        return Ok(match value {
            Value::Object(_) | Value::Array(_) => value,
            // `{ ...5 }`, `{ ...null }` are `{}`; `{ ..."text" }` has only index keys.
            _ => Value::Object(Map::new()),
        });
    }
    if content_type.contains("application/x-www-form-urlencoded") {
        let fields: Map<String, Value> = form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Ok(Value::Object(fields));
    }
    let text = String::from_utf8_lossy(bytes);
    Ok(Value::Object(
        text.chars()
            .enumerate()
            .map(|(i, c)| (i.to_string(), Value::String(c.to_string())))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_fields_are_strings_and_the_last_repeat_wins_in_the_first_place() {
        let body = decode(
            "application/x-www-form-urlencoded",
            b"contactId=a&name=J+D&emails=x%40y&name=Z",
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"contactId": "a", "name": "Z", "emails": "x@y"})
        );
        assert_eq!(body.as_object().unwrap().keys().nth(1).unwrap(), "name");
    }

    #[test]
    fn json_scalars_become_empty_objects_and_arrays_stay() {
        assert_eq!(decode("application/json", b"5").unwrap(), json!({}));
        assert_eq!(decode("application/json", b"[1]").unwrap(), json!([1]));
        assert_eq!(decode("application/json", b"  ").unwrap(), json!({}));
        assert_eq!(
            decode("text/plain", b"ab").unwrap(),
            json!({"0": "a", "1": "b"})
        );
        assert_eq!(decode("text/plain", b"").unwrap(), json!({}));
    }

    #[test]
    fn broken_json_says_where() {
        let error = decode("application/json; charset=utf-8", b"{\"contactId\": }").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Malformed JSON body: expected value at line 1 column 15 [invalid-params]"
        );
    }
}
