//! The workspace state: contacts, users, permissions and custom field definitions, behind
//! operations that each apply one request.
//!
//! A [`Store`] is a persistent value: cloning it costs a few pointer copies, and a write
//! copies only the parts it changes. The session keeps the current store behind a lock held
//! for a pointer swap; readers work on a snapshot, writers on the session's own copy
//! (mock/sessions.rs), so no request waits on another's work.

mod agent;
mod canonical;
mod contacts;
mod extended_json;
pub mod fixtures;
mod fold;
mod index;
mod livechat;
mod state;
mod table;
mod text_column;
mod users;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize as _;
use serde_json::{Map, Value, json};

use crate::domain::account::{self, Credentials, LoginError};
use crate::domain::contact::Contact;
use crate::domain::livechat::settings::Settings;
use crate::domain::request::{
    CheckExistenceQuery, CreateContactBody, ResolveConflictsBody, UpdateContactBody,
};
use crate::domain::rules::{self, ContactError, CustomField, Workspace};
use crate::domain::search::Search;
use crate::domain::workspace::{LIVECHAT_AGENT, Permission, User, hash_login_token};
pub use agent::{Listed, RoomAccessError, UserFilter, UserKey};
pub use contacts::ContactsPage;
pub(crate) use contacts::{Contacts, PreparedContact, StoredContact};
pub use extended_json::iso_millis;
pub(crate) use livechat::{HistoryQuery, NewIds};
pub(crate) use state::StateWriter;
pub(crate) use table::Stored;
pub(crate) use users::{UserSlot, Users};

/// A logged-in user, as the permission check needs it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub roles: Vec<String>,
}

/// A successful login: the new token and the user's `me` object.
pub struct Login {
    pub user_id: String,
    pub token: String,
    pub me: Map<String, Value>,
}

/// The collections no Rocket.Chat route changes, as loaded (documents for `GET
/// /_mock/state`, typed readings for the routes).
#[derive(Debug, Clone, Default)]
pub(crate) struct Definitions {
    permissions: Vec<Definition<Permission>>,
    /// Permission `_id` → the roles that hold it.
    roles: HashMap<String, Vec<String>>,
    /// In stored order: the order in which Rocket.Chat validates them.
    custom_fields: Vec<Definition<CustomField>>,
    /// The typed readings of `custom_fields`, as the rules take them.
    fields: Vec<CustomField>,
}

impl Definitions {
    fn upsert_permission(&mut self, document: Map<String, Value>, permission: Permission) {
        upsert_by_id(&mut self.permissions, (document, permission), |(_, p)| {
            &p.id
        });
        self.roles = self
            .permissions
            .iter()
            .map(|(_, p)| (p.id.clone(), p.roles.clone()))
            .collect();
    }

    fn upsert_custom_field(&mut self, document: Map<String, Value>, field: CustomField) {
        upsert_by_id(&mut self.custom_fields, (document, field), |(_, f)| {
            &f.definition.id
        });
        self.fields = self.custom_fields.iter().map(|(_, f)| f.clone()).collect();
    }
}

/// Replaces the item with the same id in its place, or appends it.
fn upsert_by_id<T>(items: &mut Vec<T>, item: T, id: impl Fn(&T) -> &String) {
    match items.iter().position(|i| id(i) == id(&item)) {
        Some(index) => items[index] = item,
        None => items.push(item),
    }
}

/// A definition document as loaded, and its typed reading.
pub(crate) type Definition<T> = (Map<String, Value>, T);

/// Documents checked as fixtures are and made ready to store: a whole state (fixture files,
/// `PUT /_mock/state`) or the documents of `PATCH /_mock/state`.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    pub(crate) users: Vec<UserSlot>,
    pub(crate) permissions: Vec<Definition<Permission>>,
    pub(crate) contacts: Vec<PreparedContact>,
    pub(crate) custom_fields: Vec<Definition<CustomField>>,
    pub(crate) visitors: Vec<Stored<livechat::VisitorKeys>>,
    pub(crate) rooms: Vec<Stored<livechat::RoomKeys>>,
    pub(crate) messages: Vec<Stored<livechat::MessageKeys>>,
    pub(crate) settings: Vec<Map<String, Value>>,
}

