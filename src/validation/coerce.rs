//! AJV's `coerceTypes: true`, walked over a schema: wherever the data does not have one of
//! the schema's types, it is converted to the first type it can be converted to, exactly as
//! AJV's generated code does before it checks the other keywords.

use serde_json::Value;

use super::js;

/// The JSON Schema type names of `schema["type"]` (a string or an array of strings).
pub(crate) fn schema_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn has_type(data: &Value, type_name: &str) -> bool {
    match type_name {
        "null" => data.is_null(),
        "boolean" => data.is_boolean(),
        "string" => data.is_string(),
        "array" => data.is_array(),
        "object" => data.is_object(),
        "number" => data.is_number(),
        "integer" => data.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// Coerces `data` (and, recursively, its properties and items) in place.
///
/// Data that cannot be coerced is left as it is: the schema validator then reports the
/// type error at that place, and nothing below it is visited, as in AJV.
pub(crate) fn coerce(schema: &Value, data: &mut Value) {
    let types = schema_types(schema);
    if !types.is_empty() && !types.iter().any(|t| has_type(data, t)) {
        match types.iter().find_map(|t| coerce_to(t, data)) {
            Some(coerced) => *data = coerced,
            None => return,
        }
    }
    match data {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = schema.get("properties") {
                for (name, property_schema) in properties {
                    if let Some(value) = map.get_mut(name) {
                        coerce(property_schema, value);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for item in items {
                    coerce(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// AJV's `coerceSpecificType` for the types Rocket.Chat's contact schemas use. Arrays are
/// never coerced (only `coerceTypes: "array"` wraps, and the body validator does not use it);
/// numbers are left out until a served schema has one.
fn coerce_to(type_name: &str, data: &Value) -> Option<Value> {
    let number = data.as_f64();
    match type_name {
        "string" => match data {
            Value::Number(n) => Some(Value::String(js::number_to_string(n))),
            Value::Bool(b) => Some(Value::String(b.to_string())),
            Value::Null => Some(Value::String(String::new())),
            _ => None,
        },
        "boolean" => match data {
            Value::String(s) if s == "false" => Some(Value::Bool(false)),
            Value::String(s) if s == "true" => Some(Value::Bool(true)),
            Value::Null => Some(Value::Bool(false)),
            _ if number == Some(0.0) => Some(Value::Bool(false)),
            _ if number == Some(1.0) => Some(Value::Bool(true)),
            _ => None,
        },
        "null" => match data {
            Value::String(s) if s.is_empty() => Some(Value::Null),
            Value::Bool(false) => Some(Value::Null),
            _ if number == Some(0.0) => Some(Value::Null),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn coerced(schema: Value, data: Value) -> Value {
        let mut data = data;
        coerce(&schema, &mut data);
        data
    }

    #[test]
    fn scalars_become_strings_and_null_becomes_empty_unless_nullable() {
        let s = json!({"type": "string"});
        assert_eq!(coerced(s.clone(), json!(5)), json!("5"));
        assert_eq!(coerced(s.clone(), json!(true)), json!("true"));
        assert_eq!(coerced(s.clone(), json!(null)), json!(""));
        assert_eq!(coerced(s, json!({})), json!({}));
        let nullable = json!({"type": ["string", "null"]});
        assert_eq!(coerced(nullable, json!(null)), json!(null));
    }

    #[test]
    fn booleans_accept_their_text_and_zero_or_one() {
        let b = json!({"type": ["boolean", "null"]});
        assert_eq!(coerced(b.clone(), json!("false")), json!(false));
        assert_eq!(coerced(b.clone(), json!(1)), json!(true));
        assert_eq!(coerced(b.clone(), json!(0)), json!(false));
        // "" is no boolean, but the nullable type takes it as null.
        assert_eq!(coerced(b.clone(), json!("")), json!(null));
        assert_eq!(coerced(b, json!("yes")), json!("yes"));
    }

    #[test]
    fn nullable_arrays_take_falsy_scalars_as_null_and_never_wrap() {
        let a = json!({"type": ["array", "null"], "items": {"type": "string"}});
        assert_eq!(coerced(a.clone(), json!("")), json!(null));
        assert_eq!(coerced(a.clone(), json!(false)), json!(null));
        assert_eq!(coerced(a.clone(), json!("a@b")), json!("a@b"));
        assert_eq!(coerced(a, json!([1, null, {}])), json!(["1", "", {}]));
    }
}
