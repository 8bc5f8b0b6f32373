//! What people do to a conversation (SPEC §5), by API: start one with a contact, reply
//! through its channel, assign
//! or unassign, move to a queue, hand back to a flow step, tag an outcome status, close,
//! and add notes (which are not turns: they change nothing the customer sees).
//! Each action is one turn on the conversation (ADR 0006): ordered with the customer's
//! messages, written whole with its events. Needs `conversations:write`.
//!
//! Decisions:
//! * **replying takes the conversation**: the bot stops, the conversation is assigned to
//!   the person replying when no one has it (`conversationAssignment`), and
//!   `first_agent_reply_at` is set once. An API key may reply too; its messages are
//!   `agent:<key id>` and its events name it as `{"type": "api_key"}`;
//! * an assignee must be a member of the conversation's organization (or above it);
//!   unassigning puts the conversation back in its queue (`default` when it had none);
//! * moving to a queue unassigns; the queue must exist;
//! * handing back needs the conversation's flow version to have the step, and runs it at
//!   once (its messages go out as the bot's);
//! * a status must be one of the organization's; one that `closes` closes;
//! * a closed conversation takes no action (`409`); the customer's next message opens a
//!   new one;
//! * **starting** a conversation with a contact opens an outbound one on the channel
//!   whose first message is the person's reply (so it is theirs); refused while the
//!   contact has an open conversation there (`409`: go to that one). On WhatsApp a
//!   business may write first only with an approved template, so the channel must name
//!   one (`template_name`); the message goes as that template with the text as its
//!   parameter until the customer answers.

use parley_domain::{
    ChannelId, ContactId, ConversationId, ConversationState, Note, NoteId, OrgId, Permission,
    Provider,
};

use super::events::Actor;
use super::turn::AgentAction;
use super::turn::Handled;
use crate::auth::{Access, Subject};
use crate::{App, AppError, Conflict, FieldError};

/// The longest note.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// The longest reply an agent may send.
pub const MAX_REPLY_CHARS: usize = 4_096;

fn actor_of(access: &Access) -> Actor {
    match access.principal.subject {
        Subject::User(user) => Actor::Agent(user),
        Subject::ApiKey(key) => Actor::ApiKey(key),
    }
}

impl App {
    /// Checks what an action names against the organization, before its turn.
    async fn check_action(&self, org: OrgId, action: &AgentAction) -> Result<(), AppError> {
        match action {
            AgentAction::Reply { text } => {
                let chars = text.chars().count();
                if text.trim().is_empty() || chars > MAX_REPLY_CHARS {
                    return Err(AppError::invalid(
                        "text",
                        format!("must be 1 to {MAX_REPLY_CHARS} characters"),
                    ));
                }
            }
            AgentAction::Assign { user: Some(user) } => {
                if !self.is_member_of(org, *user).await? {
                    return Err(AppError::invalid(
                        "user",
                        "must be a member of the conversation's organization",
                    ));
                }
            }
            AgentAction::Assign { user: None } | AgentAction::HandBack { .. } => {}
            AgentAction::Move { queue, .. } => {
                if !self.queue_exists(org, queue).await? {
                    return Err(AppError::invalid(
                        "queue",
                        "must be one of the organization's queues",
                    ));
                }
            }
            AgentAction::SetStatus { status }
            | AgentAction::Close {
                status: Some(status),
            } => {
                let known = self
                    .store
                    .list_outcome_statuses(org)
                    .await?
                    .iter()
                    .any(|s| &s.key == status)
                    || status == super::outcomes::OPTED_OUT;
                if !known {
                    return Err(AppError::invalid(
                        "status",
                        "must be one of the organization's outcome statuses",
                    ));
                }
            }
            AgentAction::Close { status: None } => {}
        }
        Ok(())
    }