#[derive(Debug, Clone, Default)]
pub struct Store {
    contacts: Contacts,
    users: Users,
    definitions: Arc<Definitions>,
    visitors: livechat::Visitors,
    rooms: livechat::Rooms,
    messages: livechat::Messages,
    settings: Settings,
}

/// What the rules see of the workspace while a contact is being changed.
struct View<'a> {
    users: &'a Users,
    definitions: &'a Definitions,
}

impl Workspace for View<'_> {
    fn is_agent(&self, user_id: &str) -> bool {
        self.users
            .get(user_id)
            .is_some_and(|slot| slot.user().has_role(LIVECHAT_AGENT))
    }

    fn custom_fields(&self) -> &[CustomField] {
        &self.definitions.fields
    }
}

impl Store {
    /// A store holding `documents`, in their order.
    pub fn new(documents: Documents) -> Self {
        let mut store = Self::default();
        store.upsert(documents);
        store
    }

    /// Inserts or replaces (by `_id`) every document: a replaced one keeps its place, a new
    /// one goes after the others.
    pub fn upsert(&mut self, documents: Documents) {
        for slot in documents.users {
            self.users.upsert(slot);
        }
        if !documents.permissions.is_empty() || !documents.custom_fields.is_empty() {
            let definitions = Arc::make_mut(&mut self.definitions);
            for (document, permission) in documents.permissions {
                definitions.upsert_permission(document, permission);
            }
            for (document, field) in documents.custom_fields {
                definitions.upsert_custom_field(document, field);
            }
        }
        self.contacts.extend(documents.contacts);
        fill(&mut self.visitors, documents.visitors);
        fill(&mut self.rooms, documents.rooms);
        fill(&mut self.messages, documents.messages);
        if !documents.settings.is_empty() {
            self.settings.upsert(documents.settings);
        }
    }

