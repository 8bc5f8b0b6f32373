//! The conversations port: the runtime's turns and the messages they write.
//!
//! A **turn** is one input to one conversation (a customer's message, a timer, a fetch
//! answer, an agent's action). The runtime hands the store a pure `decide` function; the
//! store runs it on the conversation as it stands *under a lock that orders the inputs of
//! that conversation* (SQLite: its one writer; PostgreSQL: a transaction lock on the
//! contact and channel, or on the conversation), then writes what it returns — the
//! conversation, its messages, outbox events and jobs — in the same transaction. So two
//! inputs of one conversation never interleave, on one process or several, and a crash
//! leaves either the whole turn or none of it.
//!
//! A message's status changes the same way: `decide` sees the message and its
//! conversation and returns the changed message with its events.

use async_trait::async_trait;
use parley_domain::{
    CampaignId, ChannelId, ChannelKind, ContactId, Conversation, ConversationId, JobId, Message,
    MessageId, NewEvent, Note, OrgId,
};

use crate::{NewJob, Page, PageRequest, StoreError, Suppression};

/// Which conversation an input belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnTarget {
    /// The open conversation of this contact on this channel, or none yet.
    Open {
        /// The organization.
        organization: OrgId,
        /// The contact.
        contact: ContactId,
        /// The channel.
        channel: ChannelId,
    },
    /// This conversation, open or closed.
    Conversation {
        /// The organization.
        organization: OrgId,
        /// The conversation.
        id: ConversationId,
    },
}

/// What one turn writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The conversation after the input: a new one (when `decide` saw none), or the one
    /// it saw, changed. The store sets its `revision`.
    pub conversation: Conversation,
    /// Messages to add, in order (the customer's first, then the replies).
    pub messages: Vec<Message>,
    /// Outbox events, in order.
    pub events: Vec<NewEvent>,
    /// Jobs to queue (sends, timers).
    pub jobs: Vec<NewJob>,
    /// An opt-out or opt-in the input carried, written with the rest.
    pub suppression: Option<SuppressionChange>,
    /// The campaign recipient this turn sends the first message to: moved from `pending`
    /// to `sent` with the conversation and message, or, when it is no longer pending,
    /// nothing of the turn is written (`Conflict { constraint:
    /// "campaign_recipient_state" }`). This is what makes a first message exactly once.
    pub recipient: Option<RecipientClaim>,
    /// Notes to add to the conversation (Parley's own: why it was handed to a queue).
    pub notes: Vec<Note>,
}

/// A campaign recipient a turn claims (see [`Turn::recipient`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientClaim {
    /// The campaign.
    pub campaign: CampaignId,
    /// The recipient's place in it.
    pub seq: u64,
    /// The first message (none: the flow sent nothing at its start).
    pub message: Option<MessageId>,
}

/// A change to the suppression list a turn writes (an opt-out or opt-in keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressionChange {
    /// Suppress an address (kept if it is already there).
    Add(Suppression),
    /// Lift an address's suppression (nothing when it has none).
    Remove {
        /// The organization.
        organization: OrgId,
        /// The channel kind.
        channel_kind: ChannelKind,
        /// Keyed hash of the address.
        address_hash: String,
    },
}

/// What a turn wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnWritten {
    /// The conversation as stored.
    pub conversation: Conversation,
    /// The messages added.
    pub messages: Vec<Message>,
}

/// The runtime's decision, run by the store under the conversation's lock: given the
/// conversation as it stands (`None`: there is no open one yet), the turn to write, or
/// `None` to write nothing.
pub type Decide = Box<dyn FnOnce(Option<&Conversation>) -> Option<Turn> + Send>;

/// Which message a status change is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKey {
    /// By id, within an organization (the send queue's own messages).
    Id {
        /// The organization.
        organization: OrgId,
        /// The message.
        id: MessageId,
    },
    /// By the provider's id on a channel (status callbacks).
    Provider {
        /// The channel.
        channel: ChannelId,
        /// The provider's message id.
        provider_message_id: String,
    },
}

/// A message's change and the events announcing it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageChange {
    /// The message after the change (same id).
    pub message: Message,
    /// Outbox events, in order.
    pub events: Vec<NewEvent>,
    /// Jobs to queue (a retry of the send).
    pub jobs: Vec<NewJob>,
    /// A pending job this change does the work of (a send taken in-process before the
    /// job runner would): marked done with the change, so it never runs.
    pub finish_job: Option<JobId>,
}

/// The runtime's decision on a message: given it and its conversation, the change, or
/// `None` to write nothing.
pub type DecideMessage = Box<dyn FnOnce(&Message, &Conversation) -> Option<MessageChange> + Send>;

/// Which conversations a list holds; `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    /// Where they stand.
    pub state: Option<parley_domain::ConversationState>,
    /// Their queue.
    pub queue: Option<String>,
    /// Who has them.
    pub assignee: Option<parley_domain::UserId>,
    /// Their outcome status.
    pub status: Option<String>,
    /// Their channel.
    pub channel: Option<ChannelId>,
    /// Their contact.
    pub contact: Option<ContactId>,
    /// Text one of their messages holds (case-insensitive).
    pub text: Option<String>,
    /// Only those this person has assigned or may take (a member of their queue).
    pub visible_to: Option<parley_domain::UserId>,
    /// Only those not closed.
    pub open: bool,
    /// Only those whose contact a search finds.
    pub search: Option<ContactSearch>,
}

