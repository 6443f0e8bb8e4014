//! Rocket.Chat's business rules for contacts (`updateContact`, `resolveContactConflicts`,
//! `validateCustomFields`), as pure functions over a contact document.
//!
//! Each function checks everything before it writes anything, so a failed request changes
//! nothing: the store applies them to the stored contact in place (and debug builds check
//! that a refused change left it as it was).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::contact::Contact;
use super::request::{CreateContactBody, ResolveConflictsBody, UpdateContactBody};
use super::workspace::CustomFieldDefinition;
use crate::validation::js;

/// The business errors of the contacts routes; each text is what Rocket.Chat answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("error-contact-not-found")]
    NotFound,
    #[error("error-contact-manager-not-found")]
    ManagerNotFound,
    #[error("error-contact-has-no-conflicts")]
    NoConflicts,
    #[error("Invalid value for {0} field")]
    InvalidCustomField(String),
    #[error("Custom field {0} is not allowed")]
    CustomFieldNotAllowed(String),
    /// `contacts.delete` of a contact without a `channels` array: upstream's handler fails
    /// reading it, and the route answers with this code.
    #[error("error-invalid-contact")]
    InvalidContact,
    /// `contacts` (create) with `customFields: null` while custom fields are defined: the
    /// JavaScript `TypeError` upstream's validation meets, answered as its message.
    #[error("Cannot read properties of null (reading 'hasOwnProperty')")]
    NullCustomFields,
}

/// A custom field definition with its `regexp` compiled once, at load time.
#[derive(Debug, Clone)]
pub struct CustomField {
    pub definition: CustomFieldDefinition,
    pub pattern: Option<fancy_regex::Regex>,
}

/// What the rules need to know about the rest of the workspace.
pub(crate) trait Workspace {
    /// Is `user_id` a user holding the `livechat-agent` role?
    fn is_agent(&self, user_id: &str) -> bool;
    /// All custom field definitions, in stored order.
    fn custom_fields(&self) -> &[CustomField];
}

/// `contacts.update`, after validation and permission: writes `body` into `contact`.
pub(crate) fn update_contact(
    contact: &mut Contact,
    body: UpdateContactBody,
    workspace: &impl Workspace,
    now: &str,
) -> Result<(), ContactError> {
    check_manager(body.contact_manager.as_deref(), workspace)?;
    let custom_fields = body
        .custom_fields
        .map(|received| replace_custom_fields(contact, &received, workspace))
        .transpose()?;

    if let Some(name) = body.name {
        contact.set("name", Value::String(name));
    }
    if let Some(emails) = body.emails {
        let emails = emails
            .into_iter()
            .map(|a| json!({ "address": a }))
            .collect();
        contact.set("emails", Value::Array(emails));
    }
    if let Some(phones) = body.phones {
        let phones = phones
            .into_iter()
            .map(|p| json!({ "phoneNumber": p }))
            .collect();
        contact.set("phones", Value::Array(phones));
    }
    write_manager(contact, body.contact_manager);
    if let Some(custom_fields) = custom_fields {
        contact.set("customFields", Value::Object(custom_fields));
    }
    if body.wipe_conflicts == Some(true) {
        contact.set("conflictingFields", json!([]));
    }
    mark_updated(contact, now);
    Ok(())
}

