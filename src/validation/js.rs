//! The few JavaScript semantics Rocket.Chat's answers depend on: how a value becomes a
//! string, what `String.prototype.trim` removes, and the order `for…in` visits keys.

use serde_json::{Map, Number, Value};

/// `"" + n` in JavaScript: every JSON number is a double there, printed in the shortest
/// form that reads back to the same double (`1.0` → `"1"`, `1e21` → `"1e+21"`).
pub(crate) fn number_to_string(n: &Number) -> String {
    let value = n.as_f64().unwrap_or(f64::NAN);
    let mut buffer = ryu_js::Buffer::new();
    buffer.format(value).to_owned()
}

/// JavaScript's `String(value)` for a JSON value (`[1,[2]]` → `"1,2"`, `{}` → `"[object Object]"`).
pub(crate) fn to_js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            // Array.prototype.join writes null and undefined elements as empty strings.
            .map(|item| match item {
                Value::Null => String::new(),
                other => to_js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// JavaScript's `Number(text)`: surrounding white space is ignored, an empty text is 0, and
/// `0x`/`0o`/`0b` prefixes and `Infinity` are read; `None` where the result is `NaN`.
pub(crate) fn string_to_number(text: &str) -> Option<f64> {
    let text = trim(text);
    if text.is_empty() {
        return Some(0.0);
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = text.strip_prefix(prefix) {
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            return Some(digits.chars().fold(0.0, |n, c| {
                n * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            }));
        }
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned == "Infinity" {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust's float grammar is JavaScript's decimal literal, except that it also takes
    // "inf"/"nan" spellings and needs no digit before or after the point.
    let decimal = unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && unsigned.chars().any(|c| c.is_ascii_digit());
    if !decimal {
        return None;
    }
    text.parse::<f64>().ok()
}

/// A double as JSON: integers without a fraction (as JavaScript prints them), `None` for
/// the values JSON cannot hold (infinities, `NaN`).
pub(crate) fn number_value(value: f64) -> Option<Value> {
    if !value.is_finite() {
        return None;
    }
    // Below 2^53 an integral double is an exact integer.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        #[allow(clippy::cast_possible_truncation)]
        let integer = value as i64;
        return Some(Value::from(integer));
    }
    Number::from_f64(value).map(Value::Number)
}

/// JavaScript's `parseInt(String(value))` for a JSON number: the leading integer of its
/// printed form (`1.9` → 1, `1e21` → 1); `None` for `NaN`.
pub(crate) fn parse_int(value: &Number) -> Option<i64> {
    let text = number_to_string(value);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.as_str()),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// JavaScript truthiness of a JSON value.
pub(crate) fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `String.prototype.trim`: JavaScript's white space and line terminators, which include
/// U+FEFF (Rust's `str::trim` keeps it).
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
}

/// Is `key` an array index to JavaScript (a canonical integer below 2^32 - 1)? Such keys
/// are visited first, in numeric order, by `for…in`, `Object.keys` and object spread.
fn array_index(key: &str) -> Option<u32> {
    let index: u32 = key.parse().ok()?;
    (index != u32::MAX && index.to_string() == key).then_some(index)
}

/// The keys of `map` in the order JavaScript visits an object's own properties.
pub(crate) fn key_order(map: &Map<String, Value>) -> Vec<&str> {
    let mut indices: Vec<(u32, &str)> = map
        .keys()
        .filter_map(|k| array_index(k).map(|i| (i, k.as_str())))
        .collect();
    indices.sort_unstable_by_key(|(i, _)| *i);
    indices
        .into_iter()
        .map(|(_, k)| k)
        .chain(
            map.keys()
                .map(String::as_str)
                .filter(|k| array_index(k).is_none()),
        )
        .collect()
}

/// `map` rebuilt in JavaScript's property order, as a document written by the Node.js
/// MongoDB driver is stored.
pub(crate) fn in_js_order(mut map: Map<String, Value>) -> Map<String, Value> {
    if !map.keys().any(|k| array_index(k).is_some()) {
        return map;
    }
    let order: Vec<String> = key_order(&map).into_iter().map(str::to_owned).collect();
    order
        .into_iter()
        .filter_map(|k| map.shift_remove(&k).map(|v| (k, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases = [
            (json!(5), "5"),
            (json!(1.0), "1"),
            (json!(-0.0), "0"),
            (json!(0.1), "0.1"),
            (json!(1e21), "1e+21"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(123456789012345678_u64), "123456789012345680"),
        ];
        for (value, expected) in cases {
            assert_eq!(to_js_string(&value), expected, "{value}");
        }
    }

    #[test]
    fn arrays_and_objects_stringify_like_javascript() {
        assert_eq!(to_js_string(&json!([1, [2, null], "a"])), "1,2,,a");
        assert_eq!(to_js_string(&json!({"a": 1})), "[object Object]");
    }

    #[test]
    fn text_reads_as_a_number_like_javascript() {
        assert_eq!(string_to_number(" 12 "), Some(12.0));
        assert_eq!(string_to_number("0x1f"), Some(31.0));
        assert_eq!(string_to_number("-1e3"), Some(-1000.0));
        assert_eq!(string_to_number(".5"), Some(0.5));
        assert_eq!(string_to_number("5."), Some(5.0));
        assert_eq!(string_to_number("inf"), None);
        assert_eq!(string_to_number("1_000"), None);
        assert_eq!(string_to_number("-0x10"), None);
        assert_eq!(parse_int(&Number::from_f64(1.9).unwrap()), Some(1));
        assert_eq!(parse_int(&Number::from_f64(-3.5).unwrap()), Some(-3));
        assert_eq!(parse_int(&Number::from_f64(1e21).unwrap()), Some(1));
    }

    #[test]
    fn trim_removes_the_byte_order_mark_like_javascript() {
        assert_eq!(trim("\u{FEFF} a \n"), "a");
    }

    #[test]
    fn integer_keys_come_first_in_numeric_order() {
        let map = json!({"b": 1, "10": 2, "a": 3, "2": 4, "01": 5});
        let order = key_order(map.as_object().unwrap());
        assert_eq!(order, ["2", "10", "b", "a", "01"]);
    }
}
