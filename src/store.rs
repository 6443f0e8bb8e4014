//! The workspace state: contacts, users, permissions and custom field definitions, held in
//! concurrent maps behind operations that each apply one request atomically.

mod extended_json;
pub mod fixtures;

use dashmap::DashMap;
use serde_json::{Map, Value, json};

use crate::domain::account::{self, Credentials, LoginError, UserSelector};
use crate::domain::contact::Contact;
use crate::domain::request::{
    CheckExistenceQuery, CreateContactBody, ResolveConflictsBody, UpdateContactBody,
};
use crate::domain::rules::{self, ContactError, CustomField, Workspace};
use crate::domain::search::Search;
use crate::domain::workspace::{LIVECHAT_AGENT, User, hash_login_token};
pub use extended_json::iso_millis;
use fixtures::{Collection, Documents, Fixtures};

/// A logged-in user, as the permission check needs it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub roles: Vec<String>,
}

/// A contact and its place in the collection (loaded order, then creation order), which
/// keeps `GET /_mock/state` and MongoDB's natural order stable.
#[derive(Clone)]
struct Slot {
    position: u64,
    contact: Contact,
}

/// A user document, its typed reading, and its place in the collection. Login and logout
/// change the document's tokens, and the reading is taken again from it.
struct UserSlot {
    position: u64,
    document: Map<String, Value>,
    user: User,
}

/// A successful login: the new token and the user's `me` object.
pub struct Login {
    pub user_id: String,
    pub token: String,
    pub me: Map<String, Value>,
}

/// A page of `contacts.search`.
pub struct ContactsPage {
    pub contacts: Vec<Value>,
    pub total: usize,
}

pub struct Store {
    contacts: DashMap<String, Slot>,
    /// The next free `position` for a created contact.
    next_position: std::sync::atomic::AtomicU64,
    users: DashMap<String, UserSlot>,
    /// Permission `_id` → the roles that hold it.
    permissions: DashMap<String, Vec<String>>,
    /// In stored order: the order in which Rocket.Chat validates them.
    custom_fields: Vec<CustomField>,
    /// The permission and custom field documents as loaded, for `GET /_mock/state` (no
    /// route changes them). User documents live in `users`.
    documents: Documents,
}

impl Store {
    /// The state the fixtures describe; the fixtures' documents move into it.
    pub fn new(fixtures: Fixtures) -> Self {
        let mut documents = fixtures.documents;
        let contacts: DashMap<String, Slot> = fixtures
            .contacts
            .into_iter()
            .zip(0..)
            .map(|(contact, position)| (contact.id().to_owned(), Slot { position, contact }))
            .collect();
        let users = std::mem::take(&mut documents.users)
            .into_iter()
            .zip(fixtures.users)
            .zip(0..)
            .map(|((document, user), position)| {
                let slot = UserSlot {
                    position,
                    document,
                    user,
                };
                (slot.user.id.clone(), slot)
            })
            .collect();
        Self {
            next_position: std::sync::atomic::AtomicU64::new(contacts.len() as u64),
            contacts,
            users,
            permissions: fixtures
                .permissions
                .into_iter()
                .map(|p| (p.id, p.roles))
                .collect(),
            custom_fields: fixtures.custom_fields,
            documents,
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
        let mut users: Vec<(u64, Value)> = self
            .users
            .iter()
            .map(|slot| (slot.position, Value::Object(slot.document.clone())))
            .collect();
        users.sort_unstable_by_key(|(position, _)| *position);
        state_object(
            &self.documents,
            users.into_iter().map(|(_, user)| user).collect(),
            contacts.into_iter().map(|(_, contact)| contact).collect(),
        )
    }

    /// The user `user_id` if it is active and `token` is one of its login tokens.
    pub fn authenticate(&self, user_id: &str, token: &str) -> Option<Caller> {
        let slot = self.users.get(user_id)?;
        slot.user.accepts_token(token).then(|| Caller {
            user_id: slot.user.id.clone(),
            roles: slot.user.roles.clone(),
        })
    }

    /// `POST /api/v1/login`: checks the credentials, then stores a new login token (hashed,
    /// in `services.resume.loginTokens`, as Rocket.Chat does) and returns it.
    pub fn login(
        &self,
        credentials: &Credentials,
        token: String,
        now: &str,
        site_url: &str,
    ) -> Result<Login, LoginError> {
        let user_id = match credentials {
            Credentials::Unrecognized => return Err(LoginError::NotFound),
            Credentials::Resume(resume) => {
                let hashed = hash_login_token(resume);
                self.users
                    .iter()
                    .find(|slot| {
                        slot.user
                            .services
                            .resume
                            .login_tokens
                            .iter()
                            .any(|t| t.hashed_token == hashed)
                            || slot.user.auth_tokens.iter().any(|t| t == resume)
                    })
                    .map(|slot| slot.user.id.clone())
                    .ok_or(LoginError::NotFound)?
            }
            Credentials::Password { user, digest } => {
                let id = self.find_user(user).ok_or(LoginError::NotFound)?;
                let slot = self.users.get(&id).ok_or(LoginError::NotFound)?;
                if !slot.user.accepts_password_digest(digest) {
                    return Err(LoginError::NotFound);
                }
                id
            }
        };
        let mut slot = self.users.get_mut(&user_id).ok_or(LoginError::NotFound)?;
        account::validate_login_attempt(&slot.user, &slot.document)?;
        let entry = json!({ "when": now, "hashedToken": hash_login_token(&token) });
        let mut document = slot.document.clone();
        push_login_token(&mut document, entry);
        let user = reread_user(&document).ok_or(LoginError::NotFound)?;
        slot.document = document;
        slot.user = user;
        Ok(Login {
            user_id,
            token,
            me: account::user_info(&slot.document, site_url),
        })
    }

    /// `POST /api/v1/logout`: the caller's token stops working.
    pub fn logout(&self, caller: &Caller, token: &str) {
        let Some(mut slot) = self.users.get_mut(&caller.user_id) else {
            return;
        };
        let hashed = hash_login_token(token);
        let mut document = slot.document.clone();
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
            slot.document = document;
            slot.user = user;
        }
    }

