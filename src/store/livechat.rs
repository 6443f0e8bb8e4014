//! The Livechat collections (visitors, rooms, messages) and the operations of the widget
//! routes on them. Each operation looks up what a rule of `domain::livechat` needs, runs
//! it, and writes back what it returns; every check comes before the first write, except
//! where Rocket.Chat itself answers an error after writing (said where it happens).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::table::{Keys, Stored, Table};
use super::{PreparedContact, Store, UserSlot, reread_user};
use crate::domain::livechat::merge::{self, Field, Mode};
use crate::domain::livechat::{
    self, FieldValue, Guest, LivechatError, NewRoom, association_source, channel_matches,
};
use crate::domain::rules::CustomField;
use crate::domain::workspace::LIVECHAT_AGENT;

/// Where new ids come from: the server's generator (seeded with `--seed`).
pub(crate) trait NewIds {
    /// A MongoDB ObjectId, as hex (visitors, contacts, system messages).
    fn object_id(&self) -> String;
    /// A Meteor `Random.id()` (rooms, visitors' messages).
    fn random_id(&self) -> String;
}

fn arc(value: Option<&Value>) -> Option<Arc<str>> {
    value.and_then(Value::as_str).map(Arc::from)
}

fn strings(document: &Map<String, Value>, field: &str, key: &str) -> Vec<Arc<str>> {
    document
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get(key)?.as_str().map(Arc::from))
        .collect()
}

/// A visitor is found by its token, a phone number or an e-mail address.
#[derive(Debug, Clone)]
pub(crate) struct VisitorKeys {
    id: Arc<str>,
    token: Option<Arc<str>>,
    phones: Vec<Arc<str>>,
    emails: Vec<Arc<str>>,
}

const BY_TOKEN: usize = 0;
const BY_PHONE: usize = 1;
const BY_EMAIL: usize = 2;

impl Keys for VisitorKeys {
    const INDEXES: usize = 3;

    fn of(document: &Map<String, Value>) -> Self {
        Self {
            id: arc(document.get("_id")).unwrap_or_else(|| Arc::from("")),
            token: arc(document.get("token")),
            phones: strings(document, "phone", "phoneNumber"),
            emails: strings(document, "visitorEmails", "address"),
        }
    }

    fn id(&self) -> &Arc<str> {
        &self.id
    }

    fn secondary(&self, index: usize) -> Vec<Arc<str>> {
        match index {
            BY_TOKEN => self.token.iter().cloned().collect(),
            BY_PHONE => self.phones.clone(),
            _ => self.emails.clone(),
        }
    }
}

/// A Livechat room is found by its visitor's token and `_id`, and by its contact.
#[derive(Debug, Clone)]
pub(crate) struct RoomKeys {
    id: Arc<str>,
    /// `v.token`, on `t: "l"` rooms only.
    token: Option<Arc<str>>,
    visitor: Option<Arc<str>>,
    contact: Option<Arc<str>>,
    open: bool,
}

const BY_VISITOR: usize = 1;
pub(super) const BY_CONTACT: usize = 2;

impl Keys for RoomKeys {
    const INDEXES: usize = 3;

    fn of(document: &Map<String, Value>) -> Self {
        let livechat = document.get("t").and_then(Value::as_str) == Some("l");
        let v = document.get("v");
        Self {
            id: arc(document.get("_id")).unwrap_or_else(|| Arc::from("")),
            token: arc(v.and_then(|v| v.get("token"))).filter(|_| livechat),
            visitor: arc(v.and_then(|v| v.get("_id"))).filter(|_| livechat),
            contact: arc(document.get("contactId")).filter(|_| livechat),
            open: document.get("open") == Some(&Value::Bool(true)),
        }
    }

    fn id(&self) -> &Arc<str> {
        &self.id
    }

    fn secondary(&self, index: usize) -> Vec<Arc<str>> {
        match index {
            BY_TOKEN => self.token.iter().cloned().collect(),
            BY_VISITOR => self.visitor.iter().cloned().collect(),
            _ => self.contact.iter().cloned().collect(),
        }
    }
}

/// A message is found by its room.
#[derive(Debug, Clone)]
pub(crate) struct MessageKeys {
    id: Arc<str>,
    rid: Arc<str>,
}

pub(super) const BY_ROOM: usize = 0;

impl Keys for MessageKeys {
    const INDEXES: usize = 1;

    fn of(document: &Map<String, Value>) -> Self {
        Self {
            id: arc(document.get("_id")).unwrap_or_else(|| Arc::from("")),
            rid: arc(document.get("rid")).unwrap_or_else(|| Arc::from("")),
        }
    }

    fn id(&self) -> &Arc<str> {
        &self.id
    }

    fn secondary(&self, _: usize) -> Vec<Arc<str>> {
        vec![self.rid.clone()]
    }
}

pub(crate) type Visitors = Table<VisitorKeys>;
pub(crate) type Rooms = Table<RoomKeys>;
pub(crate) type Messages = Table<MessageKeys>;

/// A new room's visitor message answer, and the query of `messages.history`.
pub struct HistoryQuery {
    pub token: String,
    pub rid: String,
    pub end: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// The outcome of `GET livechat/room`.
pub struct OpenedRoom {
    pub room: Map<String, Value>,
    pub new: bool,
}

impl Store {
    /// `getVisitorByToken`.
    pub(crate) fn visitor_by_token(&self, token: &str) -> Option<Map<String, Value>> {
        self.visitors
            .find(BY_TOKEN, token)
            .next()
            .map(Stored::document)
    }

    fn visitor_or_invalid(&self, token: &str) -> Result<Map<String, Value>, LivechatError> {
        self.visitor_by_token(token)
            .ok_or(LivechatError::InvalidToken)
    }

    fn put_visitor(&mut self, document: &Map<String, Value>) {
        self.visitors.upsert(Stored::new(document));
    }

    fn put_room(&mut self, document: &Map<String, Value>) {
        self.rooms.upsert(Stored::new(document));
    }