/// `contacts.conflicts`, after validation and permission: keeps the given values and drops
/// the conflict entries they settle.
pub(crate) fn resolve_conflicts(
    contact: &mut Contact,
    body: ResolveConflictsBody,
    workspace: &impl Workspace,
    now: &str,
) -> Result<(), ContactError> {
    if contact.conflicts().is_empty() {
        return Err(ContactError::NoConflicts);
    }
    check_manager(body.contact_manager.as_deref(), workspace)?;

    let name = body.name.filter(|n| !n.is_empty());
    let conflicts: Vec<Value> = if body.wipe_conflicts == Some(true) {
        Vec::new()
    } else {
        let mut settled: HashSet<String> = HashSet::new();
        if name.is_some() {
            settled.insert("name".to_owned());
        }
        // `'contactManager' in params`: an empty manager (which clears it) settles the
        // `manager` conflict too (the version built on `patchContact`).
        if body.contact_manager.is_some() {
            settled.insert("manager".to_owned());
        }
        for key in body.custom_fields.iter().flat_map(|c| c.keys()) {
            settled.insert(format!("customFields.{key}"));
        }
        contact
            .conflicts()
            .iter()
            .filter(|c| {
                let field = c.get("field").and_then(Value::as_str).unwrap_or_default();
                !settled.contains(field)
            })
            .cloned()
            .collect()
    };

    if let Some(name) = name {
        contact.set("name", Value::String(name));
    }
    write_manager(contact, body.contact_manager);
    if let Some(received) = body.custom_fields {
        // `{ ...contact.customFields, ...customFields }`: stored values, overwritten as sent.
        let mut merged = contact.custom_fields().cloned().unwrap_or_default();
        for key in js::key_order(&received) {
            merged.insert(key.to_owned(), received[key].clone());
        }
        contact.set("customFields", Value::Object(js::in_js_order(merged)));
    }
    contact.set("conflictingFields", Value::Array(conflicts));
    mark_updated(contact, now);
    Ok(())
}

/// `contacts` (create), after validation and permission: the new contact's document, in the
/// field order Rocket.Chat's `insertContact` writes.
pub(crate) fn create_contact(
    id: String,
    body: CreateContactBody,
    workspace: &impl Workspace,
    now: &str,
) -> Result<Contact<'static>, ContactError> {
    // Only a truthy manager is checked; `""` and `null` are stored as sent.
    if let Some(Value::String(manager)) = &body.contact_manager {
        check_manager(Some(manager), workspace)?;
    }
    let allowed = allowed_custom_fields(workspace);
    let custom_fields = match &body.custom_fields {
        None => Map::new(),
        Some(Value::Object(received)) => checked_custom_fields(&allowed, received, &[])?,
        // The schema lets `null` through; upstream then reads `null.hasOwnProperty`, which
        // fails as soon as one custom field is defined.
        Some(_) if allowed.is_empty() => Map::new(),
        Some(_) => return Err(ContactError::NullCustomFields),
    };
    let mut document = Map::new();
    document.insert("_id".to_owned(), Value::String(id));
    document.insert("createdAt".to_owned(), Value::String(now.to_owned()));
    document.insert("name".to_owned(), Value::String(body.name));
    let emails = body
        .emails
        .into_iter()
        .map(|a| json!({ "address": a }))
        .collect();
    document.insert("emails".to_owned(), Value::Array(emails));
    let phones = body
        .phones
        .into_iter()
        .map(|p| json!({ "phoneNumber": p }))
        .collect();
    document.insert("phones".to_owned(), Value::Array(phones));
    // `...(contactManager && { contactManager })`: `""` and `null` are not stored.
    if let Some(manager) = body
        .contact_manager
        .filter(crate::validation::js::is_truthy)
    {
        document.insert("contactManager".to_owned(), manager);
    }
    document.insert("channels".to_owned(), json!([]));
    document.insert("customFields".to_owned(), Value::Object(custom_fields));
    document.insert("unknown".to_owned(), Value::Bool(false));
    // `preRegistration: !channels.length`: a contact created here has no channel yet.
    document.insert("preRegistration".to_owned(), Value::Bool(true));
    document.insert("_updatedAt".to_owned(), Value::String(now.to_owned()));
    Ok(Contact::from_document(document))
}

/// `disableContactById`, on an enabled contact: keeps the `_id`, the dates and the manager,
/// removes the personal data, and marks it disabled.
pub(crate) fn disable_contact(contact: &mut Contact, now: &str) -> Result<(), ContactError> {
    if !contact.has_channel_list() {
        return Err(ContactError::InvalidContact);
    }
    contact.set("enabled", Value::Bool(false));
    for field in [
        "emails",
        "customFields",
        "lastChat",
        "channels",
        "name",
        "phones",
        "conflictingFields",
    ] {
        contact.unset(field);
    }
    contact.set("_updatedAt", Value::String(now.to_owned()));
    Ok(())
}