    /// `GET /api/v1/me`: the caller's `getUserInfo`.
    pub fn me(&self, caller: &Caller, site_url: &str) -> Option<Map<String, Value>> {
        let slot = self.users.get(&caller.user_id)?;
        Some(account::user_info(&slot.document, site_url))
    }

    /// Meteor's user lookup: the exact username or e-mail address first, then the one user
    /// matching it case-insensitively.
    fn find_user(&self, selector: &UserSelector) -> Option<String> {
        let candidates = |exact: bool| -> Vec<String> {
            self.users
                .iter()
                .filter(|slot| {
                    let same = |a: &str, b: &str| {
                        if exact {
                            a == b
                        } else {
                            a.to_lowercase() == b.to_lowercase()
                        }
                    };
                    match selector {
                        UserSelector::Id(id) => exact && slot.user.id == *id,
                        UserSelector::Username(name) => {
                            slot.user.username.as_deref().is_some_and(|u| same(u, name))
                        }
                        UserSelector::Email(address) => {
                            slot.user.emails.iter().any(|e| same(&e.address, address))
                        }
                    }
                })
                .map(|slot| slot.user.id.clone())
                .collect()
        };
        let exact = candidates(true);
        if let [id] = exact.as_slice() {
            return Some(id.clone());
        }
        match candidates(false).as_slice() {
            [id] => Some(id.clone()),
            _ => None,
        }
    }

    /// `contacts.get`: the enabled contact `id`.
    pub fn contact(&self, id: &str) -> Option<Contact> {
        self.contacts
            .get(id)
            .filter(|slot| slot.contact.is_enabled())
            .map(|slot| slot.contact.clone())
    }

