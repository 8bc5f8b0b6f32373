//! Conversations (SPEC §5): one conversation with its messages (`conversations:read`);
//! starting one with a contact and people's actions on it (`conversations:write`: start,
//! reply, assign, move, hand back, status, close; each answers with the conversation and
//! the messages it wrote); and
//! the `sim` channel's inbound door, `POST /channels/{id}/sim/inbound`
//! (`conversations:write`), which runs a customer's message through the runtime exactly as
//! a provider's callback would.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::conversations::turn::AgentAction;
use parley_app::{AppError, FieldError};
use parley_domain::{Conversation, ConversationId, ConversationState, Message, Note, UserId};
use parley_store::ConversationFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::list_type;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationResponse {
    /// `conv_…`
    pub id: String,
    /// `ct_…`
    pub contact_id: String,
    /// `chn_…`
    pub channel_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `cmp_…`: the campaign that started it.
    pub campaign_id: Option<String>,
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
            campaign_id: c.campaign_id.map(|id| id.to_string()),
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
    /// `conv_…`
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

/// A person's note.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteResponse {
    /// `note_…`
    pub id: String,
    /// `conv_…`
    pub conversation_id: String,
    /// Who wrote it: `usr_…`, `key_…`, or `system` (Parley, saying why it handed the
    /// conversation to a queue).
    pub author: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<Note> for NoteResponse {
    fn from(n: Note) -> Self {
        Self {
            id: n.id.to_string(),
            conversation_id: n.conversation_id.to_string(),
            author: n.author,
            body: n.body,
            created_at: n.created_at,
        }
    }
}

/// A note to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The text.
    #[schema(min_length = 1)]
    pub body: String,
}

/// A conversation with a page of its messages, oldest first, and its notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationThread {
    /// The conversation.
    pub conversation: ConversationResponse,
    /// Its messages.
    pub messages: Vec<MessageResponse>,
    /// Notes, oldest first: people's, and Parley's own (`system`) saying why it was
    /// handed to a queue.
    pub notes: Vec<NoteResponse>,
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

list_type!(ConversationList, ConversationResponse);

/// Conversation filters; each absent one matches all.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `bot`, `queued`, `assigned` or `closed`.
    pub state: Option<String>,
    /// A queue's key.
    pub queue: Option<String>,
    /// `usr_…`
    pub assignee: Option<String>,
    /// An outcome status's key.
    pub status: Option<String>,
    /// `chn_…`
    pub channel_id: Option<String>,
    /// `ct_…`
    pub contact_id: Option<String>,
    /// Text one of its messages holds (case-insensitive).
    pub q: Option<String>,
    /// Finds conversations by their contact: a whole customer id, a whole address (a
    /// phone number in any form the organization's imports read, e.g. a national number
    /// for its default country), or part of the contact's name (first and last name, or
    /// the `name` field), in any case. At most 200 characters.
    pub search: Option<String>,
}

fn query_id<T: std::str::FromStr>(
    raw: Option<String>,
    field: &'static str,
    what: &'static str,
) -> Result<Option<T>, ApiError> {
    raw.map(|r| {
        r.parse().map_err(|_| {
            ApiError::from(parley_app::AppError::invalid(
                field,
                format!("must be {what}"),
            ))
        })
    })
    .transpose()
}

