//! Meteor's `check(value, pattern)`, which the Livechat widget routes validate with instead
//! of a rest-typings schema: the patterns they use, and the exact `Match error: …` texts
//! (Meteor's `check` package, `match.js`: `testSubtree`, `_prependPath`).
//!
//! What matters for the texts:
//! - an object's keys are tested in the order the value lists them, the first failure
//!   wins, and a missing required key is reported only after every present key passed;
//! - a `Match.Maybe` or `Match.Optional` *key* is tested against its inner pattern, so in an
//!   object `null` fails as any other wrong type (`Expected string, got null`); only a
//!   `Maybe` outside an object accepts `null`;
//! - a plain object pattern refuses unknown keys (`Unknown key`); `ObjectIncluding` lets
//!   them through unchecked.

use serde_json::Value;

/// A `check` pattern.
#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    String,
    Boolean,
    /// `Match.Maybe(p)`: `undefined`, `null` or `p` (as a key of an object: absent or `p`).
    Maybe(Box<Pattern>),
    /// `[p]`: an array whose every item matches.
    ArrayOf(Box<Pattern>),
    /// `{…}` (closed: unknown keys refused) or `Match.ObjectIncluding({…})` (open).
    Object {
        keys: Vec<(&'static str, Pattern)>,
        open: bool,
    },
}

impl Pattern {
    pub(crate) fn maybe(pattern: Pattern) -> Self {
        Self::Maybe(Box::new(pattern))
    }

    pub(crate) fn array_of(pattern: Pattern) -> Self {
        Self::ArrayOf(Box::new(pattern))
    }

    pub(crate) fn object(keys: Vec<(&'static str, Pattern)>) -> Self {
        Self::Object { keys, open: false }
    }

    pub(crate) fn object_including(keys: Vec<(&'static str, Pattern)>) -> Self {
        Self::Object { keys, open: true }
    }

    /// `check(value, pattern)`: `Err` with Meteor's message (`Match error: … in field …`).
    pub(crate) fn check(&self, value: &Value) -> Result<(), String> {
        match self.test(value) {
            None => Ok(()),
            Some(Failure { message, path }) if path.is_empty() => {
                Err(format!("Match error: {message}"))
            }
            Some(Failure { message, path }) => {
                Err(format!("Match error: {message} in field {path}"))
            }
        }
    }

    fn test(&self, value: &Value) -> Option<Failure> {
        match self {
            Self::String => expect_type(value, "string"),
            Self::Boolean => expect_type(value, "boolean"),
            Self::Maybe(inner) => {
                // `Match.OneOf(undefined, null, p)`: the choice's own error is not kept.
                (!value.is_null() && inner.test(value).is_some()).then(|| Failure {
                    message: "Failed Match.OneOf, Match.Maybe or Match.Optional validation".into(),
                    path: String::new(),
                })
            }
            Self::ArrayOf(item) => {
                let Value::Array(items) = value else {
                    return Some(Failure {
                        message: format!("Expected array, got {}", ejson(value)),
                        path: String::new(),
                    });
                };
                items.iter().enumerate().find_map(|(i, v)| {
                    item.test(v).map(|f| Failure {
                        path: prepend_index(i, &f.path),
                        message: f.message,
                    })
                })
            }
            Self::Object { keys, open } => {
                let object = match value {
                    Value::Object(object) => object,
                    Value::Null => return Some(Failure::new("Expected object, got null")),
                    Value::Array(_) => return Some(Failure::new("Expected plain object")),
                    other => {
                        return Some(Failure::new(format!(
                            "Expected object, got {}",
                            type_of(other)
                        )));
                    }
                };
                // `for (key in value)`: integer-like keys first, ascending, as JavaScript
                // orders an object's own keys.
                for key in crate::validation::js::key_order(object) {
                    let value = &object[key];
                    match keys.iter().find(|(k, _)| *k == key) {
                        Some((_, pattern)) => {
                            // A `Maybe` key is tested against its inner pattern.
                            let pattern = match pattern {
                                Self::Maybe(inner) => inner,
                                other => other,
                            };
                            if let Some(failure) = pattern.test(value) {
                                return Some(Failure {
                                    path: prepend_key(key, &failure.path),
                                    message: failure.message,
                                });
                            }
                        }
                        None if !open => {
                            return Some(Failure {
                                message: "Unknown key".into(),
                                path: key.to_owned(),
                            });
                        }
                        None => {}
                    }
                }
                keys.iter()
                    .find(|(key, pattern)| {
                        !matches!(pattern, Self::Maybe(_)) && !object.contains_key(*key)
                    })
                    .map(|(key, _)| Failure::new(format!("Missing key '{key}'")))
            }
        }
    }
}

struct Failure {
    message: String,
    path: String,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: String::new(),
        }
    }
}

