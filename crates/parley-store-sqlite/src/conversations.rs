//! Conversations on SQLite. Turns and message changes run on the direct connection
//! (`crate::direct`): SQLite's one writer is the lock that orders a conversation's
//! inputs, and `decide` runs inside the `BEGIN IMMEDIATE` transaction that writes its
//! result, one message to the connection's thread per turn. Turns waiting together share
//! one transaction, each in its own savepoint, and one commit (`Direct::run_grouped`). A
//! turn's conversation read runs on the reader connection; notes, messages and the lists
//! are `parley-store-sql`'s.

use chrono::{DateTime, Utc};
use parley_domain::{Conversation, Message, from_millis, to_millis};
use parley_store::decode;
use parley_store::{
    Decide, DecideMessage, MessageKey, StoreError, SuppressionChange, TurnTarget, TurnWritten,
};
use parley_store_sql::sql;
use rusqlite::{Connection, ToSql};

use crate::rows::{numbered_sql, one, sql_err};
use crate::{Sqlite, SqliteStore};
use parley_store_sql::ConversationsEngine;

use crate::jobs::write_effects;

numbered_sql! {
    OPEN_CONVERSATION = sql::OPEN_CONVERSATION;
    FIND_CONVERSATION = sql::FIND_CONVERSATION;
    INSERT_CONVERSATION = &without_returning(sql::INSERT_CONVERSATION);
    UPDATE_CONVERSATION = &without_returning(sql::UPDATE_CONVERSATION);
    INSERT_MESSAGE = &without_returning(sql::INSERT_MESSAGE);
    UPDATE_MESSAGE = &without_returning(sql::UPDATE_MESSAGE);
    FIND_MESSAGE = sql::FIND_MESSAGE;
    FIND_PROVIDER_MESSAGE = sql::FIND_PROVIDER_MESSAGE;
    INSERT_SUPPRESSION = sql::INSERT_SUPPRESSION;
    DELETE_SUPPRESSION = sql::DELETE_SUPPRESSION;
    FINISH_PENDING_JOB = sql::FINISH_PENDING_JOB;
    CLAIM_RECIPIENT = sql::CLAIM_RECIPIENT;
    INSERT_TURN_NOTE = &without_returning(sql::INSERT_NOTE);
}

fn write_suppression(tx: &Connection, change: &SuppressionChange) -> Result<(), StoreError> {
    match change {
        SuppressionChange::Add(s) => tx
            .prepare_cached(&INSERT_SUPPRESSION)
            .map_err(sql_err)?
            .execute(rusqlite::params![
                s.organization_id.to_string(),
                s.channel_kind.as_str(),
                s.address_hash,
                s.reason,
                to_millis(s.created_at),
            ]),
        SuppressionChange::Remove {
            organization,
            channel_kind,
            address_hash,
        } => tx
            .prepare_cached(&DELETE_SUPPRESSION)
            .map_err(sql_err)?
            .execute(rusqlite::params![
                organization.to_string(),
                channel_kind.as_str(),
                address_hash,
            ]),
    }
    .map_err(sql_err)?;
    Ok(())
}

fn opt_millis(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(to_millis)
}

/// A shared write without its `RETURNING *`: on the direct connection the hot writes
/// return what they wrote as it reads back ([`as_stored`]) instead of SQLite building
/// an ephemeral table of the row and the row being decoded again (together about a
/// tenth of the writer thread's time in a campaign).
fn without_returning(sql: &str) -> String {
    sql.trim_end()
        .trim_end_matches("RETURNING *")
        .trim_end()
        .to_owned()
}

/// An instant as stored: whole milliseconds.
fn ms(at: DateTime<Utc>) -> DateTime<Utc> {
    from_millis(to_millis(at))
}

/// A conversation as it reads back after being written.
fn as_stored(c: &Conversation) -> Conversation {
    Conversation {
        last_inbound_at: c.last_inbound_at.map(ms),
        opened_at: ms(c.opened_at),
        first_agent_reply_at: c.first_agent_reply_at.map(ms),
        closed_at: c.closed_at.map(ms),
        updated_at: ms(c.updated_at),
        ..c.clone()
    }
}

/// A message as it reads back after being written.
fn message_as_stored(m: &Message) -> Message {
    Message {
        status_times: m
            .status_times
            .iter()
            .map(|(status, at)| (status.clone(), ms(*at)))
            .collect(),
        created_at: ms(m.created_at),
        updated_at: ms(m.updated_at),
        ..m.clone()
    }
}

/// Runs a write that must change exactly one row.
fn write_one(
    tx: &Connection,
    sql: &str,
    params: &[Box<dyn ToSql>],
    what: &str,
) -> Result<(), StoreError> {
    let changed = tx
        .prepare_cached(sql)
        .map_err(sql_err)?
        .execute(refs(params).as_slice())
        .map_err(sql_err)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::corrupt(format!(
            "{what} changed {changed} rows"
        )))
    }
}

