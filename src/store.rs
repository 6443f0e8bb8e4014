//! The workspace state: contacts, users, permissions and custom field definitions, held in
//! concurrent maps behind operations that each apply one request atomically.

mod extended_json;
pub mod fixtures;

use dashmap::DashMap;
use serde_json::Value;

use crate::domain::contact::Contact;
use crate::domain::request::{ResolveConflictsBody, UpdateContactBody};
use crate::domain::rules::{self, ContactError, CustomField, Workspace};
use crate::domain::workspace::{LIVECHAT_AGENT, User};
pub use extended_json::iso_millis;
use fixtures::Fixtures;

/// A logged-in user, as the permission check needs it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub roles: Vec<String>,
}

pub struct Store {
    contacts: DashMap<String, Contact>,
    users: DashMap<String, User>,
    /// Permission `_id` → the roles that hold it.
    permissions: DashMap<String, Vec<String>>,
    /// In stored order: the order in which Rocket.Chat validates them.
    custom_fields: Vec<CustomField>,
}

impl Store {
    /// The state the fixtures describe; the fixtures' documents move into it.
    pub fn new(fixtures: Fixtures) -> Self {
        Self {
            contacts: fixtures
                .contacts
                .into_iter()
                .map(|c| (c.id().to_owned(), c))
                .collect(),
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
        }
    }

    /// The user `user_id` if it is active and `token` is one of its login tokens.
    pub fn authenticate(&self, user_id: &str, token: &str) -> Option<Session> {
        let user = self.users.get(user_id)?;
        user.accepts_token(token).then(|| Session {
            user_id: user.id.clone(),
            roles: user.roles.clone(),
        })
    }

    /// Does one of `session`'s roles hold `permission`?
    pub fn has_permission(&self, session: &Session, permission: &str) -> bool {
        self.permissions
            .get(permission)
            .is_some_and(|roles| roles.iter().any(|r| session.roles.contains(r)))
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
        let mut entry = self
            .contacts
            .get_mut(id)
            .filter(|c| c.is_enabled())
            .ok_or(ContactError::NotFound)?;
        let mut next = entry.clone();
        change(&mut next)?;
        *entry = next;
        Ok(entry.to_value())
    }

    pub fn counts(&self) -> String {
        format!(
            "{} users, {} permissions, {} contacts, {} custom fields",
            self.users.len(),
            self.permissions.len(),
            self.contacts.len(),
            self.custom_fields.len()
        )
    }
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
