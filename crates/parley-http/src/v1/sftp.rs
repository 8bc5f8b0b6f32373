//! `/api/v1/sftp`: SFTP hooks, endpoints that write each subscribed event as a file on an
//! SFTP server (SPEC §7.4); their import inboxes (`/api/v1/sftp/{id}/inbox`); and the host
//! key a server presents. Their messages, attempts log, replay and tests are under
//! `/api/v1/webhooks/{id}/…`, as for any endpoint.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::imports::inbox::InboxInput;
use parley_app::webhooks::endpoints::subscription_names;
use parley_app::webhooks::sftp::{SftpHook, SftpHookInput};
use parley_domain::{ImportOptions, SftpInbox};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::list_type;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// An SFTP hook (never its password or key).
#[derive(Debug, Serialize, ToSchema)]
pub struct SftpHookResponse {
    /// `whk_…` (its messages and attempts are under `/api/v1/webhooks/{id}`).
    pub id: String,
    /// `sftp://user@host:port/folder`.
    pub url: String,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// `password` or `private_key`.
    pub auth: String,
    /// The pinned host key, OpenSSH form.
    pub host_key: String,
    /// Absolute, or under the user's home (empty: the home).
    pub folder: String,
    /// Subscribed event types; `["*"]` for all.
    pub events: Vec<String>,
    /// A note for people.
    pub description: String,
    /// Whether it receives events.
    pub enabled: bool,
    /// Why it is disabled.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<SftpHook> for SftpHookResponse {
    fn from(h: SftpHook) -> Self {
        let e = h.endpoint;
        Self {
            id: e.id.to_string(),
            url: e.url,
            host: h.target.host,
            port: h.target.port,
            user: h.target.user,
            auth: h.auth.to_owned(),
            host_key: h.host_key,
            folder: h.target.folder,
            events: subscription_names(&e.events),
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.map(|r| r.as_str().to_owned()),
            failing_since: e.failing_since,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

list_type!(SftpHookList, SftpHookResponse);

/// An SFTP hook to create, or the fields to change (absent fields stay as they are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SftpHookRequest {
    /// Host name or address.
    pub host: Option<String>,
    /// Port (22 by default).
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    /// User name.
    pub user: Option<String>,
    /// A password (or give `private_key`).
    pub password: Option<String>,
    /// An unencrypted OpenSSH private key.
    pub private_key: Option<String>,
    /// The server's public key, OpenSSH form (`GET /api/v1/sftp/host-key` shows it).
    pub host_key: Option<String>,
    /// Absolute (`/srv/in`) or under the user's home (`outbox`).
    pub folder: Option<String>,
    /// Event types (see docs/webhooks.md); absent or `["*"]` for all; `[]` for none (a destination
    /// used only as an import inbox).
    pub events: Option<Vec<String>>,
    /// A note for people.
    pub description: Option<String>,
    /// Whether it receives events.
    pub enabled: Option<bool>,
}

impl From<SftpHookRequest> for SftpHookInput {
    fn from(r: SftpHookRequest) -> Self {
        Self {
            host: r.host,
            port: r.port,
            user: r.user,
            password: r.password,
            private_key: r.private_key,
            host_key: r.host_key,
            folder: r.folder,
            events: r.events,
            description: r.description,
            enabled: r.enabled,
        }
    }
}

/// `?host=&port=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HostKeyQuery {
    /// Host name or address.
    pub host: String,
    /// Port (22 by default).
    pub port: Option<u16>,
}

/// The key a server presents.
#[derive(Debug, Serialize, ToSchema)]
pub struct HostKeyResponse {
    /// OpenSSH form, ready to pin as `host_key` once confirmed.
    pub host_key: String,
}

/// The acting organization's SFTP hooks.
#[utoipa::path(get, operation_id = "list_sftp_connections", path = "/sftp", tag = "sftp", params(PageQuery),
    responses((status = 200, body = SftpHookList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<SftpHookList>, ApiError> {
    Ok(Json(
        state.app.list_sftp_hooks(&access, q.page()?).await?.into(),
    ))
}

/// Create an SFTP hook.
#[utoipa::path(post, operation_id = "create_sftp_connection", path = "/sftp", tag = "sftp", request_body = SftpHookRequest,
    responses((status = 201, body = SftpHookResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<SftpHookRequest>,
) -> Result<(StatusCode, Json<SftpHookResponse>), ApiError> {
    let hook = state.app.create_sftp_hook(&access, body.into()).await?;
    Ok((StatusCode::CREATED, Json(hook.into())))
}

/// One SFTP hook.
#[utoipa::path(get, operation_id = "get_sftp_connection", path = "/sftp/{id}", tag = "sftp", params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = SftpHookResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<SftpHookResponse>, ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    Ok(Json(state.app.get_sftp_hook(&access, id).await?.into()))
}

/// Change an SFTP hook.
#[utoipa::path(patch, operation_id = "update_sftp_connection", path = "/sftp/{id}", tag = "sftp", request_body = SftpHookRequest,
    params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = SftpHookResponse), ProblemResponses))]
