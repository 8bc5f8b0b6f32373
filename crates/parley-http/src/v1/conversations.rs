//! Conversations (SPEC §5): one conversation with its messages (`conversations:read`), and
//! the `sim` channel's inbound door, `POST /channels/{id}/sim/inbound`
//! (`conversations:write`), which runs a customer's message through the runtime exactly as
//! a provider's callback would.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_domain::{Conversation, Message};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, Problem};

/// A conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationResponse {
    /// `cnv_…`
    pub id: String,
    /// `con_…`
    pub contact_id: String,
    /// `chn_…`
    pub channel_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The flow running it.
    pub flow_id: Option<String>,
    /// The flow version it started with.
    pub flow_version: Option<u32>,
    /// `bot`, `queued`, `assigned` or `closed`.
    pub state: String,
    /// The queue it waits in or was handled from.
    pub queue: Option<String>,
    /// The person who has it.
    pub assignee: Option<String>,
    /// The outcome status tagged last.
    pub status: Option<String>,
    /// When the contact last wrote.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When a person first replied.
    pub first_agent_reply_at: Option<DateTime<Utc>>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Conversation> for ConversationResponse {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id.to_string(),
            contact_id: c.contact_id.to_string(),
            channel_id: c.channel_id.to_string(),
            direction: c.direction.as_str().to_owned(),
            flow_id: c.flow_id.map(|f| f.to_string()),
            flow_version: c.flow_version,
            state: c.state.as_str().to_owned(),
            queue: c.queue,
            assignee: c.assignee.map(|u| u.to_string()),
            status: c.status,
            last_inbound_at: c.last_inbound_at,
            opened_at: c.opened_at,
            first_agent_reply_at: c.first_agent_reply_at,
            closed_at: c.closed_at,
            updated_at: c.updated_at,
        }
    }
}

/// A message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    /// `msg_…`
    pub id: String,
    /// `cnv_…`
    pub conversation_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `contact`, `bot`, `agent:<user id>` or `system`.
    pub sender: String,
    /// The text.
    pub body: String,
    /// `received`, `pending`, `sent`, `delivered`, `undelivered`, `failed` or `read`.
    pub status: String,
    /// The provider's id.
    pub provider_message_id: Option<String>,
    /// Why it failed (`opted_out`, a provider's code…).
    pub error_code: Option<String>,
    /// The provider's words about a failure.
    pub error_message: Option<String>,
    /// SMS parts.
    pub segments: u32,
    /// `gsm7` or `ucs2` (outbound SMS).
    pub encoding: Option<String>,
    /// When each status was reported.
    pub status_times: BTreeMap<String, DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl From<Message> for MessageResponse {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            direction: m.direction.as_str().to_owned(),
            sender: m.sender,
            body: m.body,
            status: m.status.as_str().to_owned(),
            provider_message_id: m.provider_message_id,
            error_code: m.error_code,
            error_message: m.error_message,
            segments: m.segments,
            encoding: m.encoding.map(|e| e.as_str().to_owned()),
            status_times: m.status_times,
            created_at: m.created_at,
        }
    }
}

/// A conversation with a page of its messages, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationThread {
    /// The conversation.
    pub conversation: ConversationResponse,
    /// Its messages.
    pub messages: Vec<MessageResponse>,
    /// Pass as `cursor` for the next page of messages.
    pub next_cursor: Option<String>,
}

/// A simulated customer message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimInboundRequest {
    /// The customer's number (E.164, or as the organization's country writes it).
    pub from: String,
    /// The text.
    pub text: String,
}

/// What a simulated message did: its conversation and the messages the turn wrote (the
/// customer's, then any replies, still `pending` until the send queue takes them).
#[derive(Debug, Serialize, ToSchema)]
pub struct SimInboundResponse {
    /// The conversation after the message.
    pub conversation: ConversationResponse,
    /// The messages written.
    pub messages: Vec<MessageResponse>,
}

/// One conversation with its messages.
#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "cnv_…"), PageQuery),
    responses((status = 200, body = ConversationThread), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ConversationThread>, ApiError> {
    let id = path_id(&id, "conversation")?;
    let conversation = state.app.get_conversation(&access, id).await?;
    let page = state
        .app
        .list_conversation_messages(&access, id, q.page()?)
        .await?;
    Ok(Json(ConversationThread {
        conversation: conversation.into(),
        messages: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A customer writes on a `sim` channel.
#[utoipa::path(post, path = "/channels/{id}/sim/inbound", tag = "conversations",
    request_body = SimInboundRequest,
    params(("id" = String, Path, description = "chn_… (a sim channel)")),
    responses((status = 202, body = SimInboundResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn sim_inbound(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SimInboundRequest>,
) -> Result<(StatusCode, Json<SimInboundResponse>), ApiError> {
    let id = path_id(&id, "channel")?;
    let handled = state
        .app
        .sim_inbound(&access, id, &body.from, &body.text)
        .await?
        .ok_or_else(|| {
            ApiError::from(parley_app::AppError::Internal(
                "a simulated message without a provider id was taken for a repeat".into(),
            ))
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SimInboundResponse {
            conversation: handled.conversation.into(),
            messages: handled.messages.into_iter().map(Into::into).collect(),
        }),
    ))
}
