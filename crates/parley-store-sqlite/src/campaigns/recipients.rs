//! Campaign recipients on SQLite (ADR 0008). Writes run on the direct connection: the
//! audience slices in a transaction of their own (a slice of an import is one
//! `INSERT … SELECT` over the import's links), settlements and skips as pieces of the
//! group commit. The dispatcher's reads (due recipients and their contacts) run on the
//! read-only connection.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, ChannelAddress, ChannelKind, Contact, OrgId, Recipient, to_millis,
};
use parley_store::{AudienceSlice, Settle, Share, StoreError, decode};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::rows::{RCols, numbered_sql, one, sql_err};
use parley_store_sql::sql;

numbered_sql! {
    FIND_CAMPAIGN = sql::FIND_CAMPAIGN;
    DUE_RECIPIENTS = sql::DUE_RECIPIENTS;
    SETTLE_RECIPIENT = sql::SETTLE_RECIPIENT;
    SKIP_PENDING = sql::SKIP_PENDING;
}

/// The end of an import's next slice: the last contact seq of the next `$3` links after
/// `$2` (`$1` import seq).
const SLICE_END: &str = "SELECT MAX(contact_seq) FROM (SELECT contact_seq FROM import_contacts \
     WHERE import_seq = ?1 AND contact_seq > ?2 ORDER BY contact_seq LIMIT ?3)";

/// Recipients from an import's links `(?6, ?7]` (`?1` campaign, `?2` recipients so far,
/// `?3` at, `?4` channel kind, `?5` import seq, `?8` the import's end): a link counts for
/// a contact created before the import finished (see migration 0018).
const FROM_IMPORT: &str = "INSERT INTO campaign_recipients \
     (campaign_id, seq, contact_id, address, state, reason, next_at, updated_at) \
     SELECT ?1, ?2 + ROW_NUMBER() OVER (ORDER BY s.contact_seq), s.id, s.address, \
     CASE WHEN s.address IS NULL THEN 'skipped' ELSE 'pending' END, \
     CASE WHEN s.address IS NULL THEN 'invalid_address' END, 0, ?3 \
     FROM (SELECT l.contact_seq, c.id, (SELECT MIN(a.address) FROM contact_addresses a \
           WHERE a.contact_seq = c.seq AND a.channel_kind = ?4) AS address \
           FROM import_contacts l JOIN contacts c ON c.seq = l.contact_seq \
           WHERE l.import_seq = ?5 AND l.contact_seq > ?6 AND l.contact_seq <= ?7 \
           AND c.created_at <= ?8) s";

/// Recipients from a JSON array of contact ids `?5` of organization `?6` (the other
/// parameters as [`FROM_IMPORT`]); ids of no contact of the organization are left out.
const FROM_CONTACTS: &str = "INSERT INTO campaign_recipients \
     (campaign_id, seq, contact_id, address, state, reason, next_at, updated_at) \
     SELECT ?1, ?2 + ROW_NUMBER() OVER (ORDER BY s.ord), s.id, s.address, \
     CASE WHEN s.address IS NULL THEN 'skipped' ELSE 'pending' END, \
     CASE WHEN s.address IS NULL THEN 'invalid_address' END, 0, ?3 \
     FROM (SELECT j.key AS ord, c.id, (SELECT MIN(a.address) FROM contact_addresses a \
           WHERE a.contact_seq = c.seq AND a.channel_kind = ?4) AS address \
           FROM json_each(?5) j JOIN contacts c ON c.id = j.value \
           AND c.organization_seq = (SELECT seq FROM organizations WHERE id = ?6)) s";

const MOVE_CURSOR: &str = "UPDATE campaigns SET audience_cursor = ?2, audience_done = ?3, \
     recipients_total = recipients_total + ?4 WHERE id = ?1 RETURNING *";

const CONTACTS_BY_ID: &str = "SELECT c.seq, c.id, o.id AS organization_id, c.customer_id, \
     c.fields, c.created_at, c.updated_at \
     FROM contacts c JOIN organizations o ON o.seq = c.organization_seq \
     WHERE o.id = ?1 AND c.id IN (SELECT value FROM json_each(?2))";

const ADDRESSES_OF: &str = "SELECT contact_seq, channel_kind, address FROM contact_addresses \
     WHERE contact_seq IN (SELECT value FROM json_each(?1))";

