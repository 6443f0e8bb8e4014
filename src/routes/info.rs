//! `/api/info`: what clients ask a server first (its version), anonymous or logged in.

use actix_web::{HttpRequest, HttpResponse, get};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::pipeline::Workspace;
use crate::config::RocketChatVersion;
use crate::error::ApiError;

/// The Rocket.Chat release each profile answers as.
fn release(version: RocketChatVersion) -> &'static str {
    match version {
        RocketChatVersion::V7 => "7.13.0",
        RocketChatVersion::Reference | RocketChatVersion::V8 => "8.8.1",
    }
}

/// The server's information.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ServerInfo {
    /// The workspace's address without scheme (`Site_Url`; here, the request's host).
    #[serde(rename = "workspaceUrl")]
    pub workspace_url: String,
    /// The SHA-256 of `workspaceUrl`, as hex.
    #[serde(rename = "hashedWorkspaceUrl")]
    pub hashed_workspace_url: String,
    /// `X.Y` (the full `X.Y.Z` for a user with `view-statistics`).
    pub version: String,
    /// For a user with `view-statistics`: `version`, `build`, `marketplaceApiVersion`, `commit`.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<Value>,
    #[serde(rename = "minimumClientVersions")]
    #[schema(value_type = Object)]
    pub minimum_client_versions: Value,
    #[serde(rename = "cloudWorkspaceId")]
    pub cloud_workspace_id: String,
    pub success: bool,
}

/// Server Information
///
/// The server's version and the minimum client versions; with the login headers of a user
/// holding `view-statistics` (the admin), the full version and the build. No login needed:
/// wrong credentials are answered as anonymous. The version follows `--rocketchat-version`.
#[utoipa::path(
    get,
    operation_id = "get-api-info",
    tag = crate::routes::account::TAG,
    responses((status = 200, description = "OK", body = ServerInfo))
)]
#[get("/api/info")]
pub(crate) async fn info(
    request: HttpRequest,
    workspace: Workspace,
) -> Result<HttpResponse, ApiError> {
    let full = workspace.read(|store| {
        crate::auth::authenticate(&request, store)
            .is_ok_and(|caller| store.has_permission(&caller, "view-statistics"))
    });
    let release = release(workspace.state_version());
    let workspace_url = request.connection_info().host().to_owned();
    let hashed: String = Sha256::digest(workspace_url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut body = Map::new();
    body.insert("workspaceUrl".into(), json!(workspace_url));
    body.insert("hashedWorkspaceUrl".into(), json!(hashed));
    let trimmed: Vec<&str> = release.splitn(3, '.').take(2).collect();
    if full {
        body.insert("version".into(), json!(release));
        body.insert(
            "info".into(),
            json!({
                "version": release,
                "build": {
                    "date": "2025-11-20T12:00:00.000Z",
                    "nodeVersion": "v22.16.0",
                    "arch": "x64",
                    "platform": "linux",
                    "osRelease": "rocketchat-mock",
                    "totalMemory": 0,
                    "freeMemory": 0,
                    "cpus": 1
                },
                "marketplaceApiVersion": "1.55.0",
                "commit": {}
            }),
        );
    } else {
        body.insert("version".into(), json!(trimmed.join(".")));
    }
    body.insert(
        "minimumClientVersions".into(),
        json!({ "desktop": "3.9.6", "mobile": "4.39.0" }),
    );
    body.insert("cloudWorkspaceId".into(), json!(""));
    body.insert("success".into(), json!(true));
    Ok(HttpResponse::Ok().json(body))
}