    /// Does `action` to the conversation `id` as the caller (see the module's decisions).
    pub async fn act_on_conversation(
        &self,
        access: &Access,
        id: ConversationId,
        action: AgentAction,
    ) -> Result<Handled, AppError> {
        access.require(Permission::ConversationsWrite)?;
        let org = access.org_id();
        // Only what the caller may see (an agent: what is assigned to them).
        let current = self.get_conversation(access, id).await?;
        if current.state == ConversationState::Closed {
            return Err(AppError::Conflict(Conflict::OPEN_CONVERSATION));
        }
        self.check_action(org, &action).await?;
        let by = actor_of(access);
        let sender = format!("agent:{}", access.principal.actor());
        let before = current.clone();
        let written = self.agent_turn(current, action, sender, by).await?;
        // A person's conversation that leaves them frees capacity in its queue.
        if let (Some(after), Some(_), Some(queue)) = (&written, before.assignee, &before.queue)
            && (after.conversation.assignee != before.assignee
                || after.conversation.state != ConversationState::Assigned)
        {
            self.auto_assign_later(org, queue.clone());
        }
        written.ok_or(AppError::Conflict(Conflict::OPEN_CONVERSATION))
    }

    /// Opens a conversation with one contact on one channel, its first message the
    /// caller's (see the module's decisions). Every bad part of the request is named at
    /// once; `409` while the contact has an open conversation on the channel.
    pub async fn start_conversation(
        &self,
        access: &Access,
        contact: ContactId,
        channel: ChannelId,
        text: String,
    ) -> Result<Handled, AppError> {
        access.require(Permission::ConversationsWrite)?;
        let org = access.org_id();
        let mut errors = Vec::new();
        if let Err(AppError::Invalid(mut bad)) = self
            .check_action(org, &AgentAction::Reply { text: text.clone() })
            .await
        {
            errors.append(&mut bad);
        }
        let contact = self.store.get_contact(org, contact).await?;
        let channel = self.store.find_channel(org, channel).await?;
        if contact.is_none() {
            errors.push(FieldError::new(
                "contact_id",
                "no such contact in this organization",
            ));
        }
        match &channel {
            None => errors.push(FieldError::new(
                "channel_id",
                "no such channel in this organization",
            )),
            Some(c) if !c.enabled => {
                errors.push(FieldError::new("channel_id", "the channel is disabled"));
            }
            Some(c)
                if c.provider == Provider::Whatsapp
                    && !c.settings.contains_key("template_name") =>
            {
                // A new conversation has no customer message in the last 24 hours.
                errors.push(FieldError::new(
                    "channel_id",
                    "WhatsApp lets a business write first only with an approved template: set the channel's template_name (the text becomes its one parameter)",
                ));
            }
            Some(_) => {}
        }
        if let (Some(contact), Some(channel)) = (&contact, &channel) {
            let kind = channel.provider.address_kind();
            if !contact.addresses.iter().any(|a| a.kind == kind) {
                errors.push(FieldError::new(
                    "contact_id",
                    format!(
                        "the contact has no {} address for this channel",
                        kind.as_str()
                    ),
                ));
            }
        }
        let (Some(contact), Some(channel), true) = (contact, channel, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let sender = format!("agent:{}", access.principal.actor());
        self.agent_start_turn(channel, contact, text, sender, actor_of(access))
            .await
    }

    /// Adds a note to a conversation the caller may see (open or closed); notes are for
    /// people and never reach the customer.
    pub async fn add_note(
        &self,
        access: &Access,
        id: ConversationId,
        body: &str,
    ) -> Result<Note, AppError> {
        access.require(Permission::ConversationsWrite)?;
        let conversation = self.get_conversation(access, id).await?;
        let chars = body.chars().count();
        if body.trim().is_empty() || chars > MAX_NOTE_CHARS {
            return Err(AppError::invalid(
                "body",
                format!("must be 1 to {MAX_NOTE_CHARS} characters"),
            ));
        }
        let note = Note {
            id: NoteId::generate(),
            organization_id: conversation.organization_id,
            conversation_id: conversation.id,
            author: access.principal.actor(),
            body: body.to_owned(),
            created_at: self.clock.now(),
        };
        self.store.add_note(note).await.map_err(|e| match e {
            parley_store::StoreError::NotFound => AppError::NotFound("conversation"),
            other => other.into(),
        })
    }

    /// A conversation's notes, oldest first.
    pub async fn list_notes(
        &self,
        access: &Access,
        id: ConversationId,
    ) -> Result<Vec<Note>, AppError> {
        self.get_conversation(access, id).await?;
        Ok(self.store.list_notes(access.org_id(), id).await?)
    }
}