/// The conversations the caller may see, newest first.
#[utoipa::path(get, operation_id = "list_conversations", path = "/conversations", tag = "conversations", params(ConversationQuery),
    responses((status = 200, body = ConversationList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> Result<Json<ConversationList>, ApiError> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let conversation_state = q
        .state
        .map(|s| {
            ConversationState::from_name(&s).ok_or_else(|| {
                ApiError::from(parley_app::AppError::invalid(
                    "state",
                    "must be bot, queued, assigned or closed",
                ))
            })
        })
        .transpose()?;
    let filter = ConversationFilter {
        state: conversation_state,
        queue: q.queue,
        assignee: query_id(q.assignee, "assignee", "a user id (usr_…)")?,
        status: q.status,
        channel: query_id(q.channel_id, "channel_id", "a channel id (chn_…)")?,
        contact: query_id(q.contact_id, "contact_id", "a contact id (ct_…)")?,
        text: q.q.filter(|t| !t.trim().is_empty()),
        visible_to: None,
        open: false,
        search: parley_app::conversations::contact_search(
            &access,
            "search",
            q.search.as_deref().unwrap_or_default(),
        )?,
    };
    Ok(Json(
        state
            .app
            .list_conversations(&access, filter, page)
            .await?
            .into(),
    ))
}

/// One conversation with its messages.
#[utoipa::path(get, operation_id = "get_conversation", path = "/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "conv_…"), PageQuery),
    responses((status = 200, body = ConversationThread), ProblemResponses))]
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
    let notes = state.app.list_notes(&access, id).await?;
    Ok(Json(ConversationThread {
        conversation: conversation.into(),
        messages: page.items.into_iter().map(Into::into).collect(),
        notes: notes.into_iter().map(Into::into).collect(),
        next_cursor: crate::extract::encode_cursor(page.next_cursor),
    }))
}

/// A customer writes on a `sim` channel.
#[utoipa::path(post, operation_id = "simulate_inbound_message", path = "/channels/{id}/sim/inbound", tag = "conversations",
    request_body = SimInboundRequest,
    params(("id" = String, Path, description = "chn_… (a sim channel)")),
    responses((status = 202, body = SimInboundResponse), ProblemResponses))]
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

/// A conversation to open with one contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConversationRequest {
    /// `ct_…`: the contact to write to.
    #[schema(pattern = "^ct_[0-9a-z]{26}$")]
    pub contact_id: String,
    /// `chn_…`: the channel to write on (the contact needs an address of its kind).
    #[schema(pattern = "^chn_[0-9a-z]{26}$")]
    pub channel_id: String,
    /// The first message. On WhatsApp it goes as the channel's approved template
    /// (`template_name`), this text its one parameter, until the customer answers.
    #[schema(min_length = 1, max_length = 4096)]
    pub text: String,
}

/// Open a conversation with a contact, the first message yours: it is assigned to you
/// (a person) and goes out through the channel. 409 while the contact has an open
/// conversation on the channel: write there instead.
#[utoipa::path(post, operation_id = "start_conversation", path = "/conversations", tag = "conversations",
    request_body = StartConversationRequest,
    responses((status = 201, body = SimInboundResponse), ProblemResponses))]
pub async fn start(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<StartConversationRequest>,
) -> Result<(StatusCode, Json<SimInboundResponse>), ApiError> {
    let contact = body.contact_id.parse();
    let channel = body.channel_id.parse();
    let mut errors = Vec::new();
    if contact.is_err() {
        errors.push(FieldError::new("contact_id", "must be a contact id (ct_…)"));
    }
    if channel.is_err() {
        errors.push(FieldError::new(
            "channel_id",
            "must be a channel id (chn_…)",
        ));
    }
    let (Ok(contact), Ok(channel)) = (contact, channel) else {
        return Err(AppError::Invalid(errors).into());
    };
    let handled = state
        .app
        .start_conversation(&access, contact, channel, body.text)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SimInboundResponse {
            conversation: handled.conversation.into(),
            messages: handled.messages.into_iter().map(Into::into).collect(),
        }),
    ))
}

/// A reply to the customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The text.
    #[schema(min_length = 1)]
    pub text: String,
}

/// Whom to give the conversation to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// `usr_…`, or `null` to put it back in its queue.
    #[schema(pattern = "^usr_[0-9a-z]{26}$")]
    pub user_id: Option<String>,
}

/// Where to move the conversation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The queue's key.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub queue: String,
    /// Why.
    pub note: Option<String>,
}

/// Where the flow takes over again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandBackRequest {
    /// A step of the conversation's flow version.
    #[schema(min_length = 1)]
    pub step: String,
}

/// An outcome status to tag.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The status's key.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub status: String,
}

/// Closing, with an outcome status when given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The status's key.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub status: Option<String>,
}

