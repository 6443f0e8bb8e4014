//! Request validation as Rocket.Chat's AJV validator does it.
//!
//! Rocket.Chat validates bodies with AJV (`coerceTypes: true`, no `allErrors`) and query
//! strings with a second AJV (`coerceTypes: "array"`): it converts mistyped scalars as it
//! goes, stops at the first failing keyword and reports one message without a path. A
//! top-level `oneOf` tries each branch in turn and reports the first message of every branch
//! that failed, then `must match exactly one schema in oneOf`; the route joins them with
//! `"\n "`. We reproduce that in three steps:
//! 1. coerce the body in place, guided by the schema ([`coerce`]);
//! 2. let the `jsonschema` crate list every error of the coerced body;
//! 3. pick the error AJV would have met first and word it as AJV does ([`ajv_message`]).
//!
//! The order AJV checks things in (verified against AJV's generated code): at an object,
//! its type, then `required` (in the listed order), then `additionalProperties`, then each
//! property in the schema's order; at an array, its type, then each item, then `uniqueItems`;
//! at a string, its type, then `format`, then Rocket.Chat's own `isNotEmpty` keyword.

pub(crate) mod check;
mod coerce;
pub(crate) mod js;

pub use coerce::Coercion;
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use jsonschema::{Keyword, ValidationError, Validator};
use serde_json::Value;

/// The message AJV adds after the failing branches of a `oneOf`.
const ONE_OF: &str = "must match exactly one schema in oneOf";
/// The message AJV adds after the failing branches of an `anyOf`.
const ANY_OF: &str = "must match a schema in anyOf";

/// How a schema of several branches combines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branches {
    Single,
    /// Exactly one branch must hold: every branch is tried.
    OneOf,
    /// One branch must hold: branches are tried until one does.
    AnyOf,
}

/// A compiled request schema: the one served in the OpenAPI document.
pub struct RequestSchema {
    coercion: Coercion,
    /// One schema, or the branches of a top-level `oneOf` or `anyOf`.
    branches: Vec<Compiled>,
    kind: Branches,
}

struct Compiled {
    schema: Value,
    validator: Validator,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid request schema: {0}")]
pub struct SchemaError(String);

impl RequestSchema {
    /// A body schema (`coerceTypes: true`).
    pub fn compile(schema: Value) -> Result<Self, SchemaError> {
        Self::compile_with(schema, Coercion::Scalars)
    }

    pub fn compile_with(schema: Value, coercion: Coercion) -> Result<Self, SchemaError> {
        let (branches, kind) = match (
            schema.get("oneOf").and_then(Value::as_array),
            schema.get("anyOf").and_then(Value::as_array),
        ) {
            (Some(branches), _) => (branches.clone(), Branches::OneOf),
            (None, Some(branches)) => (branches.clone(), Branches::AnyOf),
            (None, None) => (vec![schema], Branches::Single),
        };
        let branches = branches
            .into_iter()
            .map(Compiled::new)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            coercion,
            branches,
            kind,
        })
    }

    /// Coerces `data` in place as AJV would, then checks it. On failure, returns AJV's
    /// message (e.g. `must have required property 'contactId'`), or for a `oneOf` every
    /// failed branch's message and the `oneOf` one, joined as Rocket.Chat joins them.
    pub fn validate(&self, data: &mut Value) -> Result<(), String> {
        if self.kind == Branches::Single {
            let branch = &self.branches[0];
            coerce::coerce(&branch.schema, data, self.coercion);
            return branch.first_error(data).map_or(Ok(()), Err);
        }
        // Each branch coerces the data in place before the next one sees it, as AJV does.
        let mut messages = Vec::new();
        let mut passing = 0;
        for branch in &self.branches {
            coerce::coerce(&branch.schema, data, self.coercion);
            match branch.first_error(data) {
                Some(message) => messages.push(message),
                None if self.kind == Branches::AnyOf => return Ok(()),
                None => passing += 1,
            }
        }
        if self.kind == Branches::OneOf && passing == 1 {
            return Ok(());
        }
        messages.push(match self.kind {
            Branches::AnyOf => ANY_OF.to_owned(),
            _ => ONE_OF.to_owned(),
        });
        Err(messages.join("\n "))
    }
}

impl Compiled {
    fn new(schema: Value) -> Result<Self, SchemaError> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("basic_email", is_basic_email)
            .with_keyword("isNotEmpty", |_, _, _| Ok(Box::new(IsNotEmpty)))
            .build(&schema)
            .map_err(|e| SchemaError(e.to_string()))?;
        Ok(Self { schema, validator })
    }

    /// The message of the error AJV meets first, if any.
    fn first_error(&self, data: &Value) -> Option<String> {
        let mut errors: Vec<(Rank, &Value, ValidationError<'_>)> = self
            .validator
            .iter_errors(data)
            .map(|error| {
                let (rank, schema) = locate(&self.schema, &error);
                (rank, schema, error)
            })
            .collect();
        errors.sort_by(|a, b| a.0.cmp(&b.0));
        errors
            .iter()
            .find_map(|(_, schema, error)| ajv_message(schema, data, error))
    }
}

