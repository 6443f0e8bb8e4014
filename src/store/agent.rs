//! What the contact center's agent panels read: custom field definitions, agents and
//! managers, a contact's history and channels, a room's messages.

use serde_json::{Map, Value};

use super::Store;
use super::fold::Needle;
use super::users::UserSlot;
use crate::domain::paging::{Page, Sort};
use crate::domain::rules::ContactError;
use crate::store::Stored;

/// One page of a list route, and how many match in all.
pub struct Listed {
    pub items: Vec<Value>,
    pub total: usize,
}

impl Listed {
    fn of(documents: Vec<Map<String, Value>>, sort: &Sort, page: Page) -> Self {
        let total = documents.len();
        let items = page.of(sort.sorted(documents).into_iter().map(Value::Object));
        Self { items, total }
    }
}

/// A list route's search text, folded once for the whole request; an empty text filters
/// nothing, as upstream's `...(text && { ... })` guards do.
fn needle(text: Option<&str>) -> Option<Needle> {
    text.filter(|t| !t.is_empty()).map(Needle::new)
}

/// `new RegExp(escapeRegExp(text), 'i').test(value)`: a case-insensitive substring.
fn contains(value: Option<&Value>, needle: &Needle) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|v| needle.matches(v))
}

impl Store {
    /// `findLivechatCustomFields`: the definitions whose label or `_id` contains `text`.
    pub(crate) fn custom_field_definitions(
        &self,
        text: Option<&str>,
        sort: &Sort,
        page: Page,
    ) -> Listed {
        let text = needle(text);
        let documents: Vec<Map<String, Value>> = self
            .definitions
            .custom_fields
            .iter()
            .map(|(document, _)| document)
            .filter(|d| {
                text.as_ref()
                    .is_none_or(|t| contains(d.get("label"), t) || contains(d.get("_id"), t))
            })
            .cloned()
            .collect();
        Listed::of(documents, sort, page)
    }

    /// `LivechatCustomField.findOneById`.
    pub(crate) fn custom_field_definition(&self, id: &str) -> Option<Map<String, Value>> {
        self.definitions
            .custom_fields
            .iter()
            .find(|(_, f)| f.definition.id == id)
            .map(|(document, _)| document.clone())
    }
}

/// What `contacts.history` answers of a room (`getContactHistory`'s projection), in the
/// room's own field order.
const HISTORY_FIELDS: [&str; 13] = [
    "_id",
    "fname",
    "ts",
    "v",
    "msgs",
    "servedBy",
    "closedAt",
    "closedBy",
    "closer",
    "tags",
    "source",
    "lastMessage",
    "verified",
];

/// Why a room's messages are not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomAccessError {
    #[error("invalid-room")]
    InvalidRoom,
    #[error("not-allowed")]
    NotAllowed,
}

impl Store {
    /// `canAccessRoomAsync` for an omnichannel room: a caller with `view-livechat-rooms`,
    /// the agent serving it, or (closed) one with
    /// `view-livechat-room-closed-by-another-agent`. The mock serves no other rooms.
    pub(crate) fn may_see_livechat_room(
        &self,
        caller: &super::Caller,
        room: &Map<String, Value>,
    ) -> bool {
        if room.get("t").and_then(Value::as_str) != Some("l") {
            return false;
        }
        let served = room
            .get("servedBy")
            .and_then(|s| s.get("_id"))
            .and_then(Value::as_str)
            == Some(caller.user_id.as_str());
        let closed = room.get("open") != Some(&Value::Bool(true));
        self.has_permission(caller, "view-livechat-rooms")
            || served
            || (closed && self.has_permission(caller, "view-livechat-room-closed-by-another-agent"))
    }

    /// `getContactHistory`: the contact's closed rooms (through `source`, when given: its
    /// type or alias contains it, any case). A disabled contact is found too
    /// (`findOneById`).
    pub(crate) fn contact_history(
        &self,
        contact_id: &str,
        source: Option<&str>,
        sort: &Sort,
        page: Page,
    ) -> Result<Listed, ContactError> {
        if self.contacts.any(contact_id).is_none() {
            return Err(ContactError::NotFound);
        }
        let source = needle(source);
        let rooms: Vec<Map<String, Value>> = self
            .rooms
            .find(super::livechat::BY_CONTACT, contact_id)
            .map(Stored::document)
            .filter(|room| room.contains_key("closedAt"))
            .filter(|room| {
                source.as_ref().is_none_or(|wanted| {
                    let source = room.get("source");
                    contains(source.and_then(|s| s.get("type")), wanted)
                        || contains(source.and_then(|s| s.get("alias")), wanted)
                })
            })
            .map(|room| {
                room.into_iter()
                    .filter(|(key, _)| HISTORY_FIELDS.contains(&key.as_str()))
                    .collect()
            })
            .collect();
        Ok(Listed::of(rooms, sort, page))
    }

