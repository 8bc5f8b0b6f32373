//! Conversations on PostgreSQL. A turn locks what orders its conversation's inputs before
//! reading it: the contact and channel pair (a transaction advisory lock, which also
//! serialises two inputs racing to open the first conversation) or the conversation's
//! row (`FOR UPDATE`); a message change locks the message's row. `decide` runs inside
//! the transaction that writes its result.

use chrono::{DateTime, Utc};
use parley_domain::{Conversation, ConversationId, Message, NewEvent, OrgId, to_millis};
use parley_store::decode;
use parley_store::{
    Decide, DecideMessage, MessageKey, NewJob, StoreError, SuppressionChange, TurnTarget,
    TurnWritten,
};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, PgRow};

use crate::rows::{Cols, map_err};
use crate::{PgStore, Postgres};
use parley_store_sql::ConversationsEngine;
use parley_store_sql::sql;

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, PgArguments>;

fn opt_millis(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(to_millis)
}

/// Binds a conversation's columns in table order (`$1…$18`), then its campaign (`$19`).
fn bind_conversation<'q>(q: Query<'q>, c: &'q Conversation) -> Query<'q> {
    q.bind(c.id.to_string())
        .bind(c.organization_id.to_string())
        .bind(c.contact_id.to_string())
        .bind(c.channel_id.to_string())
        .bind(c.direction.as_str())
        .bind(c.flow_id.map(|f| f.to_string()))
        .bind(c.flow_version.map(i64::from))
        .bind(c.state.as_str())
        .bind(c.queue.as_deref())
        .bind(c.assignee.map(|u| u.to_string()))
        .bind(c.status.as_deref())
        .bind(&c.flow_state)
        .bind(i64::try_from(c.revision).unwrap_or(i64::MAX))
        .bind(opt_millis(c.last_inbound_at))
        .bind(to_millis(c.opened_at))
        .bind(opt_millis(c.first_agent_reply_at))
        .bind(opt_millis(c.closed_at))
        .bind(to_millis(c.updated_at))
        .bind(c.campaign_id.map(|id| id.to_string()))
}

/// Binds a message's columns in table order (`$1…$16`).
fn bind_message<'q>(q: Query<'q>, m: &'q Message) -> Query<'q> {
    q.bind(m.id.to_string())
        .bind(m.organization_id.to_string())
        .bind(m.conversation_id.to_string())
        .bind(m.channel_id.to_string())
        .bind(m.direction.as_str())
        .bind(&m.sender)
        .bind(&m.body)
        .bind(m.status.as_str())
        .bind(m.provider_message_id.as_deref())
        .bind(m.error_code.as_deref())
        .bind(m.error_message.as_deref())
        .bind(i64::from(m.segments))
        .bind(m.encoding.map(|e| e.as_str()))
        .bind(decode::status_times_json(m))
        .bind(to_millis(m.created_at))
        .bind(to_millis(m.updated_at))
}

async fn fetch_one_row(q: Query<'_>, conn: &mut PgConnection) -> Result<Option<PgRow>, StoreError> {
    q.fetch_optional(conn).await.map_err(map_err)
}

async fn write_suppression(
    conn: &mut PgConnection,
    change: &SuppressionChange,
) -> Result<(), StoreError> {
    let query = match change {
        SuppressionChange::Add(s) => sqlx::query(sql::INSERT_SUPPRESSION)
            .bind(s.organization_id.to_string())
            .bind(s.channel_kind.as_str())
            .bind(&s.address_hash)
            .bind(&s.reason)
            .bind(to_millis(s.created_at)),
        SuppressionChange::Remove {
            organization,
            channel_kind,
            address_hash,
        } => sqlx::query(sql::DELETE_SUPPRESSION)
            .bind(organization.to_string())
            .bind(channel_kind.as_str())
            .bind(address_hash),
    };
    query.execute(conn).await.map_err(map_err)?;
    Ok(())
}