/// A conversation's columns in table order (`$1…$18`), then its campaign (`$19`).
fn conversation_params(c: &Conversation) -> Vec<Box<dyn ToSql>> {
    vec![
        Box::new(c.id.to_string()),
        Box::new(c.organization_id.to_string()),
        Box::new(c.contact_id.to_string()),
        Box::new(c.channel_id.to_string()),
        Box::new(c.direction.as_str()),
        Box::new(c.flow_id.map(|f| f.to_string())),
        Box::new(c.flow_version),
        Box::new(c.state.as_str()),
        Box::new(c.queue.clone()),
        Box::new(c.assignee.map(|u| u.to_string())),
        Box::new(c.status.clone()),
        Box::new(c.flow_state.clone()),
        Box::new(i64::try_from(c.revision).unwrap_or(i64::MAX)),
        Box::new(opt_millis(c.last_inbound_at)),
        Box::new(to_millis(c.opened_at)),
        Box::new(opt_millis(c.first_agent_reply_at)),
        Box::new(opt_millis(c.closed_at)),
        Box::new(to_millis(c.updated_at)),
        Box::new(c.campaign_id.map(|id| id.to_string())),
    ]
}

/// A message's columns in table order (`$1…$16`).
fn message_params(m: &Message) -> Vec<Box<dyn ToSql>> {
    vec![
        Box::new(m.id.to_string()),
        Box::new(m.organization_id.to_string()),
        Box::new(m.conversation_id.to_string()),
        Box::new(m.channel_id.to_string()),
        Box::new(m.direction.as_str()),
        Box::new(m.sender.clone()),
        Box::new(m.body.clone()),
        Box::new(m.status.as_str()),
        Box::new(m.provider_message_id.clone()),
        Box::new(m.error_code.clone()),
        Box::new(m.error_message.clone()),
        Box::new(m.segments),
        Box::new(m.encoding.map(|e| e.as_str())),
        Box::new(decode::status_times_json(m)),
        Box::new(to_millis(m.created_at)),
        Box::new(to_millis(m.updated_at)),
    ]
}

fn refs(params: &[Box<dyn ToSql>]) -> Vec<&dyn ToSql> {
    params.iter().map(AsRef::as_ref).collect()
}

fn insert_message(tx: &Connection, m: &Message) -> Result<Message, StoreError> {
    write_one(tx, &INSERT_MESSAGE, &message_params(m), "a message insert")?;
    Ok(message_as_stored(m))
}

/// A turn, inside the group transaction of the direct connection (`Direct::run_grouped`).
fn take_turn(
    tx: &Connection,
    target: TurnTarget,
    decide: Decide,
) -> Result<Option<TurnWritten>, StoreError> {
    let current = match target {
        TurnTarget::Open {
            organization,
            contact,
            channel,
        } => one(
            tx,
            &OPEN_CONVERSATION,
            &[
                &organization.to_string(),
                &contact.to_string(),
                &channel.to_string(),
            ],
            |r| decode::conversation(r),
        )?,
        TurnTarget::Conversation { organization, id } => one(
            tx,
            &FIND_CONVERSATION,
            &[&id.to_string(), &organization.to_string()],
            |r| decode::conversation(r),
        )?,
    };
    let Some(turn) = decide(current.as_ref()) else {
        return Ok(None);
    };
    let mut conversation = turn.conversation;
    match current.filter(|c| c.id == conversation.id) {
        None => {
            conversation.revision = 1;
            let params = conversation_params(&conversation);
            write_one(tx, &INSERT_CONVERSATION, &params, "a conversation insert")?;
        }
        Some(seen) => {
            // What the update does not write stays as it was.
            conversation.campaign_id = conversation.campaign_id.or(seen.campaign_id);
            conversation.contact_id = seen.contact_id;
            conversation.channel_id = seen.channel_id;
            conversation.direction = seen.direction;
            conversation.opened_at = seen.opened_at;
            conversation.revision = seen.revision + 1;
            let mut params = conversation_params(&conversation);
            params.push(Box::new(i64::try_from(seen.revision).unwrap_or(i64::MAX)));
            // Under the write lock nothing else changes the row between the read and the
            // write.
            write_one(tx, &UPDATE_CONVERSATION, &params, "a conversation's turn")?;
        }
    }
    let stored = as_stored(&conversation);
    let messages = turn
        .messages
        .iter()
        .map(|m| insert_message(tx, m))
        .collect::<Result<Vec<_>, _>>()?;
    write_effects(tx, &turn.events, &turn.jobs)?;
    if let Some(change) = &turn.suppression {
        write_suppression(tx, change)?;
    }
    for note in &turn.notes {
        tx.prepare_cached(&INSERT_TURN_NOTE)
            .map_err(sql_err)?
            .execute(rusqlite::params![
                note.id.to_string(),
                note.organization_id.to_string(),
                note.conversation_id.to_string(),
                note.author,
                note.body,
                to_millis(note.created_at),
            ])
            .map_err(sql_err)?;
    }
    if let Some(claim) = &turn.recipient {
        let claimed = tx
            .prepare_cached(&CLAIM_RECIPIENT)
            .map_err(sql_err)?
            .execute(rusqlite::params![
                claim.campaign.to_string(),
                i64::try_from(claim.seq).unwrap_or(i64::MAX),
                stored.id.to_string(),
                claim.message.map(|m| m.to_string()),
                to_millis(stored.updated_at),
            ])
            .map_err(sql_err)?;
        if claimed == 0 {
            // The savepoint of this turn is undone: nothing of it is written.
            return Err(StoreError::Conflict {
                constraint: "campaign_recipient_state",
            });
        }
    }
    Ok(Some(TurnWritten {
        conversation: stored,
        messages,
    }))
}

