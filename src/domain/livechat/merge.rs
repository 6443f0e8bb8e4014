//! `ContactMerger` (`lib/contacts/ContactMerger.ts`): what a visitor's details do to a
//! contact linked to it. A known contact keeps its name and manager and records the other
//! values as `conflictingFields`; an `unknown` contact is simply overwritten. E-mail
//! addresses, phone numbers and channels are added to the lists either way.

use serde_json::{Map, Value, json};

use super::set_fields;

/// One value a visitor brings.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Name(String),
    /// Counts as a name only when the contact has none and no name came.
    Username(String),
    Email(String),
    Phone(String),
    /// A user `_id`.
    Manager(String),
    CustomField(String, Value),
    Channel(Value),
}

/// How differing values are handled: `contact.unknown ? Overwrite : Conflict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Conflict,
    Overwrite,
}

impl Mode {
    pub fn for_contact(contact: &Map<String, Value>) -> Self {
        if contact.get("unknown") == Some(&Value::Bool(true)) {
            Self::Overwrite
        } else {
            Self::Conflict
        }
    }
}

fn same_channel(a: &Value, b: &Value) -> bool {
    let key = |c: &Value| {
        (
            c.pointer("/visitor/visitorId").cloned(),
            c.pointer("/visitor/source/type").cloned(),
            c.pointer("/visitor/source/id")
                .filter(|id| !id.is_null())
                .cloned(),
        )
    };
    key(a) == key(b)
}

impl Field {
    /// Do the two hold the same value of the same kind (a username is compared as such)?
    fn same(&self, other: &Field) -> bool {
        match (self, other) {
            (Self::Channel(a), Self::Channel(b)) => same_channel(a, b),
            (a, b) => a == b,
        }
    }
}

/// The contact's own values, its recorded conflicts among them (so that a value already
/// recorded is never recorded twice).
fn existing_fields(contact: &Map<String, Value>) -> Vec<Field> {
    let mut fields = Vec::new();
    let list = |field: &str, key: &str| -> Vec<String> {
        contact
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| item.get(key)?.as_str().map(str::to_owned))
            .collect()
    };
    fields.extend(list("emails", "address").into_iter().map(Field::Email));
    fields.extend(list("phones", "phoneNumber").into_iter().map(Field::Phone));
    for channel in contact
        .get("channels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        fields.push(Field::Channel(channel.clone()));
    }
    if let Some(name) = contact.get("name").and_then(Value::as_str) {
        fields.push(Field::Name(name.to_owned()));
    }
    if let Some(manager) = contact.get("contactManager").and_then(Value::as_str) {
        fields.push(Field::Manager(manager.to_owned()));
    }
    for (key, value) in contact
        .get("customFields")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        fields.push(Field::CustomField(key.clone(), value.clone()));
    }
    for conflict in contact
        .get("conflictingFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let value = conflict.get("value").cloned().unwrap_or(Value::Null);
        let text = value.as_str().map(str::to_owned).unwrap_or_default();
        match conflict.get("field").and_then(Value::as_str) {
            Some("name") => fields.push(Field::Name(text)),
            Some("manager") => fields.push(Field::Manager(text)),
            Some(other) => {
                if let Some(key) = other.strip_prefix("customFields.") {
                    fields.push(Field::CustomField(key.to_owned(), value));
                }
            }
            None => {}
        }
    }
    fields
}

