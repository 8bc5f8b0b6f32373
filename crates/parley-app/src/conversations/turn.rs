//! What the conversation modules hand each other, in one leaf they all read and that reads
//! none of them: a customer's message as a channel received it ([`Inbound`]), what a turn
//! wrote ([`Handled`]), what a person does ([`AgentAction`]), a reply's send job and lane
//! ([`SendJob`], [`send_lane`]) and what the in-process sender takes ([`Outgoing`],
//! [`Follows`]), the contact's address on a channel, a web-chat reply's provider id, and a
//! use case's failure as a job's.

use parley_domain::{
    Channel, ChannelKind, Contact, Conversation, ConversationId, JobId, Message, MessageId, OrgId,
    UserId,
};
use parley_jobs::JobError;
use parley_store::TurnWritten;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// A customer's message as a channel received it.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The channel it came in on.
    pub channel: Channel,
    /// The customer's address on it (E.164, visitor id…), as the provider wrote it.
    pub from: String,
    /// The text.
    pub text: String,
    /// The provider's id for it (a repeat of a known id is ignored).
    pub provider_message_id: Option<String>,
    /// Whether a provider sent it. A provider's sender that cannot be read as a phone
    /// number (a short code, an alphanumeric sender, a number the numbering plan does
    /// not know) is kept as given rather than refused: a refused webhook is a message
    /// the provider drops.
    pub from_provider: bool,
}

/// What an input changed.
#[derive(Debug, Clone)]
pub struct Handled {
    /// The conversation after the turn.
    pub conversation: Conversation,
    /// The messages the turn added (the customer's first, then the replies).
    pub messages: Vec<Message>,
}

impl From<TurnWritten> for Handled {
    fn from(w: TurnWritten) -> Self {
        Self {
            conversation: w.conversation,
            messages: w.messages,
        }
    }
}

/// A use case's failure as a job's: faults of ours are retried, anything else is final.
pub(crate) fn job_error(e: AppError) -> JobError {
    match e {
        AppError::Unavailable(_) | AppError::Internal(_) => JobError::Retry {
            message: e.to_string(),
            after: None,
        },
        other => JobError::Permanent(other.to_string()),
    }
}

/// The contact's address of `kind` (empty when it has none, an erased contact).
pub(crate) fn address_of(contact: &Contact, kind: ChannelKind) -> String {
    contact
        .addresses
        .iter()
        .find(|a| a.kind == kind)
        .map(|a| a.address.clone())
        .unwrap_or_default()
}

/// What a person does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAction {
    /// Send the customer this text through the conversation's channel.
    Reply {
        /// The text.
        text: String,
    },
    /// Give the conversation to a person, or take it from whoever has it (`None`).
    Assign {
        /// The person.
        user: Option<UserId>,
    },
    /// Move it to a queue, with a note saying why.
    Move {
        /// The queue's key.
        queue: String,
        /// Why.
        note: Option<String>,
    },
    /// Hand it back to its flow at this step.
    HandBack {
        /// The step's name.
        step: String,
    },
    /// Tag an outcome status.
    SetStatus {
        /// The status's key.
        status: String,
    },
    /// Close it, with an outcome status when given.
    Close {
        /// The status's key.
        status: Option<String>,
    },
}

/// The job lane of a conversation's sends: they run one at a time, in the order written.
pub(crate) fn send_lane(conversation: ConversationId) -> String {
    conversation.to_string()
}

/// Sends one outbound message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendJob {
    /// The organization.
    pub organization: OrgId,
    /// The message.
    pub message: MessageId,
    /// May reach a suppressed address (the opt-out confirmation only).
    #[serde(default)]
    pub exempt: bool,
}

/// Everything a send needs: loaded by its job, or handed over by the turn that wrote the
/// message (which then marks the job done with the send's change).
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) message: Message,
    pub(crate) conversation: Conversation,
    pub(crate) channel: Channel,
    pub(crate) contact: Contact,
    pub(crate) to: String,
    pub(crate) exempt: bool,
    /// The message's send job, when taken in-process.
    pub(crate) job: Option<JobId>,
    /// What the in-process sender knows of the send before it in the conversation.
    pub(crate) follows: Follows,
}

/// What the turn that wrote a reply knows of the send before it in its conversation's
/// lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follows {
    /// Nothing: the job queue says whether an earlier send is still unsent.
    Unknown,
    /// No send: the first reply of the turn that opened the conversation.
    Nothing,
    /// The turn's previous reply, whose job is this one.
    Job(JobId),
}

/// The provider id of a reply.
pub(crate) fn outbound_key(message: &Message) -> String {
    outbound_prefix(&message.id.to_string())
}

pub(crate) fn outbound_prefix(id: &str) -> String {
    format!("WEB{id}")
}
