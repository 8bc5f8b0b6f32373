//! Imports on PostgreSQL. A batch is applied with a handful of set-based statements over a
//! temporary table filled from one JSON parameter, not one statement per row: per-row
//! statements would cap an import near 10k rows/s. Batches of one organization are
//! serialised by a transaction-scoped advisory lock, so concurrent imports cannot race on
//! the same customer_id or address.

use chrono::{DateTime, Utc};
use parley_domain::{ImportCounters, ImportId, ImportRecord, OrgId, UserId, to_millis};
use parley_store::decode::{self, RowSource};
use parley_store::{ImportBatch, ImportWriter, OriginalCells, RejectLine, StoreError};
use sqlx::PgConnection;

use crate::rows::{Cols, map_err};
use crate::{PgStore, Postgres};
use parley_store_sql::ImportsEngine;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(Box::new(e))
}

/// `[[new_id, customer_id, address, {fields}], …]`, bound as one parameter; the fields are
/// JSON text already.
fn rows_json(batch: &ImportBatch) -> String {
    let mut out = String::with_capacity(batch.rows.len() * 160);
    out.push('[');
    for (i, r) in batch.rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        out.push_str(&serde_json::Value::String(r.new_id.to_string()).to_string());
        out.push(',');
        match &r.customer_id {
            Some(c) => out.push_str(&serde_json::Value::String(c.clone()).to_string()),
            None => out.push_str("null"),
        }
        out.push(',');
        out.push_str(&serde_json::Value::String(r.address.clone()).to_string());
        out.push(',');
        out.push_str(&r.fields_json);
        out.push(']');
    }
    out.push(']');
    out
}

/// The report lines as `[[row, column, value, reason, [original…]], …]`.
fn rejects_json(lines: &[RejectLine]) -> Result<String, StoreError> {
    let values: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::json!([l.row_number, l.column, l.value, l.reason, l.original]))
        .collect();
    serde_json::to_string(&values).map_err(json_err)
}