fn expect_type(value: &Value, expected: &str) -> Option<Failure> {
    let actual = type_of(value);
    (actual != expected).then(|| Failure::new(format!("Expected {expected}, got {actual}")))
}

/// JavaScript's `typeof`, except that `null` reads `null` (`stringForErrorMessage`).
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "object",
    }
}

/// `EJSON.stringify(value)` of a JSON value: its compact JSON.
fn ejson(value: &Value) -> String {
    if value.is_null() {
        return "null".into();
    }
    value.to_string()
}

/// JavaScript's reserved words, which `_prependPath` writes bracketed like other keys that
/// are not identifiers.
const JS_KEYWORDS: &[&str] = &[
    "do",
    "if",
    "in",
    "for",
    "let",
    "new",
    "try",
    "var",
    "case",
    "else",
    "enum",
    "eval",
    "false",
    "null",
    "this",
    "true",
    "void",
    "with",
    "break",
    "catch",
    "class",
    "const",
    "super",
    "throw",
    "while",
    "yield",
    "delete",
    "export",
    "import",
    "public",
    "return",
    "static",
    "switch",
    "typeof",
    "default",
    "extends",
    "finally",
    "package",
    "private",
    "continue",
    "debugger",
    "function",
    "arguments",
    "interface",
    "protected",
    "implements",
    "instanceof",
];

fn prepend_key(key: &str, base: &str) -> String {
    let digits = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit());
    let identifier = key
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    let key = if digits {
        format!("[{key}]")
    } else if !identifier || JS_KEYWORDS.contains(&key) {
        // `JSON.stringify([key])`.
        Value::Array(vec![Value::String(key.to_owned())]).to_string()
    } else {
        key.to_owned()
    };
    join(key, base)
}

fn prepend_index(index: usize, base: &str) -> String {
    join(format!("[{index}]"), base)
}

fn join(key: String, base: &str) -> String {
    if !base.is_empty() && !base.starts_with('[') {
        format!("{key}.{base}")
    } else {
        key + base
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Pattern;

    /// `POST livechat/visitor`'s pattern.
    fn visitor() -> Pattern {
        crate::domain::livechat::register_pattern()
    }

    #[test]
    fn the_texts_are_meteors() {
        let cases = [
            (json!({}), "Match error: Missing key 'visitor'"),
            (
                json!({"visitor": {}}),
                "Match error: Missing key 'token' in field visitor",
            ),
            (
                json!({"visitor": null}),
                "Match error: Expected object, got null in field visitor",
            ),
            (
                json!({"visitor": []}),
                "Match error: Expected plain object in field visitor",
            ),
            (
                json!({"visitor": {"token": 5}}),
                "Match error: Expected string, got number in field visitor.token",
            ),
            // Present keys first: the bad name is reported before the missing token.
            (
                json!({"visitor": {"name": null}}),
                "Match error: Expected string, got null in field visitor.name",
            ),
            (
                json!({"visitor": {"token": "t", "customFields": "x"}}),
                "Match error: Expected array, got \"x\" in field visitor.customFields",
            ),
            (
                json!({"visitor": {"token": "t", "customFields": [{"key": "k", "value": "v"}]}}),
                "Match error: Missing key 'overwrite' in field visitor.customFields[0]",
            ),
            (
                json!({"visitor": {"token": "t"}, "my key": 1}),
                "Match error: Unknown key in field my key",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(visitor().check(&value).unwrap_err(), expected, "{value}");
        }
        // An integer-like key comes first, wherever the body puts it.
        assert_eq!(
            visitor()
                .check(&json!({"visitor": {"token": 5}, "1": 2}))
                .unwrap_err(),
            "Match error: Unknown key in field 1"
        );
        let fine = json!({"visitor": {"token": "t", "extra": [1], "customFields": [{"key": "k", "value": "v", "overwrite": false, "x": 1}]}});
        assert_eq!(visitor().check(&fine), Ok(()));
    }

    #[test]
    fn a_nested_path_brackets_what_is_not_an_identifier() {
        let pattern = Pattern::object(vec![(
            "a",
            Pattern::object_including(vec![("for", Pattern::String), ("b c", Pattern::String)]),
        )]);
        assert_eq!(
            pattern.check(&json!({"a": {"for": 1}})).unwrap_err(),
            "Match error: Expected string, got number in field a[\"for\"]"
        );
        assert_eq!(
            pattern
                .check(&json!({"a": {"for": "x", "b c": true}}))
                .unwrap_err(),
            "Match error: Expected string, got boolean in field a[\"b c\"]"
        );
        let top = Pattern::maybe(Pattern::String);
        assert_eq!(top.check(&json!(null)), Ok(()));
        assert_eq!(
            top.check(&json!(1)).unwrap_err(),
            "Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation"
        );
    }
}
