//! `/api/v1/omnichannel/*`: the contacts routes.

use std::sync::Arc;

use actix_web::{HttpResponse, get, post};
use serde_json::{Value, json};

use super::pipeline::{Input, Legacy, LegacyQuery, Licensed, Typed};
use super::success;
use crate::auth::{
    BlockLivechatContact, CreateLivechatContact, DeleteLivechatContact, UnblockLivechatContact,
    UpdateLivechatContact, ViewLivechatContact, ViewLivechatContactHistory,
};
use crate::domain::paging::{Page, Sort};
use crate::domain::request::{
    CheckExistenceQuery, CreateContactBody, DeleteContactBody, GetContactQuery,
    ResolveConflictsBody, SearchContactsQuery, UpdateContactBody,
};
use crate::domain::rules::ContactError;
use crate::domain::search::Search;
use crate::error::{ApiError, RESOURCE_NOT_FOUND};
use crate::openapi::{
    BadRequestError, CheckExistenceResponse, CreateContactResponse, DeleteContactResponse,
    ForbiddenError, GetContactResponse, NotFoundError, ResolveConflictsResponse,
    SearchContactsResponse, TypedBadRequestError, UnauthorizedError, UpdateContactResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    call: Legacy<CreateLivechatContact, CreateContactBody>,
) -> Result<HttpResponse, ApiError> {
    let Legacy {
        input, workspace, ..
    } = call;
    let id = workspace.object_id();
    let now = workspace.now();
    let id = workspace.write(|store| store.create_contact(id, input, &now))?;
    Ok(success("contactId", Value::String(id)))
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
    call: LegacyQuery<ViewLivechatContact, GetContactQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input, workspace, ..
    } = call;
    let contact = workspace
        .read(|store| store.contact(&input.contact_id))
        .ok_or_else(|| ApiError::NotFound(RESOURCE_NOT_FOUND.to_owned()))?;
    Ok(success("contact", contact))
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
    call: LegacyQuery<ViewLivechatContact, SearchContactsQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input, workspace, ..
    } = call;
    let search = Arc::new(Search::new(input)?);
    let page = if search.name_order().is_some() {
        workspace.read(|store| store.search_contacts(&search))
    } else {
        // Any other order reads every match: on a large workspace that takes a while,
        // so it runs aside, and this worker goes on serving.
        let search = search.clone();
        workspace
            .read_aside(move |store| store.search_contacts(&search))
            .await?
    };
    Ok(HttpResponse::Ok().json(json!({
        "contacts": page.contacts,
        "count": search.page.count,
        "offset": search.page.offset,
        "total": page.total,
        "success": true,
    })))
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
    call: LegacyQuery<ViewLivechatContact, CheckExistenceQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input, workspace, ..
    } = call;
    let exists = workspace.read(|store| store.contact_exists(&input));
    Ok(success("exists", Value::Bool(exists)))
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
    call: Typed<DeleteLivechatContact, DeleteContactBody>,
) -> Result<HttpResponse, ApiError> {
    let Typed {
        input, workspace, ..
    } = call;
    let now = workspace.now();
    match workspace.write(|store| store.disable_contact(&input.contact_id, &now)) {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "success": true }))),
        Err(ContactError::NotFound) => Err(ApiError::NotFound(ContactError::NotFound.to_string())),
        Err(other) => Err(other.into()),
    }
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
    call: Legacy<UpdateLivechatContact, UpdateContactBody>,
) -> Result<HttpResponse, ApiError> {
    let Legacy {
        input, workspace, ..
    } = call;
    let now = workspace.now();
    let contact = workspace.write(|store| store.update_contact(input, &now))?;
    Ok(success("contact", contact))
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
    call: Legacy<UpdateLivechatContact, ResolveConflictsBody>,
) -> Result<HttpResponse, ApiError> {
    let Legacy {
        input, workspace, ..
    } = call;
    let now = workspace.now();
    let contact = workspace.write(|store| store.resolve_conflicts(input, &now))?;
    Ok(success("result", contact))
}