/// Changes one message inside the caller's transaction (see `change_message`).
fn change_in(
    tx: &Connection,
    key: &MessageKey,
    decide: DecideMessage,
) -> Result<Option<Message>, StoreError> {
    let message = match key {
        MessageKey::Id { organization, id } => one(
            tx,
            &FIND_MESSAGE,
            &[&id.to_string(), &organization.to_string()],
            |r| decode::message(r),
        )?,
        MessageKey::Provider {
            channel,
            provider_message_id,
        } => one(
            tx,
            &FIND_PROVIDER_MESSAGE,
            &[&channel.to_string(), provider_message_id],
            |r| decode::message(r),
        )?,
    };
    let Some(message) = message else {
        return Ok(None);
    };
    let conversation = one(
        tx,
        &FIND_CONVERSATION,
        &[
            &message.conversation_id.to_string(),
            &message.organization_id.to_string(),
        ],
        |r| decode::conversation(r),
    )?
    .ok_or_else(|| StoreError::corrupt("a message lost its conversation"))?;
    let Some(change) = decide(&message, &conversation) else {
        return Ok(None);
    };
    // Only the changeable columns are written; the rest stays as it was.
    let changed = Message {
        status: change.message.status,
        provider_message_id: change.message.provider_message_id,
        error_code: change.message.error_code,
        error_message: change.message.error_message,
        segments: change.message.segments,
        encoding: change.message.encoding,
        status_times: change.message.status_times,
        updated_at: change.message.updated_at,
        ..message
    };
    write_one(
        tx,
        &UPDATE_MESSAGE,
        &message_params(&changed),
        "a message change",
    )?;
    let stored = message_as_stored(&changed);
    write_effects(tx, &change.events, &change.jobs)?;
    if let Some(job) = change.finish_job {
        tx.prepare_cached(&FINISH_PENDING_JOB)
            .map_err(sql_err)?
            .execute(rusqlite::params![
                job.to_string(),
                to_millis(stored.updated_at)
            ])
            .map_err(sql_err)?;
    }
    Ok(Some(stored))
}

/// Changes messages, in order, inside the group transaction of the direct connection.
fn change_messages(
    tx: &Connection,
    changes: Vec<(MessageKey, DecideMessage)>,
) -> Result<Vec<Option<Message>>, StoreError> {
    let mut changed = Vec::with_capacity(changes.len());
    for (key, decide) in changes {
        changed.push(change_in(tx, &key, decide)?);
    }
    Ok(changed)
}

#[async_trait::async_trait]
impl ConversationsEngine for Sqlite {
    async fn take_turn(
        store: &SqliteStore,
        target: TurnTarget,
        decide: Decide,
    ) -> Result<Option<TurnWritten>, StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| take_turn(c, target, decide))
            .await
    }

    async fn change_message(
        store: &SqliteStore,
        key: MessageKey,
        decide: DecideMessage,
    ) -> Result<Option<Message>, StoreError> {
        let mut changed = store
            .engine()
            .direct
            .run_grouped(move |c| change_messages(c, vec![(key, decide)]))
            .await?;
        Ok(changed.pop().flatten())
    }

    async fn change_messages(
        store: &SqliteStore,
        changes: Vec<(MessageKey, DecideMessage)>,
    ) -> Result<Vec<Option<Message>>, StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| change_messages(c, changes))
            .await
    }

    async fn get_conversation(
        store: &SqliteStore,
        organization: parley_domain::OrgId,
        id: parley_domain::ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        // On the reader connection: the runtime reads a conversation before most of its
        // turns (timers, fetches, people's actions).
        store
            .engine()
            .reads
            .run(move |c| {
                one(
                    c,
                    &FIND_CONVERSATION,
                    &[&id.to_string(), &organization.to_string()],
                    |r| decode::conversation(r),
                )
            })
            .await
    }
}
