//! Conversations: notes, messages and the conversation lists (built per filter by
//! `sql::ConversationLists` with the engine's [`Engine::CONTACT_JOIN`]). Turns, message
//! changes and the conversation read of every turn are each engine's own
//! ([`ConversationsEngine`]): SQLite takes turns on its direct connection in group commits,
//! PostgreSQL locks what orders a conversation's inputs (a transaction advisory lock on the
//! contact and channel, or the conversation's row).

use crate::{Cols, Engine, SqlRow, SqlStore, query, query_bound, sql};
use parley_domain::{Conversation, ConversationId, Message, OrgId, to_millis};
use parley_store::decode;
use parley_store::{
    ConversationFilter, ConversationStore, Decide, DecideMessage, MessageKey, Page, PageRequest,
    StoreError, TurnTarget, TurnWritten,
};

#[async_trait::async_trait]
impl<E: Engine> ConversationStore for SqlStore<E> {
    async fn take_turn(
        &self,
        target: TurnTarget,
        decide: Decide,
    ) -> Result<Option<TurnWritten>, StoreError> {
        E::take_turn(self, target, decide).await
    }

    async fn change_message(
        &self,
        key: MessageKey,
        decide: DecideMessage,
    ) -> Result<Option<Message>, StoreError> {
        E::change_message(self, key, decide).await
    }

    async fn change_messages(
        &self,
        changes: Vec<(MessageKey, DecideMessage)>,
    ) -> Result<Vec<Option<Message>>, StoreError> {
        E::change_messages(self, changes).await
    }

    async fn find_message(&self, key: &MessageKey) -> Result<Option<Message>, StoreError> {
        let query = match key {
            MessageKey::Id { organization, id } => query::<E>(sql::FIND_MESSAGE)
                .bind(id.to_string())
                .bind(organization.to_string()),
            MessageKey::Provider {
                channel,
                provider_message_id,
            } => query::<E>(sql::FIND_PROVIDER_MESSAGE)
                .bind(channel.to_string())
                .bind(provider_message_id.as_str()),
        };
        let row = query.fetch_optional(&mut *self.conn().await?).await?;
        row.as_ref()
            .map(|r| decode::message(&Cols::<E>(r)))
            .transpose()
    }

    async fn get_conversation(
        &self,
        organization: OrgId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        E::get_conversation(self, organization, id).await
    }

    async fn add_note(&self, note: parley_domain::Note) -> Result<parley_domain::Note, StoreError> {
        let row = query::<E>(sql::INSERT_NOTE)
            .bind(note.id.to_string())
            .bind(note.organization_id.to_string())
            .bind(note.conversation_id.to_string())
            .bind(&note.author)
            .bind(&note.body)
            .bind(to_millis(note.created_at))
            .fetch_one(&mut *self.conn().await?)
            .await?;
        decode::note(&Cols::<E>(&row))
    }

    async fn list_notes(
        &self,
        organization: parley_domain::OrgId,
        conversation: parley_domain::ConversationId,
    ) -> Result<Vec<parley_domain::Note>, StoreError> {
        query::<E>(sql::LIST_NOTES)
            .bind(organization.to_string())
            .bind(conversation.to_string())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::note(r))
            .await
    }

    async fn list_conversations(
        &self,
        organization: parley_domain::OrgId,
        filter: &ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<Conversation>, StoreError> {
        let rows = self
            .conversation_rows(sql::ListKind::List, organization, filter, &page)
            .await?;
        let items = rows
            .iter()
            .map(|r| decode::conversation(&Cols::<E>(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |c| c.id.to_string()))
    }

    async fn count_conversations(
        &self,
        organization: parley_domain::OrgId,
        filter: &ConversationFilter,
    ) -> Result<u64, StoreError> {
        let statement = self.lists.statement(
            sql::ListKind::Count,
            &organization.to_string(),
            filter,
            None,
            0,
        );
        let count = query_bound::<E>(&statement)
            .fetch_int(&mut *self.conn().await?)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn list_conversation_summaries(
        &self,
        organization: parley_domain::OrgId,
        filter: &ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<parley_store::ConversationSummary>, StoreError> {
        let rows = self
            .conversation_rows(sql::ListKind::Summaries, organization, filter, &page)
            .await?;
        let items = rows
            .iter()
            .map(|r| decode::conversation_summary(&Cols::<E>(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |c| c.conversation.id.to_string()))
    }

    async fn list_messages(
        &self,
        organization: OrgId,
        conversation: ConversationId,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let items = query::<E>(sql::LIST_MESSAGES)
            .bind(organization.to_string())
            .bind(conversation.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::message(r))
            .await?;
        Ok(page.finish(items, |m| m.id.to_string()))
    }
}

impl<E: Engine> SqlStore<E> {
    /// One page of a conversation list statement (see `sql::ConversationLists`).
    async fn conversation_rows(
        &self,
        kind: sql::ListKind,
        organization: OrgId,
        filter: &ConversationFilter,
        page: &PageRequest,
    ) -> Result<Vec<SqlRow<E>>, StoreError> {
        let statement = self.lists.statement(
            kind,
            &organization.to_string(),
            filter,
            page.after.as_deref(),
            page.fetch_limit(),
        );
        query_bound::<E>(&statement)
            .fetch_all(&mut *self.conn().await?)
            .await
    }
}