    fn put_message(&mut self, document: &Map<String, Value>) {
        self.messages.upsert(Stored::new(document));
    }

    fn put_contact(&mut self, document: &Map<String, Value>) {
        self.contacts.upsert(PreparedContact::new(document));
    }

    /// The omnichannel rooms of this visitor token, open ones only if `open`.
    fn rooms_of_token(&self, token: &str, open: bool) -> Vec<Map<String, Value>> {
        self.rooms
            .find(BY_TOKEN, token)
            .filter(|r| !open || r.keys().open)
            .map(Stored::document)
            .collect()
    }

    /// `LivechatRooms.updateContactDataByContactId(contactId, {name})`: the contact's rooms
    /// take its new name (`fname`), with `_updatedAt`.
    pub(crate) fn rename_rooms_of_contact(&mut self, contact_id: &str, name: &str, now: &str) {
        let rooms: Vec<Map<String, Value>> = self
            .rooms
            .find(BY_CONTACT, contact_id)
            .map(Stored::document)
            .collect();
        for mut room in rooms {
            livechat::set_fields(
                &mut room,
                vec![
                    ("fname".into(), json!(name)),
                    ("_updatedAt".into(), json!(now)),
                ],
            );
            self.put_room(&room);
        }
    }

    /// `POST livechat/visitor`: `registerGuest`, the merge into the contacts already linked
    /// to the visitor, the open rooms' names, then the custom fields sent.
    pub(crate) fn register_visitor(
        &mut self,
        guest: Guest,
        custom_fields: Option<Vec<FieldValue>>,
        ids: &dyn NewIds,
        now: &str,
    ) -> Result<Map<String, Value>, LivechatError> {
        // Everything that can refuse the registration, before anything is written.
        let email = guest.email.as_ref().map(|e| e.trim().to_lowercase());
        if let Some(email) = &email
            && !livechat::is_valid_email(email)
        {
            return Err(LivechatError::InvalidEmail(email.clone()));
        }
        if guest.department.is_some() {
            // The mock holds no departments: no name or id can be one.
            return Err(LivechatError::InvalidDepartment);
        }
        let contact_manager = email.as_deref().and_then(|e| self.manager_for_email(e));
        let by_token = self.visitor_by_token(&guest.token);
        let (existing, token) = match by_token {
            Some(visitor) => (Some(visitor), guest.token.clone()),
            None => {
                let by_phone = guest
                    .phone
                    .as_deref()
                    .and_then(|p| self.visitors.find(BY_PHONE, p).next())
                    .map(Stored::document);
                match by_phone {
                    // The visitor keeps its token: the one sent is dropped.
                    Some(visitor) => {
                        let token = visitor
                            .get("token")
                            .and_then(Value::as_str)
                            .unwrap_or(&guest.token)
                            .to_owned();
                        (Some(visitor), token)
                    }
                    None => {
                        let raw = guest.email.as_deref().map(str::to_lowercase);
                        let by_email = raw
                            .as_deref()
                            .and_then(|e| self.visitors.find(BY_EMAIL, e).next())
                            .map(Stored::document);
                        (by_email, guest.token.clone())
                    }
                }
            }
        };
        let same_id = match (&existing, &guest.id) {
            (None, Some(id)) => self.visitors.get(id).map(Stored::document),
            _ => None,
        };
        let store_connection = self
            .settings
            .is_on("Livechat_Allow_collect_and_store_HTTP_header_informations");
        let settings = &mut self.settings;
        let registration = livechat::Registration {
            guest: &guest,
            existing: existing.as_ref(),
            token: &token,
            contact_manager,
            same_id: same_id.as_ref(),
            store_connection,
            now,
        };
        let visitor = livechat::registered_visitor(
            registration,
            || ids.object_id(),
            || format!("guest-{}", settings.increment("Livechat_guest_count")),
        );
        self.put_visitor(&visitor);
        let visitor_id = visitor["_id"].as_str().unwrap_or_default().to_owned();

        let fields = livechat::registration_fields(&guest, &visitor);
        for contact in self.contacts.of_visitor(&visitor_id) {
            if !contact.is_enabled() {
                continue;
            }
            let mut document = contact.document();
            let mode = Mode::for_contact(&document);
            if merge::merge_into_contact(&mut document, fields.clone(), mode, now) {
                self.put_contact(&document);
            }
        }
        if let Some(name) = visitor.get("name").and_then(Value::as_str)
            && !name.trim().is_empty()
        {
            for mut room in self.rooms_of_token(&token, true) {
                if room.get("fname").and_then(Value::as_str) != Some(name) {
                    livechat::set_fields(
                        &mut room,
                        vec![
                            ("fname".into(), json!(name)),
                            ("_updatedAt".into(), json!(now)),
                        ],
                    );
                    self.put_room(&room);
                }
            }
        }

        let Some(custom_fields) = custom_fields.filter(|f| !f.is_empty()) else {
            return Ok(visitor);
        };
        // Rocket.Chat answers a missing required field after it saved the visitor.
        let defined: Vec<CustomField> = self
            .definitions
            .fields
            .iter()
            .filter(|f| f.definition.is_allowed_on_contacts())
            .cloned()
            .collect();
        let missing: Vec<&str> = defined
            .iter()
            .filter(|f| f.definition.required)
            .map(|f| f.definition.id.as_str())
            .filter(|id| !custom_fields.iter().any(|v| v.key == *id))
            .collect();
        if !missing.is_empty() {
            return Err(LivechatError::MissingRequiredCustomFields(
                missing.join(", "),
            ));
        }
        let valid: Vec<FieldValue> = custom_fields
            .into_iter()
            .filter(|v| defined.iter().any(|f| f.definition.id == v.key))
            .collect();
        if valid.is_empty() {
            return Ok(visitor);
        }
        self.write_visitor_fields(&visitor, &valid, false, now);
        Ok(self.visitor_by_token(&token).unwrap_or(visitor))
    }