/// Writes the next slice of a campaign's audience (see `CampaignStore::add_recipients`).
pub(crate) fn add_recipients(
    conn: &mut Connection,
    organization: OrgId,
    campaign: CampaignId,
    kind: ChannelKind,
    slice: AudienceSlice,
    at: DateTime<Utc>,
) -> Result<Campaign, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err)?;
    let (id, org) = (campaign.to_string(), organization.to_string());
    let current = one(&tx, &FIND_CAMPAIGN, &[&id, &org], |r| decode::campaign(r))?
        .ok_or(StoreError::NotFound)?;
    if current.audience_done {
        return Ok(current);
    }
    let base = i64::try_from(current.recipients_total).unwrap_or(i64::MAX);
    let now = to_millis(at);
    let (added, cursor, done) = match slice {
        AudienceSlice::Import { import, limit } => {
            let (import_seq, finished) = tx
                .query_row(
                    "SELECT seq, COALESCE(finished_at, 9223372036854775807) FROM imports \
                     WHERE id = ?1 AND organization_id = ?2",
                    params![import.to_string(), org],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )
                .optional()
                .map_err(sql_err)?
                .ok_or(StoreError::NotFound)?;
            let after: i64 = match current.audience_cursor.as_deref() {
                None => 0,
                Some(cursor) => cursor
                    .parse()
                    .map_err(|_| StoreError::corrupt("an import audience's cursor is not a seq"))?,
            };
            let end: Option<i64> = tx
                .query_row(SLICE_END, params![import_seq, after, limit], |r| r.get(0))
                .map_err(sql_err)?;
            match end {
                None => (0, current.audience_cursor.clone(), true),
                Some(end) => {
                    let added = tx
                        .execute(
                            FROM_IMPORT,
                            params![
                                id,
                                base,
                                now,
                                kind.as_str(),
                                import_seq,
                                after,
                                end,
                                finished
                            ],
                        )
                        .map_err(sql_err)?;
                    (added, Some(end.to_string()), false)
                }
            }
        }
        AudienceSlice::Contacts {
            contacts,
            after,
            cursor,
            last,
        } => {
            if after != current.audience_cursor {
                return Err(StoreError::Conflict {
                    constraint: "campaign_audience_cursor",
                });
            }
            let ids: Vec<String> = contacts.iter().map(ToString::to_string).collect();
            let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Other(Box::new(e)))?;
            let added = tx
                .execute(
                    FROM_CONTACTS,
                    params![id, base, now, kind.as_str(), ids, org],
                )
                .map_err(sql_err)?;
            (added, Some(cursor), last)
        }
    };
    let stored = one(
        &tx,
        MOVE_CURSOR,
        &[
            &id,
            &cursor,
            &i64::from(done),
            &i64::try_from(added).unwrap_or(i64::MAX),
        ],
        |r| decode::campaign(r),
    )?
    .ok_or(StoreError::NotFound)?;
    tx.commit().map_err(sql_err)?;
    Ok(stored)
}

/// Due recipients and their contacts (see `CampaignStore::due_recipients`), on the
/// read-only connection.
pub(crate) fn due_recipients(
    conn: &Connection,
    organization: OrgId,
    campaign: CampaignId,
    now: DateTime<Utc>,
    share: Share,
    limit: u32,
) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError> {
    let mut recipients = Vec::new();
    {
        let mut statement = conn.prepare_cached(&DUE_RECIPIENTS).map_err(sql_err)?;
        let mut rows = statement
            .query(params![
                campaign.to_string(),
                to_millis(now),
                share.of.max(1),
                share.index,
                limit
            ])
            .map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            recipients.push(decode::recipient(&RCols::new(row))?);
        }
    }
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = recipients
        .iter()
        .map(|r| r.contact_id.to_string())
        .collect();
    let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Other(Box::new(e)))?;
    let mut contacts: HashMap<String, (i64, Contact)> = HashMap::new();
    {
        let mut statement = conn.prepare_cached(CONTACTS_BY_ID).map_err(sql_err)?;
        let mut rows = statement
            .query(params![organization.to_string(), ids])
            .map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            let r = RCols::new(row);
            let contact = decode::contact(&r, Vec::new())?;
            contacts.insert(contact.id.to_string(), (decode::int(&r, "seq")?, contact));
        }
    }
    let seqs: Vec<i64> = contacts.values().map(|(seq, _)| *seq).collect();
    let seqs = serde_json::to_string(&seqs).map_err(|e| StoreError::Other(Box::new(e)))?;
    let mut addresses: HashMap<i64, Vec<ChannelAddress>> = HashMap::new();
    {
        let mut statement = conn.prepare_cached(ADDRESSES_OF).map_err(sql_err)?;
        let mut rows = statement.query(params![seqs]).map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            let r = RCols::new(row);
            addresses
                .entry(decode::int(&r, "contact_seq")?)
                .or_default()
                .push(ChannelAddress {
                    kind: decode::parsed(&r, "channel_kind")?,
                    address: decode::text(&r, "address")?,
                });
        }
    }
    Ok(recipients
        .into_iter()
        .map(|r| {
            let contact = contacts.get(&r.contact_id.to_string()).map(|(seq, c)| {
                let mut c = c.clone();
                c.addresses = addresses.get(seq).cloned().unwrap_or_default();
                c.addresses.sort();
                c
            });
            (r, contact)
        })
        .collect())
}

/// Settles recipients inside the group transaction (see `CampaignStore::settle_recipients`).
pub(crate) fn settle(
    tx: &Connection,
    campaign: CampaignId,
    changes: &[(u64, Settle)],
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut statement = tx.prepare_cached(&SETTLE_RECIPIENT).map_err(sql_err)?;
    let (id, now) = (campaign.to_string(), to_millis(at));
    let mut changed = 0;
    for (seq, settle) in changes {
        let seq = i64::try_from(*seq).unwrap_or(i64::MAX);
        let n = match settle {
            Settle::Defer { until, why } => statement.execute(params![
                id,
                seq,
                "pending",
                why.as_str(),
                None::<&str>,
                to_millis(*until),
                now
            ]),
            Settle::Skip(reason) => statement.execute(params![
                id,
                seq,
                "skipped",
                reason.as_str(),
                None::<&str>,
                0,
                now
            ]),
            Settle::Fail { error } => {
                statement.execute(params![id, seq, "failed", None::<&str>, error, 0, now])
            }
        }
        .map_err(sql_err)?;
        changed += n as u64;
    }
    Ok(changed)
}

/// Skips pending recipients inside the group transaction.
pub(crate) fn skip_pending(
    tx: &Connection,
    campaign: CampaignId,
    reason: &str,
    limit: u32,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let n = tx
        .prepare_cached(&SKIP_PENDING)
        .map_err(sql_err)?
        .execute(params![campaign.to_string(), reason, limit, to_millis(at)])
        .map_err(sql_err)?;
    Ok(n as u64)
}
