//! MongoDB Extended JSON (what `mongoexport --jsonArray` writes) to plain JSON, so that an
//! export of a real workspace loads as it is: `{"$oid": "…"}` becomes the id string, dates
//! become ISO 8601 strings with milliseconds and `Z`, and `$numberInt`/`$numberLong`/
//! `$numberDouble` become numbers.

use jiff::Timestamp;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
#[error("at {path}: {problem}")]
pub struct ExtendedJsonError {
    pub path: String,
    pub problem: String,
}

/// Rewrites `value` in place; `path` names where an error was found.
pub fn normalize(value: &mut Value) -> Result<(), ExtendedJsonError> {
    normalize_at(value, &mut String::new())
}

fn normalize_at(value: &mut Value, path: &mut String) -> Result<(), ExtendedJsonError> {
    match value {
        Value::Object(map) => {
            if let Some(plain) = convert_wrapper(map).map_err(|problem| ExtendedJsonError {
                path: if path.is_empty() {
                    "(document)".into()
                } else {
                    path.clone()
                },
                problem,
            })? {
                *value = plain;
                return Ok(());
            }
            for (key, child) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                normalize_at(child, path)?;
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                normalize_at(child, path)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The plain value of a one-key Extended JSON wrapper, `None` for an ordinary object.
fn convert_wrapper(map: &Map<String, Value>) -> Result<Option<Value>, String> {
    if map.len() != 1 {
        return Ok(None);
    }
    let (key, inner) = map.iter().next().expect("one entry");
    let plain = match (key.as_str(), inner) {
        ("$oid", Value::String(id)) => Value::String(id.clone()),
        ("$date", date) => Value::String(date_to_iso(date)?),
        ("$numberInt" | "$numberLong", Value::String(n)) => n
            .parse::<i64>()
            .map(Value::from)
            .map_err(|e| format!("{key} {n:?} is not an integer: {e}"))?,
        ("$numberDouble", Value::String(n)) => n
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("$numberDouble {n:?} is not a finite number"))?,
        _ => return Ok(None),
    };
    Ok(Some(plain))
}

/// Relaxed (`"2024-11-28T14:33:41.487Z"`) or canonical (`{"$numberLong": "1732804421487"}`)
/// date, or milliseconds as a bare number, to `2024-11-28T14:33:41.487Z`.
fn date_to_iso(date: &Value) -> Result<String, String> {
    let timestamp = match date {
        Value::String(text) => text
            .parse::<Timestamp>()
            .map_err(|e| format!("$date {text:?} is not an ISO 8601 date: {e}"))?,
        Value::Object(inner) => match inner.get("$numberLong") {
            Some(Value::String(ms)) => ms
                .parse::<i64>()
                .map_err(|e| e.to_string())
                .and_then(|ms| Timestamp::from_millisecond(ms).map_err(|e| e.to_string()))
                .map_err(|e| format!("$date $numberLong {ms:?} is not a time: {e}"))?,
            _ => return Err(format!("$date {date} is not a date")),
        },
        Value::Number(ms) => ms
            .as_i64()
            .ok_or_else(|| "milliseconds out of range".to_owned())
            .and_then(|ms| Timestamp::from_millisecond(ms).map_err(|e| e.to_string()))
            .map_err(|e| format!("$date {ms} is not a time: {e}"))?,
        other => return Err(format!("$date {other} is not a date")),
    };
    Ok(iso_millis(timestamp))
}

/// A relaxed `$date` string as the full path writes it; `None` if it is not a date (the full
/// path then says why).
pub(crate) fn relaxed_date(text: &str) -> Option<String> {
    date_to_iso(&Value::String(text.to_owned())).ok()
}

/// JavaScript's `Date.prototype.toISOString`: UTC, milliseconds, `Z`.
pub fn iso_millis(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_ids_dates_and_numbers() {
        let mut doc = json!({
            "_id": {"$oid": "67487f45e98719b7908d0f29"},
            "createdAt": {"$date": "2024-11-28T14:33:41.487Z"},
            "ts": {"$date": {"$numberLong": "1732804421487"}},
            "offset": {"$date": "2024-11-28T16:33:41+02:00"},
            "n": {"$numberLong": "42"},
            "nested": [{"lastChat": {"ts": {"$date": "2024-11-29T10:44:55.016Z"}}}],
            "plain": {"a": 1, "b": 2}
        });
        normalize(&mut doc).unwrap();
        assert_eq!(
            doc,
            json!({
                "_id": "67487f45e98719b7908d0f29",
                "createdAt": "2024-11-28T14:33:41.487Z",
                "ts": "2024-11-28T14:33:41.487Z",
                "offset": "2024-11-28T14:33:41.000Z",
                "n": 42,
                "nested": [{"lastChat": {"ts": "2024-11-29T10:44:55.016Z"}}],
                "plain": {"a": 1, "b": 2}
            })
        );
    }

    #[test]
    fn a_broken_date_names_its_path() {
        let mut doc = json!({"channels": [{"verifiedAt": {"$date": "yesterday"}}]});
        let error = normalize(&mut doc).unwrap_err();
        assert_eq!(error.path, "channels[0].verifiedAt");
        assert!(error.problem.contains("not an ISO 8601 date"), "{error}");
    }
}
