//! `/api/v1/omnichannel/*`: the contacts routes.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, post, web};

use super::{authorize, success};
use crate::auth::UPDATE_LIVECHAT_CONTACT;
use crate::domain::request::{ResolveConflictsBody, UpdateContactBody};
use crate::mock::sessions::Session;
use crate::openapi::{
    BadRequestError, ForbiddenError, ResolveConflictsResponse, UnauthorizedError,
    UpdateContactResponse,
};
use crate::startup::AppState;

/// Update Omnichannel Contact
///
/// Update omnichannel contact. Permission required: `update-livechat-contact`.
///
/// Fields left out are kept. `customFields` replaces the contact's custom fields: it is
/// validated against the workspace's visitor custom fields (required, `regexp`), unknown
/// keys are refused, and legacy keys (no longer defined) keep their stored values.
/// `contactManager` must be the `_id` of a `livechat-agent` user; `""` removes the manager.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |6.1.0             | Added       |
#[utoipa::path(
    post,
    path = "/api/v1/omnichannel/contacts.update",
    operation_id = "post-api-v1-omnichannel-contacts.update",
    tag = "Omnichannel Contacts",
    request_body(content = UpdateContactBody),
    responses(
        (status = 200, description = "OK", body = UpdateContactResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/omnichannel/contacts.update")]
pub(crate) async fn contacts_update(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = async {
        let body = authorize::<UpdateContactBody>(
            &request,
            payload,
            &state,
            &session,
            &state.schemas.update_contact,
            UPDATE_LIVECHAT_CONTACT,
        )
        .await?;
        let now = state.now();
        let contact = session.with_store(|store| store.update_contact(body, &now))?;
        Ok(success("contact", contact))
    };
    state.respond(answer.await)
}

/// Resolve Contact Conflicts
///
/// Use this endpoint to resolve conflicts in a contact's details.
///
/// This endpoint works only when a contact has conflicts (`conflictingFields`). Conflicts
/// occur when a verified contact reaches you through another channel with different
/// details. Sending `name`, `contactManager` or a `customFields` key keeps that value and
/// drops the matching conflict entries; `wipeConflicts: true` drops them all. Custom fields
/// are merged into the stored ones without validation.
///
/// Permission required: `update-livechat-contact`
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.7.0             | Added       |
#[utoipa::path(
    post,
    path = "/api/v1/omnichannel/contacts.conflicts",
    operation_id = "post-api-v1-omnichannel-contacts.conflicts",
    tag = "Omnichannel Contacts",
    request_body(content = ResolveConflictsBody),
    responses(
        (status = 200, description = "OK", body = ResolveConflictsResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/omnichannel/contacts.conflicts")]
pub(crate) async fn contacts_conflicts(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = async {
        let body = authorize::<ResolveConflictsBody>(
            &request,
            payload,
            &state,
            &session,
            &state.schemas.resolve_conflicts,
            UPDATE_LIVECHAT_CONTACT,
        )
        .await?;
        let now = state.now();
        let contact = session.with_store(|store| store.resolve_conflicts(body, &now))?;
        Ok(success("result", contact))
    };
    state.respond(answer.await)
}
