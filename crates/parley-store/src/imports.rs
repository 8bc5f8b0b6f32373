//! The imports port: the import record, the uploaded file (kept in the store in chunks, so
//! any node can run the job), batches applied atomically with their counters and rejects,
//! and the rejects report.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    ChannelKind, FieldDefinition, ImportCounters, ImportId, ImportRecord, ImportStatus, OrgId,
    UserId,
};

use crate::{Page, PageRequest, StoreError};

/// One valid row to upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The row number in the file.
    pub row_number: u64,
    /// The id the contact gets if the row creates one.
    pub new_id: parley_domain::ContactId,
    /// The organization's reference.
    pub customer_id: Option<String>,
    /// The normalised channel address.
    pub address: String,
    /// The values as a JSON object.
    pub fields_json: String,
}

/// One line of the rejects report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectLine {
    /// The row number in the file.
    pub row_number: u64,
    /// The column (header).
    pub column: String,
    /// The value as the file held it.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
    /// The original cells of the row.
    pub original: Vec<String>,
}

/// What a batch carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportBatch {
    /// The channel of the addresses.
    pub channel: ChannelKind,
    /// Valid rows; the import runner sends them in address order, which writers may rely
    /// on for speed (never for correctness: a file repeats no address or customer_id).
    pub rows: Vec<ImportRow>,
    /// Rows already refused by validation (each has at least one line).
    pub rejected_rows: u64,
    /// Their report lines.
    pub reject_lines: Vec<RejectLine>,
    /// Progress to record.
    pub bytes_read: u64,
    /// The last source row number this batch settles (every row up to it is settled once
    /// the batch commits): recorded as the import's `rows_through`, where a retried job
    /// resumes.
    pub through_row: u64,
    /// Field definitions to create, where the organization has none by their key, in the
    /// same transaction as the batch's rows, if the batch imports at least one row: a
    /// file whose every row is refused makes no fields.
    pub new_fields: Vec<FieldDefinition>,
}

/// Gives the original cells of `rows[index]` (used only for rows the store refuses).
pub type OriginalCells<'a> = &'a (dyn Fn(usize) -> Vec<String> + Sync);

/// A batch's row refused because its address belongs to another contact: the row's
/// index in the batch and that contact's customer_id, if it has one.
pub type Conflict = (usize, Option<String>);

impl ImportBatch {
    /// What applying the batch adds, given how its rows went: `contacts` carries the
    /// created, updated and unchanged tallies, `conflicts` the refused rows. Returns the
    /// full counters and the report lines (validation's and one per conflict, in row
    /// order). Both engines settle a batch this way.
    #[must_use]
    pub fn settle(
        &self,
        contacts: ImportCounters,
        conflicts: &[Conflict],
        original: OriginalCells<'_>,
    ) -> (ImportCounters, Vec<RejectLine>) {
        let mut lines = self.reject_lines.clone();
        lines.extend(conflicts.iter().filter_map(|(index, owner)| {
            let row = self.rows.get(*index)?;
            let whose = owner.as_deref().map_or_else(
                || "another contact".to_owned(),
                |c| format!("the contact with customer_id {c}"),
            );
            Some(RejectLine {
                row_number: row.row_number,
                column: "(channel address)".to_owned(),
                value: row.address.clone(),
                reason: format!("the channel address already belongs to {whose}"),
                original: original(*index),
            })
        }));
        lines.sort_by_key(|l| l.row_number);
        let rows_imported =
            contacts.contacts_created + contacts.contacts_updated + contacts.contacts_unchanged;
        let rows_rejected = self.rejected_rows + conflicts.len() as u64;
        let counters = ImportCounters {
            rows_total: rows_imported + rows_rejected,
            rows_imported,
            rows_rejected,
            ..contacts
        };
        (counters, lines)
    }
}

/// Applies one import's batches, in file order; see [`ImportStore::import_writer`].
/// Methods may do blocking work on the calling thread (SQLite's writer does): the import
/// runner calls them from a blocking thread.
#[async_trait]
pub trait ImportWriter: Send {
    /// Applies a batch. Returns what it added to the counters. After an error the writer
    /// has rolled back everything it had not committed, and must be dropped.
    async fn apply(
        &mut self,
        batch: &ImportBatch,
        original: OriginalCells<'_>,
        at: DateTime<Utc>,
    ) -> Result<ImportCounters, StoreError>;

    /// Commits whatever is applied and not committed yet.
    async fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

/// Imports and their reports.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Stores a new (queued) import.
    async fn create_import(
        &self,
        record: &ImportRecord,
        created_by: Option<UserId>,
    ) -> Result<(), StoreError>;

    /// Records the source's size once the upload is complete.
    async fn set_import_size(&self, id: ImportId, bytes_total: u64) -> Result<(), StoreError>;

    /// Appends chunk `seq` (0, 1, 2…) of the uploaded file.
    async fn put_import_chunk(&self, id: ImportId, seq: u32, data: &[u8])
    -> Result<(), StoreError>;

    /// Chunk `seq` of the uploaded file (`None` past the end).
    async fn import_chunk(&self, id: ImportId, seq: u32) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes the stored file (after the import, or by retention).
    async fn delete_import_chunks(&self, id: ImportId) -> Result<(), StoreError>;

    /// An import of `organization`.
    async fn get_import(
        &self,
        organization: OrgId,
        id: ImportId,
    ) -> Result<Option<ImportRecord>, StoreError>;

    /// An import by id alone (for the job).
    async fn find_import(&self, id: ImportId) -> Result<Option<ImportRecord>, StoreError>;

    /// Imports of exactly `organization`, ordered by id.
    async fn list_imports(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<ImportRecord>, StoreError>;

    /// Marks the import running and starts it over: counters to zero, report emptied,
    /// the header and warnings recorded. A retried job calls this again; rows applied by
    /// the earlier attempt are found unchanged, so nothing is counted twice.
    async fn start_import(
        &self,
        id: ImportId,
        header: &[String],
        warnings: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// A writer for import `id`'s batches. Each batch upserts its rows (by `customer_id`,
    /// else by address), refuses rows whose address belongs to another contact, writes
    /// the report lines and adds to the counters, atomically with its rows. The engine
    /// groups batches into commits as suits it, and everything applied is committed when
    /// [`ImportWriter::finish`] returns; a writer dropped without `finish` rolls back what
    /// it had not committed, so the counters always describe the committed contacts.
    async fn import_writer(
        &self,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Box<dyn ImportWriter>, StoreError>;

    /// Applies one batch and commits it.
    async fn apply_import_batch(
        &self,
        id: ImportId,
        organization: OrgId,
        batch: &ImportBatch,
        original: OriginalCells<'_>,
        at: DateTime<Utc>,
    ) -> Result<ImportCounters, StoreError> {
        let mut writer = self.import_writer(id, organization).await?;
        let added = writer.apply(batch, original, at).await?;
        writer.finish().await?;
        Ok(added)
    }

    /// Records the final status (`completed` or `failed` with its error).
    async fn finish_import(
        &self,
        id: ImportId,
        status: ImportStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The recorded header (for the report's columns).
    async fn import_header(&self, id: ImportId) -> Result<Vec<String>, StoreError>;

    /// Report lines after line `after` (0 for the first), at most `limit`, in order, each
    /// with its line number.
    async fn import_reject_lines(
        &self,
        id: ImportId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, RejectLine)>, StoreError>;
}