    /// The agent managing the contact of this e-mail address, if it is an online agent:
    /// `{_id, username, name, emails}` (`registerGuest`).
    fn manager_for_email(&self, email: &str) -> Option<Value> {
        let manager = self
            .contacts
            .by_contact_info(&[email], &[])
            .into_iter()
            .find_map(|c| {
                let document = c.document();
                document
                    .get("contactManager")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })?;
        let slot = self.users.get(&manager)?;
        if !self.is_online_agent(slot) {
            return None;
        }
        let document = slot.document();
        let (username, name, emails) = (
            document.get("username")?,
            document.get("name")?,
            document.get("emails")?,
        );
        Some(json!({ "_id": manager, "username": username, "name": name, "emails": emails }))
    }

    /// Writes widget custom field values into the visitor's `livechatData` and its
    /// contacts. `single` is `livechat/custom.field`'s own test of an existing value
    /// (`!== undefined`); the other routes test truthiness.
    fn write_visitor_fields(
        &mut self,
        visitor: &Map<String, Value>,
        values: &[FieldValue],
        single: bool,
        now: &str,
    ) {
        let data = visitor.get("livechatData").and_then(Value::as_object);
        let mut document = visitor.clone();
        let mut changed = false;
        for value in values {
            let existing = data.and_then(|d| d.get(&value.key));
            let taken = if single {
                existing.is_some()
            } else {
                livechat::has_value(existing)
            };
            if value.overwrite || !taken {
                livechat::set_path(
                    &mut document,
                    &format!("livechatData.{}", value.key),
                    json!(value.value),
                );
                changed = true;
            }
        }
        if changed {
            livechat::set_fields(&mut document, vec![("_updatedAt".into(), json!(now))]);
            self.put_visitor(&document);
        }
        let visitor_id = visitor["_id"].as_str().unwrap_or_default();
        for contact in self.contacts.of_visitor(visitor_id) {
            if !contact.is_enabled() {
                continue;
            }
            let mut document = contact.document();
            if merge::custom_fields_into_contact(&mut document, values, now) {
                self.put_contact(&document);
            }
        }
    }

    /// `livechat/custom.field` and `livechat/custom.fields`: the values, checked against the
    /// definitions, written to the visitor and its contacts (visitor scope) or to the
    /// visitor's open rooms (room scope). The fields as answered: room scope first.
    pub(crate) fn set_widget_custom_fields(
        &mut self,
        token: &str,
        values: Vec<FieldValue>,
        single: bool,
        now: &str,
    ) -> Result<Vec<FieldValue>, LivechatError> {
        let visitor = self.visitor_or_invalid(token)?;
        let definitions = &self.definitions.fields;
        if values.is_empty() {
            return Err(LivechatError::InvalidCustomField);
        }
        let mut room_fields = Vec::new();
        let mut visitor_fields = Vec::new();
        for value in values {
            let field = definitions
                .iter()
                .find(|f| f.definition.id == value.key)
                .ok_or(LivechatError::InvalidCustomField)?;
            // `pattern` is the compiled `regexp`, `None` when there is none or it is empty.
            if let Some(pattern) = &field.pattern
                && !pattern.is_match(&value.value).unwrap_or(false)
            {
                return Err(LivechatError::InvalidCustomFieldValue(value.key));
            }
            if field.definition.scope == "visitor" {
                visitor_fields.push(value);
            } else {
                room_fields.push(value);
            }
        }
        for value in &room_fields {
            let rooms = self.rooms_of_token(token, true);
            // Without `overwrite`, the first open room decides for all of them.
            let taken = rooms.first().is_none_or(|room| {
                room.get("livechatData")
                    .and_then(|d| d.get(&value.key))
                    .is_some()
            });
            if value.overwrite || !taken {
                for mut room in rooms {
                    livechat::set_path(
                        &mut room,
                        &format!("livechatData.{}", value.key),
                        json!(value.value),
                    );
                    livechat::set_fields(&mut room, vec![("_updatedAt".into(), json!(now))]);
                    self.put_room(&room);
                }
            }
        }
        if !visitor_fields.is_empty() {
            self.write_visitor_fields(&visitor, &visitor_fields, single, now);
        }
        room_fields.extend(visitor_fields);
        Ok(room_fields)
    }