/// A non-empty manager must be an agent; an empty one is a request to clear, unchecked.
fn check_manager(manager: Option<&str>, workspace: &impl Workspace) -> Result<(), ContactError> {
    match manager {
        Some(id) if !id.is_empty() && !workspace.is_agent(id) => Err(ContactError::ManagerNotFound),
        _ => Ok(()),
    }
}

fn write_manager(contact: &mut Contact, manager: Option<String>) {
    match manager {
        Some(id) if id.is_empty() => contact.unset("contactManager"),
        Some(id) => contact.set("contactManager", Value::String(id)),
        None => {}
    }
}

fn mark_updated(contact: &mut Contact, now: &str) {
    contact.set("unknown", Value::Bool(false));
    contact.set("_updatedAt", Value::String(now.to_owned()));
}

/// The contact's new `customFields` on update: the validated values of the defined fields
/// that were sent, plus the *legacy* values (keys the contact has that no allowed definition
/// names), which are kept as stored whatever the request says.
fn replace_custom_fields(
    contact: &Contact,
    received: &Map<String, Value>,
    workspace: &impl Workspace,
) -> Result<Map<String, Value>, ContactError> {
    let allowed = allowed_custom_fields(workspace);
    let is_defined = |key: &str| allowed.iter().any(|f| f.definition.id == key);
    let legacy: Vec<(&String, &Value)> = contact
        .custom_fields()
        .into_iter()
        .flatten()
        .filter(|(key, _)| !is_defined(key))
        .collect();
    let mut values = checked_custom_fields(&allowed, received, &legacy)?;
    for (key, value) in legacy {
        values.insert(key.clone(), value.clone());
    }
    Ok(js::in_js_order(values))
}

/// `getAllowedCustomFields`: the definitions a contact may hold, in stored order.
fn allowed_custom_fields(workspace: &impl Workspace) -> Vec<&CustomField> {
    workspace
        .custom_fields()
        .iter()
        .filter(|f| f.definition.is_allowed_on_contacts())
        .collect()
}

/// `validateCustomFields`: the validated values of the defined fields, then a refusal of
/// any key that is neither defined nor one of the contact's `legacy` keys.
fn checked_custom_fields(
    allowed: &[&CustomField],
    received: &Map<String, Value>,
    legacy: &[(&String, &Value)],
) -> Result<Map<String, Value>, ContactError> {
    let values = validate_custom_fields(allowed, received)?;
    let is_defined = |key: &str| allowed.iter().any(|f| f.definition.id == key);
    if let Some(key) = js::key_order(received)
        .into_iter()
        .find(|key| !is_defined(key) && !legacy.iter().any(|(k, _)| k == key))
    {
        return Err(ContactError::CustomFieldNotAllowed(key.to_owned()));
    }
    Ok(values)
}

/// `validateCustomFields` for the defined fields: required, trimmed text, `regexp`.
fn validate_custom_fields(
    allowed: &[&CustomField],
    received: &Map<String, Value>,
) -> Result<Map<String, Value>, ContactError> {
    let mut values = Map::new();
    for field in allowed {
        let definition = &field.definition;
        let invalid = || ContactError::InvalidCustomField(definition.display_name().to_owned());
        let Some(value) = received.get(&definition.id) else {
            if definition.required {
                return Err(invalid());
            }
            continue;
        };
        // Rocket.Chat's `trim(makeString(value))`: falsy values become "", others String(value).
        let text = if js::is_truthy(value) {
            js::trim(&js::to_js_string(value)).to_owned()
        } else {
            String::new()
        };
        if text.is_empty() {
            if definition.required {
                return Err(invalid());
            }
            continue;
        }
        if let Some(pattern) = &field.pattern {
            // A pattern that gives up (backtracking limit) does not match.
            if !pattern.is_match(&text).unwrap_or(false) {
                return Err(invalid());
            }
        }
        values.insert(definition.id.clone(), Value::String(text));
    }
    Ok(values)
}