    /// `getContactChannelsGrouped`: the contact's channels, one per name (the first's place,
    /// the one with the newest `lastChat`); none for an unknown contact.
    pub(crate) fn contact_channels(&self, contact_id: &str) -> Vec<Value> {
        let Some(contact) = self.contacts.any(contact_id) else {
            return Vec::new();
        };
        let document = contact.document();
        let mut grouped: Vec<Value> = Vec::new();
        let last_chat = |channel: &Value| {
            channel
                .pointer("/lastChat/ts")
                .and_then(Value::as_str)
                .and_then(|ts| ts.parse::<jiff::Timestamp>().ok())
                .map_or(0, |t| t.as_millisecond())
        };
        for channel in document
            .get("channels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match grouped
                .iter_mut()
                .find(|g| g.get("name") == channel.get("name"))
            {
                Some(kept) if last_chat(channel) > last_chat(kept) => *kept = channel.clone(),
                Some(_) => {}
                None => grouped.push(channel.clone()),
            }
        }
        grouped
    }

    /// `livechat/:rid/messages`: a room's messages and closing message
    /// (`findLivechatClosedMessages`), for a caller who may see the room.
    pub(crate) fn room_messages(
        &self,
        rid: &str,
        search_term: Option<&str>,
        sort: &Sort,
        page: Page,
        may_see: impl Fn(&Map<String, Value>) -> bool,
    ) -> Result<Listed, RoomAccessError> {
        let room = self
            .rooms
            .get(rid)
            .map(Stored::document)
            .ok_or(RoomAccessError::InvalidRoom)?;
        if !may_see(&room) {
            return Err(RoomAccessError::NotAllowed);
        }
        let search_term = needle(search_term);
        let messages: Vec<Map<String, Value>> = self
            .messages
            .find(super::livechat::BY_ROOM, rid)
            .map(Stored::document)
            .filter(|m| match m.get("t") {
                None => true,
                Some(t) => t == "livechat-close",
            })
            .filter(|m| {
                search_term
                    .as_ref()
                    .is_none_or(|t| contains(m.get("msg"), t))
            })
            .collect();
        Ok(Listed::of(messages, sort, page))
    }
}

/// What `livechat/users/:type` filters agents by (managers only by `text`).
#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: &'static str,
    pub text: Option<String>,
    pub only_available: bool,
    pub exclude_id: Option<String>,
    /// `false` (or sent empty) keeps only users whose status is not `offline`, and bots.
    pub show_idle: bool,
}

/// How `users.info` finds the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey {
    /// `userId` and `username` both match an `_id` or a username (`findOneByIdOrUsername`).
    IdOrUsername,
    Email,
    ImportId,
    FreeSwitchExtension,
}

/// The fields `users.info` shows of anyone, and those it adds for the user itself or a
/// caller holding `view-full-other-user-info`.
const DEFAULT_USER_FIELDS: [&str; 15] = [
    "name",
    "username",
    "nickname",
    "status",
    "utcOffset",
    "type",
    "active",
    "bio",
    "reason",
    "statusText",
    "avatarETag",
    "federated",
    "statusLivechat",
    "abacAttributes",
    "freeSwitchExtension",
];
const FULL_USER_FIELDS: [&str; 10] = [
    "emails",
    "phone",
    "statusConnection",
    "bio",
    "createdAt",
    "lastLogin",
    "requirePasswordChange",
    "requirePasswordChangeReason",
    "roles",
    "importIds",
];

