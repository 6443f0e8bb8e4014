//! `POST /api/v1/login`: how Rocket.Chat reads the credentials, why a login fails, and the
//! `me` object (`getUserInfo`) that login and `GET /api/v1/me` answer.

use serde_json::{Map, Value, json};

use super::workspace::{User, password_digest};

/// What a login body asks for, read as Rocket.Chat's `loginCompatibility` and Meteor's
/// login handlers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `{"resume": <token>}`: log in again with a token.
    Resume(String),
    /// A user (by username or e-mail) and the hex SHA-256 of the password.
    Password { user: UserSelector, digest: String },
    /// Nothing a login handler recognises.
    Unrecognized,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSelector {
    Username(String),
    Email(String),
    Id(String),
}

impl Credentials {
    /// Reads a login body: `{"user": "name or e-mail"}`, `{"username"}`, `{"email"}` or
    /// Meteor's own `{"user": {"username"|"email"|"id"}}`, with `password` as plain text,
    /// `{"digest", "algorithm": "sha-256"}` or `{"hashed"}`; or `{"resume": <token>}`.
    pub fn read(body: &Map<String, Value>) -> Self {
        let password = body.get("password").filter(|p| !p.is_null());
        let Some(password) = password else {
            return match body.get("resume") {
                Some(Value::String(token)) => Self::Resume(token.clone()),
                _ => Self::Unrecognized,
            };
        };
        let text = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let user = match body.get("user") {
            Some(Value::String(user)) if user.contains('@') => {
                Some(UserSelector::Email(user.clone()))
            }
            Some(Value::String(user)) => Some(UserSelector::Username(user.clone())),
            Some(Value::Object(query)) => {
                let field = |key: &str| query.get(key).and_then(Value::as_str).map(str::to_owned);
                field("username")
                    .map(UserSelector::Username)
                    .or_else(|| field("email").map(UserSelector::Email))
                    .or_else(|| field("id").map(UserSelector::Id))
            }
            _ => text("username")
                .map(|u| UserSelector::Username(u.to_owned()))
                .or_else(|| text("email").map(|e| UserSelector::Email(e.to_owned()))),
        };
        let digest = match password {
            Value::String(plain) => Some(password_digest(plain)),
            Value::Object(hashed) => {
                let digest = hashed
                    .get("digest")
                    .or_else(|| hashed.get("hashed"))
                    .and_then(Value::as_str);
                let algorithm = hashed.get("algorithm").and_then(Value::as_str);
                match (digest, algorithm) {
                    (Some(d), Some("sha-256") | None) if d.len() == 64 => Some(d.to_owned()),
                    _ => None,
                }
            }
            _ => None,
        };
        match (user, digest) {
            (Some(user), Some(digest)) => Self::Password { user, digest },
            _ => Self::Unrecognized,
        }
    }
}

/// Why a login failed. Rocket.Chat masks every login handler's error as `User not found`,
/// so as not to tell whether an account exists; only the checks made after the handler
/// (`Accounts.validateLoginAttempt`) say what they found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, unknown token, or nothing recognisable.
    #[error("User not found")]
    NotFound,
    #[error("User is not activated")]
    NotActivated,
    #[error("User has no roles")]
    NoRoles,
}

impl LoginError {
    /// The Meteor error code (`error.error`).
    pub fn code(&self) -> Value {
        match self {
            Self::NotFound => json!(401),
            Self::NotActivated => json!("error-user-is-not-activated"),
            Self::NoRoles => json!("error-user-has-no-roles"),
        }
    }

    /// The Meteor error details (`error.details`), if any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Self::NotFound => None,
            Self::NotActivated | Self::NoRoles => {
                Some(json!({ "function": "Accounts.validateLoginAttempt" }))
            }
        }
    }
}

/// `validateLoginAttempt`, for a user whose credentials were right.
pub(crate) fn validate_login_attempt(
    user: &User,
    document: &Map<String, Value>,
) -> Result<(), LoginError> {
    if !user.active {
        return Err(LoginError::NotActivated);
    }
    if !document.get("roles").is_some_and(Value::is_array) {
        return Err(LoginError::NoRoles);
    }
    Ok(())
}

/// The user fields Rocket.Chat's REST API projects (`getBaseUserFields`), besides `_id`.
const BASE_USER_FIELDS: &[&str] = &[
    "name",
    "username",
    "nickname",
    "emails",
    "status",
    "statusDefault",
    "statusText",
    "statusConnection",
    "bio",
    "avatarOrigin",
    "utcOffset",
    "language",
    "settings",
    "enableAutoAway",
    "idleTimeLimit",
    "roles",
    "active",
    "defaultRoom",
    "customFields",
    "requirePasswordChange",
    "requirePasswordChangeReason",
    "statusLivechat",
    "banners",
    "oauth",
    "_updatedAt",
    "avatarETag",
    "openBusinessHours",
    "abacAttributes",
];

/// Login services that are not OAuth providers (`isOAuthUser`).
const LOCAL_SERVICES: &[&str] = &[
    "password",
    "resume",
    "email",
    "email2fa",
    "emailCode",
    "totp",
    "passwordHistory",
];