    /// `DELETE livechat/visitor/:token`: refused while the visitor has an open room
    /// (unless the workspace stores HTTP headers); then every visitor of its contact is
    /// wiped with its rooms and messages, and one contact is disabled. The deleted `_id`.
    pub(crate) fn remove_visitor(
        &mut self,
        token: &str,
        now: &str,
    ) -> Result<String, LivechatError> {
        let visitor = self
            .visitor_by_token(token)
            .ok_or(LivechatError::UnknownVisitor)?;
        let gdpr = self
            .settings
            .is_on("Livechat_Allow_collect_and_store_HTTP_header_informations");
        if !gdpr && !self.rooms_of_token(token, true).is_empty() {
            return Err(LivechatError::VisitorHasOpenRooms);
        }
        let id = visitor["_id"].as_str().unwrap_or_default().to_owned();
        let contacts = self.contacts.of_visitor(&id);
        if contacts.is_empty() {
            self.remove_guest(&id, now);
            return Ok(id);
        }
        for contact in &contacts {
            let document = contact.document();
            let visitors: Vec<String> = document
                .get("channels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.pointer("/visitor/visitorId")?.as_str().map(str::to_owned))
                .collect();
            for visitor in visitors {
                self.remove_guest(&visitor, now);
            }
        }
        // `disableByVisitorId`, once per contact: each call disables the next one still
        // holding the visitor's channel; conflicts and manager are kept.
        for contact in contacts.iter().filter(|c| c.is_enabled()) {
            let mut document = contact.document();
            for field in [
                "emails",
                "customFields",
                "lastChat",
                "channels",
                "name",
                "phones",
            ] {
                document.shift_remove(field);
            }
            livechat::set_fields(
                &mut document,
                vec![
                    ("enabled".into(), json!(false)),
                    ("_updatedAt".into(), json!(now)),
                ],
            );
            self.put_contact(&document);
        }
        Ok(id)
    }

    /// `removeGuest`: the visitor's rooms and their messages are deleted, the visitor keeps
    /// only its `_id`.
    fn remove_guest(&mut self, visitor_id: &str, now: &str) {
        let rooms: Vec<Arc<str>> = self
            .rooms
            .find(BY_VISITOR, visitor_id)
            .map(|r| r.keys().id().clone())
            .collect();
        for rid in rooms {
            let messages: Vec<Arc<str>> = self
                .messages
                .find(BY_ROOM, &rid)
                .map(|m| m.keys().id().clone())
                .collect();
            for message in messages {
                self.messages.remove(&message);
            }
            self.rooms.remove(&rid);
        }
        if let Some(visitor) = self.visitors.get(visitor_id).map(Stored::document) {
            self.put_visitor(&livechat::disabled_visitor(&visitor, now));
        }
    }

    /// `queryStatusAgentOnline`: an active `livechat-agent`, available for Livechat, whose
    /// status is not `offline` (bots always count), and not `away` when the workspace does
    /// not route to idle agents.
    fn is_online_agent(&self, slot: &UserSlot) -> bool {
        let user = slot.user();
        user.has_role(LIVECHAT_AGENT)
            && user.active
            && slot.is_available_for_livechat()
            && slot.is_connected()
            && (self.settings.is_on("Livechat_enabled_when_agent_idle")
                || slot.text("statusConnection") != Some("away"))
    }

    /// `Users.getNextAgent` (Auto_Selection): the online agent with the fewest chats, ties
    /// by username.
    fn next_agent(&self) -> Option<UserSlot> {
        self.users
            .starting_at(0)
            .map(|(_, slot)| slot)
            .filter(|slot| self.is_online_agent(slot))
            .min_by(|a, b| {
                let count = |s: &UserSlot| {
                    s.document()
                        .get("livechatCount")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                };
                let name = |s: &UserSlot| {
                    s.document()
                        .get("username")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                count(a).cmp(&count(b)).then_with(|| name(a).cmp(&name(b)))
            })
            .cloned()
    }

    /// `GET livechat/room`: the visitor's open room (by `rid`, or the first), or a new one.
    pub(crate) fn open_room(
        &mut self,
        token: &str,
        rid: Option<&str>,
        agent_id: Option<&str>,
        source: Value,
        ids: &dyn NewIds,
        now: &str,
    ) -> Result<OpenedRoom, LivechatError> {
        // `const guest = token && (await findGuest(token))`: an empty token is no visitor's,
        // even one a fixture stored with `token: ""`.
        if token.is_empty() {
            return Err(LivechatError::InvalidToken);
        }
        let visitor = self.visitor_or_invalid(token)?;
        if let Some(rid) = rid {
            let room = self
                .rooms
                .get(rid)
                .filter(|r| r.keys().open && r.keys().token.as_deref() == Some(token))
                .ok_or(LivechatError::InvalidRoom)?;
            return Ok(OpenedRoom {
                room: room.document(),
                new: false,
            });
        }
        if let Some(room) = self.rooms_of_token(token, true).into_iter().next() {
            return Ok(OpenedRoom { room, new: false });
        }
        let agent = agent_id.and_then(|id| self.users.get(id)).cloned();
        if !self.settings.is_on("Livechat_enabled") {
            return Err(LivechatError::OmnichannelDisabled);
        }
        let visitor_id = visitor["_id"].as_str().unwrap_or_default().to_owned();
        let (kind, source_id) = association_source(&source);
        let blocked = self.contacts.of_visitor(&visitor_id).iter().any(|c| {
            c.document()
                .get("channels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|ch| {
                    channel_matches(ch, &visitor_id, &kind, source_id.as_deref())
                        && ch.get("blocked") == Some(&Value::Bool(true))
                })
        });
        if blocked {
            return Err(LivechatError::ChannelBlocked);
        }
        if !self.settings.is_on("Livechat_accept_chats_with_no_agents")
            && agent.is_none()
            && (visitor.get("department").is_some_and(|d| !d.is_null())
                || self.next_agent().is_none())
        {
            // A visitor's department must have an online agent; the mock holds no
            // departments, so such a visitor finds none.
            return Err(LivechatError::NoAgentOnline);
        }

        let contact_id = self.contact_for_room(&visitor, &source, ids, now);
        let contact = self
            .contacts
            .any(&contact_id)
            .map(|c| c.document())
            .unwrap_or_default();
        let verified = contact
            .get("channels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|ch| {
                ch.get("verified") == Some(&Value::Bool(true))
                    && channel_matches(ch, &visitor_id, &kind, source_id.as_deref())
            });
        let rid = ids.random_id();
        let mut room = livechat::room_document(NewRoom {
            id: rid.clone(),
            visitor: &visitor,
            contact_id: &contact_id,
            contact_name: contact
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            verified,
            source: source.clone(),
            now,
        });

        // `onNewRoom`: the visitor's, the contact's and the channel's `lastChat`.
        let last_chat = json!({ "_id": rid, "ts": now });
        let mut visitor_now = visitor.clone();
        livechat::set_fields(
            &mut visitor_now,
            vec![
                ("lastChat".into(), last_chat.clone()),
                ("_updatedAt".into(), json!(now)),
            ],
        );
        self.put_visitor(&visitor_now);
        if let Some(mut document) = self.contacts.enabled(&contact_id).map(|c| c.document()) {
            let mut channels = document
                .get("channels")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(channel) = channels
                .iter_mut()
                .find(|ch| channel_matches(ch, &visitor_id, &kind, source_id.as_deref()))
            {
                channel["lastChat"] = last_chat.clone();
                livechat::set_fields(
                    &mut document,
                    vec![
                        ("lastChat".into(), last_chat.clone()),
                        ("channels".into(), Value::Array(channels)),
                        ("_updatedAt".into(), json!(now)),
                    ],
                );
                self.put_contact(&document);
            }
        }

        // The room's first message, then the routing (Auto_Selection assigns an agent).
        let started = livechat::system_message(
            ids.object_id(),
            "livechat-started",
            &rid,
            "",
            livechat::author(&without_name(&visitor)),
            vec![("token", json!(token))],
            now,
        );
        self.record_in_room(&mut room, &started, true);
        self.put_message(&started);
        if self.settings.value("Livechat_Routing_Method") == json!("Auto_Selection") {
            let agent = agent
                .filter(|a| self.is_online_agent(a))
                .or_else(|| self.next_agent());
            if let Some(agent) = agent {
                self.assign(&mut room, &agent, ids, now);
            }
        }
        self.put_room(&room);
        Ok(OpenedRoom { room, new: true })
    }

