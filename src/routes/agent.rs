//! The contact center's agent-side `/api/v1/livechat/*` routes: custom field definitions for
//! the contact form, agents and managers for its pickers, a past chat's messages.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::json;

use super::pipeline::{Authorized, Input, LegacyQuery};
use super::success;
use crate::auth::{Anyone, ViewLRoom};
use crate::domain::paging::{Page, Sort};
use crate::domain::request::CUSTOM_FIELDS_QUERY;
use crate::error::ApiError;
use crate::openapi::{BadRequestError, ForbiddenError, UnauthorizedError};
use crate::store::UserFilter;

pub(crate) const TAG: &str = "Livechat";

/// The query of `GET /api/v1/livechat/custom-fields`.
#[derive(Debug, Deserialize)]
pub struct CustomFieldsQuery {
    pub text: Option<String>,
    pub count: Option<serde_json::Number>,
    pub offset: Option<serde_json::Number>,
    pub sort: Option<String>,
}

impl Input for CustomFieldsQuery {
    const SCHEMA: &'static str = CUSTOM_FIELDS_QUERY.name;
}

/// One page of custom field definitions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CustomFieldsPage {
    /// The definitions (`rocketchat_livechat_custom_field` documents), as stored.
    #[schema(value_type = Vec<Object>)]
    #[serde(rename = "customFields")]
    pub custom_fields: Vec<serde_json::Value>,
    /// How many this page holds.
    pub count: usize,
    pub offset: i64,
    /// How many match in all.
    pub total: usize,
    pub success: bool,
}

/// List Livechat Custom Fields
///
/// The workspace's custom field definitions (visitor and room scope, hidden ones too), by
/// label unless `sort` says otherwise, whose label or `_id` contains `text`. The contact
/// form reads them. Permission required: `view-l-room`.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-custom-fields",
    tag = TAG,
    responses(
        (status = 200, description = "OK", body = CustomFieldsPage),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/livechat/custom-fields")]
pub(crate) async fn custom_fields(
    call: LegacyQuery<ViewLRoom, CustomFieldsQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input, workspace, ..
    } = call;
    let sort = Sort::parse(input.sort.as_deref(), &[("label", true)])?;
    let page = Page::new(input.count.as_ref(), input.offset.as_ref())?;
    let listed =
        workspace.read(|store| store.custom_field_definitions(input.text.as_deref(), &sort, page));
    Ok(HttpResponse::Ok().json(json!({
        "customFields": listed.items,
        "count": listed.items.len(),
        "offset": page.offset,
        "total": listed.total,
        "success": true,
    })))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CustomFieldAnswer {
    /// The definition, or `null` when none has this `_id`.
    #[schema(value_type = Option<Object>)]
    #[serde(rename = "customField")]
    pub custom_field: Option<serde_json::Value>,
    pub success: bool,
}

/// Get Livechat Custom Field
///
/// One custom field definition by `_id`; `customField` is `null` when there is none (no
/// 404, as upstream). Permission required: `view-l-room`.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-custom-fields-_id",
    tag = TAG,
    params(("_id" = String, Path, description = "The definition's `_id` (the field's key).", example = "cpf")),
    responses(
        (status = 200, description = "OK", body = CustomFieldAnswer),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/livechat/custom-fields/{_id}")]
pub(crate) async fn custom_field(
    id: web::Path<String>,
    call: Authorized<ViewLRoom>,
) -> Result<HttpResponse, ApiError> {
    let field = call
        .workspace
        .read(|store| store.custom_field_definition(&id));
    Ok(success("customField", field))
}

/// The query of `GET /api/v1/livechat/{rid}/messages`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomMessagesQuery {
    pub count: Option<serde_json::Number>,
    pub offset: Option<serde_json::Number>,
    pub sort: Option<String>,
    pub search_term: Option<String>,
}

impl Input for RoomMessagesQuery {
    const SCHEMA: &'static str = crate::domain::request::ROOM_MESSAGES_QUERY.name;
}

/// One page of a conversation's messages.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RoomMessagesPage {
    pub messages: Vec<crate::domain::livechat::MessageDocument>,
    pub offset: i64,
    /// The page size asked for (`0`: all), not how many this page holds.
    pub count: i64,
    /// How many messages match in all.
    pub total: usize,
    pub success: bool,
}