/// rest-typings' `basic_email` format: `/^[^@]+@[^@]+$/`.
fn is_basic_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    }
}

/// rest-typings' `isNotEmpty` keyword: a string with something besides white space.
/// Like every AJV keyword declared with `type: "string"`, it ignores other types.
struct IsNotEmpty;

const IS_NOT_EMPTY: &str = "must pass \"isNotEmpty\" keyword validation";

impl<'i> Keyword<'i> for IsNotEmpty {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(IS_NOT_EMPTY))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| !js::trim(s).is_empty())
    }
}

/// Where an error stands in AJV's evaluation order: one `(keyword, index)` step per level.
type Rank = Vec<(u8, usize)>;

const TYPE: u8 = 0;
const REQUIRED: u8 = 1;
const ADDITIONAL: u8 = 2;
const CHILD: u8 = 3;
const UNIQUE: u8 = 4;
const FORMAT: u8 = 5;
const CUSTOM: u8 = 6;
const OTHER: u8 = 7;

/// Follows the error's instance path through the schema: the error's place in AJV's order,
/// and the (sub)schema whose keyword failed.
fn locate<'s>(root: &'s Value, error: &ValidationError<'_>) -> (Rank, &'s Value) {
    let mut rank = Rank::new();
    let mut schema = root;
    for segment in error.instance_path().segments() {
        let (index, child) = match segment {
            LocationSegment::Property(name) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let found = properties.and_then(|p| {
                    p.iter()
                        .enumerate()
                        .find(|(_, (key, _))| *key == name.as_ref())
                });
                (
                    found.map_or(usize::MAX, |(i, _)| i),
                    found.map(|(_, (_, s))| s),
                )
            }
            LocationSegment::Index(i) => (i, schema.get("items")),
        };
        rank.push((CHILD, index));
        match child {
            Some(child) => schema = child,
            // Outside the schema's properties (an additional property's value): nothing of
            // AJV's looks there, so rank it after everything at this level.
            None => {
                rank.push((OTHER, 0));
                return (rank, schema);
            }
        }
    }
    rank.push(match error.kind() {
        ValidationErrorKind::Type { .. } => (TYPE, 0),
        ValidationErrorKind::Required { property } => {
            let required = schema.get("required").and_then(Value::as_array);
            let index = required.and_then(|r| r.iter().position(|p| p == property));
            (REQUIRED, index.unwrap_or(usize::MAX))
        }
        ValidationErrorKind::AdditionalProperties { .. } => (ADDITIONAL, 0),
        ValidationErrorKind::UniqueItems => (UNIQUE, 0),
        ValidationErrorKind::Format { .. } => (FORMAT, 0),
        ValidationErrorKind::Custom { .. } => (CUSTOM, 0),
        _ => (OTHER, 0),
    });
    (rank, schema)
}

/// AJV's message for an error of `schema`, or `None` where AJV would not report it at all.
fn ajv_message(schema: &Value, body: &Value, error: &ValidationError<'_>) -> Option<String> {
    Some(match error.kind() {
        ValidationErrorKind::Type { .. } => {
            // Rocket.Chat's schemas say `nullable: true`; AJV's message names only the
            // `type` keyword's value, so `["string", "null"]` must read `must be string`.
            let types: Vec<&str> = coerce::schema_types(schema)
                .into_iter()
                .filter(|t| *t != "null")
                .collect();
            format!("must be {}", types.join(","))
        }
        ValidationErrorKind::Required { property } => format!(
            "must have required property '{}'",
            property.as_str().unwrap_or_default()
        ),
        ValidationErrorKind::AdditionalProperties { .. } => {
            "must NOT have additional properties".to_owned()
        }
        ValidationErrorKind::Format { format } => format!("must match format \"{format}\""),
        ValidationErrorKind::Custom { message, .. } => message.clone(),
        ValidationErrorKind::UniqueItems => {
            let items = body.pointer(error.instance_path().as_str())?.as_array()?;
            let (j, i) = ajv_duplicate(items)?;
            format!("must NOT have duplicate items (items ## {j} and {i} are identical)")
        }
        _ => error.to_string(),
    })
}