/// A search for conversations by their contact: its customer id, an address, or its
/// name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactSearch {
    /// What was searched for: matched whole against customer ids and, when `in_names`,
    /// as part of the contact's name (first and last name, or the `name` field), in any
    /// case.
    pub text: String,
    /// The text as an address is stored (E.164 for a phone number), matched whole
    /// against every kind of address; none when it reads as no address.
    pub address: Option<String>,
    /// Whether names are searched too (a pass over the organization's contacts).
    pub in_names: bool,
}

impl ContactSearch {
    /// The name filter as the `LIKE` pattern the statements take. A letter outside ASCII
    /// that has a case matches any one character: SQLite's `LOWER` and `LIKE` fold the
    /// case of ASCII letters only, so `Ó` would not find `ó`; both engines take the same
    /// pattern, so they find the same contacts.
    #[must_use]
    pub fn name_pattern(&self) -> Option<String> {
        self.in_names.then(|| {
            let folded: String = self
                .text
                .chars()
                .map(|c| {
                    let cased = c.to_lowercase().ne(c.to_uppercase());
                    if !c.is_ascii() && cased { '\u{1}' } else { c }
                })
                .collect();
            like_pattern(&folded).replace('\u{1}', "_")
        })
    }
}

/// `%text%` in lower case, with `LIKE`'s own characters escaped by `\`.
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A conversation as a list shows it: with what a person tells it apart by.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// Its contact's customer id.
    pub customer_id: Option<String>,
    /// Its contact's fields (names among them).
    pub contact_fields: serde_json::Map<String, serde_json::Value>,
    /// Its contact's address on the channel's kind of address.
    pub address: Option<String>,
    /// The channel's provider.
    pub provider: parley_domain::Provider,
    /// The channel's name.
    pub channel_name: String,
    /// The assignee's name.
    pub assignee_name: Option<String>,
    /// The last message, if any.
    pub last_message: Option<LastMessage>,
}

/// The last message of a conversation, as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    /// From the customer, or to them.
    pub direction: parley_domain::Direction,
    /// Who wrote it (`customer`, `bot`, a user id, `system`).
    pub sender: String,
    /// Its first 200 characters.
    pub excerpt: String,
    /// When it was written.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl ConversationFilter {
    /// The text filter as the `LIKE` pattern the list statements take.
    #[must_use]
    pub fn text_pattern(&self) -> Option<String> {
        self.text.as_deref().map(like_pattern)
    }
}

/// Conversations and messages.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Runs `decide` on the target conversation under its lock and writes the turn it
    /// returns, all in one transaction. `Conflict { constraint: "messages_provider_key" }`
    /// when a message repeats a provider id already stored on its channel (a provider
    /// delivering the same callback twice): nothing of the turn is written.
    async fn take_turn(
        &self,
        target: TurnTarget,
        decide: Decide,
    ) -> Result<Option<TurnWritten>, StoreError>;

    /// Runs `decide` on a message and its conversation under the message's lock and
    /// writes the change; `None` when there is no such message or nothing changed.
    async fn change_message(
        &self,
        key: MessageKey,
        decide: DecideMessage,
    ) -> Result<Option<Message>, StoreError>;

    /// Runs several message changes in one transaction, in order (each as
    /// [`ConversationStore::change_message`]); what each wrote, or `None` for each with no
    /// such message or no change. An error writes none of them.
    async fn change_messages(
        &self,
        changes: Vec<(MessageKey, DecideMessage)>,
    ) -> Result<Vec<Option<Message>>, StoreError>;

    /// A message as it stands.
    async fn find_message(&self, key: &MessageKey) -> Result<Option<Message>, StoreError>;

    /// A conversation of `organization`.
    async fn get_conversation(
        &self,
        organization: OrgId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError>;

    /// An organization's conversations, newest first, filtered.
    async fn list_conversations(
        &self,
        organization: OrgId,
        filter: &ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<Conversation>, StoreError>;

    /// Adds a note to a conversation of its organization; `NotFound` when there is no
    /// such conversation there.
    async fn add_note(&self, note: Note) -> Result<Note, StoreError>;

    /// A conversation's notes, oldest first (the first 1,000).
    async fn list_notes(
        &self,
        organization: OrgId,
        conversation: ConversationId,
    ) -> Result<Vec<Note>, StoreError>;

    /// The same list as [`list_conversations`](Self::list_conversations), each with its
    /// [`ConversationSummary`], in one statement.
    async fn list_conversation_summaries(
        &self,
        organization: OrgId,
        filter: &ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationSummary>, StoreError>;

    /// How many conversations of `organization` match `filter` (its page aside).
    async fn count_conversations(
        &self,
        organization: OrgId,
        filter: &ConversationFilter,
    ) -> Result<u64, StoreError>;

    /// A conversation's messages, oldest first, paged by id.
    async fn list_messages(
        &self,
        organization: OrgId,
        conversation: ConversationId,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError>;
}
