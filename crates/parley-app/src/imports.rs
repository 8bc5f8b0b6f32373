//! Imports as the API and CLI start them (SPEC §3): an upload or JSON rows becomes an
//! import record plus its source kept in the store, and [`ImportJob`] reads it in the
//! background. The CLI runs the same reading in-process on a local file. SFTP import
//! inboxes ([`inbox`]) poll a folder on an SFTP destination and import each finished file
//! the same way.
//!
//! Decisions: the source is deleted from the store once the import completes or fails
//! (the rejects report keeps the original cells of every refused row); the largest upload
//! is `Settings::max_import_bytes`; a format is chosen by the file name's extension.

pub mod inbox;
mod job;
mod run;

use parley_domain::{
    ImportCounters, ImportFormat, ImportId, ImportOptions, ImportRecord, ImportStatus, Permission,
};
use parley_jobs::enqueue;
use parley_store::{Page, PageRequest, RejectLine};

pub use job::ImportJob;
/// What a preview is made of, for the pages that show one.
pub use parley_import::text::Encoding;
pub use parley_import::{Preview, PreviewCell, Target, normalise_header};
pub use run::{ImportRun, RunOutcome};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError};

/// The most bytes a preview reads: the head of a CSV file, or a whole workbook.
pub const PREVIEW_BYTES: usize = 16 * 1024 * 1024;

/// Size of the chunks an uploaded file is stored in.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// An upload in progress: bytes are buffered into store chunks as they arrive.
pub struct ImportUpload<'a> {
    app: &'a App,
    record: ImportRecord,
    buffer: Vec<u8>,
    seq: u32,
    bytes: u64,
}

impl ImportUpload<'_> {
    /// Appends received bytes.
    pub async fn push(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.bytes += data.len() as u64;
        if self.bytes > self.app.settings.max_import_bytes {
            return Err(AppError::invalid(
                "file",
                format!(
                    "is larger than {} bytes",
                    self.app.settings.max_import_bytes
                ),
            ));
        }
        self.buffer.extend_from_slice(data);
        while self.buffer.len() >= CHUNK_BYTES {
            let rest = self.buffer.split_off(CHUNK_BYTES);
            let chunk = std::mem::replace(&mut self.buffer, rest);
            self.store_chunk(&chunk).await?;
        }
        Ok(())
    }

    async fn store_chunk(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.app
            .store
            .put_import_chunk(self.record.id, self.seq, chunk)
            .await?;
        self.seq += 1;
        Ok(())
    }

    /// Stores the rest and queues the import.
    pub async fn finish(mut self) -> Result<ImportRecord, AppError> {
        let rest = std::mem::take(&mut self.buffer);
        if !rest.is_empty() {
            self.store_chunk(&rest).await?;
        }
        self.record.bytes_total = self.bytes;
        self.app
            .store
            .set_import_size(self.record.id, self.bytes)
            .await?;
        self.app.queue_import(&self.record).await?;
        Ok(self.record)
    }

    /// Gives up: the import is marked failed with `reason` and its bytes are dropped.
    pub async fn abort(self, reason: &str) -> Result<(), AppError> {
        let now = self.app.clock.now();
        self.app.store.delete_import_chunks(self.record.id).await?;
        self.app
            .store
            .finish_import(self.record.id, ImportStatus::Failed, Some(reason), now)
            .await?;
        Ok(())
    }
}

/// Imports this process is running and how far each has got: the store holds only what
/// the writer has committed, and the SQLite writer commits every few seconds (a commit
/// per batch rewrote the address index each time), so a page following an import reads
/// its progress here, batch by batch, while it runs in this process. Another process's
/// import is shown as committed.
#[derive(Default)]
pub(crate) struct Running(
    std::sync::Mutex<std::collections::HashMap<ImportId, (ImportCounters, u64)>>,
);

impl Running {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut std::collections::HashMap<ImportId, (ImportCounters, u64)>) -> T,
    ) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// An import starts (or resumes) from `record`'s committed counters.
    pub(crate) fn start(&self, record: &ImportRecord) {
        self.with(|m| m.insert(record.id, (record.counters, record.bytes_read)));
    }

    /// A batch added `added` and the source has been read to `bytes_read`.
    pub(crate) fn note(&self, id: ImportId, added: &ImportCounters, bytes_read: u64) {
        self.with(|m| {
            if let Some((counters, bytes)) = m.get_mut(&id) {
                counters.add(added);
                *bytes = (*bytes).max(bytes_read);
            }
        });
    }

    /// The import ended in this process.
    pub(crate) fn end(&self, id: ImportId) {
        self.with(|m| m.remove(&id));
    }

    /// `record` with the progress this process knows of, while it runs.
    fn overlay(&self, mut record: ImportRecord) -> ImportRecord {
        if record.status == ImportStatus::Running
            && let Some((counters, bytes)) = self.with(|m| m.get(&record.id).copied())
            && counters.rows_total > record.counters.rows_total
        {
            record.counters = counters;
            record.bytes_read = record.bytes_read.max(bytes);
        }
        record
    }
}

