//! The workspace state: contacts, users, permissions and custom field definitions, held in
//! concurrent maps behind operations that each apply one request atomically.

mod extended_json;
pub mod fixtures;

use dashmap::DashMap;
use serde_json::{Map, Value, json};

use crate::domain::contact::Contact;
use crate::domain::request::{ResolveConflictsBody, UpdateContactBody};
use crate::domain::rules::{self, ContactError, CustomField, Workspace};
use crate::domain::workspace::{LIVECHAT_AGENT, User};
pub use extended_json::iso_millis;
use fixtures::{Collection, Documents, Fixtures};

/// A logged-in user, as the permission check needs it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub roles: Vec<String>,
}

/// A contact and its place in the collection (loaded order), which keeps
/// `GET /_mock/state` in a stable order.
#[derive(Clone)]
struct Slot {
    position: u64,
    contact: Contact,
}

pub struct Store {
    contacts: DashMap<String, Slot>,
    users: DashMap<String, User>,
    /// Permission `_id` → the roles that hold it.
    permissions: DashMap<String, Vec<String>>,
    /// In stored order: the order in which Rocket.Chat validates them.
    custom_fields: Vec<CustomField>,
    /// The user, permission and custom field documents as loaded, for `GET /_mock/state`
    /// (no route changes them).
    documents: Documents,
}

impl Store {
    /// The state the fixtures describe; the fixtures' documents move into it.
    pub fn new(fixtures: Fixtures) -> Self {
        let contacts: DashMap<String, Slot> = fixtures
            .contacts
            .into_iter()
            .zip(0..)
            .map(|(contact, position)| (contact.id().to_owned(), Slot { position, contact }))
            .collect();
        Self {
            contacts,
            users: fixtures
                .users
                .into_iter()
                .map(|u| (u.id.clone(), u))
                .collect(),
            permissions: fixtures
                .permissions
                .into_iter()
                .map(|p| (p.id, p.roles))
                .collect(),
            custom_fields: fixtures.custom_fields,
            documents: fixtures.documents,
        }
    }

    /// The whole state in the fixture shapes: `{"users", "permissions", "contacts",
    /// "customFields"}`, each in loaded order.
    pub fn snapshot(&self) -> Value {
        let mut contacts: Vec<(u64, Value)> = self
            .contacts
            .iter()
            .map(|slot| (slot.position, slot.contact.to_value()))
            .collect();
        contacts.sort_unstable_by_key(|(position, _)| *position);
        state_object(
            &self.documents,
            contacts.into_iter().map(|(_, contact)| contact).collect(),
        )
    }

    /// The user `user_id` if it is active and `token` is one of its login tokens.
    pub fn authenticate(&self, user_id: &str, token: &str) -> Option<Caller> {
        let user = self.users.get(user_id)?;
        user.accepts_token(token).then(|| Caller {
            user_id: user.id.clone(),
            roles: user.roles.clone(),
        })
    }

    /// Does one of `caller`'s roles hold `permission`?
    pub fn has_permission(&self, caller: &Caller, permission: &str) -> bool {
        self.permissions
            .get(permission)
            .is_some_and(|roles| roles.iter().any(|r| caller.roles.contains(r)))
    }

    pub fn update_contact(
        &self,
        body: UpdateContactBody,
        now: &str,
    ) -> Result<Value, ContactError> {
        let id = body.contact_id.clone();
        self.modify_contact(&id, |contact| {
            rules::update_contact(contact, body, self, now)
        })
    }

    pub fn resolve_conflicts(
        &self,
        body: ResolveConflictsBody,
        now: &str,
    ) -> Result<Value, ContactError> {
        let id = body.contact_id.clone();
        self.modify_contact(&id, |contact| {
            rules::resolve_conflicts(contact, body, self, now)
        })
    }

    /// Applies `change` to a copy of the enabled contact `id` and commits it only if the
    /// change succeeds. The map entry stays locked throughout, so concurrent requests on one
    /// contact apply one after the other and none is lost.
    fn modify_contact(
        &self,
        id: &str,
        change: impl FnOnce(&mut Contact) -> Result<(), ContactError>,
    ) -> Result<Value, ContactError> {
        let mut slot = self
            .contacts
            .get_mut(id)
            .filter(|slot| slot.contact.is_enabled())
            .ok_or(ContactError::NotFound)?;
        let mut next = slot.contact.clone();
        change(&mut next)?;
        slot.contact = next;
        Ok(slot.contact.to_value())
    }

    /// How many documents each collection holds, keyed as in the state object.
    pub fn counts(&self) -> Value {
        json!({
            "users": self.users.len(),
            "permissions": self.permissions.len(),
            "contacts": self.contacts.len(),
            "customFields": self.custom_fields.len(),
        })
    }
}

/// `{"users", "permissions", "contacts", "customFields"}`, in that order.
pub(crate) fn state_object(documents: &Documents, contacts: Vec<Value>) -> Value {
    let objects =
        |maps: &[Map<String, Value>]| maps.iter().cloned().map(Value::Object).collect::<Vec<_>>();
    let mut contacts = Some(contacts);
    let mut state = Map::new();
    for collection in Collection::ALL {
        let array = match collection {
            Collection::Users => objects(&documents.users),
            Collection::Permissions => objects(&documents.permissions),
            Collection::Contacts => contacts.take().unwrap_or_default(),
            Collection::CustomFields => objects(&documents.custom_fields),
        };
        state.insert(collection.state_key().to_owned(), Value::Array(array));
    }
    Value::Object(state)
}

impl Workspace for Store {
    fn is_agent(&self, user_id: &str) -> bool {
        self.users
            .get(user_id)
            .is_some_and(|u| u.has_role(LIVECHAT_AGENT))
    }

    fn custom_fields(&self) -> &[CustomField] {
        &self.custom_fields
    }
}