    /// `assignAgent`: the room is served by `agent`, who joins it.
    fn assign(
        &mut self,
        room: &mut Map<String, Value>,
        agent: &UserSlot,
        ids: &dyn NewIds,
        now: &str,
    ) {
        let user = agent.document().clone();
        let rid = room["_id"].as_str().unwrap_or_default().to_owned();
        livechat::set_fields(
            room,
            vec![(
                "servedBy".into(),
                json!({ "_id": user["_id"], "username": user.get("username"), "ts": now }),
            )],
        );
        room.insert("usersCount".into(), json!(2));
        for (kind, msg) in [("command", "connected"), ("uj", "")] {
            let message = livechat::system_message(
                ids.object_id(),
                kind,
                &rid,
                msg,
                livechat::author(&user),
                vec![],
                now,
            );
            self.record_in_room(room, &message, false);
            self.put_message(&message);
        }
        // `$inc: { livechatCount: 1 }` on the chosen agent.
        let mut document = user;
        let count = document
            .get("livechatCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        livechat::set_fields(
            &mut document,
            vec![("livechatCount".into(), json!(count + 1))],
        );
        if let Some(typed) = reread_user(&document) {
            self.users.upsert(UserSlot::new(document, typed));
        }
    }

    /// A message's count in its room; `last` also makes it the room's last message.
    fn record_in_room(
        &self,
        room: &mut Map<String, Value>,
        message: &Map<String, Value>,
        last: bool,
    ) {
        let msgs = room.get("msgs").and_then(Value::as_i64).unwrap_or(0);
        let mut fields = vec![("msgs".to_owned(), json!(msgs + 1))];
        if last {
            fields.push(("lm".into(), message["ts"].clone()));
            if self.settings.is_on("Store_Last_Message") {
                fields.push(("lastMessage".into(), Value::Object(message.clone())));
            }
        }
        fields.push(("_updatedAt".into(), message["ts"].clone()));
        livechat::set_fields(room, fields);
    }

    /// `migrateVisitorIfMissingContact`: the contact of the visitor's channel through this
    /// source; else a pre-registered contact with one of its e-mail addresses or phone
    /// numbers, merged and linked; else a new contact.
    fn contact_for_room(
        &mut self,
        visitor: &Map<String, Value>,
        source: &Value,
        ids: &dyn NewIds,
        now: &str,
    ) -> String {
        let visitor_id = visitor["_id"].as_str().unwrap_or_default().to_owned();
        let (kind, source_id) = association_source(source);
        let linked = self.contacts.of_visitor(&visitor_id).into_iter().find(|c| {
            c.document()
                .get("channels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|ch| channel_matches(ch, &visitor_id, &kind, source_id.as_deref()))
        });
        if let Some(contact) = linked {
            return contact.document()["_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        let list = |field: &str, key: &str| -> Vec<String> {
            visitor
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|i| {
                    i.get(key)?
                        .as_str()
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                })
                .collect()
        };
        let emails = list("visitorEmails", "address");
        let phones = list("phone", "phoneNumber");
        let email_refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let phone_refs: Vec<&str> = phones.iter().map(String::as_str).collect();
        let pre_registered = self
            .contacts
            .by_contact_info(&email_refs, &phone_refs)
            .into_iter()
            .map(|c| c.document())
            .find(|d| d.get("preRegistration") == Some(&Value::Bool(true)));
        let manager_id = visitor
            .get("contactManager")
            .and_then(|m| m.get("username"))
            .and_then(Value::as_str)
            .and_then(|username| self.users.with_username(username))
            .map(|s| s.user().id.clone());
        if let Some(mut contact) = pre_registered {
            let id = contact["_id"].as_str().unwrap_or_default().to_owned();
            let mut fields: Vec<Field> = Vec::new();
            fields.extend(emails.iter().cloned().map(Field::Email));
            fields.extend(phones.iter().cloned().map(Field::Phone));
            if let Some(name) = visitor
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                fields.push(Field::Name(name.to_owned()));
            }
            if let Some(username) = visitor.get("username").and_then(Value::as_str) {
                fields.push(Field::Username(username.to_owned()));
            }
            if let Some(manager) = manager_id {
                fields.push(Field::Manager(manager));
            }
            for (key, value) in visitor
                .get("livechatData")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                fields.push(Field::CustomField(key.clone(), value.clone()));
            }
            let mut channel = livechat::new_channel(visitor, source);
            if let Some(channel) = channel.as_object_mut() {
                channel.remove("lastChat");
            }
            fields.push(Field::Channel(channel));
            let mode = Mode::for_contact(&contact);
            if merge::merge_into_contact(&mut contact, fields, mode, now) {
                self.put_contact(&contact);
            }
            // `setContactByVisitorAssociation`: the visitor's earlier rooms through this
            // source now name the contact.
            let name = contact.get("name").cloned();
            let earlier: Vec<Map<String, Value>> = self
                .rooms
                .find(BY_VISITOR, &visitor_id)
                .map(Stored::document)
                .filter(|r| {
                    let (k, i) = association_source(r.get("source").unwrap_or(&Value::Null));
                    k == kind && (source_id.is_none() || i == source_id)
                })
                .collect();
            for mut room in earlier {
                let mut fields = vec![("contactId".to_owned(), json!(id))];
                if let Some(name) = &name {
                    fields.push(("fname".into(), name.clone()));
                }
                livechat::set_fields(&mut room, fields);
                self.put_room(&room);
            }
            return id;
        }
        let custom_fields = self.allowed_values(visitor.get("livechatData"));
        let id = ids.object_id();
        let contact = livechat::contact_from_visitor(
            id.clone(),
            visitor,
            source,
            custom_fields,
            manager_id,
            now,
        );
        self.put_contact(&contact);
        id
    }