/// One page of the rejects report.
#[derive(Debug, Clone)]
pub struct RejectsPage {
    /// The file's header (the report's trailing columns).
    pub header: Vec<String>,
    /// Lines with their numbers.
    pub lines: Vec<(u64, RejectLine)>,
}

impl RejectsPage {
    /// The report's header line, as CSV.
    #[must_use]
    pub fn header_csv(&self) -> Vec<u8> {
        parley_import::report::header_line(&self.header)
    }

    /// This page's lines, as CSV.
    #[must_use]
    pub fn lines_csv(&self) -> Vec<u8> {
        reject_lines_csv(&self.lines)
    }
}

/// Rejects report lines, as CSV.
fn reject_lines_csv(lines: &[(u64, RejectLine)]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|(_, l)| {
            parley_import::report::reject_line(
                l.row_number,
                &l.column,
                &l.value,
                &l.reason,
                &l.original,
            )
        })
        .collect()
}

/// The format a file name's extension names, or the 422 saying which are accepted.
/// The top level of a JSON rows document, read without keeping its rows.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RowsEnvelope {
    #[allow(dead_code)]
    rows: serde::de::IgnoredAny,
    #[serde(default)]
    options: ImportOptions,
}

/// A sink that stops at the header: the rows' shape was checked by then.
struct HeaderOnly;

impl parley_import::RowSink for HeaderOnly {
    fn header(&mut self, _: Vec<String>) -> Result<(), parley_import::source::Stop> {
        Err(parley_import::source::Stop)
    }
    fn row(&mut self, _: parley_import::Row) -> Result<(), parley_import::source::Stop> {
        Err(parley_import::source::Stop)
    }
}

/// Reads a JSON rows document's options and checks its rows' shape, streaming; every
/// problem as a field error.
fn check_rows_document(path: &std::path::Path) -> Result<ImportOptions, AppError> {
    use parley_import::ReadError;
    let open = || std::fs::File::open(path).map_err(|e| AppError::Internal(Box::new(e)));
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(open()?));
    let envelope: RowsEnvelope = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "rows".to_owned() } else { path };
        AppError::invalid(field, e.into_inner().to_string())
    })?;
    let limits = parley_import::SheetLimits::default();
    match parley_import::rows::read_json_rows(open()?, &limits, &mut HeaderOnly) {
        Ok(_) => Ok(envelope.options),
        Err(ReadError::Empty) => Err(AppError::invalid("rows", "must hold at least one row")),
        Err(ReadError::JsonRow { row, message }) => Err(AppError::invalid(
            format!("rows[{}]", row.saturating_sub(1)),
            message,
        )),
        Err(e @ ReadError::TooManyKeys { row, .. }) => Err(AppError::invalid(
            format!("rows[{}]", row.saturating_sub(1)),
            e.to_string(),
        )),
        Err(other) => Err(AppError::invalid("rows", other.to_string())),
    }
}

pub(crate) fn format_of(file_name: &str) -> Result<ImportFormat, AppError> {
    ImportFormat::from_file_name(file_name)
        .ok_or_else(|| AppError::invalid("file", "must be a .csv, .xls or .xlsx file"))
}

impl App {
    fn new_import_record(
        &self,
        organization: parley_domain::OrgId,
        format: ImportFormat,
        file_name: Option<String>,
        options: ImportOptions,
    ) -> ImportRecord {
        ImportRecord {
            id: ImportId::generate(),
            organization_id: organization,
            status: ImportStatus::Queued,
            format,
            file_name,
            options,
            counters: ImportCounters::default(),
            bytes_total: 0,
            bytes_read: 0,
            rows_through: 0,
            error: None,
            warnings: Vec::new(),
            created_at: self.clock.now(),
            started_at: None,
            finished_at: None,
        }
    }