impl Store {
    /// `findAgents` / `findManagers`: the users with the role, each as
    /// `{_id, username, status, statusLivechat, name, emails, livechat, departments}` (a
    /// missing field `null`; the mock holds no departments).
    pub(crate) fn omnichannel_users(&self, filter: &UserFilter, sort: &Sort, page: Page) -> Listed {
        let agents = filter.role == crate::domain::workspace::LIVECHAT_AGENT;
        let text = needle(filter.text.as_deref());
        let exclude_id = filter.exclude_id.as_deref().filter(|id| !id.is_empty());
        let documents = self
            .users
            .starting_at(0)
            .map(|(_, slot)| slot)
            .filter(|slot| {
                let user = slot.user();
                let matches_text = text.as_ref().is_none_or(|t| {
                    [user.username.as_deref(), user.name.as_deref()]
                        .into_iter()
                        .chain(user.emails.iter().map(|e| Some(e.address.as_str())))
                        .any(|v| v.is_some_and(|v| t.matches(v)))
                });
                // Only `findAgents` narrows further; `findManagers` takes just the text.
                let agent_filters = !agents
                    || ((!filter.only_available || slot.is_available_for_livechat())
                        && exclude_id.is_none_or(|id| user.id != id)
                        && (filter.show_idle || slot.is_connected()));
                user.has_role(filter.role) && matches_text && agent_filters
            })
            .map(UserSlot::document)
            .map(|user| {
                let mut listed = Map::new();
                for key in [
                    "_id",
                    "username",
                    "status",
                    "statusLivechat",
                    "name",
                    "emails",
                    "livechat",
                ] {
                    listed.insert(
                        key.to_owned(),
                        user.get(key).cloned().unwrap_or(Value::Null),
                    );
                }
                listed.insert("departments".to_owned(), Value::Array(Vec::new()));
                listed
            })
            .collect();
        Listed::of(documents, sort, page)
    }

    /// `getFullUserDataByUniqueSearchTerm`: the user as `caller` may see it, or `None`
    /// ("User not found.").
    pub(crate) fn user_info(
        &self,
        caller: &super::Caller,
        value: &str,
        key: UserKey,
    ) -> Option<Map<String, Value>> {
        let me = self.users.get(&caller.user_id)?.document();
        let text =
            |d: &Map<String, Value>, k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
        let has_email = |d: &Map<String, Value>, address: &str| {
            d.get("emails")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("address").and_then(Value::as_str))
                .any(|a| a.trim().to_lowercase() == address.trim().to_lowercase())
        };
        let has_import_id = |d: &Map<String, Value>| {
            d.get("importIds")
                .and_then(Value::as_array)
                .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(value)))
        };
        let myself = match key {
            UserKey::IdOrUsername => {
                caller.user_id == value || text(me, "username").as_deref() == Some(value)
            }
            UserKey::Email => has_email(me, value),
            UserKey::ImportId => has_import_id(me),
            UserKey::FreeSwitchExtension => {
                text(me, "freeSwitchExtension").as_deref() == Some(value)
            }
        };
        let all_info = myself || self.has_permission(caller, "view-full-other-user-info");
        if matches!(key, UserKey::Email | UserKey::ImportId) && !all_info {
            return None;
        }
        // The id and username are indexed; the rarer keys are looked for in loaded order.
        let scan = |matches: &dyn Fn(&Map<String, Value>) -> bool| {
            self.users
                .starting_at(0)
                .map(|(_, slot)| slot.document())
                .find(|d| matches(d))
        };
        let user = match key {
            UserKey::IdOrUsername => self
                .users
                .with_id_or_username(value)
                .map(UserSlot::document),
            UserKey::Email => scan(&|d| has_email(d, value)),
            UserKey::ImportId => scan(&has_import_id),
            UserKey::FreeSwitchExtension => {
                scan(&|d| text(d, "freeSwitchExtension").as_deref() == Some(value))
            }
        }?;
        let shown = |key: &str| {
            key == "_id"
                || DEFAULT_USER_FIELDS.contains(&key)
                || (all_info && FULL_USER_FIELDS.contains(&key))
                || (myself && key == "services")
        };
        // Inclusion projections keep the document's own field order.
        let mut info: Map<String, Value> = user
            .iter()
            .filter(|(k, _)| shown(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // The fixtures' plain `password` stands for `services.password.bcrypt`.
        if myself
            && user
                .get("password")
                .is_some_and(crate::validation::js::is_truthy)
        {
            let services = info
                .entry("services")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(services) = services {
                services.insert("password".to_owned(), Value::Bool(true));
            }
        }
        if let Some(Value::Object(services)) = info.get_mut("services") {
            if services.contains_key("password") {
                services.insert("password".to_owned(), Value::Bool(true));
            }
            for secret in ["passwordHistory", "resume", "email"] {
                services.remove(secret);
            }
        }
        info.insert("canViewAllInfo".to_owned(), Value::Bool(all_info));
        Some(info)
    }
}