pub async fn update(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SftpHookRequest>,
) -> Result<Json<SftpHookResponse>, ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    Ok(Json(
        state
            .app
            .update_sftp_hook(&access, id, body.into())
            .await?
            .into(),
    ))
}

/// Delete an SFTP hook with its messages and attempts log.
#[utoipa::path(delete, operation_id = "delete_sftp_connection", path = "/sftp/{id}", tag = "sftp", params(("id" = String, Path, description = "whk_…")),
    responses((status = 204), ProblemResponses))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    state.app.delete_sftp_hook(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The host key an SFTP server presents, to confirm and pin.
#[utoipa::path(get, operation_id = "get_sftp_host_key", path = "/sftp/host-key", tag = "sftp", params(HostKeyQuery),
    responses((status = 200, body = HostKeyResponse), ProblemResponses))]
pub async fn host_key(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<HostKeyQuery>,
) -> Result<Json<HostKeyResponse>, ApiError> {
    let host_key = state
        .app
        .sftp_host_key(&access, &q.host, q.port.unwrap_or(22))
        .await?;
    Ok(Json(HostKeyResponse { host_key }))
}

/// An SFTP import inbox: a folder polled for files to import.
#[derive(Debug, Serialize, ToSchema)]
pub struct SftpInboxResponse {
    /// The SFTP hook (`whk_…`) it logs in as.
    pub id: String,
    /// The folder polled: absolute, or under the user's home (empty: the home). Files
    /// are moved to its `processed/` and `failed/` folders.
    pub folder: String,
    /// How its files are read, as for `POST /api/v1/imports`.
    #[schema(value_type = Object)]
    pub options: ImportOptions,
    /// Whether it is polled.
    pub enabled: bool,
    /// When the last poll ended.
    pub last_polled_at: Option<DateTime<Utc>>,
    /// Why the last poll stopped, if it did (files left stay for the next poll).
    pub last_error: Option<String>,
    /// The import of the last file taken (`GET /api/v1/imports/{id}`).
    pub last_import_id: Option<String>,
    /// The import running now.
    pub current_import_id: Option<String>,
    /// Files moved to `processed/` so far.
    pub files_processed: u64,
    /// Files moved to `failed/` so far.
    pub files_failed: u64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<SftpInbox> for SftpInboxResponse {
    fn from(i: SftpInbox) -> Self {
        Self {
            id: i.endpoint_id.to_string(),
            folder: i.folder,
            options: i.options,
            enabled: i.enabled,
            last_polled_at: i.last_polled_at,
            last_error: i.last_error,
            last_import_id: i.last_import_id.map(|id| id.to_string()),
            current_import_id: i.current_import_id.map(|id| id.to_string()),
            files_processed: i.files_processed,
            files_failed: i.files_failed,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// An inbox to set up, or the fields to change (absent fields stay as they are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SftpInboxRequest {
    /// The folder to poll (required the first time); not the folder the hook writes
    /// events into.
    pub folder: Option<String>,
    /// `mapping`, `address_column`, `channel`, `sheet`, `ignore_unknown`,
    /// `default_country`, `date_order`.
    #[schema(value_type = Object)]
    pub options: Option<ImportOptions>,
    /// Whether it is polled (true by default).
    pub enabled: Option<bool>,
}

/// The import inbox of an SFTP hook.
#[utoipa::path(get, operation_id = "get_sftp_inbox", path = "/sftp/{id}/inbox", tag = "sftp", params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = SftpInboxResponse), ProblemResponses))]
pub async fn get_inbox(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<SftpInboxResponse>, ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    Ok(Json(state.app.get_sftp_inbox(&access, id).await?.into()))
}

/// Set up or change the import inbox of an SFTP hook.
#[utoipa::path(put, operation_id = "put_sftp_inbox", path = "/sftp/{id}/inbox", tag = "sftp", request_body = SftpInboxRequest,
    params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = SftpInboxResponse), ProblemResponses))]
pub async fn put_inbox(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SftpInboxRequest>,
) -> Result<Json<SftpInboxResponse>, ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    let input = InboxInput {
        folder: body.folder,
        options: body.options,
        enabled: body.enabled,
    };
    Ok(Json(
        state.app.put_sftp_inbox(&access, id, input).await?.into(),
    ))
}

/// Remove the import inbox of an SFTP hook (the hook stays).
#[utoipa::path(delete, operation_id = "delete_sftp_inbox", path = "/sftp/{id}/inbox", tag = "sftp", params(("id" = String, Path, description = "whk_…")),
    responses((status = 204), ProblemResponses))]
pub async fn delete_inbox(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    state.app.delete_sftp_inbox(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Poll the inbox now instead of at its next turn; the poll runs in the background.
#[utoipa::path(post, operation_id = "poll_sftp_inbox", path = "/sftp/{id}/inbox/poll", tag = "sftp", params(("id" = String, Path, description = "whk_…")),
    responses((status = 202, body = SftpInboxResponse), ProblemResponses))]
pub async fn poll_inbox(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SftpInboxResponse>), ApiError> {
    let id = path_id(&id, "SFTP hook")?;
    let inbox = state.app.poll_sftp_inbox_now(&access, id).await?;
    Ok((StatusCode::ACCEPTED, Json(inbox.into())))
}
