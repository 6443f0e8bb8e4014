//! Workspace users (for authentication and contact managers), permissions and the
//! omnichannel custom field definitions, in Rocket.Chat's own document shapes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A user document (`users` collection). Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Only active users authenticate.
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub emails: Vec<UserEmail>,
    /// Plain login tokens, a convenience of this mock's fixtures.
    #[serde(default, rename = "authTokens")]
    pub auth_tokens: Vec<String>,
    /// A plain password, a convenience of this mock's fixtures (Rocket.Chat keeps only
    /// `services.password.bcrypt`).
    #[serde(default)]
    pub password: Option<String>,
    /// Rocket.Chat's own storage of login tokens (`services.resume.loginTokens`) and
    /// password hash (`services.password.bcrypt`).
    #[serde(default)]
    pub services: Services,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UserEmail {
    pub address: String,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Services {
    #[serde(default)]
    pub resume: Resume,
    #[serde(default)]
    pub password: Option<PasswordService>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PasswordService {
    /// bcrypt of the hex SHA-256 of the password, as Meteor's accounts-password stores it.
    #[serde(default)]
    pub bcrypt: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Resume {
    #[serde(default, rename = "loginTokens")]
    pub login_tokens: Vec<LoginToken>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoginToken {
    /// Base64 of the SHA-256 of the token, as Rocket.Chat's `Accounts._hashLoginToken` writes it.
    #[serde(rename = "hashedToken")]
    pub hashed_token: String,
}

pub(crate) const LIVECHAT_AGENT: &str = "livechat-agent";

impl User {
    pub(crate) fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Does `token` log this user in? Compares with both the plain and the hashed tokens.
    pub(crate) fn accepts_token(&self, token: &str) -> bool {
        if !self.active {
            return false;
        }
        if self.auth_tokens.iter().any(|t| t == token) {
            return true;
        }
        let hashed = hash_login_token(token);
        self.services
            .resume
            .login_tokens
            .iter()
            .any(|t| t.hashed_token == hashed)
    }
}

impl User {
    /// Does the password whose hex SHA-256 is `digest` log this user in? Meteor's clients
    /// send that digest (`{"digest", "algorithm": "sha-256"}`); a plain password is hashed
    /// to it first.
    pub(crate) fn accepts_password_digest(&self, digest: &str) -> bool {
        let digest = digest.to_ascii_lowercase();
        if self
            .password
            .as_deref()
            .is_some_and(|plain| password_digest(plain) == digest)
        {
            return true;
        }
        self.services
            .password
            .as_ref()
            .and_then(|p| p.bcrypt.as_deref())
            .is_some_and(|hash| bcrypt::verify(&digest, hash).unwrap_or(false))
    }
}

/// The hex SHA-256 of a password: what Meteor's clients send, and what bcrypt hashes.
pub fn password_digest(password: &str) -> String {
    Sha256::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Rocket.Chat's `Accounts._hashLoginToken`: base64(SHA-256(token)).
pub fn hash_login_token(token: &str) -> String {
    STANDARD.encode(Sha256::digest(token.as_bytes()))
}

/// A permission document (`rocketchat_permissions`): which roles hold it.
#[derive(Debug, Clone, Deserialize)]
pub struct Permission {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// An omnichannel custom field definition (`rocketchat_livechat_custom_field`).
#[derive(Debug, Clone, Deserialize)]
pub struct CustomFieldDefinition {
    /// The key under which contacts store the value.
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub label: String,
    /// `visitor` or `room`; only `visitor` fields belong to contacts.
    #[serde(default)]
    pub scope: String,
    /// `visible`/`public` or `hidden`; hidden fields are not accepted from requests.
    #[serde(default)]
    pub visibility: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// A JavaScript regular expression the value must match (empty: none).
    #[serde(default)]
    pub regexp: Option<String>,
    #[serde(default)]
    pub required: bool,
}

impl CustomFieldDefinition {
    /// Rocket.Chat's `getAllowedCustomFields`: visitor scope, not hidden.
    pub(crate) fn is_allowed_on_contacts(&self) -> bool {
        self.scope == "visitor" && self.visibility != "hidden"
    }

    /// The name used in error messages: the label, or the `_id` when the label is empty.
    pub(crate) fn display_name(&self) -> &str {
        if self.label.is_empty() {
            &self.id
        } else {
            &self.label
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_tokens_like_rocket_chat() {
        // echo -n "abc" | sha256sum | xxd -r -p | base64
        assert_eq!(
            hash_login_token("abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
