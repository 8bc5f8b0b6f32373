//! What each engine writes its own way for the conversations port: [`ConversationsEngine`].

use super::Engine;
use crate::SqlStore;
use parley_domain::{Conversation, ConversationId, Message, OrgId};
use parley_store::{Decide, DecideMessage, MessageKey, StoreError, TurnTarget, TurnWritten};

/// The conversation operations each engine writes its own way: SQLite takes turns on its
/// direct connection in group commits and reads a conversation on its reader connection;
/// PostgreSQL takes them in transactions of its own.
#[async_trait::async_trait]
pub trait ConversationsEngine: Sized {
    /// See the port's `take_turn`.
    async fn take_turn(
        store: &SqlStore<Self>,
        target: TurnTarget,
        decide: Decide,
    ) -> Result<Option<TurnWritten>, StoreError>
    where
        Self: Engine;

    /// See the port's `change_message`.
    async fn change_message(
        store: &SqlStore<Self>,
        key: MessageKey,
        decide: DecideMessage,
    ) -> Result<Option<Message>, StoreError>
    where
        Self: Engine;

    /// See the port's `change_messages`.
    async fn change_messages(
        store: &SqlStore<Self>,
        changes: Vec<(MessageKey, DecideMessage)>,
    ) -> Result<Vec<Option<Message>>, StoreError>
    where
        Self: Engine;

    /// See the port's `get_conversation`.
    async fn get_conversation(
        store: &SqlStore<Self>,
        organization: OrgId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError>
    where
        Self: Engine;
}
