//! `/api/v1/queues`: where conversations wait for people (SPEC §5). Anyone who reads
//! conversations lists them; administrators define, rename and remove them, and set
//! their members (`/queues/{key}/members/{user_id}`: capacity and availability), to whom
//! waiting conversations are assigned round-robin.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_domain::{Queue, QueueMember, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ProblemResponses};

/// A queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    /// The key flows, channels and agents name.
    pub key: String,
    /// What people read.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Queue> for QueueResponse {
    fn from(q: Queue) -> Self {
        Self {
            key: q.key,
            name: q.name,
            created_at: q.created_at,
            updated_at: q.updated_at,
        }
    }
}

/// The organization's queues.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueList {
    /// By key, `default` included.
    pub data: Vec<QueueResponse>,
}

/// A queue to define.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateQueueRequest {
    /// 1 to 64 lower-case letters, digits, `_` or `-`.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub key: String,
    /// What people read (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// A new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameQueueRequest {
    /// What people read (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// The organization's queues.
#[utoipa::path(get, operation_id = "list_queues", path = "/queues", tag = "conversations",
    responses((status = 200, body = QueueList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
) -> Result<Json<QueueList>, ApiError> {
    let data = state.app.list_queues(&access).await?;
    Ok(Json(QueueList {
        data: data.into_iter().map(Into::into).collect(),
    }))
}

/// Define a queue.
#[utoipa::path(post, operation_id = "create_queue", path = "/queues", tag = "conversations", request_body = CreateQueueRequest,
    responses((status = 201, body = QueueResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateQueueRequest>,
) -> Result<(StatusCode, Json<QueueResponse>), ApiError> {
    let created = state
        .app
        .create_queue(&access, &body.key, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Rename a queue.
#[utoipa::path(patch, operation_id = "rename_queue", path = "/queues/{key}", tag = "conversations", request_body = RenameQueueRequest,
    params(("key" = String, Path, description = "collections")),
    responses((status = 200, body = QueueResponse), ProblemResponses))]
pub async fn rename(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<RenameQueueRequest>,
) -> Result<Json<QueueResponse>, ApiError> {
    Ok(Json(
        state
            .app
            .rename_queue(&access, &key, &body.name)
            .await?
            .into(),
    ))
}

/// Remove a queue (conversations waiting in it keep its key).
#[utoipa::path(delete, operation_id = "delete_queue", path = "/queues/{key}", tag = "conversations",
    params(("key" = String, Path, description = "collections")),
    responses((status = 204), ProblemResponses))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_queue(&access, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A queue's member.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueMemberResponse {
    /// The queue's key.
    pub queue: String,
    /// `usr_…`
    pub user_id: String,
    /// Conversations they may have assigned at once.
    pub capacity: u32,
    /// Whether they take conversations now.
    pub available: bool,
    /// When they were last given one from this queue.
    pub last_assigned_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<QueueMember> for QueueMemberResponse {
    fn from(m: QueueMember) -> Self {
        Self {
            queue: m.queue,
            user_id: m.user_id.to_string(),
            capacity: m.capacity,
            available: m.available,
            last_assigned_at: m.last_assigned_at,
            updated_at: m.updated_at,
        }
    }
}

/// A member's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutQueueMemberRequest {
    /// Conversations at once, 1 to 100 (default 5).
    #[schema(minimum = 1, maximum = 100)]
    pub capacity: Option<u32>,
    /// Whether they take conversations now (default true).
    pub available: Option<bool>,
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            crate::problem::ProblemType::NotFound,
            "no such user".to_owned(),
        )
    })
}

/// A queue's members.
#[utoipa::path(get, operation_id = "list_queue_members", path = "/queues/{key}/members", tag = "conversations",
    params(("key" = String, Path, description = "The queue's key")),
    responses((status = 200, body = Vec<QueueMemberResponse>), ProblemResponses))]
pub async fn list_members(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
) -> Result<Json<Vec<QueueMemberResponse>>, ApiError> {
    let members = state.app.list_queue_members(&access, &key).await?;
    Ok(Json(members.into_iter().map(Into::into).collect()))
}

/// Add a member to the queue, or change one; waiting conversations are then assigned.
#[utoipa::path(put, operation_id = "put_queue_member", path = "/queues/{key}/members/{user_id}", tag = "conversations",
    request_body = PutQueueMemberRequest,
    params(("key" = String, Path, description = "The queue's key"), ("user_id" = String, Path, description = "usr_…")),
    responses((status = 200, body = QueueMemberResponse), ProblemResponses))]
pub async fn put_member(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path((key, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<PutQueueMemberRequest>,
) -> Result<Json<QueueMemberResponse>, ApiError> {
    let user = user_id(&user)?;
    let member = state
        .app
        .put_queue_member(
            &access,
            &key,
            user,
            body.capacity.unwrap_or(5),
            body.available.unwrap_or(true),
        )
        .await?;
    Ok(Json(member.into()))
}

/// Remove a member from the queue (their conversations stay theirs).
#[utoipa::path(delete, operation_id = "delete_queue_member", path = "/queues/{key}/members/{user_id}", tag = "conversations",
    params(("key" = String, Path, description = "The queue's key"), ("user_id" = String, Path, description = "usr_…")),
    responses((status = 204), ProblemResponses))]
pub async fn delete_member(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path((key, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = user_id(&user)?;
    state.app.delete_queue_member(&access, &key, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
