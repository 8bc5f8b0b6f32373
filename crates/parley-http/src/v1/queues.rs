//! `/api/v1/queues`: where conversations wait for people (SPEC §5). Anyone who reads
//! conversations lists them; administrators define, rename and remove them.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_domain::Queue;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};

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
    pub key: String,
    /// What people read (1 to 100 characters).
    pub name: String,
}

/// A new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameQueueRequest {
    /// What people read (1 to 100 characters).
    pub name: String,
}

/// The organization's queues.
#[utoipa::path(get, path = "/queues", tag = "conversations",
    responses((status = 200, body = QueueList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
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
#[utoipa::path(post, path = "/queues", tag = "conversations", request_body = CreateQueueRequest,
    responses((status = 201, body = QueueResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
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
#[utoipa::path(patch, path = "/queues/{key}", tag = "conversations", request_body = RenameQueueRequest,
    params(("key" = String, Path, description = "collections")),
    responses((status = 200, body = QueueResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
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
#[utoipa::path(delete, path = "/queues/{key}", tag = "conversations",
    params(("key" = String, Path, description = "collections")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_queue(&access, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