/// The pair AJV reports for `uniqueItems` on string items: it scans from the end with a
/// plain object as the index, so it names the later duplicate first, skips items that are
/// not strings, and never sees `"__proto__"` (assigning to it is a no-op on an object).
fn ajv_duplicate(items: &[Value]) -> Option<(usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate().rev() {
        let Some(text) = item.as_str() else { continue };
        if text == "__proto__" {
            continue;
        }
        if let Some(&j) = seen.get(text) {
            return Some((j, i));
        }
        seen.insert(text, i);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update_schema() -> RequestSchema {
        let nullable_strings = json!({
            "type": ["array", "null"], "items": {"type": "string"}, "uniqueItems": true
        });
        RequestSchema::compile(json!({
            "type": "object",
            "properties": {
                "contactId": {"type": "string"},
                "name": {"type": "string"},
                "emails": nullable_strings,
                "phones": nullable_strings,
                "customFields": {"type": ["object", "null"]},
                "contactManager": {"type": ["string", "null"]},
                "wipeConflicts": {"type": ["boolean", "null"]}
            },
            "required": ["contactId"],
            "additionalProperties": false
        }))
        .unwrap()
    }

    fn message(body: Value) -> Result<Value, String> {
        let mut body = body;
        update_schema().validate(&mut body).map(|()| body)
    }

    #[test]
    fn reports_the_first_failure_in_ajv_order() {
        assert_eq!(message(json!([])).unwrap_err(), "must be object");
        assert_eq!(
            message(json!({"unknown": true})).unwrap_err(),
            "must have required property 'contactId'"
        );
        assert_eq!(
            message(json!({"contactId": "x", "unknown": 1, "name": []})).unwrap_err(),
            "must NOT have additional properties"
        );
        assert_eq!(
            message(json!({"contactId": "x", "phones": [{}], "emails": "a"})).unwrap_err(),
            "must be array"
        );
    }

    #[test]
    fn duplicates_are_found_after_coercion_and_after_item_types() {
        assert_eq!(
            message(json!({"contactId": "x", "emails": [1, "1"]})).unwrap_err(),
            "must NOT have duplicate items (items ## 1 and 0 are identical)"
        );
        assert_eq!(
            message(json!({"contactId": "x", "emails": ["a", "b", "a", "b"]})).unwrap_err(),
            "must NOT have duplicate items (items ## 3 and 1 are identical)"
        );
        assert_eq!(
            message(json!({"contactId": "x", "emails": ["a", {}, "a"]})).unwrap_err(),
            "must be string"
        );
    }

    #[test]
    fn valid_bodies_come_back_coerced() {
        let body = message(json!({"contactId": 1, "emails": "", "wipeConflicts": "false"}));
        assert_eq!(
            body.unwrap(),
            json!({"contactId": "1", "emails": null, "wipeConflicts": false})
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Fields of an update body, each either valid, mistyped or unknown.
        fn field() -> impl Strategy<Value = (String, Value)> {
            prop_oneof![
                Just(("contactId".to_owned(), json!("67487f45e98719b7908d0f29"))),
                Just(("contactId".to_owned(), json!({}))),
                Just(("name".to_owned(), json!([]))),
                Just(("name".to_owned(), json!("John"))),
                Just(("emails".to_owned(), json!(["a", "a"]))),
                Just(("emails".to_owned(), json!([{}]))),
                Just(("phones".to_owned(), json!("+1"))),
                Just(("wipeConflicts".to_owned(), json!("maybe"))),
                Just(("customFields".to_owned(), json!(7))),
                "[a-z]{1,6}".prop_map(|k| (format!("x-{k}"), json!(1))),
            ]
        }

        proptest! {
            /// AJV walks the schema, not the body: the message reported never depends on
            /// the order in which the client wrote the fields.
            #[test]
            fn the_message_does_not_depend_on_the_order_of_the_fields(
                fields in prop::collection::vec(field(), 0..6),
                rotation in 0usize..6,
            ) {
                let mut fields = fields;
                let mut seen = std::collections::HashSet::new();
                fields.retain(|(key, _)| seen.insert(key.clone()));
                let mut turned = fields.clone();
                if !turned.is_empty() {
                    let by = rotation % turned.len();
                    turned.rotate_left(by);
                }
                let body = |fields: Vec<(String, Value)>| Value::Object(fields.into_iter().collect());
                prop_assert_eq!(message(body(fields)), message(body(turned)));
            }

            /// A missing `contactId` is reported before anything about the other fields,
            /// and a value that is not an object before that.
            #[test]
            fn required_comes_before_the_fields_and_type_before_required(
                fields in prop::collection::vec(field(), 0..6),
            ) {
                let map: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .filter(|(k, _)| k != "contactId")
                    .collect();
                prop_assert_eq!(
                    message(Value::Object(map)).unwrap_err(),
                    "must have required property 'contactId'"
                );
                prop_assert_eq!(message(json!([1])).unwrap_err(), "must be object");
            }
        }
    }
}