    /// `validateCustomFields` with `ignoreAdditionalFields` and `ignoreValidationErrors`: the
    /// visitor-scope values that are set and valid, trimmed.
    fn allowed_values(&self, data: Option<&Value>) -> Map<String, Value> {
        let mut values = Map::new();
        let Some(data) = data.and_then(Value::as_object) else {
            return values;
        };
        for field in self
            .definitions
            .fields
            .iter()
            .filter(|f| f.definition.is_allowed_on_contacts())
        {
            let Some(value) = data
                .get(&field.definition.id)
                .filter(|v| livechat::has_value(Some(v)))
            else {
                continue;
            };
            let text =
                crate::validation::js::trim(&crate::validation::js::to_js_string(value)).to_owned();
            if text.is_empty()
                || field
                    .pattern
                    .as_ref()
                    .is_some_and(|p| !p.is_match(&text).unwrap_or(false))
            {
                continue;
            }
            values.insert(field.definition.id.clone(), json!(text));
        }
        values
    }

    /// The Livechat room `rid` of this visitor token, open or not (`findRoom`).
    fn visitor_room(&self, token: &str, rid: &str) -> Option<Map<String, Value>> {
        self.rooms
            .get(rid)
            .filter(|r| r.keys().token.as_deref() == Some(token))
            .map(Stored::document)
    }

