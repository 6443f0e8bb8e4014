//! AJV's type coercion, walked over a schema: wherever the data does not have one of the
//! schema's types, it is converted to the first type it can be converted to, exactly as
//! AJV's generated code does before it checks the other keywords.
//!
//! Rocket.Chat runs two AJV instances: bodies are checked with `coerceTypes: true`, query
//! strings with `coerceTypes: "array"`, which also turns a one-item array into its item and
//! wraps a scalar into an array ([`Coercion`]).

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

/// Which of AJV's `coerceTypes` settings applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coercion {
    /// `coerceTypes: true`: request bodies.
    Scalars,
    /// `coerceTypes: "array"`: query strings, whose repeated keys arrive as arrays.
    Arrays,
}

/// Coerces `data` (and, recursively, its properties and items) in place.
///
/// Data that cannot be coerced is left as it is: the schema validator then reports the
/// type error at that place, and nothing below it is visited, as in AJV.
pub(crate) fn coerce(schema: &Value, data: &mut Value, mode: Coercion) {
    let types = schema_types(schema);
    if !types.is_empty() && !types.iter().any(|t| has_type(data, t)) {
        // In array mode AJV first looks inside a one-item array, and goes on coercing the
        // item when the item itself has none of the types.
        let unwrapped = match data {
            Value::Array(items) if mode == Coercion::Arrays && items.len() == 1 => {
                Some(items[0].clone())
            }
            _ => None,
        };
        let candidate = unwrapped.as_ref().unwrap_or(data);
        // AJV accepts the item as it is only for a single type: it checks the item with
        // `checkDataTypes`, which for several types (`nullable` ones too) requires all of
        // them at once and so never holds. The item is still what is coerced next.
        let coerced = if types.len() == 1 && has_type(candidate, types[0]) {
            unwrapped.clone()
        } else {
            types.iter().find_map(|t| coerce_to(t, candidate, mode))
        };
        match coerced {
            Some(coerced) => *data = coerced,
            None => return,
        }
    }
    match data {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = schema.get("properties") {
                for (name, property_schema) in properties {
                    if let Some(value) = map.get_mut(name) {
                        coerce(property_schema, value, mode);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for item in items {
                    coerce(item_schema, item, mode);
                }
            }
        }
        _ => {}
    }
}

/// AJV's `coerceSpecificType`. Only `coerceTypes: "array"` wraps a scalar into an array.
fn coerce_to(type_name: &str, data: &Value, mode: Coercion) -> Option<Value> {
    let number = data.as_f64();
    match type_name {
        // `data == +data`: a string JavaScript reads as a number; `true`, `false` and `null`
        // become 1, 0 and 0.
        "number" | "integer" => {
            let value = match data {
                Value::Bool(b) => f64::from(u8::from(*b)),
                Value::Null => 0.0,
                Value::String(s) if !s.is_empty() => js::string_to_number(s)?,
                _ => return None,
            };
            if type_name == "integer" && value.fract() != 0.0 {
                return None;
            }
            js::number_value(value)
        }
        "array" if mode == Coercion::Arrays => match data {
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
                Some(Value::Array(vec![data.clone()]))
            }
            _ => None,
        },
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
        coerce(&schema, &mut data, Coercion::Scalars);
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

    fn query(schema: Value, data: Value) -> Value {
        let mut data = data;
        coerce(&schema, &mut data, Coercion::Arrays);
        data
    }

    #[test]
    fn numbers_read_strings_as_javascript_does() {
        let n = json!({"type": "number"});
        assert_eq!(coerced(n.clone(), json!("50")), json!(50));
        assert_eq!(coerced(n.clone(), json!(" 7 ")), json!(7));
        assert_eq!(coerced(n.clone(), json!("0x10")), json!(16));
        assert_eq!(coerced(n.clone(), json!("1.5")), json!(1.5));
        assert_eq!(coerced(n.clone(), json!(true)), json!(1));
        assert_eq!(coerced(n.clone(), json!("")), json!(""));
        assert_eq!(coerced(n.clone(), json!("ten")), json!("ten"));
        // JSON has no Infinity: left as text, and refused as "must be number".
        assert_eq!(coerced(n, json!("Infinity")), json!("Infinity"));
    }

    #[test]
    fn query_mode_unwraps_one_item_arrays_and_wraps_scalars() {
        let s = json!({"type": "string"});
        assert_eq!(query(s.clone(), json!(["a"])), json!("a"));
        assert_eq!(query(s.clone(), json!(["a", "b"])), json!(["a", "b"]));
        assert_eq!(coerced(s, json!(["a"])), json!(["a"]));
        assert_eq!(query(json!({"type": "number"}), json!(["5"])), json!(5));
        let a = json!({"type": "array", "items": {"type": "string"}});
        assert_eq!(query(a.clone(), json!("x")), json!(["x"]));
        assert_eq!(coerced(a, json!("x")), json!("x"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Any JSON value, a few levels deep, with the scalars coercion cares about.
        fn json_value() -> impl Strategy<Value = Value> {
            scalar().prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i32>().prop_map(|n| json!(n)),
                (-1e6f64..1e6).prop_map(|n| json!(n)),
                prop_oneof![
                    Just(String::new()),
                    Just("true".to_owned()),
                    Just("false".to_owned()),
                    Just(" 7 ".to_owned()),
                    Just("0x10".to_owned()),
                    "[a-z0-9 .+-]{0,8}",
                ]
                .prop_map(Value::String),
            ]
        }

        /// The shapes of the served schemas: nullable scalars, arrays of strings, objects.
        fn schema() -> impl Strategy<Value = Value> {
            let types = prop::sample::subsequence(
                vec![
                    "string", "number", "integer", "boolean", "null", "array", "object",
                ],
                1..3,
            );
            types.prop_map(|types| {
                let mut schema = json!({ "type": types });
                if types.contains(&"array") {
                    schema["items"] = json!({ "type": "string" });
                }
                if types.contains(&"object") {
                    schema["properties"] =
                        json!({ "a": { "type": "number" }, "b": { "type": ["string", "null"] } });
                }
                schema
            })
        }

        fn mode() -> impl Strategy<Value = Coercion> {
            prop_oneof![Just(Coercion::Scalars), Just(Coercion::Arrays)]
        }

        proptest! {
            /// Coercing what was already coerced changes nothing: AJV converts once, and a
            /// second validation of the same data must not convert it further.
            #[test]
            fn coercion_is_idempotent(schema in schema(), data in json_value(), mode in mode()) {
                let mut once = data;
                coerce(&schema, &mut once, mode);
                let mut twice = once.clone();
                coerce(&schema, &mut twice, mode);
                prop_assert_eq!(twice, once);
            }

            /// Data that already has one of the schema's types is never converted.
            #[test]
            fn data_of_a_schema_type_is_left_as_it_is(
                data in scalar(),
                other in prop::sample::select(vec!["string", "number", "boolean", "null", "array"]),
                mode in mode(),
            ) {
                let own = match &data {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    _ => "string",
                };
                let schema = json!({ "type": [other, own] });
                let mut coerced = data.clone();
                coerce(&schema, &mut coerced, mode);
                prop_assert_eq!(coerced, data);
            }

            /// A number sent as text (as every query-string value is) comes back as that
            /// number, the way JavaScript's `Number()` reads it.
            #[test]
            fn numbers_sent_as_text_come_back_as_numbers(n in -1e9f64..1e9, mode in mode()) {
                let text = serde_json::Number::from_f64(n).expect("finite").to_string();
                let mut data = Value::String(text);
                coerce(&json!({ "type": "number" }), &mut data, mode);
                prop_assert_eq!(data.as_f64(), Some(n));
            }

            /// In query mode a one-item array is its item, and a scalar sent for an array is
            /// a one-item array.
            #[test]
            fn query_mode_wraps_and_unwraps(text in "[a-z0-9]{0,8}") {
                let mut unwrapped = json!([text.clone()]);
                coerce(&json!({ "type": "string" }), &mut unwrapped, Coercion::Arrays);
                prop_assert_eq!(&unwrapped, &Value::String(text.clone()));
                let mut wrapped = Value::String(text.clone());
                let array = json!({ "type": "array", "items": { "type": "string" } });
                coerce(&array, &mut wrapped, Coercion::Arrays);
                prop_assert_eq!(wrapped, json!([text]));
            }
        }
    }
}