    /// `contacts.search`: one page of the matching contacts, in the asked order, each with
    /// its manager as `{_id, username, name}`; and how many match in all.
    pub fn search_contacts(&self, search: &Search) -> ContactsPage {
        let mut found: Vec<(u64, Contact)> = self
            .contacts
            .iter()
            .filter(|slot| search.matches(slot.contact.document()))
            .map(|slot| (slot.position, slot.contact.clone()))
            .collect();
        found.sort_by(|(pa, a), (pb, b)| {
            search.compare(a.document(), b.document()).then(pa.cmp(pb))
        });
        let total = found.len();
        let offset = usize::try_from(search.offset).unwrap_or(usize::MAX);
        let page = found
            .into_iter()
            .skip(offset)
            .take(search.limit().unwrap_or(usize::MAX))
            .map(|(_, contact)| self.with_manager_data(contact.document().clone()))
            .collect();
        ContactsPage {
            contacts: page,
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
            for (key, value) in &slot.document {
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
        let has = |contact: &Contact, list: &str, field: &str, wanted: &str| {
            contact
                .document()
                .get(list)
                .and_then(Value::as_array)
                .is_some_and(|items| {
                    items
                        .iter()
                        .any(|item| item.get(field).and_then(Value::as_str) == Some(wanted))
                })
        };
        fn wanted(value: &Option<String>) -> Option<&str> {
            value.as_deref().filter(|v| !v.is_empty())
        }
        self.contacts.iter().any(|slot| {
            let contact = &slot.contact;
            wanted(&query.email).is_none_or(|e| has(contact, "emails", "address", e))
                && wanted(&query.phone).is_none_or(|p| has(contact, "phones", "phoneNumber", p))
                && wanted(&query.contact_id).is_none_or(|id| contact.id() == id)
        })
    }

    /// `contacts` (create): a new contact with the id given.
    pub fn create_contact(
        &self,
        id: String,
        body: CreateContactBody,
        now: &str,
    ) -> Result<String, ContactError> {
        let contact = rules::create_contact(id.clone(), body, self, now)?;
        let position = self
            .next_position
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.contacts.insert(id.clone(), Slot { position, contact });
        Ok(id)
    }

    /// `contacts.delete`: disables the contact.
    pub fn disable_contact(&self, id: &str, now: &str) -> Result<(), ContactError> {
        self.modify_contact(id, |contact| rules::disable_contact(contact, now))
            .map(drop)
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
    ) -> Result<Contact, ContactError> {
        let id = body.contact_id.clone();
        self.modify_contact(&id, |contact| {
            rules::update_contact(contact, body, self, now)
        })
    }

    pub fn resolve_conflicts(
        &self,
        body: ResolveConflictsBody,
        now: &str,
    ) -> Result<Contact, ContactError> {
        let id = body.contact_id.clone();
        self.modify_contact(&id, |contact| {
            rules::resolve_conflicts(contact, body, self, now)
        })
    }

    /// Applies `change` to the enabled contact `id`. The map entry stays locked throughout,
    /// so concurrent requests on one contact apply one after the other and none is lost.
    /// Returns the committed contact (shared, not copied).
    ///
    /// The rules check everything before they write anything (domain/rules.rs), so a refused
    /// change has written nothing: the contact is changed in place, without the copy that
    /// cost a fifth of a `contacts.update` (docs/BENCHMARKS.md). Debug builds, which the test
    /// suite runs, check that promise on every refused change.
    fn modify_contact(
        &self,
        id: &str,
        change: impl FnOnce(&mut Contact) -> Result<(), ContactError>,
    ) -> Result<Contact, ContactError> {
        let mut slot = self
            .contacts
            .get_mut(id)
            .filter(|slot| slot.contact.is_enabled())
            .ok_or(ContactError::NotFound)?;
        #[cfg(debug_assertions)]
        let before = slot.contact.to_value();
        let outcome = change(&mut slot.contact);
        #[cfg(debug_assertions)]
        if outcome.is_err() {
            assert_eq!(
                slot.contact.to_value(),
                before,
                "a refused change must leave the contact as it was"
            );
        }
        outcome.map(|()| slot.contact.clone())
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
    serde_json::from_value(Value::Object(document.clone())).ok()
}

/// `{"users", "permissions", "contacts", "customFields"}`, in that order.
pub(crate) fn state_object(
    documents: &Documents,
    users: Vec<Value>,
    contacts: Vec<Value>,
) -> Value {
    let objects =
        |maps: &[Map<String, Value>]| maps.iter().cloned().map(Value::Object).collect::<Vec<_>>();
    let mut contacts = Some(contacts);
    let mut users = Some(users);
    let mut state = Map::new();
    for collection in Collection::ALL {
        let array = match collection {
            Collection::Users => users.take().unwrap_or_default(),
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
            .is_some_and(|slot| slot.user.has_role(LIVECHAT_AGENT))
    }

    fn custom_fields(&self) -> &[CustomField] {
        &self.custom_fields
    }
}