// The schema each input is validated by.

impl Input for UpdateContactBody {
    const SCHEMA: &'static str = "UpdateContactBody";
}

impl Input for ResolveConflictsBody {
    const SCHEMA: &'static str = "ResolveConflictsBody";
}

impl Input for CreateContactBody {
    const SCHEMA: &'static str = "CreateContactBody";
    const KEEPS_NULLS: bool = true;
}

impl Input for DeleteContactBody {
    const SCHEMA: &'static str = "DeleteContactBody";
}

impl Input for GetContactQuery {
    const SCHEMA: &'static str = crate::domain::request::GET_CONTACT_QUERY.name;
}

impl Input for SearchContactsQuery {
    const SCHEMA: &'static str = crate::domain::request::SEARCH_CONTACTS_QUERY.name;
}

impl Input for CheckExistenceQuery {
    const SCHEMA: &'static str = crate::domain::request::CHECK_EXISTENCE_QUERY.name;
}

/// The query of `contacts.history`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactHistoryQuery {
    pub contact_id: String,
    pub source: Option<String>,
    pub count: Option<serde_json::Number>,
    pub offset: Option<serde_json::Number>,
    pub sort: Option<String>,
}

impl Input for ContactHistoryQuery {
    const SCHEMA: &'static str = crate::domain::request::CONTACT_HISTORY_QUERY.name;
}

/// One page of a contact's past conversations.
#[derive(Serialize, ToSchema)]
pub struct ContactHistoryPage {
    /// Closed rooms: `_id`, `fname`, `ts`, `v`, `msgs`, `servedBy`, `closedAt`, `closedBy`,
    /// `closer`, `tags`, `source`, `lastMessage`, `verified` (those the room has).
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Value>,
    /// How many this page holds.
    pub count: usize,
    pub offset: i64,
    /// How many closed rooms match in all.
    pub total: usize,
    pub success: bool,
}

/// Contact History
///
/// The contact's closed conversations, the last closed first unless `sort` says otherwise;
/// `source` keeps those whose source type or alias contains it. Open rooms are not listed.
/// Permission required: `view-livechat-contact-history`.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    get,
    operation_id = "get-api-v1-omnichannel-contacts.history",
    tag = "Omnichannel Contacts",
    responses(
        (status = 200, description = "OK", body = ContactHistoryPage),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/omnichannel/contacts.history")]
pub(crate) async fn contacts_history(
    call: LegacyQuery<ViewLivechatContactHistory, ContactHistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input, workspace, ..
    } = call;
    // Paging and sort are read before the contact is looked up.
    let page = Page::new(input.count.as_ref(), input.offset.as_ref())?;
    let sort = Sort::parse(input.sort.as_deref(), &[("closedAt", false)])?;
    let listed = workspace.read(|store| {
        store.contact_history(&input.contact_id, input.source.as_deref(), &sort, page)
    })?;
    Ok(HttpResponse::Ok().json(json!({
        "history": listed.items,
        "count": listed.items.len(),
        "offset": page.offset,
        "total": listed.total,
        "success": true,
    })))
}

/// The query of `contacts.channels`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactChannelsQuery {
    pub contact_id: String,
}

impl Input for ContactChannelsQuery {
    const SCHEMA: &'static str = crate::domain::request::CONTACT_CHANNELS_QUERY.name;
}

#[derive(Serialize, ToSchema)]
pub struct ContactChannelsAnswer {
    /// One channel per name: the one with the latest `lastChat`.
    pub channels: Vec<crate::domain::contact::ContactChannel>,
    pub success: bool,
}

/// Contact Channels
///
/// The channels through which the contact reached the workspace, one per name (widget,
/// WhatsApp, …): of several with the same name, the one with the latest `lastChat`. An
/// unknown contact has none. Permission required: `view-livechat-contact`.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    get,
    operation_id = "get-api-v1-omnichannel-contacts.channels",
    tag = "Omnichannel Contacts",
    responses(
        (status = 200, description = "OK", body = ContactChannelsAnswer),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/omnichannel/contacts.channels")]
pub(crate) async fn contacts_channels(
    call: LegacyQuery<ViewLivechatContact, ContactChannelsQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input, workspace, ..
    } = call;
    let channels = workspace.read(|store| store.contact_channels(&input.contact_id));
    Ok(success("channels", channels))
}