/// `getUserInfo`: the user document as projected, then its verified e-mail, settings,
/// avatar URL, whether it is an OAuth user, and which login services it has (never the
/// password hash). `site_url` is the server's own address, as `Site_Url` would be.
pub(crate) fn user_info(document: &Map<String, Value>, site_url: &str) -> Map<String, Value> {
    let mut info = Map::new();
    info.insert(
        "_id".to_owned(),
        document.get("_id").cloned().unwrap_or(Value::Null),
    );
    for (key, value) in document {
        if BASE_USER_FIELDS.contains(&key.as_str()) {
            info.insert(key.clone(), value.clone());
        }
    }
    let verified_email = document
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("verified") == Some(&Value::Bool(true)))
        .and_then(|e| e.get("address"))
        .cloned();
    if let Some(address) = verified_email {
        info.insert("email".to_owned(), address);
    }
    let preferences = document
        .get("settings")
        .and_then(|s| s.get("preferences"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    info.insert(
        "settings".to_owned(),
        json!({ "profile": {}, "preferences": preferences }),
    );
    let username = document
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("undefined");
    info.insert(
        "avatarUrl".to_owned(),
        Value::String(format!(
            "{}/avatar/{username}",
            site_url.trim_end_matches('/')
        )),
    );
    // The fixtures' plain `password` stands for `services.password.bcrypt`: such a user has
    // services even before its first login writes `services.resume`.
    let plain_password = document
        .get("password")
        .is_some_and(crate::validation::js::is_truthy);
    let none = Map::new();
    let services = document
        .get("services")
        .and_then(Value::as_object)
        .or(plain_password.then_some(&none));
    let is_oauth =
        services.is_some_and(|s| s.keys().any(|k| !LOCAL_SERVICES.contains(&k.as_str())));
    info.insert("isOAuthUser".to_owned(), Value::Bool(is_oauth));
    if let Some(services) = services {
        let mut shown = Map::new();
        for provider in ["github", "gitlab"] {
            if let Some(value) = services.get(provider) {
                shown.insert(provider.to_owned(), value.clone());
            }
        }
        for second_factor in ["email2fa", "totp"] {
            if services
                .get(second_factor)
                .and_then(|s| s.get("enabled"))
                .is_some_and(|e| e == &Value::Bool(true))
            {
                shown.insert(second_factor.to_owned(), json!({ "enabled": true }));
            }
        }
        // `Boolean(services.password.bcrypt)`; the fixtures' plain `password` (a mock
        // convenience standing for the hash) counts too.
        let has_password = services
            .get("password")
            .and_then(|p| p.get("bcrypt"))
            .is_some_and(crate::validation::js::is_truthy)
            || document
                .get("password")
                .is_some_and(crate::validation::js::is_truthy);
        shown.insert("password".to_owned(), json!({ "exists": has_password }));
        info.insert("services".to_owned(), Value::Object(shown));
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: Value) -> Credentials {
        Credentials::read(body.as_object().unwrap())
    }

    #[test]
    fn reads_every_credential_shape_rocket_chat_accepts() {
        let digest = password_digest("secret");
        let by_name = Credentials::Password {
            user: UserSelector::Username("admin".into()),
            digest: digest.clone(),
        };
        assert_eq!(
            read(json!({"user": "admin", "password": "secret"})),
            by_name
        );
        assert_eq!(
            read(json!({"username": "admin", "password": "secret"})),
            by_name
        );
        assert_eq!(
            read(
                json!({"user": {"username": "admin"}, "password": {"digest": digest, "algorithm": "sha-256"}})
            ),
            by_name
        );
        assert_eq!(
            read(json!({"user": "a@b.c", "password": "secret"})),
            Credentials::Password {
                user: UserSelector::Email("a@b.c".into()),
                digest
            }
        );
        assert_eq!(
            read(json!({"resume": "t"})),
            Credentials::Resume("t".into())
        );
        assert_eq!(read(json!({"user": "admin"})), Credentials::Unrecognized);
        assert_eq!(
            read(json!({"user": "admin", "password": {"digest": "short", "algorithm": "sha-256"}})),
            Credentials::Unrecognized
        );
    }

    #[test]
    fn user_info_never_shows_the_password_hash() {
        let document = json!({
            "_id": "u1", "username": "ana", "authTokens": ["t"], "password": "p",
            "emails": [{"address": "a@b.c", "verified": true}],
            "services": {"password": {"bcrypt": "$2b$..."}, "resume": {"loginTokens": []}}
        });
        let info = user_info(document.as_object().unwrap(), "http://localhost:3000/");
        assert_eq!(
            Value::Object(info),
            json!({
                "_id": "u1", "username": "ana",
                "emails": [{"address": "a@b.c", "verified": true}],
                "email": "a@b.c",
                "settings": {"profile": {}, "preferences": {}},
                "avatarUrl": "http://localhost:3000/avatar/ana",
                "isOAuthUser": false,
                "services": {"password": {"exists": true}}
            })
        );
    }
}
