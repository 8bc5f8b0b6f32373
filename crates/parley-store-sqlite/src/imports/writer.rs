//! The import writer: a plain SQLite connection of the store's own (rusqlite) that applies
//! batches row by row with cached prepared statements, each batch together with the
//! import's counters and report lines, and groups batches into commits.
//!
//! Why not the sqlx pool: every sqlx statement is a message to the connection's worker
//! thread (~90 µs here), so a batch had to be shipped as one JSON parameter and applied
//! with set-based statements, and SQLite then spent most of the import parsing that JSON
//! and re-probing the same rows. A prepared statement stepped in this thread costs a few
//! microseconds (docs/adr/0003-contact-import.md has the figures).
//!
//! Why group batches: a commit writes every page its transaction dirtied, and addresses
//! arrive in no order, so every batch dirties pages all over the address B-tree; with a
//! commit per 25,000-row batch a million-row import rewrote that tree forty times (14 s
//! for the address inserts alone against 2–5 s in a few commits; BENCHMARKS.md). The
//! writer therefore keeps its transaction open across batches until it has been open for
//! [`MIN_OPEN`] and for four times as long as the last commit took, so commits cost at
//! most about a fifth of the time however large the import. Other writers wait for the
//! write lock meanwhile (the busy timeout is 10 s). Rows are applied in the order given,
//! which is address order (`ImportBatch::rows`), so the address B-tree is walked in one
//! direction.
//!
//! Why checkpoint on another thread: each commit of a million-row import adds ~100 MB to
//! the WAL, and SQLite's automatic checkpoint then copied it into the database on the
//! committing thread, the import's bottleneck. While an import runs, the writer's
//! connection checkpoints nothing itself; after each commit a [`Checkpointer`] thread with
//! a connection of its own runs a passive checkpoint, overlapping the next batches. The
//! automatic checkpoint is back on the connection before it returns to the store.
//!
//! The connection is opened lazily on the store's file, with the same pragmas as the pool,
//! and returned to the store after each import so its page cache stays warm; SQLite's own
//! locking (WAL, busy timeout) orders it with the pool's writers.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parley_domain::{ImportCounters, ImportId, OrgId, to_millis};
use parley_store::{ImportBatch, ImportWriter, OriginalCells, RejectLine, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::direct::{AUTOCHECKPOINT_PAGES, BUSY_TIMEOUT};
use crate::rows::sql_err;

/// The shortest time the writer keeps a transaction open before committing it.
const MIN_OPEN: Duration = Duration::from_secs(2);

/// The store's idle writer connection, if any.
pub(crate) type Slot = Arc<Mutex<Option<Connection>>>;

/// One import's writer; see the module's documentation.
pub(crate) struct SqliteImportWriter {
    conn: Option<Connection>,
    slot: Slot,
    id: String,
    /// The organization's compact key (migration 0004).
    organization_seq: i64,
    /// The import's compact key (migration 0018).
    import_seq: i64,
    /// The `seq` the next created contact takes; read when a transaction begins, since
    /// the writer alone inserts while it holds the write lock.
    next_seq: i64,
    /// When the open transaction began, if one is open.
    open_since: Option<Instant>,
    last_commit: Duration,
    /// Checkpoints after each commit; `None` when its thread could not start (the
    /// connection then checkpoints by itself, as usual).
    checkpointer: Option<Checkpointer>,
}

/// A thread with a connection of its own that copies the WAL into the database after
/// each of the writer's commits (a passive checkpoint: it never waits for a lock, and
/// the writer goes on appending to the WAL meanwhile). Stopped and joined on drop.
struct Checkpointer {
    nudge: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err)?;
        // One pending nudge is enough: a checkpoint copies whatever is committed by then.
        let (nudge, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("import-checkpoint".to_owned())
            .spawn(move || {
                for () in rx {
                    // A failed passive checkpoint loses nothing: the frames stay in the
                    // WAL and the next checkpoint (or the store's own) copies them.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "import checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(Self {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint unless one is already asked for.
    fn nudge(&self) {
        if let Some(nudge) = &self.nudge {
            let _ = nudge.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudge = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl SqliteImportWriter {
    /// A writer on the store's idle connection, or on a new one when it is in use.
    pub(crate) fn new(
        slot: Slot,
        path: &Path,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Self, StoreError> {
        let idle = slot
            .lock()
            .map_err(|_| StoreError::corrupt("the import writer slot was poisoned by a panic"))?
            .take();
        let conn = match idle {
            Some(conn) => conn,
            None => open(path)?,
        };
        let checkpointer = match Checkpointer::start(path) {
            Ok(c) => {
                conn.execute_batch("PRAGMA wal_autocheckpoint = 0")
                    .map_err(sql_err)?;
                Some(c)
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "no checkpointer thread; the import writer checkpoints as it commits"
                );
                None
            }
        };
        let organization_seq = conn
            .query_row(
                "SELECT seq FROM organizations WHERE id = ?1",
                params![organization.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?
            .ok_or(StoreError::NotFound)?;
        let import_seq = conn
            .query_row(
                "SELECT seq FROM imports WHERE id = ?1",
                params![id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?
            .ok_or(StoreError::NotFound)?;
        Ok(Self {
            conn: Some(conn),
            slot,
            id: id.to_string(),
            organization_seq,
            import_seq,
            next_seq: 0,
            open_since: None,
            last_commit: Duration::ZERO,
            checkpointer,
        })
    }

    fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::corrupt("the import writer was used after an error"))
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if self.open_since.take().is_some() {
            let started = Instant::now();
            self.conn()?.execute_batch("COMMIT").map_err(sql_err)?;
            self.last_commit = started.elapsed();
            if let Some(c) = &self.checkpointer {
                c.nudge();
            }
        }
        Ok(())
    }

    fn apply_now(
        &mut self,
        batch: &ImportBatch,
        original: OriginalCells<'_>,
        now: i64,
    ) -> Result<ImportCounters, StoreError> {
        if self.open_since.is_none() {
            let conn = self.conn()?;
            conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_err)?;
            let next_seq = conn
                .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM contacts", [], |r| {
                    r.get(0)
                })
                .map_err(sql_err)?;
            self.next_seq = next_seq;
            self.open_since = Some(Instant::now());
        }
        let conn = self
            .conn
            .as_ref()
            .ok_or_else(|| StoreError::corrupt("the import writer was used after an error"))?;
        let target = Target {
            import: &self.id,
            import_seq: self.import_seq,
            organization_seq: self.organization_seq,
            now,
        };
        let added = apply(conn, &target, &mut self.next_seq, batch, original)?;
        let open_for = self.open_since.map_or(Duration::ZERO, |t| t.elapsed());
        if open_for >= MIN_OPEN.max(self.last_commit * 4) {
            self.commit()?;
        }
        Ok(added)
    }

    /// Rolls back what is not committed, and drops the connection (its state is unknown).
    fn abandon(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.open_since.take().is_some()
        {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait::async_trait]
impl ImportWriter for SqliteImportWriter {
    async fn apply(
        &mut self,
        batch: &ImportBatch,
        original: OriginalCells<'_>,
        at: DateTime<Utc>,
    ) -> Result<ImportCounters, StoreError> {
        let applied = self.apply_now(batch, original, to_millis(at));
        if applied.is_err() {
            self.abandon();
        }
        applied
    }

    async fn finish(mut self: Box<Self>) -> Result<(), StoreError> {
        let committed = self.commit();
        if committed.is_err() {
            self.abandon();
        }
        committed
    }
}

impl Drop for SqliteImportWriter {
    fn drop(&mut self) {
        if self.open_since.is_some() {
            self.abandon();
        }
        // The last checkpoint finishes before the import is reported done.
        self.checkpointer = None;
        // Back to the store, warm, checkpointing by itself again, unless another import's
        // connection is there already.
        if let Some(conn) = self.conn.take()
            && conn
                .execute_batch(&format!(
                    "PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}"
                ))
                .is_ok()
            && let Ok(mut idle) = self.slot.lock()
            && idle.is_none()
        {
            *idle = Some(conn);
        }
    }
}

/// Page cache of the writer connection, in KiB (SQLite's negative `cache_size`). The
/// import's working set is the right edge of the contact B-trees plus the address B-tree,
/// which addresses reach in no order. Since the address entries are ~25 bytes (migration
/// 0004) that tree is ~28 MB at a million rows, and a bigger cache no longer buys speed
/// (32, 48 and 256 MiB all ran a million rows in ~7 s); 32 MiB keeps the import at
/// ~180 MB against its 200 MB budget.
pub const WRITER_CACHE_KIB: u32 = 32_768;

/// Where a row's channel address stands before the row is applied.
struct Holder {
    contact_seq: i64,
    customer_id: Option<String>,
}

/// What a batch is applied to: the import (id and seq), the organization, the time
/// (milliseconds).
struct Target<'a> {
    import: &'a str,
    import_seq: i64,
    organization_seq: i64,
    now: i64,
}

/// What one row did.
enum RowWrite {
    Updated,
    Unchanged,
    /// The address belongs to another contact (whose customer_id, if any).
    Conflict(Option<String>),
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    crate::direct::open(path, WRITER_CACHE_KIB)
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Applies `batch` to `target` inside the caller's transaction: upserts the rows (new
/// contacts take `next_seq` onwards), refuses those whose address another contact holds,
/// appends the report lines and adds the counters.
fn apply(
    tx: &Connection,
    target: &Target<'_>,
    next_seq: &mut i64,
    batch: &ImportBatch,
    original: OriginalCells<'_>,
) -> Result<ImportCounters, StoreError> {
    let Target {
        import,
        import_seq,
        organization_seq: org,
        now,
    } = *target;
    let kind = batch.channel.as_str();
    let mut contacts = ImportCounters::default();
    let mut conflicts = Vec::new();
    {
        let mut by_customer = tx
            .prepare_cached(
                "SELECT seq FROM contacts WHERE organization_seq = ?1 AND customer_id = ?2",
            )
            .map_err(sql_err)?;
        let mut holder_of = tx
            .prepare_cached(
                "SELECT a.contact_seq, c.customer_id FROM contact_addresses a \
                 LEFT JOIN contacts c ON c.seq = a.contact_seq \
                 WHERE a.address = ?1 AND a.channel_kind = ?2 AND a.organization_seq = ?3",
            )
            .map_err(sql_err)?;
        let mut insert_contact = tx
            .prepare_cached(
                "INSERT INTO contacts (seq, organization_seq, id, customer_id, fields, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
                 ON CONFLICT (organization_seq, customer_id) WHERE customer_id IS NOT NULL DO NOTHING",
            )
            .map_err(sql_err)?;
        // Changes nothing (and reports no change) when the merged values and the
        // customer_id are what the contact already has.
        let mut update_contact = tx
            .prepare_cached(
                "UPDATE contacts SET fields = json_patch(fields, ?2), \
                 customer_id = COALESCE(?3, customer_id), updated_at = ?4 \
                 WHERE seq = ?1 \
                 AND (fields IS NOT json_patch(fields, ?2) OR customer_id IS NOT COALESCE(?3, customer_id))",
            )
            .map_err(sql_err)?;
        // Claims the address for the row's new contact, unless someone holds it.
        let mut claim_address = tx
            .prepare_cached(
                "INSERT INTO contact_addresses (address, channel_kind, organization_seq, contact_seq) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )
            .map_err(sql_err)?;
        // Which contacts the import touched (a campaign's audience, migration 0018).
        let mut link = tx
            .prepare_cached(
                "INSERT INTO import_contacts (import_seq, contact_seq) VALUES (?1, ?2) \
                 ON CONFLICT DO NOTHING",
            )
            .map_err(sql_err)?;
        let mut move_address = tx
            .prepare_cached(
                "UPDATE contact_addresses SET contact_seq = ?4 \
                 WHERE address = ?1 AND channel_kind = ?2 AND organization_seq = ?3",
            )
            .map_err(sql_err)?;
        // In the order given: address order from the import runner (`ImportBatch::rows`).
        for (index, row) in batch.rows.iter().enumerate() {
            // Most rows of a first import are new contacts: claim the address, create the
            // contact, done. Look further only when either is taken.
            let seq = *next_seq;
            let claimed = claim_address
                .execute(params![row.address, kind, org, seq])
                .map_err(sql_err)?
                > 0;
            if claimed
                && insert_contact
                    .execute(params![
                        seq,
                        org,
                        row.new_id.to_string(),
                        row.customer_id,
                        row.fields_json,
                        now
                    ])
                    .map_err(sql_err)?
                    > 0
            {
                link.execute(params![import_seq, seq]).map_err(sql_err)?;
                *next_seq += 1;
                contacts.contacts_created += 1;
                continue;
            }
            let holder = if claimed {
                None
            } else {
                holder_of
                    .query_row(params![row.address, kind, org], |r| {
                        Ok(Holder {
                            contact_seq: r.get(0)?,
                            customer_id: r.get(1)?,
                        })
                    })
                    .optional()
                    .map_err(sql_err)?
            };
            // Matched by customer_id, else by address (a row with a new customer_id adopts
            // a contact that has none).
            let by_id: Option<i64> = match &row.customer_id {
                Some(c) => by_customer
                    .query_row(params![org, c], |r| r.get(0))
                    .optional()
                    .map_err(sql_err)?,
                None => None,
            };
            let matched = by_id.or_else(|| {
                holder
                    .as_ref()
                    .filter(|h| row.customer_id.is_none() || h.customer_id.is_none())
                    .map(|h| h.contact_seq)
            });
            let outcome = match (matched, &holder) {
                (_, Some(h)) if matched != Some(h.contact_seq) => {
                    RowWrite::Conflict(h.customer_id.clone())
                }
                (None, _) => {
                    // The address was claimed and the customer_id is taken, or the address
                    // is taken and nobody holds it: the indexes and the tables disagree.
                    return Err(StoreError::corrupt(format!(
                        "row {}: a unique key is taken but no contact has it",
                        row.row_number
                    )));
                }
                (Some(contact), _) => {
                    let changed = update_contact
                        .execute(params![contact, row.fields_json, row.customer_id, now])
                        .map_err(sql_err)?;
                    // A claimed address goes to the contact the customer_id found.
                    if claimed {
                        move_address
                            .execute(params![row.address, kind, org, contact])
                            .map_err(sql_err)?;
                    }
                    link.execute(params![import_seq, contact])
                        .map_err(sql_err)?;
                    if changed > 0 || claimed {
                        RowWrite::Updated
                    } else {
                        RowWrite::Unchanged
                    }
                }
            };
            match outcome {
                RowWrite::Updated => contacts.contacts_updated += 1,
                RowWrite::Unchanged => contacts.contacts_unchanged += 1,
                RowWrite::Conflict(owner) => conflicts.push((index, owner)),
            }
        }
    }
    let (counters, lines) = batch.settle(contacts, &conflicts, original);
    insert_reject_lines(tx, import, &lines)?;
    if counters.rows_imported > 0 {
        insert_new_fields(tx, &batch.new_fields, now)?;
    }
    tx.execute(
        "UPDATE imports SET rows_total = rows_total + ?2, rows_imported = rows_imported + ?3, \
         rows_rejected = rows_rejected + ?4, contacts_created = contacts_created + ?5, \
         contacts_updated = contacts_updated + ?6, contacts_unchanged = contacts_unchanged + ?7, \
         bytes_read = MAX(bytes_read, ?8), rows_through = MAX(rows_through, ?9) WHERE id = ?1",
        params![
            import,
            as_i64(counters.rows_total),
            as_i64(counters.rows_imported),
            as_i64(counters.rows_rejected),
            as_i64(counters.contacts_created),
            as_i64(counters.contacts_updated),
            as_i64(counters.contacts_unchanged),
            as_i64(batch.bytes_read),
            as_i64(batch.through_row)
        ],
    )
    .map_err(sql_err)?;
    Ok(counters)
}

crate::rows::numbered_sql! {
    INSERT_FIELD_IF_MISSING = parley_store_sql::sql::INSERT_FIELD_IF_MISSING;
}

/// Creates the batch's new field definitions that do not exist yet.
fn insert_new_fields(
    tx: &Connection,
    fields: &[parley_domain::FieldDefinition],
    now: i64,
) -> Result<(), StoreError> {
    if fields.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(&INSERT_FIELD_IF_MISSING)
        .map_err(sql_err)?;
    for f in fields {
        insert
            .execute(params![
                f.organization_id.to_string(),
                f.key.as_str(),
                f.label,
                f.field_type.as_str(),
                i64::from(f.pii),
                now
            ])
            .map_err(sql_err)?;
    }
    Ok(())
}

/// Appends `lines` after the import's existing report lines.
fn insert_reject_lines(tx: &Connection, id: &str, lines: &[RejectLine]) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let first: i64 = tx
        .query_row(
            "SELECT reject_lines FROM imports WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO import_rejects (import_id, line, row_number, column_name, value, reason, original) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(sql_err)?;
    let mut line = first;
    for l in lines {
        line += 1;
        let original =
            serde_json::to_string(&l.original).map_err(|e| StoreError::Other(Box::new(e)))?;
        insert
            .execute(params![
                id,
                line,
                as_i64(l.row_number),
                l.column,
                l.value,
                l.reason,
                original
            ])
            .map_err(sql_err)?;
    }
    tx.execute(
        "UPDATE imports SET reject_lines = ?2 WHERE id = ?1",
        params![id, line],
    )
    .map_err(sql_err)?;
    Ok(())
}