async fn insert_reject_lines(
    conn: &mut PgConnection,
    id: ImportId,
    lines: &[RejectLine],
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO import_rejects (import_id, line, row_number, column_name, value, reason, original) \
         SELECT $1, (SELECT reject_lines FROM imports WHERE id = $1) + ord, \
                (e ->> 0)::bigint, e ->> 1, e ->> 2, e ->> 3, (e -> 4)::text \
         FROM json_array_elements($2::json) WITH ORDINALITY AS t(e, ord)",
    )
    .bind(id.to_string())
    .bind(rejects_json(lines)?)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    sqlx::query("UPDATE imports SET reject_lines = reject_lines + $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(i64::try_from(lines.len()).unwrap_or(i64::MAX))
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// The set-based upsert, statement by statement, each with how many of `$1` organization,
/// `$2` channel kind, `$3` instant it binds.
const APPLY: [(&str, usize); 8] = [
    // Match by customer_id.
    (
        "UPDATE import_batch b SET match_id = c.id FROM contacts c \
     WHERE c.organization_id = $1 AND c.customer_id = b.customer_id",
        1,
    ),
    // Who holds each address now, and that holder's customer_id.
    (
        "UPDATE import_batch b SET address_owner = a.contact_id, owner_customer_id = c.customer_id \
     FROM contact_addresses a JOIN contacts c ON c.id = a.contact_id \
     WHERE a.organization_id = $1 AND a.channel_kind = $2 AND a.address = b.address",
        2,
    ),
    // Else match by address (a row with a new customer_id adopts a contact that has none).
    (
        "UPDATE import_batch SET match_id = address_owner \
     WHERE match_id IS NULL AND address_owner IS NOT NULL \
       AND (customer_id IS NULL OR owner_customer_id IS NULL)",
        0,
    ),
    // The address belongs to someone else: refuse the row.
    (
        "UPDATE import_batch SET outcome = 'conflict' \
     WHERE address_owner IS NOT NULL AND match_id IS DISTINCT FROM address_owner",
        0,
    ),
    (
        "INSERT INTO contacts (id, organization_id, customer_id, fields, created_at, updated_at) \
     SELECT new_id, $1, customer_id, fields, $3, $3 FROM import_batch \
     WHERE match_id IS NULL AND outcome IS NULL ORDER BY seq",
        3,
    ),
    (
        "UPDATE import_batch b SET outcome = CASE \
       WHEN match_id IS NULL THEN 'created' \
       WHEN address_owner IS NOT DISTINCT FROM match_id \
            AND (customer_id IS NULL OR owner_customer_id IS NOT DISTINCT FROM customer_id \
                 OR (SELECT c.customer_id FROM contacts c WHERE c.id = b.match_id) IS NOT DISTINCT FROM b.customer_id) \
            AND (SELECT c.fields || b.fields = c.fields FROM contacts c WHERE c.id = b.match_id) \
         THEN 'unchanged' \
       ELSE 'updated' END \
     WHERE outcome IS NULL",
        0,
    ),
    (
        "UPDATE contacts c SET fields = c.fields || b.fields, \
       customer_id = COALESCE(b.customer_id, c.customer_id), updated_at = $3 \
     FROM import_batch b WHERE c.id = b.match_id AND b.outcome = 'updated'",
        3,
    ),
    (
        "INSERT INTO contact_addresses (organization_id, channel_kind, address, contact_id, created_at) \
     SELECT $1, $2, address, COALESCE(match_id, new_id), $3 FROM import_batch \
     WHERE outcome IN ('created', 'updated') AND address_owner IS NULL ORDER BY address",
        3,
    ),
];

/// One import's writer: PostgreSQL commits each batch on its own (its indexes take random
/// inserts without SQLite's cost of logging every dirtied page again at each commit).
struct PgImportWriter {
    store: PgStore,
    id: ImportId,
    organization: OrgId,
}

#[async_trait::async_trait]
impl ImportWriter for PgImportWriter {
    async fn apply(
        &mut self,
        batch: &ImportBatch,
        original: OriginalCells<'_>,
        at: DateTime<Utc>,
    ) -> Result<ImportCounters, StoreError> {
        apply_batch(&self.store, self.id, self.organization, batch, original, at).await
    }

    async fn finish(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Applies a batch in one transaction.
async fn apply_batch(
    store: &PgStore,
    id: ImportId,
    organization: OrgId,
    batch: &ImportBatch,
    original: OriginalCells<'_>,
    at: DateTime<Utc>,
) -> Result<ImportCounters, StoreError> {
    let mut tx = store.pool().begin().await.map_err(map_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(organization.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS import_batch (seq BIGINT PRIMARY KEY, new_id TEXT, \
         customer_id TEXT, address TEXT, fields JSONB, match_id TEXT, address_owner TEXT, \
         owner_customer_id TEXT, outcome TEXT) ON COMMIT DELETE ROWS",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query("TRUNCATE import_batch")
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO import_batch (seq, new_id, customer_id, address, fields) \
         SELECT ord - 1, e ->> 0, e ->> 1, e ->> 2, (e -> 3)::jsonb \
         FROM json_array_elements($1::json) WITH ORDINALITY AS t(e, ord)",
    )
    .bind(rows_json(batch))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let (org, kind, now) = (
        organization.to_string(),
        batch.channel.as_str(),
        to_millis(at),
    );
    for (statement, binds) in APPLY {
        let mut query = sqlx::query(statement);
        if binds >= 1 {
            query = query.bind(&org);
        }
        if binds >= 2 {
            query = query.bind(kind);
        }
        if binds >= 3 {
            query = query.bind(now);
        }
        query.execute(&mut *tx).await.map_err(map_err)?;
    }
    // Which contacts the import touched (a campaign's audience, migration 0018).
    sqlx::query(
        "INSERT INTO import_contacts (import_id, contact_id) \
         SELECT $1, COALESCE(match_id, new_id) FROM import_batch \
         WHERE outcome IN ('created', 'updated', 'unchanged') ON CONFLICT DO NOTHING",
    )
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let tallies = sqlx::query("SELECT outcome, COUNT(*) AS n FROM import_batch GROUP BY outcome")
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    let mut contacts = ImportCounters::default();
    for row in &tallies {
        let outcome = decode::text(&Cols(row), "outcome")?;
        let n = u64::try_from(decode::int(&Cols(row), "n")?).unwrap_or(0);
        match outcome.as_str() {
            "created" => contacts.contacts_created = n,
            "updated" => contacts.contacts_updated = n,
            "unchanged" => contacts.contacts_unchanged = n,
            _ => {}
        }
    }
    let conflict_rows = sqlx::query(
        "SELECT seq, owner_customer_id FROM import_batch WHERE outcome = 'conflict' ORDER BY seq",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let conflicts = conflict_rows
        .iter()
        .map(|r| {
            let seq = usize::try_from(decode::int(&Cols(r), "seq")?).unwrap_or(usize::MAX);
            Ok((seq, Cols(r).opt_text("owner_customer_id")?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let (counters, lines) = batch.settle(contacts, &conflicts, original);
    insert_reject_lines(&mut tx, id, &lines).await?;
    if counters.rows_imported > 0 {
        for f in &batch.new_fields {
            sqlx::query(parley_store_sql::sql::INSERT_FIELD_IF_MISSING)
                .bind(f.organization_id.to_string())
                .bind(f.key.as_str())
                .bind(&f.label)
                .bind(f.field_type.as_str())
                .bind(i64::from(f.pii))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
    }
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE imports SET rows_total = rows_total + $2, rows_imported = rows_imported + $3, \
         rows_rejected = rows_rejected + $4, contacts_created = contacts_created + $5, \
         contacts_updated = contacts_updated + $6, contacts_unchanged = contacts_unchanged + $7, \
         bytes_read = GREATEST(bytes_read, $8), rows_through = GREATEST(rows_through, $9) \
         WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(as_i64(counters.rows_total))
    .bind(as_i64(counters.rows_imported))
    .bind(as_i64(counters.rows_rejected))
    .bind(as_i64(counters.contacts_created))
    .bind(as_i64(counters.contacts_updated))
    .bind(as_i64(counters.contacts_unchanged))
    .bind(as_i64(batch.bytes_read))
    .bind(as_i64(batch.through_row))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(counters)
}

#[async_trait::async_trait]
impl ImportsEngine for Postgres {
    async fn create_import(
        store: &PgStore,
        r: &ImportRecord,
        created_by: Option<UserId>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO imports (id, organization_id, status, format, file_name, options, bytes_total, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.id.to_string())
        .bind(r.organization_id.to_string())
        .bind(r.status.as_str())
        .bind(r.format.as_str())
        .bind(r.file_name.as_deref())
        .bind(serde_json::to_string(&r.options).map_err(json_err)?)
        .bind(i64::try_from(r.bytes_total).unwrap_or(i64::MAX))
        .bind(created_by.map(|u| u.to_string()))
        .bind(to_millis(r.created_at))
        .execute(store.pool())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn import_writer(
        store: &PgStore,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Box<dyn ImportWriter>, StoreError> {
        Ok(Box::new(PgImportWriter {
            store: store.clone(),
            id,
            organization,
        }))
    }
}