/// Livechat Room Messages
///
/// A conversation's messages as the contact's history shows them: the visitor's and
/// agents' texts and the closing message (other system messages are left out), newest
/// first unless `sort` says otherwise, those containing `searchTerm` (any case). The caller
/// must be allowed to see the room: `view-livechat-rooms`, or serving it, or (once closed)
/// `view-livechat-room-closed-by-another-agent`. Permission required: `view-l-room`.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-rid-messages",
    tag = TAG,
    params(("rid" = String, Path, description = "The room's `_id`.", example = "bC5x3zmBdgtmA4m3W")),
    responses(
        (status = 200, description = "OK", body = RoomMessagesPage),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/livechat/{rid}/messages")]
pub(crate) async fn room_messages(
    rid: web::Path<String>,
    call: LegacyQuery<ViewLRoom, RoomMessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input,
        workspace,
        caller,
        ..
    } = call;
    let page = Page::new(input.count.as_ref(), input.offset.as_ref())?;
    let sort = Sort::parse(input.sort.as_deref(), &[("ts", false)])?;
    let listed = workspace.read(|store| {
        let may_see = |room: &serde_json::Map<String, serde_json::Value>| {
            store.may_see_livechat_room(&caller, room)
        };
        store.room_messages(&rid, input.search_term.as_deref(), &sort, page, may_see)
    });
    let listed = listed?;
    Ok(HttpResponse::Ok().json(json!({
        "messages": listed.items,
        "offset": page.offset,
        "count": page.count,
        "total": listed.total,
        "success": true,
    })))
}

/// The query of `GET /api/v1/livechat/users/{type}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OmnichannelUsersQuery {
    pub text: Option<String>,
    pub only_available: Option<bool>,
    pub exclude_id: Option<String>,
    /// `None` when left out; `Some(None)` when sent empty (coerced to `null`).
    #[serde(default, deserialize_with = "present")]
    pub show_idle_agents: Option<Option<bool>>,
    pub count: Option<serde_json::Number>,
    pub offset: Option<serde_json::Number>,
    pub sort: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<bool>>, D::Error> {
    Option::<bool>::deserialize(d).map(Some)
}

impl Input for OmnichannelUsersQuery {
    const SCHEMA: &'static str = crate::domain::request::OMNICHANNEL_USERS_QUERY.name;
}

/// An agent or manager, as the pickers list them.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OmnichannelUser {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "statusLivechat")]
    pub status_livechat: Option<String>,
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub emails: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub livechat: Option<serde_json::Value>,
    /// The agent's departments (the mock holds none).
    pub departments: Vec<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OmnichannelUsersPage {
    pub users: Vec<OmnichannelUser>,
    /// How many this page holds.
    pub count: usize,
    pub offset: i64,
    pub total: usize,
    pub success: bool,
}

/// List Livechat Agents or Managers
///
/// The users with the `livechat-agent` (`type` = `agent`) or `livechat-manager`
/// (`manager`) role, by name unless `sort` says otherwise, whose username, name or an
/// e-mail address contains `text`. For agents, `onlyAvailable`, `excludeId` and
/// `showIdleAgents` narrow the list (the contact manager picker sends
/// `showIdleAgents=true&onlyAvailable=false`). Listing agents requires
/// `transfer-livechat-guest` or `edit-omnichannel-contact`; managers,
/// `view-livechat-manager`; another type is `Invalid type`.
#[utoipa::path(
    get,
    operation_id = "get-api-v1-livechat-users-type",
    tag = TAG,
    params(("type" = String, Path, description = "`agent` or `manager`.", example = "agent")),
    responses(
        (status = 200, description = "OK", body = OmnichannelUsersPage),
        (status = 400, description = "Bad Request", body = BadRequestError),
        (status = 401, description = "Unauthorized", body = UnauthorizedError),
        (status = 403, description = "Forbidden", body = ForbiddenError),
    ),
    security(("X-Auth-Token" = [], "X-User-Id" = []))
)]
#[get("/api/v1/livechat/users/{type}")]
pub(crate) async fn omnichannel_users(
    kind: web::Path<String>,
    call: LegacyQuery<Anyone, OmnichannelUsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let LegacyQuery {
        input,
        workspace,
        caller,
        ..
    } = call;
    let page = Page::new(input.count.as_ref(), input.offset.as_ref())?;
    let sort = Sort::parse(input.sort.as_deref(), &[("name", true)])?;
    let may = |permissions: &[&str]| {
        workspace.read(|store| permissions.iter().any(|p| store.has_permission(&caller, p)))
    };
    let filter = match kind.as_str() {
        "agent" => {
            if !may(&["transfer-livechat-guest", "edit-omnichannel-contact"]) {
                return Err(ApiError::BareForbidden);
            }
            UserFilter {
                role: crate::domain::workspace::LIVECHAT_AGENT,
                text: input.text,
                only_available: input.only_available.unwrap_or(false),
                exclude_id: input.exclude_id,
                // Left out, it defaults to true; sent empty, it is `null`, and filters.
                show_idle: input.show_idle_agents.is_none_or(|v| v.unwrap_or(false)),
            }
        }
        "manager" => {
            if !may(&["view-livechat-manager"]) {
                return Err(ApiError::BareForbidden);
            }
            UserFilter {
                role: "livechat-manager",
                text: input.text,
                show_idle: true,
                ..UserFilter::default()
            }
        }
        _ => return Err(ApiError::Business("Invalid type".to_owned())),
    };
    let listed = workspace.read(|store| store.omnichannel_users(&filter, &sort, page));
    Ok(HttpResponse::Ok().json(json!({
        "users": listed.items,
        "count": listed.items.len(),
        "offset": page.offset,
        "total": listed.total,
        "success": true,
    })))
}