    /// `POST livechat/room.close`: the visitor closes its room, with the closing message.
    /// The comment, `Closed by visitor`.
    pub(crate) fn close_room(
        &mut self,
        token: &str,
        rid: &str,
        ids: &dyn NewIds,
        now: &str,
    ) -> Result<&'static str, LivechatError> {
        const COMMENT: &str = "Closed by visitor";
        if !self
            .settings
            .is_on("Omnichannel_allow_visitors_to_close_conversation")
        {
            return Err(LivechatError::NotAllowedToClose);
        }
        let visitor = self.visitor_or_invalid(token)?;
        let mut room = self
            .visitor_room(token, rid)
            .ok_or(LivechatError::InvalidRoom)?;
        if room.get("open") != Some(&Value::Bool(true)) {
            return Err(LivechatError::RoomClosed);
        }
        let closer = json!({ "_id": visitor["_id"], "username": visitor.get("username") });
        self.close(&mut room, Closer::Visitor, closer, COMMENT, token, ids, now);
        Ok(COMMENT)
    }

    /// `closeRoom` → `doCloseRoom` + `afterRoomClosed`: the room closed by `closer`, with
    /// the closing message (whose `token` is the visitor's, whoever closed).
    #[allow(clippy::too_many_arguments)]
    fn close(
        &mut self,
        room: &mut Map<String, Value>,
        kind: Closer,
        closed_by: Value,
        comment: &str,
        token: &str,
        ids: &dyn NewIds,
        now: &str,
    ) {
        let rid = room["_id"].as_str().unwrap_or_default().to_owned();
        let started = room
            .get("ts")
            .and_then(Value::as_str)
            .unwrap_or(now)
            .to_owned();
        let served = room
            .get("servedBy")
            .and_then(|s| s.get("ts"))
            .and_then(Value::as_str)
            .and_then(|ts| livechat::seconds_between(now, ts));
        // `closeRoomById`: one update, so new fields land in lexicographic order.
        let mut metrics = room
            .get("metrics")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(duration) = livechat::seconds_between(now, &started) {
            metrics.insert("chatDuration".into(), json!(duration));
        }
        if let Some(served) = served {
            metrics.insert("serviceTimeDuration".into(), json!(served));
        }
        let mut v = room
            .get("v")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        v.insert("status".into(), json!("offline"));
        room.shift_remove("open");
        let closer = match kind {
            Closer::Visitor => "visitor",
            Closer::User => "user",
        };
        livechat::set_fields(
            room,
            vec![
                ("closedAt".into(), json!(now)),
                ("metrics".into(), Value::Object(metrics)),
                ("v".into(), Value::Object(v)),
                ("closer".into(), json!(closer)),
                ("closedBy".into(), closed_by.clone()),
                ("_updatedAt".into(), json!(now)),
            ],
        );
        let transcript = self.settings.is_on("Livechat_enable_transcript");
        let send_always = self.settings.is_on("Livechat_transcript_send_always");
        let requested = room.contains_key("transcriptRequest") || (!transcript && send_always);
        let message = livechat::system_message(
            ids.object_id(),
            "livechat-close",
            &rid,
            comment,
            closed_by.clone(),
            vec![
                ("transcriptRequested", json!(requested)),
                ("token", json!(token)),
            ],
            now,
        );
        self.record_in_room(room, &message, true);
        self.put_message(&message);
        if transcript && !send_always {
            // The widget asks the visitor whether to send the transcript.
            let prompt = livechat::system_message(
                ids.object_id(),
                "command",
                &rid,
                "promptTranscript",
                closed_by,
                vec![],
                now,
            );
            self.record_in_room(room, &prompt, false);
            self.put_message(&prompt);
        }
        self.put_room(room);
    }

    /// `contacts.block` / `.unblock`: the channel of this visitor and source on its contact
    /// is (un)blocked; blocking closes the visitor's open room through that source, as
    /// `caller`, with `This channel has been blocked`.
    pub(crate) fn set_channel_blocked(
        &mut self,
        visitor_id: &str,
        source: &Value,
        blocked: bool,
        caller: &super::Caller,
        ids: &dyn NewIds,
        now: &str,
    ) -> Result<(), LivechatError> {
        let (kind, source_id) = association_source(source);
        let found = self
            .contacts
            .of_visitor(visitor_id)
            .into_iter()
            .find_map(|c| {
                let document = c.document();
                let index = document
                    .get("channels")?
                    .as_array()?
                    .iter()
                    .position(|ch| channel_matches(ch, visitor_id, &kind, source_id.as_deref()))?;
                Some((document, index))
            });
        let (mut contact, index) = found.ok_or(LivechatError::ContactNotFound)?;
        if let Some(channel) = contact
            .get_mut("channels")
            .and_then(Value::as_array_mut)
            .and_then(|c| c.get_mut(index))
        {
            channel["blocked"] = json!(blocked);
        }
        livechat::set_fields(&mut contact, vec![("_updatedAt".into(), json!(now))]);
        self.put_contact(&contact);
        if !blocked {
            return Ok(());
        }
        // The block is written before the visitor is looked up, as upstream.
        let visitor = self
            .visitors
            .get(visitor_id)
            .map(Stored::document)
            .ok_or(LivechatError::VisitorNotFound)?;
        let open = self
            .rooms
            .find(BY_VISITOR, visitor_id)
            .map(Stored::document)
            .find(|room| {
                let (k, i) = association_source(room.get("source").unwrap_or(&Value::Null));
                room.get("open") == Some(&Value::Bool(true))
                    && k == kind
                    && (source_id.is_none() || i == source_id)
            });
        if let Some(mut room) = open {
            let username = self
                .users
                .get(&caller.user_id)
                .and_then(|u| u.user().username.clone());
            let closed_by = json!({ "_id": caller.user_id, "username": username });
            let token = visitor
                .get("token")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            self.close(
                &mut room,
                Closer::User,
                closed_by,
                "This channel has been blocked",
                &token,
                ids,
                now,
            );
        }
        Ok(())
    }

    /// `POST livechat/message`: a visitor's message in its open room.
    pub(crate) fn send_visitor_message(
        &mut self,
        token: &str,
        rid: &str,
        msg: &str,
        id: Option<String>,
        ids: &dyn NewIds,
        now: &str,
    ) -> Result<Map<String, Value>, LivechatError> {
        let visitor = self.visitor_or_invalid(token)?;
        let mut room = self
            .visitor_room(token, rid)
            .ok_or(LivechatError::InvalidRoom)?;
        if room.get("open") != Some(&Value::Bool(true)) {
            return Err(LivechatError::RoomClosed);
        }
        if self
            .settings
            .is_on("Livechat_enable_message_character_limit")
        {
            let limit = crate::validation::js::to_js_string(
                &self.settings.value("Livechat_message_character_limit"),
            );
            let limit: i64 = limit.trim().parse().unwrap_or(0);
            if msg.encode_utf16().count() as i64 > limit {
                return Err(LivechatError::MessageTooLong);
            }
        }
        if !self.settings.is_on("Livechat_enabled") {
            return Err(LivechatError::OmnichannelDisabled);
        }
        let id = id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| ids.random_id());
        if self.messages.get(&id).is_some() {
            return Err(LivechatError::DuplicateMessage);
        }
        let message = livechat::visitor_message(id, rid, msg, &visitor, now);
        self.record_in_room(&mut room, &message, true);
        livechat::set_path(&mut room, "v.lastMessageTs", json!(now));
        let metrics = room.get("metrics");
        let visitor_asked = metrics
            .and_then(|m| m.pointer("/v/lq"))
            .and_then(Value::as_str);
        let agent_replied = metrics
            .and_then(|m| m.pointer("/servedBy/lr"))
            .and_then(Value::as_str);
        let opened = room
            .get("ts")
            .and_then(Value::as_str)
            .unwrap_or(now)
            .to_owned();
        let asks = agent_replied.unwrap_or(&opened) >= visitor_asked.unwrap_or(&opened);
        if asks {
            livechat::set_path(&mut room, "metrics.v.lq", json!(now));
        }
        if room.get("waitingResponse") != Some(&Value::Bool(true)) {
            room.shift_remove("responseBy");
            livechat::set_fields(&mut room, vec![("waitingResponse".into(), json!(true))]);
        }
        self.put_room(&room);
        self.put_message(&message);
        Ok(message)
    }

    /// The visitor and its room (open or closed) of a widget message route.
    fn visitor_and_room(
        &self,
        token: &str,
        rid: &str,
    ) -> Result<(Document, Document), LivechatError> {
        let visitor = self.visitor_or_invalid(token)?;
        let room = self
            .visitor_room(token, rid)
            .ok_or(LivechatError::InvalidRoom)?;
        Ok((visitor, room))
    }

    /// `GET livechat/message/:_id`: a message of the visitor's room (`findOneByRoomIdAndMessageId`).
    pub(crate) fn visitor_room_message(
        &self,
        token: &str,
        rid: &str,
        id: &str,
    ) -> Result<Map<String, Value>, LivechatError> {
        self.visitor_and_room(token, rid)?;
        self.messages
            .get(id)
            .map(Stored::document)
            .filter(|m| m.get("rid").and_then(Value::as_str) == Some(rid))
            .ok_or(LivechatError::InvalidMessage)
    }

    /// The visitor's own message `id` (any room: `findOneById`), for an edit or a deletion
    /// the workspace allows.
    fn own_message(
        &self,
        token: &str,
        rid: &str,
        id: &str,
        allowed: &str,
    ) -> Result<(Document, Document), LivechatError> {
        let (visitor, _) = self.visitor_and_room(token, rid)?;
        let message = self
            .messages
            .get(id)
            .map(Stored::document)
            .ok_or(LivechatError::InvalidMessage)?;
        let author = message.get("u").and_then(|u| u.get("_id"));
        if !self.settings.is_on(allowed) || author != visitor.get("_id") {
            return Err(LivechatError::ActionNotAllowed);
        }
        Ok((visitor, message))
    }

    /// `PUT livechat/message/:_id`: the visitor edits its message.
    pub(crate) fn edit_visitor_message(
        &mut self,
        token: &str,
        rid: &str,
        id: &str,
        msg: &str,
        now: &str,
    ) -> Result<Map<String, Value>, LivechatError> {
        let (visitor, mut message) = self.own_message(token, rid, id, "Message_AllowEditing")?;
        let mut fields = vec![
            ("msg".to_owned(), json!(msg)),
            ("editedAt".into(), json!(now)),
            (
                "editedBy".into(),
                json!({ "_id": visitor["_id"], "username": visitor.get("username") }),
            ),
            ("_updatedAt".into(), json!(now)),
        ];
        if msg.is_empty() {
            message.shift_remove("md");
        } else {
            fields.push(("md".into(), livechat::markdown(msg)));
        }
        livechat::set_fields(&mut message, fields);
        self.put_message(&message);
        // A room whose last message this is shows the edit.
        let room_id = message
            .get("rid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(mut room) = self.rooms.get(&room_id).map(Stored::document)
            && room.get("lastMessage").and_then(|m| m.get("_id")) == message.get("_id")
        {
            room.insert("lastMessage".into(), Value::Object(message.clone()));
            self.put_room(&room);
        }
        Ok(message)
    }

    /// `DELETE livechat/message/:_id`: the visitor deletes its message; the room counts one
    /// fewer, and its last message becomes the last one left without a type.
    pub(crate) fn delete_visitor_message(
        &mut self,
        token: &str,
        rid: &str,
        id: &str,
    ) -> Result<(), LivechatError> {
        let (_, message) = self.own_message(token, rid, id, "Message_AllowDeleting")?;
        self.messages.remove(id);
        let room_id = message
            .get("rid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(mut room) = self.rooms.get(&room_id).map(Stored::document) {
            let msgs = room.get("msgs").and_then(Value::as_i64).unwrap_or(1);
            room.insert("msgs".into(), json!(msgs - 1));
            if room.get("lastMessage").and_then(|m| m.get("_id")) == message.get("_id") {
                let last = self
                    .messages
                    .find(BY_ROOM, &room_id)
                    .map(Stored::document)
                    .filter(|m| !m.contains_key("t"))
                    .max_by(|a, b| {
                        let ts = |m: &Map<String, Value>| {
                            m.get("ts")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        ts(a).cmp(&ts(b))
                    });
                match last {
                    Some(last) => {
                        room.insert("lastMessage".into(), Value::Object(last));
                    }
                    None => {
                        room.shift_remove("lastMessage");
                    }
                }
            }
            self.put_room(&room);
        }
        Ok(())
    }

    /// `POST livechat/visitor.status`: the visitor's rooms show the status (the visitor
    /// document does not change).
    pub(crate) fn set_visitor_status(
        &mut self,
        token: &str,
        status: &str,
        now: &str,
    ) -> Result<(), LivechatError> {
        self.visitor_by_token(token)
            .ok_or(LivechatError::UnknownVisitor)?;
        // `LivechatRooms.updateVisitorStatus`: the token's open rooms (BaseRaw adds
        // `_updatedAt`).
        for mut room in self.rooms_of_token(token, true) {
            livechat::set_path(&mut room, "v.status", json!(status));
            livechat::set_fields(&mut room, vec![("_updatedAt".into(), json!(now))]);
            self.put_room(&room);
        }
        Ok(())
    }

    /// `GET livechat/visitor/:token/room`: the token's open rooms, projected.
    pub(crate) fn open_rooms_of(&self, token: &str) -> Vec<Value> {
        self.rooms_of_token(token, true)
            .into_iter()
            .map(|room| {
                let kept: Map<String, Value> = room
                    .into_iter()
                    .filter(|(k, _)| {
                        ["_id", "name", "t", "cl", "u", "usernames", "servedBy"]
                            .contains(&k.as_str())
                    })
                    .collect();
                Value::Object(kept)
            })
            .collect()
    }

    /// `GET livechat/messages.history/:rid`: the room's messages, newest first.
    pub(crate) fn message_history(
        &self,
        query: &HistoryQuery,
    ) -> Result<Vec<Value>, LivechatError> {
        if query.token.is_empty() {
            return Err(LivechatError::TokenParamMissing);
        }
        self.visitor_or_invalid(&query.token)?;
        let room = self
            .visitor_room(&query.token, &query.rid)
            .ok_or(LivechatError::InvalidRoom)?;
        let hidden: Vec<Value> = match room.get("sysMes") {
            Some(Value::Array(types)) => types.clone(),
            _ => self
                .settings
                .value("Hide_System_Messages")
                .as_array()
                .cloned()
                .unwrap_or_default(),
        };
        let mut messages: Vec<(String, u64, Map<String, Value>)> = self
            .messages
            .find(BY_ROOM, &query.rid)
            .enumerate()
            .map(|(i, m)| {
                let document = m.document();
                let ts = document
                    .get("ts")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                (ts, i as u64, document)
            })
            .filter(|(ts, _, d)| {
                d.get("_hidden") != Some(&Value::Bool(true))
                    && !d.get("t").is_some_and(|t| hidden.contains(t))
                    && query.end.as_deref().is_none_or(|end| ts.as_str() < end)
            })
            .collect();
        messages.sort_by(|(a, pa, _), (b, pb, _)| b.cmp(a).then(pb.cmp(pa)));
        Ok(messages
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|(_, _, d)| Value::Object(d))
            .collect())
    }
}

/// A document as the operations change it.
type Document = Map<String, Value>;

/// Who closes a room: the visitor (`room.close`) or an agent (`contacts.block`).
#[derive(Debug, Clone, Copy)]
enum Closer {
    Visitor,
    User,
}

/// A visitor as a system message's author: `{_id, username}` (`saveSystemMessage` is given
/// no name).
fn without_name(visitor: &Map<String, Value>) -> Map<String, Value> {
    visitor
        .iter()
        .filter(|(k, _)| k.as_str() != "name")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