async fn write_effects(
    conn: &mut PgConnection,
    events: &[NewEvent],
    jobs: &[NewJob],
) -> Result<(), StoreError> {
    for e in events {
        sqlx::query(sql::INSERT_EVENT)
            .bind(e.id.to_string())
            .bind(e.organization_id.to_string())
            .bind(e.event_type.as_str())
            .bind(to_millis(e.timestamp))
            .bind(e.data.to_string())
            .bind(e.conversation_id())
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    for j in jobs {
        sqlx::query(sql::INSERT_JOB)
            .bind(j.id.to_string())
            .bind(&j.queue)
            .bind(&j.kind)
            .bind(j.payload.to_string())
            .bind(j.dedup_key.as_deref())
            .bind(i64::from(j.max_attempts))
            .bind(to_millis(j.run_at))
            .bind(to_millis(j.created_at))
            .bind(j.lane.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// Changes one message inside the caller's transaction (see `change_message`).
async fn change_in(
    tx: &mut PgConnection,
    key: &MessageKey,
    decide: DecideMessage,
) -> Result<Option<Message>, StoreError> {
    let row = match key {
        MessageKey::Id { organization, id } => {
            sqlx::query("SELECT * FROM messages WHERE id = $1 AND organization_id = $2 FOR UPDATE")
                .bind(id.to_string())
                .bind(organization.to_string())
        }
        MessageKey::Provider {
            channel,
            provider_message_id,
        } => sqlx::query(
            "SELECT * FROM messages WHERE channel_id = $1 AND provider_message_id = $2 FOR UPDATE",
        )
        .bind(channel.to_string())
        .bind(provider_message_id.as_str()),
    }
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
    let Some(message) = row
        .as_ref()
        .map(|r| decode::message(&Cols(r)))
        .transpose()?
    else {
        return Ok(None);
    };
    let conversation = sqlx::query(sql::FIND_CONVERSATION)
        .bind(message.conversation_id.to_string())
        .bind(message.organization_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
        .ok_or_else(|| StoreError::corrupt("a message lost its conversation"))?;
    let conversation = decode::conversation(&Cols(&conversation))?;
    let Some(change) = decide(&message, &conversation) else {
        return Ok(None);
    };
    let mut changed = change.message;
    changed.id = message.id;
    changed.organization_id = message.organization_id;
    let row = fetch_one_row(bind_message(sqlx::query(sql::UPDATE_MESSAGE), &changed), tx)
        .await?
        .ok_or_else(|| StoreError::corrupt("a message vanished under its change"))?;
    let stored = decode::message(&Cols(&row))?;
    write_effects(tx, &change.events, &change.jobs).await?;
    if let Some(job) = change.finish_job {
        sqlx::query(sql::FINISH_PENDING_JOB)
            .bind(job.to_string())
            .bind(to_millis(stored.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    Ok(Some(stored))
}

/// Binds a note's columns to `sql::INSERT_NOTE`.
fn bind_note<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    note: &'q parley_domain::Note,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(note.id.to_string())
        .bind(note.organization_id.to_string())
        .bind(note.conversation_id.to_string())
        .bind(&note.author)
        .bind(&note.body)
        .bind(to_millis(note.created_at))
}

#[async_trait::async_trait]
impl ConversationsEngine for Postgres {
    async fn take_turn(
        store: &PgStore,
        target: TurnTarget,
        decide: Decide,
    ) -> Result<Option<TurnWritten>, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let row = match target {
            TurnTarget::Open {
                organization,
                contact,
                channel,
            } => {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(format!("conversation/{contact}/{channel}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(sql::OPEN_CONVERSATION)
                    .bind(organization.to_string())
                    .bind(contact.to_string())
                    .bind(channel.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?
            }
            TurnTarget::Conversation { organization, id } => sqlx::query(
                "SELECT * FROM conversations WHERE id = $1 AND organization_id = $2 FOR UPDATE",
            )
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?,
        };
        let current = row
            .as_ref()
            .map(|r| decode::conversation(&Cols(r)))
            .transpose()?;
        let Some(turn) = decide(current.as_ref()) else {
            return Ok(None);
        };
        let mut conversation = turn.conversation;
        let stored = match current.filter(|c| c.id == conversation.id) {
            None => {
                conversation.revision = 1;
                let q = bind_conversation(sqlx::query(sql::INSERT_CONVERSATION), &conversation);
                fetch_one_row(q, &mut tx).await?
            }
            Some(seen) => {
                conversation.revision = seen.revision + 1;
                let q = bind_conversation(sqlx::query(sql::UPDATE_CONVERSATION), &conversation)
                    .bind(i64::try_from(seen.revision).unwrap_or(i64::MAX));
                fetch_one_row(q, &mut tx).await?
            }
        }
        // The row is locked: nothing changes it between the read and the write.
        .ok_or_else(|| StoreError::corrupt("a conversation changed under its turn"))?;
        let stored = decode::conversation(&Cols(&stored))?;
        let mut messages = Vec::with_capacity(turn.messages.len());
        for m in &turn.messages {
            let row = fetch_one_row(bind_message(sqlx::query(sql::INSERT_MESSAGE), m), &mut tx)
                .await?
                .ok_or_else(|| StoreError::corrupt("an inserted message was not returned"))?;
            messages.push(decode::message(&Cols(&row))?);
        }
        write_effects(&mut tx, &turn.events, &turn.jobs).await?;
        if let Some(change) = &turn.suppression {
            write_suppression(&mut tx, change).await?;
        }
        for note in &turn.notes {
            bind_note(sqlx::query(sql::INSERT_NOTE), note)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if let Some(claim) = &turn.recipient {
            let claimed = sqlx::query(sql::CLAIM_RECIPIENT)
                .bind(claim.campaign.to_string())
                .bind(i64::try_from(claim.seq).unwrap_or(i64::MAX))
                .bind(stored.id.to_string())
                .bind(claim.message.map(|m| m.to_string()))
                .bind(to_millis(stored.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            if claimed == 0 {
                // Dropping the transaction rolls the whole turn back.
                return Err(StoreError::Conflict {
                    constraint: "campaign_recipient_state",
                });
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(TurnWritten {
            conversation: stored,
            messages,
        }))
    }

    async fn change_message(
        store: &PgStore,
        key: MessageKey,
        decide: DecideMessage,
    ) -> Result<Option<Message>, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let changed = change_in(&mut tx, &key, decide).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }

    async fn change_messages(
        store: &PgStore,
        changes: Vec<(MessageKey, DecideMessage)>,
    ) -> Result<Vec<Option<Message>>, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let mut changed = Vec::with_capacity(changes.len());
        for (key, decide) in changes {
            changed.push(change_in(&mut tx, &key, decide).await?);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }

    async fn get_conversation(
        store: &PgStore,
        organization: OrgId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(sql::FIND_CONVERSATION)
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(store.pool())
            .await
            .map_err(map_err)?;
        row.as_ref()
            .map(|r| decode::conversation(&Cols(r)))
            .transpose()
    }
}