/// A contact channel: the visitor and the source it came through.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAssociation {
    pub visitor_id: String,
    pub source: Value,
}

/// Body of `contacts.block` and `contacts.unblock`.
#[derive(Debug, Deserialize)]
pub struct BlockContactBody {
    pub visitor: ChannelAssociation,
}

impl utoipa::PartialSchema for BlockContactBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::domain::request::schema_from(json!({
            "type": "object",
            "description": "The channel: its visitor and source, as `contacts.channels` lists them (`channel.visitor`).",
            "properties": {
                "visitor": {
                    "type": "object",
                    "properties": {
                        "visitorId": { "type": "string", "description": "The visitor's `_id`." },
                        "source": {
                            "type": "object",
                            "properties": {
                                "type": { "type": "string", "description": "`widget`, `api`, `app`, …" },
                                "id": { "type": "string", "description": "The app's id, for an app channel." }
                            },
                            "required": ["type"]
                        }
                    },
                    "required": ["visitorId", "source"]
                }
            },
            "required": ["visitor"],
            "additionalProperties": false
        }))
    }
}

impl ToSchema for BlockContactBody {}

impl Input for BlockContactBody {
    const SCHEMA: &'static str = "BlockContactBody";
}

/// Block Contact Channel
///
/// Blocks a contact's channel (a visitor through a source): the channel's `blocked` becomes
/// `true`, the visitor's open room through it is closed (`closer: "user"`, by you, `This
/// channel has been blocked`), and it can open no new room (`error-contact-channel-blocked`).
/// Blocking a blocked channel succeeds again. An enterprise route: a community workspace
/// (`--edition community`) answers `This is an enterprise feature`. Permission required:
/// `block-livechat-contact`.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    post,
    operation_id = "post-api-v1-omnichannel-contacts.block",
    tag = "Omnichannel Contacts",
    request_body(content = BlockContactBody),
    responses(
        (status = 200, description = "OK", body = DeleteContactResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/omnichannel/contacts.block")]
pub(crate) async fn contacts_block(
    _license: Licensed,
    call: Legacy<BlockLivechatContact, BlockContactBody>,
) -> Result<HttpResponse, ApiError> {
    set_blocked(call.caller, call.input, call.workspace, true)
}

/// Unblock Contact Channel
///
/// Unblocks a contact's channel: its `blocked` becomes `false` and it may open rooms again
/// (nothing is reopened). An enterprise route. Permission required:
/// `unblock-livechat-contact`.
///
/// ### Changelog
/// | Version      | Description |
/// | ---------------- | ------------|
/// |7.0.0             | Added       |
#[utoipa::path(
    post,
    operation_id = "post-api-v1-omnichannel-contacts.unblock",
    tag = "Omnichannel Contacts",
    request_body(content = BlockContactBody),
    responses(
        (status = 200, description = "OK", body = DeleteContactResponse),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[post("/api/v1/omnichannel/contacts.unblock")]
pub(crate) async fn contacts_unblock(
    _license: Licensed,
    call: Legacy<UnblockLivechatContact, BlockContactBody>,
) -> Result<HttpResponse, ApiError> {
    set_blocked(call.caller, call.input, call.workspace, false)
}

fn set_blocked(
    caller: crate::store::Caller,
    input: BlockContactBody,
    workspace: super::pipeline::Workspace,
    blocked: bool,
) -> Result<HttpResponse, ApiError> {
    let now = workspace.now();
    let visitor = input.visitor;
    workspace.write(|store| {
        store.set_channel_blocked(
            &visitor.visitor_id,
            &visitor.source,
            blocked,
            &caller,
            &workspace,
            &now,
        )
    })?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