    /// What `file_name` would become if imported with `options`: its first rows as the
    /// import reads them, the plan of its columns and each shown cell read (see
    /// [`parley_import::preview`]). `bytes` is the whole file, or the head of a CSV file
    /// when `partial`, at most [`PREVIEW_BYTES`]. Nothing is stored.
    pub async fn preview_import(
        &self,
        access: &Access,
        file_name: &str,
        bytes: Vec<u8>,
        partial: bool,
        options: ImportOptions,
    ) -> Result<parley_import::Preview, AppError> {
        access.require(Permission::ContactsWrite)?;
        let format = format_of(file_name)?;
        if bytes.len() > PREVIEW_BYTES {
            return Err(AppError::invalid(
                "file",
                format!(
                    "is larger than the {PREVIEW_BYTES} bytes a preview reads; import it without one"
                ),
            ));
        }
        if partial && format != ImportFormat::Csv {
            return Err(AppError::invalid(
                "file",
                "a workbook is previewed whole, not its head",
            ));
        }
        let organization = &access.organization;
        let known = self.list_fields(access).await?;
        let context = parley_import::ValueContext::new(
            options
                .default_country
                .unwrap_or(organization.default_country),
            options.date_order.unwrap_or(organization.locale),
        );
        tokio::task::spawn_blocking(move || {
            parley_import::preview(&bytes, partial, format, &options, &known, context)
        })
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?
        .map_err(|e| AppError::invalid("file", e.to_string()))
    }