    fn view(&self) -> View<'_> {
        View {
            users: &self.users,
            definitions: &self.definitions,
        }
    }

    /// The user `user_id` if it is active and `token` is one of its login tokens.
    pub fn authenticate(&self, user_id: &str, token: &str) -> Option<Caller> {
        let user = self.users.get(user_id)?.user();
        user.accepts_token(token).then(|| Caller {
            user_id: user.id.clone(),
            roles: user.roles.clone(),
        })
    }

    /// The first half of `POST /api/v1/login`: whose credentials these are. Read-only, so
    /// that a slow password hash holds no lock.
    pub fn check_credentials(&self, credentials: &Credentials) -> Result<String, LoginError> {
        let slot = match credentials {
            Credentials::Unrecognized => None,
            Credentials::Resume(resume) => self.users.by_resume_token(resume),
            Credentials::Password { user, digest } => self
                .users
                .find(user)
                .filter(|slot| slot.user().accepts_password_digest(digest)),
        };
        slot.map(|slot| slot.user().id.clone())
            .ok_or(LoginError::NotFound)
    }

    /// The second half of `POST /api/v1/login`: `validateLoginAttempt`, then a new login
    /// token stored hashed in `services.resume.loginTokens`, as Rocket.Chat does.
    pub fn issue_login_token(
        &mut self,
        user_id: &str,
        token: String,
        now: &str,
        site_url: &str,
    ) -> Result<Login, LoginError> {
        let slot = self.users.get(user_id).ok_or(LoginError::NotFound)?;
        account::validate_login_attempt(slot.user(), slot.document())?;
        let entry = json!({ "when": now, "hashedToken": hash_login_token(&token) });
        let mut document = slot.document().clone();
        push_login_token(&mut document, entry);
        let user = reread_user(&document).ok_or(LoginError::NotFound)?;
        let me = account::user_info(&document, site_url);
        self.users.upsert(UserSlot::new(document, user));
        Ok(Login {
            user_id: user_id.to_owned(),
            token,
            me,
        })
    }

    /// A `resume` login: Meteor's resume handler answers with the token that was sent and
    /// stores no new one.
    pub fn resume_login(
        &self,
        user_id: &str,
        token: String,
        site_url: &str,
    ) -> Result<Login, LoginError> {
        let slot = self.users.get(user_id).ok_or(LoginError::NotFound)?;
        account::validate_login_attempt(slot.user(), slot.document())?;
        Ok(Login {
            user_id: user_id.to_owned(),
            token,
            me: account::user_info(slot.document(), site_url),
        })
    }

    /// `POST /api/v1/logout`: the caller's token stops working.
    pub fn logout(&mut self, caller: &Caller, token: &str) {
        let Some(slot) = self.users.get(&caller.user_id) else {
            return;
        };
        let hashed = hash_login_token(token);
        let mut document = slot.document().clone();
        if let Some(Value::Array(tokens)) = document.get_mut("authTokens") {
            tokens.retain(|t| t.as_str() != Some(token));
        }
        if let Some(Value::Array(tokens)) = document
            .get_mut("services")
            .and_then(|s| s.get_mut("resume"))
            .and_then(|r| r.get_mut("loginTokens"))
        {
            tokens.retain(|t| t.get("hashedToken").and_then(Value::as_str) != Some(&hashed));
        }
        if let Some(user) = reread_user(&document) {
            self.users.upsert(UserSlot::new(document, user));
        }
    }

    /// `GET /api/v1/me`: the caller's `getUserInfo`.
    pub fn me(&self, caller: &Caller, site_url: &str) -> Option<Map<String, Value>> {
        let slot = self.users.get(&caller.user_id)?;
        Some(account::user_info(slot.document(), site_url))
    }

    /// `contacts.get`: the enabled contact `id`.
    pub(crate) fn contact(&self, id: &str) -> Option<StoredContact> {
        self.contacts.enabled(id)
    }

    /// `contacts.search`: one page of the matching contacts, in the asked order, each with
    /// its manager as `{_id, username, name}`; and how many match in all.
    pub fn search_contacts(&self, search: &Search) -> ContactsPage {
        let (page, total) = self.contacts.search(search);
        ContactsPage {
            contacts: page
                .iter()
                .map(|contact| self.with_manager_data(contact.document()))
                .collect(),
            total,
        }
    }

    /// `getContacts`: the `contactManager` id becomes the user's `{_id, username, name}`,
    /// moved to the end; an unknown manager disappears.
    fn with_manager_data(&self, mut document: Map<String, Value>) -> Value {
        if let Some(manager) = document.shift_remove("contactManager")
            && let Some(id) = manager.as_str().filter(|id| !id.is_empty())
            && let Some(slot) = self.users.get(id)
        {
            let mut data = Map::new();
            data.insert("_id".to_owned(), Value::String(id.to_owned()));
            for (key, value) in slot.document() {
                if key == "username" || key == "name" {
                    data.insert(key.clone(), value.clone());
                }
            }
            document.insert("contactManager".to_owned(), Value::Object(data));
        }
        Value::Object(document)
    }

    /// `countByContactInfo`: contacts whose `_id`, an e-mail address or a phone number is
    /// exactly the one given. Disabled contacts count too (their `_id` still matches).
    pub fn contact_exists(&self, query: &CheckExistenceQuery) -> bool {
        self.contacts.exists(query)
    }

    /// `contacts` (create): a new contact with the id given.
    pub fn create_contact(
        &mut self,
        id: String,
        body: CreateContactBody,
        now: &str,
    ) -> Result<String, ContactError> {
        let contact = rules::create_contact(id.clone(), body, &self.view(), now)?;
        self.contacts
            .upsert(PreparedContact::from_contact(&contact));
        Ok(id)
    }

    /// `contacts.delete`: disables the contact.
    pub fn disable_contact(&mut self, id: &str, now: &str) -> Result<(), ContactError> {
        self.contacts
            .modify(id, |contact| rules::disable_contact(contact, now))
            .map(drop)
    }

    /// Does one of `caller`'s roles hold `permission`?
    pub fn has_permission(&self, caller: &Caller, permission: &str) -> bool {
        self.definitions
            .roles
            .get(permission)
            .is_some_and(|roles| roles.iter().any(|r| caller.roles.contains(r)))
    }

    pub(crate) fn update_contact(
        &mut self,
        body: UpdateContactBody,
        now: &str,
    ) -> Result<StoredContact, ContactError> {
        let id = body.contact_id.clone();
        let before = self
            .contacts
            .enabled(&id)
            .and_then(|c| c.document().get("name").cloned());
        let renamed = body.name.clone();
        let contact = self.change_contact(&id, |contact, workspace| {
            rules::update_contact(contact, body, workspace, now)
        })?;
        // `updateContact`: a name that changed renames the contact's rooms
        // (`updateContactDataByContactId` writes nothing for an empty one).
        if let Some(name) = renamed.filter(|n| !n.is_empty())
            && before.as_ref().and_then(Value::as_str) != Some(name.as_str())
        {
            self.rename_rooms_of_contact(&id, &name, now);
        }
        Ok(contact)
    }

    pub(crate) fn resolve_conflicts(
        &mut self,
        body: ResolveConflictsBody,
        now: &str,
    ) -> Result<StoredContact, ContactError> {
        let id = body.contact_id.clone();
        self.change_contact(&id, |contact, workspace| {
            rules::resolve_conflicts(contact, body, workspace, now)
        })
    }

    /// Applies a rule that reads the rest of the workspace to the enabled contact `id`.
    fn change_contact(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Contact, &View<'_>) -> Result<(), ContactError>,
    ) -> Result<StoredContact, ContactError> {
        let Self {
            contacts,
            users,
            definitions,
            ..
        } = self;
        let view = View { users, definitions };
        contacts.modify(id, |contact| change(contact, &view))
    }

    /// How many documents each collection holds, keyed as in the state object.
    pub fn counts(&self) -> Value {
        json!({
            "users": self.users.len(),
            "permissions": self.definitions.permissions.len(),
            "contacts": self.contacts.len(),
            "customFields": self.definitions.custom_fields.len(),
            "visitors": self.visitors.len(),
            "rooms": self.rooms.len(),
            "messages": self.messages.len(),
            "settings": self.settings.documents().len(),
        })
    }

    /// The whole state as one value, in the fixture shapes. For small workspaces (the
    /// documented examples); `GET /_mock/state` streams it with [`StateWriter`].
    pub fn to_state(&self) -> Value {
        let mut text = Vec::new();
        let mut writer = StateWriter::new(Arc::new(self.clone()));
        while let Some(chunk) = writer.next_chunk() {
            text.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&text).expect("the state writer writes JSON")
    }
}

