//! Campaign recipients on PostgreSQL (ADR 0008): an audience slice is one transaction
//! that locks the campaign row (so two processes never write the same slice), inserts
//! the slice with one `INSERT … SELECT` and moves the cursor.

use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, ChannelAddress, ChannelKind, Contact, OrgId, Recipient, to_millis,
};
use parley_store::{AudienceSlice, Settle, Share, StoreError, decode};
use sqlx::Row;

use crate::PgStore;
use crate::rows::{Cols, map_err};
use parley_store_sql::sql;

/// Recipients from an import's links after `$5` up to `$6` (`$1` campaign, `$2`
/// recipients so far, `$3` at, `$4` channel kind, `$7` import).
const FROM_IMPORT: &str = "INSERT INTO campaign_recipients \
     (campaign_id, seq, contact_id, address, state, reason, next_at, updated_at) \
     SELECT $1, $2 + ROW_NUMBER() OVER (ORDER BY s.contact_id), s.contact_id, s.address, \
     CASE WHEN s.address IS NULL THEN 'skipped' ELSE 'pending' END, \
     CASE WHEN s.address IS NULL THEN 'invalid_address' END, 0, $3 \
     FROM (SELECT l.contact_id, (SELECT MIN(a.address) FROM contact_addresses a \
           WHERE a.contact_id = l.contact_id AND a.channel_kind = $4) AS address \
           FROM import_contacts l WHERE l.import_id = $7 \
           AND ($5::text IS NULL OR l.contact_id > $5) AND l.contact_id <= $6) s";

/// Recipients from a JSON array of contact ids `$5` of organization `$6`.
const FROM_CONTACTS: &str = "INSERT INTO campaign_recipients \
     (campaign_id, seq, contact_id, address, state, reason, next_at, updated_at) \
     SELECT $1, $2 + ROW_NUMBER() OVER (ORDER BY s.ord), s.id, s.address, \
     CASE WHEN s.address IS NULL THEN 'skipped' ELSE 'pending' END, \
     CASE WHEN s.address IS NULL THEN 'invalid_address' END, 0, $3 \
     FROM (SELECT j.ord, c.id, (SELECT MIN(a.address) FROM contact_addresses a \
           WHERE a.contact_id = c.id AND a.channel_kind = $4) AS address \
           FROM json_array_elements_text($5::json) WITH ORDINALITY AS j(id, ord) \
           JOIN contacts c ON c.id = j.id AND c.organization_id = $6) s";