async fn act(
    state: &AppState,
    access: &parley_app::auth::Access,
    id: &str,
    action: AgentAction,
) -> Result<Json<SimInboundResponse>, ApiError> {
    let id: ConversationId = path_id(id, "conversation")?;
    let handled = state.app.act_on_conversation(access, id, action).await?;
    Ok(Json(SimInboundResponse {
        conversation: handled.conversation.into(),
        messages: handled.messages.into_iter().map(Into::into).collect(),
    }))
}

/// Reply to the customer through the conversation's channel; the replier takes it.
#[utoipa::path(post, operation_id = "reply_to_conversation", path = "/conversations/{id}/messages", tag = "conversations",
    request_body = ReplyRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 200, body = SimInboundResponse), ProblemResponses))]
pub async fn reply(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> Result<Json<SimInboundResponse>, ApiError> {
    act(&state, &access, &id, AgentAction::Reply { text: body.text }).await
}

/// Assign the conversation to a person, or unassign it.
#[utoipa::path(post, operation_id = "assign_conversation", path = "/conversations/{id}/assign", tag = "conversations",
    request_body = AssignRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 200, body = SimInboundResponse), ProblemResponses))]
pub async fn assign(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Json<SimInboundResponse>, ApiError> {
    let user = body
        .user_id
        .map(|u| {
            u.parse::<UserId>().map_err(|_| {
                ApiError::from(parley_app::AppError::invalid(
                    "user_id",
                    "must be a user id (usr_…)",
                ))
            })
        })
        .transpose()?;
    act(&state, &access, &id, AgentAction::Assign { user }).await
}

/// Move the conversation to a queue.
#[utoipa::path(post, operation_id = "move_conversation", path = "/conversations/{id}/move", tag = "conversations",
    request_body = MoveRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 200, body = SimInboundResponse), ProblemResponses))]
pub async fn move_to_queue(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveRequest>,
) -> Result<Json<SimInboundResponse>, ApiError> {
    let action = AgentAction::Move {
        queue: body.queue,
        note: body.note,
    };
    act(&state, &access, &id, action).await
}

/// Hand the conversation back to its flow at a step.
#[utoipa::path(post, operation_id = "hand_back_conversation", path = "/conversations/{id}/hand-back", tag = "conversations",
    request_body = HandBackRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 200, body = SimInboundResponse), ProblemResponses))]
pub async fn hand_back(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HandBackRequest>,
) -> Result<Json<SimInboundResponse>, ApiError> {
    act(
        &state,
        &access,
        &id,
        AgentAction::HandBack { step: body.step },
    )
    .await
}

/// Tag an outcome status (one that `closes` closes the conversation).
#[utoipa::path(post, operation_id = "set_conversation_status", path = "/conversations/{id}/status", tag = "conversations",
    request_body = StatusRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 200, body = SimInboundResponse), ProblemResponses))]
pub async fn set_status(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<Json<SimInboundResponse>, ApiError> {
    act(
        &state,
        &access,
        &id,
        AgentAction::SetStatus {
            status: body.status,
        },
    )
    .await
}

/// Close the conversation.
#[utoipa::path(post, operation_id = "close_conversation", path = "/conversations/{id}/close", tag = "conversations",
    request_body = CloseRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 200, body = SimInboundResponse), ProblemResponses))]
pub async fn close(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseRequest>,
) -> Result<Json<SimInboundResponse>, ApiError> {
    act(
        &state,
        &access,
        &id,
        AgentAction::Close {
            status: body.status,
        },
    )
    .await
}

/// Add a note for people (never sent to the customer).
#[utoipa::path(post, operation_id = "add_conversation_note", path = "/conversations/{id}/notes", tag = "conversations",
    request_body = NoteRequest, params(("id" = String, Path, description = "conv_…")),
    responses((status = 201, body = NoteResponse), ProblemResponses))]
pub async fn add_note(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteRequest>,
) -> Result<(StatusCode, Json<NoteResponse>), ApiError> {
    let id: ConversationId = path_id(&id, "conversation")?;
    let note = state.app.add_note(&access, id, &body.body).await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}