/// `mergeFieldsIntoContact`: writes `incoming` into `contact`; whether anything changed
/// (only then is `_updatedAt` touched).
pub fn merge_into_contact(
    contact: &mut Map<String, Value>,
    incoming: Vec<Field>,
    mode: Mode,
    now: &str,
) -> bool {
    let existing = existing_fields(contact);
    let has_name = existing.iter().any(|f| matches!(f, Field::Name(_)));
    let new: Vec<Field> = incoming
        .into_iter()
        .filter(|f| !existing.iter().any(|e| e.same(f)))
        .filter(|f| !(has_name && matches!(f, Field::Username(_))))
        .collect();
    let mut sets: Vec<(String, Value)> = Vec::new();

    let mut names: Vec<String> = new
        .iter()
        .filter_map(|f| match f {
            Field::Name(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let contact_name = contact
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if names.is_empty() && !contact_name {
        names = new
            .iter()
            .filter_map(|f| match f {
                Field::Username(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
    }
    if !names.is_empty() && (!contact_name || mode == Mode::Overwrite) {
        sets.push(("name".into(), json!(names.remove(0))));
    }
    let mut managers: Vec<String> = new
        .iter()
        .filter_map(|f| match f {
            Field::Manager(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    let has_manager = contact
        .get("contactManager")
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty());
    if !managers.is_empty() && (!has_manager || mode == Mode::Overwrite) {
        sets.push(("contactManager".into(), json!(managers.remove(0))));
    }

    let mut custom_fields = contact
        .get("customFields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut custom_changed = false;
    for field in &new {
        if let Field::CustomField(key, value) = field
            && (!custom_fields.contains_key(key) || mode == Mode::Overwrite)
        {
            custom_fields.insert(key.clone(), value.clone());
            custom_changed = true;
        }
    }
    if custom_changed {
        sets.push(("customFields".into(), Value::Object(custom_fields)));
    }

    let add_to = |field: &str, items: Vec<Value>, sets: &mut Vec<(String, Value)>| -> bool {
        if items.is_empty() {
            return false;
        }
        let mut list = contact
            .get(field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let before = list.len();
        for item in items {
            if !list.contains(&item) {
                list.push(item);
            }
        }
        let changed = list.len() != before || !contact.contains_key(field);
        if changed {
            sets.push((field.into(), Value::Array(list)));
        }
        changed
    };
    let phones = new
        .iter()
        .filter_map(|f| match f {
            Field::Phone(p) => Some(json!({ "phoneNumber": p })),
            _ => None,
        })
        .collect();
    add_to("phones", phones, &mut sets);
    let emails = new
        .iter()
        .filter_map(|f| match f {
            Field::Email(e) => Some(json!({ "address": e })),
            _ => None,
        })
        .collect();
    add_to("emails", emails, &mut sets);
    let channels: Vec<Value> = new
        .iter()
        .filter_map(|f| match f {
            Field::Channel(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    if add_to("channels", channels, &mut sets) {
        sets.push(("preRegistration".into(), json!(false)));
    }
    if mode == Mode::Conflict {
        let conflicts: Vec<Value> = names
            .iter()
            .map(|n| json!({ "field": "name", "value": n }))
            .chain(
                managers
                    .iter()
                    .map(|m| json!({ "field": "manager", "value": m })),
            )
            .collect();
        add_to("conflictingFields", conflicts, &mut sets);
    }
    if sets.is_empty() {
        return false;
    }
    sets.push(("_updatedAt".into(), json!(now)));
    set_fields(contact, sets);
    true
}

/// `updateContactsCustomFields`: widget custom field values written to a contact. A value
/// the contact already has (truthy) and `overwrite: false` becomes a `customFields.<key>`
/// conflict, however equal; `has_value` reads the contact as it was before the request.
pub fn custom_fields_into_contact(
    contact: &mut Map<String, Value>,
    values: &[super::FieldValue],
    now: &str,
) -> bool {
    let before = contact
        .get("customFields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut custom_fields = before.clone();
    let mut conflicts: Option<Vec<Value>> = None;
    for value in values {
        if value.overwrite || !super::has_value(before.get(&value.key)) {
            custom_fields.insert(value.key.clone(), json!(value.value));
        } else {
            conflicts
                .get_or_insert_with(|| {
                    contact
                        .get("conflictingFields")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
                .push(
                    json!({ "field": format!("customFields.{}", value.key), "value": value.value }),
                );
        }
    }
    let mut sets = Vec::new();
    if custom_fields != before
        || (!contact.contains_key("customFields") && !custom_fields.is_empty())
    {
        sets.push(("customFields".to_owned(), Value::Object(custom_fields)));
    }
    if let Some(conflicts) = conflicts {
        sets.push(("conflictingFields".to_owned(), Value::Array(conflicts)));
    }
    if sets.is_empty() {
        return false;
    }
    sets.push(("_updatedAt".to_owned(), json!(now)));
    set_fields(contact, sets);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_known_contact_keeps_its_name_and_records_the_other_once() {
        let mut known = contact(
            json!({"_id": "c", "name": "A", "emails": [{"address": "a@x"}], "unknown": false}),
        );
        let fields = || {
            vec![
                Field::Name("B".into()),
                Field::Email("b@x".into()),
                Field::Username("guest-2".into()),
            ]
        };
        assert!(merge_into_contact(
            &mut known,
            fields(),
            Mode::Conflict,
            "now"
        ));
        assert_eq!(known["name"], "A");
        assert_eq!(
            known["emails"],
            json!([{"address": "a@x"}, {"address": "b@x"}])
        );
        assert_eq!(
            known["conflictingFields"],
            json!([{"field": "name", "value": "B"}])
        );
        // The same details again change nothing: B is recorded already.
        assert!(!merge_into_contact(
            &mut known,
            fields(),
            Mode::Conflict,
            "later"
        ));
        assert_eq!(known["_updatedAt"], "now");
    }

    #[test]
    fn an_unknown_contact_is_overwritten_without_conflicts() {
        let mut unknown = contact(json!({"_id": "c", "name": "guest-2", "unknown": true}));
        assert!(merge_into_contact(
            &mut unknown,
            vec![Field::Name("Ana".into())],
            Mode::Overwrite,
            "now"
        ));
        assert_eq!(unknown["name"], "Ana");
        assert!(!unknown.contains_key("conflictingFields"));
    }

    #[test]
    fn a_username_names_only_a_nameless_contact() {
        let mut nameless = contact(json!({"_id": "c"}));
        merge_into_contact(
            &mut nameless,
            vec![Field::Username("guest-9".into())],
            Mode::Conflict,
            "now",
        );
        assert_eq!(nameless["name"], "guest-9");
    }

    #[test]
    fn a_widget_value_over_an_existing_one_is_a_conflict_even_when_equal() {
        let mut known = contact(json!({"_id": "c", "customFields": {"cpf": "1"}}));
        let values = [super::super::FieldValue {
            key: "cpf".into(),
            value: "1".into(),
            overwrite: false,
        }];
        assert!(custom_fields_into_contact(&mut known, &values, "now"));
        assert_eq!(known["customFields"], json!({"cpf": "1"}));
        assert_eq!(
            known["conflictingFields"],
            json!([{"field": "customFields.cpf", "value": "1"}])
        );
    }
}