    /// Starts an upload of `file_name` (its extension picks the format).
    pub async fn start_upload(
        &self,
        access: &Access,
        file_name: &str,
        options: ImportOptions,
    ) -> Result<ImportUpload<'_>, AppError> {
        access.require(Permission::ContactsWrite)?;
        let format = format_of(file_name)?;
        let record =
            self.new_import_record(access.org_id(), format, Some(file_name.to_owned()), options);
        self.store
            .create_import(&record, access.principal.user())
            .await?;
        Ok(ImportUpload {
            app: self,
            record,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            seq: 0,
            bytes: 0,
        })
    }

    /// Queues an import of JSON rows from `path`, a document `{"rows": [ {…}, … ],
    /// "options": {…}}` as the API receives it. The document is read as a stream, one row
    /// in memory at a time: its options, then its rows' shape (objects of strings,
    /// numbers, booleans or nulls, at most the column limit of distinct keys), each
    /// problem named by field (`rows[3]`, `options.mapping`) before anything is stored.
    /// The job reads the stored document again the same way.
    pub async fn import_rows_file(
        &self,
        access: &Access,
        path: &std::path::Path,
    ) -> Result<ImportRecord, AppError> {
        access.require(Permission::ContactsWrite)?;
        let file = path.to_owned();
        let options = tokio::task::spawn_blocking(move || check_rows_document(&file))
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))??;
        let record = self.new_import_record(access.org_id(), ImportFormat::Rows, None, options);
        self.store
            .create_import(&record, access.principal.user())
            .await?;
        let mut upload = ImportUpload {
            app: self,
            record,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            seq: 0,
            bytes: 0,
        };
        let mut source = tokio::fs::File::open(path)
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let mut chunk = vec![0u8; CHUNK_BYTES];
        loop {
            use tokio::io::AsyncReadExt;
            let n = source
                .read(&mut chunk)
                .await
                .map_err(|e| AppError::Internal(Box::new(e)))?;
            if n == 0 {
                break;
            }
            upload.push(&chunk[..n]).await?;
        }
        upload.finish().await
    }

    async fn queue_import(&self, record: &ImportRecord) -> Result<(), AppError> {
        let now = self.clock.now();
        enqueue(
            &*self.store,
            &ImportJob {
                import_id: record.id,
            },
            now,
            now,
            Some(record.id.to_string()),
        )
        .await?;
        // Taken at once by this process's workers, not at their next poll.
        self.runtime.wake();
        Ok(())
    }

    /// An import's record as it stands, for the CLI (which runs as the installation, with
    /// no caller to check).
    pub async fn admin_find_import(&self, id: ImportId) -> Result<Option<ImportRecord>, AppError> {
        Ok(self.store.find_import(id).await?)
    }

    /// Creates the record for importing a local file into `organization` in this process
    /// (the CLI and the benchmark), to be run with [`App::run_import`].
    pub async fn admin_start_file_import(
        &self,
        organization: parley_domain::OrgId,
        path: &std::path::Path,
        options: ImportOptions,
    ) -> Result<ImportRecord, AppError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let format = format_of(&name)?;
        let bytes_total = std::fs::metadata(path)
            .map_err(|e| AppError::invalid("file", format!("cannot be read: {e}")))?
            .len();
        let organization = self
            .store
            .get_organization(organization)
            .await
            .or_not_found("organization")?;
        let mut record = self.new_import_record(organization.id, format, Some(name), options);
        record.bytes_total = bytes_total;
        self.store.create_import(&record, None).await?;
        Ok(record)
    }

    /// An import and its progress.
    pub async fn get_import(
        &self,
        access: &Access,
        id: ImportId,
    ) -> Result<ImportRecord, AppError> {
        access.require(Permission::ContactsRead)?;
        let record = self
            .store
            .get_import(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound("import"))?;
        Ok(self.running_imports.overlay(record))
    }

    /// The organization's imports, oldest first.
    pub async fn list_imports(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<ImportRecord>, AppError> {
        access.require(Permission::ContactsRead)?;
        let page = self.store.list_imports(access.org_id(), page).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|r| self.running_imports.overlay(r))
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Writes the whole rejects report of `id` as CSV to `out`: the header line, then
    /// every refused row with its reason and original cells. Returns the rows written.
    pub async fn write_rejects_csv(
        &self,
        id: ImportId,
        out: &mut impl std::io::Write,
    ) -> Result<u64, AppError> {
        let write = |out: &mut dyn std::io::Write, bytes: &[u8]| {
            out.write_all(bytes)
                .map_err(|e| AppError::Internal(Box::new(e)))
        };
        let header = self.store.import_header(id).await?;
        write(out, &parley_import::report::header_line(&header))?;
        let (mut after, mut rows) = (0, 0);
        loop {
            let lines = self.store.import_reject_lines(id, after, 5000).await?;
            let Some((last, _)) = lines.last() else {
                break;
            };
            after = *last;
            rows += lines.len() as u64;
            write(out, &reject_lines_csv(&lines))?;
        }
        out.flush().map_err(|e| AppError::Internal(Box::new(e)))?;
        Ok(rows)
    }

    /// A page of the rejects report, after line `after`.
    pub async fn rejects_page(
        &self,
        access: &Access,
        id: ImportId,
        after: u64,
        limit: u32,
    ) -> Result<RejectsPage, AppError> {
        let record = self.get_import(access, id).await?;
        Ok(RejectsPage {
            header: self.store.import_header(record.id).await?,
            lines: self
                .store
                .import_reject_lines(record.id, after, limit)
                .await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use parley_domain::{
        ImportCounters, ImportFormat, ImportId, ImportOptions, ImportRecord, ImportStatus, OrgId,
    };

    use super::Running;

    fn record(status: ImportStatus, rows: u64) -> ImportRecord {
        ImportRecord {
            id: ImportId::generate(),
            organization_id: OrgId::generate(),
            status,
            format: ImportFormat::Csv,
            file_name: None,
            options: ImportOptions::default(),
            counters: ImportCounters {
                rows_total: rows,
                rows_imported: rows,
                ..ImportCounters::default()
            },
            bytes_total: 1000,
            bytes_read: 10,
            rows_through: rows,
            error: None,
            warnings: Vec::new(),
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn a_running_import_shows_the_progress_of_its_process_until_it_ends() {
        let running = Running::default();
        let stored = record(ImportStatus::Running, 5);
        running.start(&stored);
        let batch = ImportCounters {
            rows_total: 10,
            rows_imported: 9,
            rows_rejected: 1,
            ..ImportCounters::default()
        };
        running.note(stored.id, &batch, 600);
        let shown = running.overlay(stored.clone());
        assert_eq!(
            (
                shown.counters.rows_total,
                shown.counters.rows_imported,
                shown.counters.rows_rejected
            ),
            (15, 14, 1)
        );
        assert_eq!(shown.bytes_read, 600, "the share read moves with it");
        let mut done = stored.clone();
        done.status = ImportStatus::Completed;
        assert_eq!(
            running.overlay(done.clone()),
            done,
            "a finished import is what the store says"
        );
        let mut ahead = stored.clone();
        ahead.counters.rows_total = 50;
        assert_eq!(
            running.overlay(ahead.clone()),
            ahead,
            "never behind the store"
        );
        running.end(stored.id);
        assert_eq!(
            running.overlay(stored.clone()),
            stored,
            "another process's import: as committed"
        );
    }
}
