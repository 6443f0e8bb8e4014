//! The users collection: each user's document and its typed reading, with the indexes that
//! login and authentication look users up by (id, username, e-mail address, login token).

use std::sync::Arc;

use imbl::{HashMap, OrdMap};
use serde_json::{Map, Value};

use super::index::MultiIndex;
use crate::domain::account::UserSelector;
use crate::domain::workspace::{User, hash_login_token};

/// A user document and its typed reading. Login and logout change the document's tokens,
/// and the reading is taken again from it.
#[derive(Debug, Clone)]
pub(crate) struct UserSlot(Arc<(Map<String, Value>, User)>);

impl UserSlot {
    pub(crate) fn new(document: Map<String, Value>, user: User) -> Self {
        Self(Arc::new((document, user)))
    }

    pub(crate) fn document(&self) -> &Map<String, Value> {
        &self.0.0
    }

    pub(crate) fn user(&self) -> &User {
        &self.0.1
    }

    /// A string field of the document the typed `User` does not carry (`status`,
    /// `statusLivechat`, `statusConnection`).
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        self.document().get(key).and_then(Value::as_str)
    }

    /// `status: {$exists: true, $ne: 'offline'}`, or a bot (`roles: 'bot'`): the "not
    /// idle" half of `queryStatusAgentOnline` and of `findAgents`' `showIdleAgents: false`.
    pub(crate) fn is_connected(&self) -> bool {
        self.user().has_role("bot") || self.text("status").is_some_and(|s| s != "offline")
    }

    /// `statusLivechat: 'available'`.
    pub(crate) fn is_available_for_livechat(&self) -> bool {
        self.text("statusLivechat") == Some("available")
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Users {
    /// By position: loaded order.
    slots: OrdMap<u64, UserSlot>,
    by_id: HashMap<Arc<str>, u64>,
    by_username: MultiIndex,
    by_lower_username: MultiIndex,
    by_email: MultiIndex,
    by_lower_email: MultiIndex,
    /// `services.resume.loginTokens[].hashedToken`.
    by_hashed_token: MultiIndex,
    /// The fixtures' plain `authTokens`.
    by_plain_token: MultiIndex,
    next_position: u64,
}

impl Users {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&UserSlot> {
        self.slots.get(self.by_id.get(id)?)
    }

    /// Adds a user after the others, or replaces the one with its `_id` in its place.
    pub(crate) fn upsert(&mut self, slot: UserSlot) {
        let id: Arc<str> = Arc::from(slot.user().id.as_str());
        let position = match self.by_id.get(&id) {
            Some(&position) => {
                if let Some(old) = self.slots.get(&position).cloned() {
                    self.file(&old, position, false);
                }
                position
            }
            None => {
                let position = self.next_position;
                self.next_position += 1;
                self.by_id.insert(id, position);
                position
            }
        };
        self.file(&slot, position, true);
        self.slots.insert(position, slot);
    }

    /// Files (or, with `insert` false, unfiles) the user at `position` under its keys.
    fn file(&mut self, slot: &UserSlot, position: u64, insert: bool) {
        let user = slot.user();
        let apply = |index: &mut MultiIndex, key: &str| {
            if insert {
                index.insert(Arc::from(key), position);
            } else {
                index.remove(&Arc::from(key), position);
            }
        };
        if let Some(username) = &user.username {
            apply(&mut self.by_username, username);
            apply(&mut self.by_lower_username, &username.to_lowercase());
        }
        for email in &user.emails {
            apply(&mut self.by_email, &email.address);
            apply(&mut self.by_lower_email, &email.address.to_lowercase());
        }
        for token in &user.services.resume.login_tokens {
            apply(&mut self.by_hashed_token, &token.hashed_token);
        }
        for token in &user.auth_tokens {
            apply(&mut self.by_plain_token, token);
        }
    }

    /// Meteor's user lookup: the exact username or e-mail address first, then the one user
    /// matching it case-insensitively.
    pub(crate) fn find(&self, selector: &UserSelector) -> Option<&UserSlot> {
        fn only(mut positions: impl Iterator<Item = u64>) -> Option<u64> {
            let first = positions.next()?;
            positions.all(|p| p == first).then_some(first)
        }
        let position = match selector {
            UserSelector::Id(id) => self.by_id.get(id.as_str()).copied(),
            UserSelector::Username(name) => only(self.by_username.positions(name))
                .or_else(|| only(self.by_lower_username.positions(&name.to_lowercase()))),
            UserSelector::Email(address) => only(self.by_email.positions(address))
                .or_else(|| only(self.by_lower_email.positions(&address.to_lowercase()))),
        }?;
        self.slots.get(&position)
    }

    /// The first user (in loaded order) whose username is exactly `username`:
    /// `Users.findOneByUsername`.
    pub(crate) fn with_username(&self, username: &str) -> Option<&UserSlot> {
        let position = self.by_username.positions(username).min()?;
        self.slots.get(&position)
    }

    /// `Users.findOne({ $or: [{ _id: value }, { username: value }] })`: the first user in
    /// loaded order matching either.
    pub(crate) fn with_id_or_username(&self, value: &str) -> Option<&UserSlot> {
        let position = self
            .by_id
            .get(value)
            .copied()
            .into_iter()
            .chain(self.by_username.positions(value))
            .min()?;
        self.slots.get(&position)
    }

    /// The user a resume token belongs to (hashed or plain).
    pub(crate) fn by_resume_token(&self, token: &str) -> Option<&UserSlot> {
        let position = self
            .by_hashed_token
            .positions(&hash_login_token(token))
            .chain(self.by_plain_token.positions(token))
            .min()?;
        self.slots.get(&position)
    }

    /// Every user in loaded order, from `position` on.
    pub(crate) fn starting_at(&self, position: u64) -> impl Iterator<Item = (u64, &UserSlot)> {
        self.slots.range(position..).map(|(p, slot)| (*p, slot))
    }
}
