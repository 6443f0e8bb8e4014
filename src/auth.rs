//! Authentication by the `X-User-Id` / `X-Auth-Token` headers, and the permission check.

use actix_web::HttpRequest;

use crate::error::ApiError;
use crate::store::{Caller, Store};

pub(crate) const USER_ID_HEADER: &str = "X-User-Id";
pub(crate) const AUTH_TOKEN_HEADER: &str = "X-Auth-Token";

/// A permission a route requires, as a type, so that the route's signature names it
/// (`Legacy<UpdateLivechatContact, _>`).
pub(crate) trait Permission: 'static {
    /// The permission's `_id` in `rocketchat_permissions`.
    const NAME: &'static str;
}

/// A route that checks no permission in its pipeline (its handler may check some).
pub(crate) struct Anyone;

impl Permission for Anyone {
    const NAME: &'static str = "";
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $marker:ident = $name:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $marker;
        impl Permission for $marker {
            const NAME: &'static str = $name;
        }
    )*};
}

permissions! {
    /// `contacts.update` and `contacts.conflicts`.
    UpdateLivechatContact = "update-livechat-contact";
    /// `contacts.get`, `contacts.search` and `contacts.checkExistence`.
    ViewLivechatContact = "view-livechat-contact";
    /// `contacts` (create).
    CreateLivechatContact = "create-livechat-contact";
    /// `contacts.delete`.
    DeleteLivechatContact = "delete-livechat-contact";
    /// `livechat/custom-fields` and a room's messages.
    ViewLRoom = "view-l-room";
    /// `contacts.history`.
    ViewLivechatContactHistory = "view-livechat-contact-history";
    /// `livechat/visitor/:token/room`.
    ViewLivechatManager = "view-livechat-manager";
    /// `contacts.block` (enterprise).
    BlockLivechatContact = "block-livechat-contact";
    /// `contacts.unblock` (enterprise).
    UnblockLivechatContact = "unblock-livechat-contact";
}

/// The request's user, or 401 when a header is missing or does not name an
/// active user holding that token.
pub(crate) fn authenticate(request: &HttpRequest, store: &Store) -> Result<Caller, ApiError> {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let (Some(user_id), Some(token)) = (header(USER_ID_HEADER), header(AUTH_TOKEN_HEADER)) else {
        return Err(ApiError::Unauthorized);
    };
    store
        .authenticate(user_id, token)
        .ok_or(ApiError::Unauthorized)
}

/// 403 unless one of the caller's roles holds `permission`.
pub(crate) fn require_permission(
    store: &Store,
    caller: &Caller,
    permission: &str,
) -> Result<(), ApiError> {
    if store.has_permission(caller, permission) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}
