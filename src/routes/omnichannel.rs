//! `/api/v1/omnichannel/*`: the contacts routes.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::{Value, json};

use super::{authorize, authorize_body, authorize_query, authorize_typed, success};
use crate::auth::{
    CREATE_LIVECHAT_CONTACT, DELETE_LIVECHAT_CONTACT, UPDATE_LIVECHAT_CONTACT,
    VIEW_LIVECHAT_CONTACT,
};
use crate::domain::request::{
    CheckExistenceQuery, CreateContactBody, DeleteContactBody, GetContactQuery,
    ResolveConflictsBody, SearchContactsQuery, UpdateContactBody,
};
use crate::domain::rules::ContactError;
use crate::domain::search::Search;
use crate::error::{ApiError, RESOURCE_NOT_FOUND};
use crate::mock::sessions::Session;
use crate::openapi::{
    BadRequestError, CheckExistenceResponse, CreateContactResponse, DeleteContactResponse,
    ForbiddenError, GetContactResponse, NotFoundError, ResolveConflictsResponse,
    SearchContactsResponse, TypedBadRequestError, UnauthorizedError, UpdateContactResponse,
};
use crate::startup::AppState;

/// Create Omnichannel Contact
///
/// Creates a contact and answers its new `_id`. Permission required: `create-livechat-contact`.
///
/// `name`, `emails` and `phones` are required (`[]` for none). `customFields` is validated
/// against the workspace's visitor custom fields (required, `regexp`); unknown keys are
/// refused. `contactManager` must be the `_id` of a `livechat-agent` user.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    post,
    path = "/api/v1/omnichannel/contacts",
    operation_id = "post-api-v1-omnichannel-contacts",
    tag = "Omnichannel Contacts",
    request_body(content = CreateContactBody),
    responses(
        (status = 200, description = "OK", body = CreateContactResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/omnichannel/contacts")]
pub(crate) async fn contacts_create(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = async {
        let body = authorize_body(
            &request,
            payload,
            &state,
            &session,
            &state.schemas.create_contact,
            CREATE_LIVECHAT_CONTACT,
        )
        .await?;
        // Validated: the body has the schema's shape; `null`s are kept, as upstream.
        let body: CreateContactBody = serde_json::from_value(body)
            .map_err(|e| ApiError::InvalidParams(format!("request does not fit: {e}")))?;
        let id = state.ids.object_id();
        let now = state.now();
        let id = session.write(|store| store.create_contact(id, body, &now))?;
        Ok(success("contactId", Value::String(id)))
    };
    state.respond(answer.await)
}

/// Get Omnichannel Contact
///
/// One contact, by `_id`. Permission required: `view-livechat-contact`.
///
/// A deleted contact is not found.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    get,
    path = "/api/v1/omnichannel/contacts.get",
    operation_id = "get-api-v1-omnichannel-contacts.get",
    tag = "Omnichannel Contacts",
    responses(
        (status = 200, description = "OK", body = GetContactResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
        (status = 404, description = "Not Found", body = NotFoundError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/omnichannel/contacts.get")]
pub(crate) async fn contacts_get(
    request: HttpRequest,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = (|| {
        let query: GetContactQuery = authorize_query(
            &request,
            &session,
            &state.schemas.get_contact,
            VIEW_LIVECHAT_CONTACT,
        )?;
        let contact = session
            .read(|store| store.contact(&query.contact_id))
            .ok_or_else(|| ApiError::NotFound(RESOURCE_NOT_FOUND.to_owned()))?;
        Ok(success("contact", contact))
    })();
    state.respond(answer)
}

/// Search Omnichannel Contacts
///
/// A page of contacts whose name, an e-mail address or a phone number contains
/// `searchText` (case-insensitive), sorted by name unless `sort` says otherwise, each with
/// its manager as `{_id, username, name}`. Permission required: `view-livechat-contact`.
///
/// Only contacts of identified visitors are listed (`unknown: true` lists the others);
/// deleted contacts never are. `count` is 50 when left out and at most 100; `total` is how
/// many match in all.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    get,
    path = "/api/v1/omnichannel/contacts.search",
    operation_id = "get-api-v1-omnichannel-contacts.search",
    tag = "Omnichannel Contacts",
    responses(
        (status = 200, description = "OK", body = SearchContactsResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/omnichannel/contacts.search")]
pub(crate) async fn contacts_search(
    request: HttpRequest,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = async {
        let query: SearchContactsQuery = authorize_query(
            &request,
            &session,
            &state.schemas.search_contacts,
            VIEW_LIVECHAT_CONTACT,
        )?;
        let search = Arc::new(Search::new(query)?);
        let page = if search.name_order().is_some() {
            session.read(|store| store.search_contacts(&search))
        } else {
            // Any other order reads every match: on a large workspace that takes a while,
            // so it runs on the blocking pool, and this worker goes on serving.
            let (store, search) = (session.snapshot(), search.clone());
            web::block(move || store.search_contacts(&search))
                .await
                .map_err(|_| ApiError::ShuttingDown)?
        };
        Ok(HttpResponse::Ok().json(json!({
            "contacts": page.contacts,
            "count": search.count,
            "offset": search.offset,
            "total": page.total,
            "success": true,
        })))
    };
    state.respond(answer.await)
}

/// Check Contact Existence
///
/// Whether a contact has this `_id`, e-mail address or phone number (exact match). Send
/// exactly one of `contactId`, `email` and `phone`. Permission required:
/// `view-livechat-contact`.
///
/// A deleted contact still exists by its `_id` (its e-mail addresses and phone numbers
/// are gone).
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    get,
    path = "/api/v1/omnichannel/contacts.checkExistence",
    operation_id = "get-api-v1-omnichannel-contacts.checkExistence",
    tag = "Omnichannel Contacts",
    responses(
        (status = 200, description = "OK", body = CheckExistenceResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/omnichannel/contacts.checkExistence")]
pub(crate) async fn contacts_check_existence(
    request: HttpRequest,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = (|| {
        let query: CheckExistenceQuery = authorize_query(
            &request,
            &session,
            &state.schemas.check_existence,
            VIEW_LIVECHAT_CONTACT,
        )?;
        let exists = session.read(|store| store.contact_exists(&query));
        Ok(success("exists", Value::Bool(exists)))
    })();
    state.respond(answer)
}

/// Delete Omnichannel Contact
///
/// Deletes a contact: it keeps its `_id`, dates and manager, loses its name, e-mail
/// addresses, phone numbers, channels, custom fields and conflicts, and is no longer found
/// by any route. Permission required: `delete-livechat-contact`.
///
/// This route validates the body before it checks the login, and answers a validation
/// error with `errorType: "error-invalid-params"` and no ` [invalid-params]` suffix.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.7.0             | Added       |
#[utoipa::path(
    post,
    path = "/api/v1/omnichannel/contacts.delete",
    operation_id = "post-api-v1-omnichannel-contacts.delete",
    tag = "Omnichannel Contacts",
    request_body(content = DeleteContactBody),
    responses(
        (status = 200, description = "OK", body = DeleteContactResponse),
        (status = 400, description = "Bad Request", body = TypedBadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
        (status = 404, description = "Not Found", body = NotFoundError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/omnichannel/contacts.delete")]
pub(crate) async fn contacts_delete(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: web::ReqData<Arc<Session>>,
) -> HttpResponse {
    let answer = async {
        let body: DeleteContactBody = authorize_typed(
            &request,
            payload,
            &state,
            &session,
            &state.schemas.delete_contact,
            DELETE_LIVECHAT_CONTACT,
        )
        .await?;
        let now = state.now();
        match session.write(|store| store.disable_contact(&body.contact_id, &now)) {
            Ok(()) => Ok(HttpResponse::Ok().json(json!({ "success": true }))),
            Err(ContactError::NotFound) => {
                Err(ApiError::NotFound(ContactError::NotFound.to_string()))
            }
            Err(other) => Err(other.into()),
        }
    };
    state.respond(answer.await)
}

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
        let contact = session.write(|store| store.update_contact(body, &now))?;
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
        let contact = session.write(|store| store.resolve_conflicts(body, &now))?;
        Ok(success("result", contact))
    };
    state.respond(answer.await)
}
