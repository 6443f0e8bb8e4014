//! Reading a query string as Rocket.Chat's router does (`qs.parse`): every value is a
//! string; a repeated name, `name[]` or `name[0]` makes an array; `name[key]` makes an
//! object. The query validator (`coerceTypes: "array"`) then turns one-item arrays back
//! into strings and strings into numbers and booleans.

use serde_json::{Map, Value};

pub(crate) fn parse(query: &str) -> Value {
    let mut params = Map::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = Value::String(value.into_owned());
        match name.split_once('[') {
            Some((base, rest)) if !base.is_empty() && rest.ends_with(']') => {
                let inner = &rest[..rest.len() - 1];
                if inner.is_empty() || inner.parse::<u32>().is_ok() {
                    add(&mut params, base, value, true);
                } else {
                    let entry = params
                        .entry(base.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !entry.is_object() {
                        *entry = Value::Object(Map::new());
                    }
                    if let Value::Object(object) = entry {
                        object.insert(inner.to_owned(), value);
                    }
                }
            }
            _ => add(&mut params, &name, value, false),
        }
    }
    Value::Object(params)
}

/// Adds a value under `name`: a second value makes an array of both; `as_array` makes the
/// first one an array already (`name[]`).
fn add(params: &mut Map<String, Value>, name: &str, value: Value, as_array: bool) {
    match params.get_mut(name) {
        Some(Value::Array(items)) => items.push(value),
        Some(previous) => {
            let first = std::mem::take(previous);
            *previous = Value::Array(vec![first, value]);
        }
        None if as_array => {
            params.insert(name.to_owned(), Value::Array(vec![value]));
        }
        None => {
            params.insert(name.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_repeated_and_bracketed_names_like_qs() {
        assert_eq!(
            parse("contactId=a%20b&count=5&x=1&x=2&y[]=3&z[k]=v&empty="),
            json!({
                "contactId": "a b", "count": "5", "x": ["1", "2"],
                "y": ["3"], "z": {"k": "v"}, "empty": ""
            })
        );
        assert_eq!(parse(""), json!({}));
        assert_eq!(parse("searchText=a+b"), json!({"searchText": "a b"}));
    }
}