/// Adds documents to a table: in bulk into an empty one (loading), one by one otherwise.
fn fill<K: table::Keys>(table: &mut table::Table<K>, documents: Vec<Stored<K>>) {
    if documents.is_empty() {
        return;
    }
    if table.len() == 0 {
        *table = table::Table::filled(documents);
    } else {
        documents.into_iter().for_each(|d| table.upsert(d));
    }
}

/// Appends a login token to `services.resume.loginTokens`, creating the path as needed.
fn push_login_token(document: &mut Map<String, Value>, entry: Value) {
    let services = object_at(document, "services");
    let resume = object_at(services, "resume");
    let tokens = resume.entry("loginTokens").or_insert_with(|| json!([]));
    if !tokens.is_array() {
        *tokens = json!([]);
    }
    if let Value::Array(tokens) = tokens {
        tokens.push(entry);
    }
}

/// The object under `key`, created (or replacing a non-object) as needed.
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let value = map.entry(key).or_insert_with(|| json!({}));
    if !value.is_object() {
        *value = json!({});
    }
    match value {
        Value::Object(object) => object,
        _ => unreachable!("just made an object"),
    }
}

/// The typed reading of a user document, taken again after a change to it.
fn reread_user(document: &Map<String, Value>) -> Option<User> {
    User::deserialize(document).ok()
}