/// See `CampaignStore::add_recipients`.
pub(super) async fn write_slice(
    store: &PgStore,
    organization: OrgId,
    campaign: CampaignId,
    kind: ChannelKind,
    slice: AudienceSlice,
    at: DateTime<Utc>,
) -> Result<Campaign, StoreError> {
    let mut tx = store.pool().begin().await.map_err(map_err)?;
    let (id, org) = (campaign.to_string(), organization.to_string());
    let row =
        sqlx::query("SELECT * FROM campaigns WHERE id = $1 AND organization_id = $2 FOR UPDATE")
            .bind(&id)
            .bind(&org)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound)?;
    let current = decode::campaign(&Cols(&row))?;
    if current.audience_done {
        return Ok(current);
    }
    let base = i64::try_from(current.recipients_total).unwrap_or(i64::MAX);
    let now = to_millis(at);
    let (added, cursor, done) = match slice {
        AudienceSlice::Import { import, limit } => {
            let import = import.to_string();
            sqlx::query("SELECT 1 FROM imports WHERE id = $1 AND organization_id = $2")
                .bind(&import)
                .bind(&org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .ok_or(StoreError::NotFound)?;
            let end: Option<String> = sqlx::query(
                "SELECT MAX(contact_id) AS end_id FROM (SELECT contact_id FROM import_contacts \
                 WHERE import_id = $1 AND ($2::text IS NULL OR contact_id > $2) \
                 ORDER BY contact_id LIMIT $3) s",
            )
            .bind(&import)
            .bind(current.audience_cursor.as_deref())
            .bind(i64::from(limit))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?
            .try_get("end_id")
            .map_err(map_err)?;
            match end {
                None => (0, current.audience_cursor.clone(), true),
                Some(end) => {
                    let added = sqlx::query(FROM_IMPORT)
                        .bind(&id)
                        .bind(base)
                        .bind(now)
                        .bind(kind.as_str())
                        .bind(current.audience_cursor.as_deref())
                        .bind(&end)
                        .bind(&import)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?
                        .rows_affected();
                    (added, Some(end), false)
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
            let added = sqlx::query(FROM_CONTACTS)
                .bind(&id)
                .bind(base)
                .bind(now)
                .bind(kind.as_str())
                .bind(ids)
                .bind(&org)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            (added, Some(cursor), last)
        }
    };
    let row = sqlx::query(
        "UPDATE campaigns SET audience_cursor = $2, audience_done = $3, \
         recipients_total = recipients_total + $4 WHERE id = $1 RETURNING *",
    )
    .bind(&id)
    .bind(cursor)
    .bind(i64::from(done))
    .bind(i64::try_from(added).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    let stored = decode::campaign(&Cols(&row))?;
    tx.commit().await.map_err(map_err)?;
    Ok(stored)
}

/// See `CampaignStore::due_recipients`.
pub(super) async fn due(
    store: &PgStore,
    organization: OrgId,
    campaign: CampaignId,
    now: DateTime<Utc>,
    share: Share,
    limit: u32,
) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError> {
    let rows = sqlx::query(sql::DUE_RECIPIENTS)
        .bind(campaign.to_string())
        .bind(to_millis(now))
        .bind(i64::from(share.of.max(1)))
        .bind(i64::from(share.index))
        .bind(i64::from(limit))
        .fetch_all(store.pool())
        .await
        .map_err(map_err)?;
    let recipients = rows
        .iter()
        .map(|r| decode::recipient(&Cols(r)))
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = recipients
        .iter()
        .map(|r| r.contact_id.to_string())
        .collect();
    let contact_rows = sqlx::query(
        "SELECT id, organization_id, customer_id, fields::text AS fields, created_at, updated_at \
         FROM contacts WHERE organization_id = $1 AND id = ANY($2)",
    )
    .bind(organization.to_string())
    .bind(&ids)
    .fetch_all(store.pool())
    .await
    .map_err(map_err)?;
    let address_rows = sqlx::query(
        "SELECT contact_id, channel_kind, address FROM contact_addresses \
         WHERE contact_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(store.pool())
    .await
    .map_err(map_err)?;
    let mut addresses: std::collections::HashMap<String, Vec<ChannelAddress>> =
        std::collections::HashMap::new();
    for r in &address_rows {
        let (contact, address) = decode::contact_address(&Cols(r))?;
        addresses
            .entry(contact.to_string())
            .or_default()
            .push(address);
    }
    let mut contacts = std::collections::HashMap::new();
    for r in &contact_rows {
        let id = decode::text(&Cols(r), "id")?;
        let mut own = addresses.remove(&id).unwrap_or_default();
        own.sort();
        contacts.insert(id, decode::contact(&Cols(r), own)?);
    }
    Ok(recipients
        .into_iter()
        .map(|r| {
            let contact = contacts.get(&r.contact_id.to_string()).cloned();
            (r, contact)
        })
        .collect())
}

/// See `CampaignStore::settle_recipients`.
pub(super) async fn settle(
    store: &PgStore,
    campaign: CampaignId,
    changes: Vec<(u64, Settle)>,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut tx = store.pool().begin().await.map_err(map_err)?;
    let (id, now) = (campaign.to_string(), to_millis(at));
    let mut changed = 0;
    for (seq, settle) in changes {
        let (state, reason, error, next_at) = match settle {
            Settle::Defer { until, why } => ("pending", Some(why.as_str()), None, to_millis(until)),
            Settle::Skip(reason) => ("skipped", Some(reason.as_str()), None, 0),
            Settle::Fail { error } => ("failed", None, Some(error), 0),
        };
        changed += sqlx::query(sql::SETTLE_RECIPIENT)
            .bind(&id)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(state)
            .bind(reason)
            .bind(error)
            .bind(next_at)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
    }
    tx.commit().await.map_err(map_err)?;
    Ok(changed)
}
