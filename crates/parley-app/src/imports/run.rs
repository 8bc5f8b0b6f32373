//! Running an import in this process: the `parley-import` pipeline on a blocking thread,
//! its batches applied through the store port. The API's job and the CLI both come here.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::{
    ChannelKind, ContactId, FieldDefinition, IdSequence, ImportId, ImportStatus, OrgId,
};
use parley_import::pipeline::{self, Batch, ImportConsumer, PipelineError, PipelineOptions};
use parley_import::{ImportPlan, PlanError, ValueContext};
use parley_store::{ImportBatch, ImportRow, ImportWriter, RejectLine, Store, StoreError};
use tokio::runtime::Handle;

use crate::{App, AppError};

/// Where the rows are.
#[derive(Debug)]
pub enum ImportRun {
    /// A local file in the import's format (for JSON rows, the document as the API took
    /// it).
    File(PathBuf),
}

/// How an import ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every row was imported or rejected.
    Completed,
    /// The source could not be read; the message names the problem and where.
    Failed(String),
}

#[derive(Debug)]
enum ConsumerError {
    Plan(PlanError),
    Store(StoreError),
}

struct StoreConsumer {
    handle: Handle,
    app: App,
    id: ImportId,
    organization: OrgId,
    channel: ChannelKind,
    options: parley_domain::ImportOptions,
    known: Vec<FieldDefinition>,
    /// Opened once the import has started; see `ImportStore::import_writer`.
    writer: Option<Box<dyn ImportWriter>>,
    /// Ids for the contacts the import may create.
    ids: IdSequence,
    /// Frees applied batches away from the writer's thread.
    reclaim: Reclaim,
    /// Rows up to this source row number were settled by an earlier attempt of the job
    /// (it crashed, or its process did): they are read again (so repeats are still found
    /// across the whole file) but neither applied nor counted again.
    resume_after: u64,
    /// How values are read (for typing new columns).
    context: ValueContext,
    /// The fields the plan makes, until a batch has imported a row (and created them).
    new_fields: Vec<FieldDefinition>,
}

/// Forgets an import's progress in this process when its run ends.
struct Ended<'a>(&'a App, ImportId);

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        self.0.running_imports.end(self.1);
    }
}

/// What is left of a batch once the writer has applied it.
type Spent = (ImportBatch, Vec<parley_import::Row>);

/// A thread that drops spent batches. Freeing a batch's many small allocations (rows,
/// their strings, their sources) took ~0.4 s of a million-row import on the thread that
/// applies batches, which is the import's bottleneck; here it overlaps the writer. At
/// most one spent batch waits (and one is being freed), so memory stays bounded if the
/// thread falls behind.
struct Reclaim {
    tx: Option<std::sync::mpsc::SyncSender<Spent>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reclaim {
    fn start() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Spent>(1);
        let thread = std::thread::Builder::new()
            .name("import-reclaim".to_owned())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok();
        Self {
            tx: thread.is_some().then_some(tx),
            thread,
        }
    }

    /// Hands `spent` to the thread (or drops it here if the thread could not start).
    fn give(&self, spent: Spent) {
        if let Some(tx) = &self.tx
            && let Err(returned) = tx.send(spent)
        {
            drop(returned.0);
        }
    }
}

impl Drop for Reclaim {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl StoreConsumer {
    fn store(&self) -> &dyn Store {
        &*self.app.store
    }

    /// Commits what the writer has applied (nothing to do when no batch came).
    fn finish(&mut self) -> Result<(), StoreError> {
        match self.writer.take() {
            Some(writer) => self.handle.block_on(writer.finish()),
            None => Ok(()),
        }
    }
}

impl ImportConsumer for StoreConsumer {
    type Error = ConsumerError;

    fn plan(
        &mut self,
        header: &[String],
        sample: &[&parley_import::Row],
    ) -> Result<ImportPlan, ConsumerError> {
        let mut plan =
            parley_import::plan(header, &self.options, &self.known).map_err(ConsumerError::Plan)?;
        parley_import::type_new_fields(&mut plan, sample, &mut self.context);
        let now = self.app.clock.now();
        self.new_fields = plan
            .new_fields
            .iter()
            .map(|f| FieldDefinition {
                organization_id: self.organization,
                key: f.key.clone(),
                label: f.label.clone(),
                field_type: f.field_type,
                pii: f.pii,
                builtin: false,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let writer = self
            .handle
            .block_on(async {
                self.store()
                    .start_import(self.id, header, &plan.warnings, now)
                    .await?;
                self.store().import_writer(self.id, self.organization).await
            })
            .map_err(ConsumerError::Store)?;
        self.writer = Some(writer);
        Ok(plan)
    }

    fn batch(&mut self, mut batch: Batch) -> Result<(), ConsumerError> {
        let through_row = batch
            .rows
            .iter()
            .map(|r| r.number)
            .chain(batch.rejects.iter().map(|r| r.number))
            .max()
            .unwrap_or(0);
        if through_row <= self.resume_after {
            return Ok(());
        }
        if batch
            .rows
            .first()
            .is_some_and(|r| r.number <= self.resume_after)
            || batch
                .rejects
                .first()
                .is_some_and(|r| r.number <= self.resume_after)
        {
            let after = self.resume_after;
            let (rows, sources): (Vec<_>, Vec<_>) = batch
                .rows
                .into_iter()
                .zip(batch.sources)
                .filter(|(r, _)| r.number > after)
                .unzip();
            batch.rows = rows;
            batch.sources = sources;
            batch.rejects.retain(|r| r.number > after);
        }
        let mut reject_lines = Vec::new();
        for r in &batch.rejects {
            for p in &r.problems {
                reject_lines.push(RejectLine {
                    row_number: r.number,
                    column: p.column.clone(),
                    value: p.value.clone(),
                    reason: p.reason.clone(),
                    original: r.original.clone(),
                });
            }
        }
        // Rows go to the writer in address order, with their sources alongside: the
        // address B-tree is then walked in one direction, and ids handed out in this
        // order land at the right edge of the id index (in file order they scattered
        // over the batch's part of it: ~1.3 s of a million rows). A file repeats neither
        // an address nor a customer_id (those rows are refused), so the order of rows in
        // a batch changes no outcome.
        let mut pairs: Vec<_> = batch.rows.into_iter().zip(batch.sources).collect();
        pairs.sort_unstable_by(|a, b| a.0.address.cmp(&b.0.address));
        let (rows, sources): (Vec<ImportRow>, Vec<parley_import::Row>) = pairs
            .into_iter()
            .map(|(r, source)| {
                let row = ImportRow {
                    row_number: r.number,
                    new_id: ContactId::next_of(&mut self.ids),
                    customer_id: r.customer_id,
                    address: r.address,
                    fields_json: r.fields_json,
                };
                (row, source)
            })
            .unzip();
        // Created with the first row imported (none while every row is refused).
        let new_fields = if rows.is_empty() {
            Vec::new()
        } else {
            self.new_fields.clone()
        };
        let applied = ImportBatch {
            channel: self.channel,
            rows,
            rejected_rows: batch.rejects.len() as u64,
            reject_lines,
            bytes_read: batch.bytes_read,
            through_row,
            new_fields,
        };
        let original = |i: usize| {
            sources
                .get(i)
                .map(parley_import::Row::to_strings)
                .unwrap_or_default()
        };
        let now = self.app.clock.now();
        let writer = self.writer.as_mut().ok_or_else(|| {
            ConsumerError::Store(StoreError::corrupt("a batch came before the plan"))
        })?;
        let counters = self
            .handle
            .block_on(writer.apply(&applied, &original, now))
            .map_err(ConsumerError::Store)?;
        self.app
            .running_imports
            .note(self.id, &counters, applied.bytes_read);
        if counters.rows_imported > 0 {
            self.new_fields.clear();
        }
        self.reclaim.give((applied, sources));
        Ok(())
    }
}

impl App {
    /// Reads `source` into import `id` in this process. `bytes_read` grows as the source
    /// is read (the CLI's progress bar). A source that cannot be read marks the import
    /// failed and is reported as [`RunOutcome::Failed`]; a store failure is an error (the
    /// job retries, going on after the last row it committed).
    pub async fn run_import(
        &self,
        id: ImportId,
        source: ImportRun,
        bytes_read: Arc<AtomicU64>,
    ) -> Result<RunOutcome, AppError> {
        let record = self
            .store
            .find_import(id)
            .await?
            .ok_or(AppError::NotFound("import"))?;
        let organization = self.store.get_organization(record.organization_id).await?;
        let mut known = FieldDefinition::builtins(organization.id);
        known.extend(self.store.list_fields(organization.id).await?);
        let country = record
            .options
            .default_country
            .unwrap_or(organization.default_country);
        let order = record.options.date_order.unwrap_or(organization.locale);
        let mut consumer = StoreConsumer {
            handle: Handle::current(),
            app: self.clone(),
            id,
            organization: organization.id,
            channel: record.options.channel_kind(),
            options: record.options.clone(),
            known,
            writer: None,
            ids: IdSequence::new(),
            reclaim: Reclaim::start(),
            resume_after: record.rows_through,
            context: ValueContext::new(country, order),
            new_fields: Vec::new(),
        };
        if record.rows_through > 0 {
            tracing::info!(import = %id, after_row = record.rows_through, "resuming an import after its last committed row");
        }
        // Followed in this process until it ends, however it ends.
        self.running_imports.start(&record);
        let _ended = Ended(self, id);
        let format = record.format;
        let sheet = record.options.sheet.clone();
        let counter = Arc::clone(&bytes_read);
        let limits = parley_import::SheetLimits::default();
        let result = tokio::task::spawn_blocking(move || {
            let read = |sink: &mut dyn parley_import::RowSink| match &source {
                ImportRun::File(path) => parley_import::read_file(
                    path,
                    format,
                    sheet.as_deref(),
                    &limits,
                    &counter,
                    sink,
                ),
            };
            let result = pipeline::run(
                read,
                || ValueContext::new(country, order),
                &bytes_read,
                &mut consumer,
                PipelineOptions::default(),
            );
            match result {
                // A store failure: the writer is dropped, rolling back what it had not
                // committed, and the retried job goes on after the last committed row.
                Err(PipelineError::Consumer(e)) => Err(PipelineError::Consumer(e)),
                // Rows read before a malformed part are kept and counted.
                read => match consumer.finish() {
                    Ok(()) => read,
                    Err(e) => Err(PipelineError::Consumer(ConsumerError::Store(e))),
                },
            }
        })
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?;
        let now = self.clock.now();
        let outcome = match result {
            Ok(()) => RunOutcome::Completed,
            Err(PipelineError::Read(e)) => RunOutcome::Failed(e.to_string()),
            Err(PipelineError::Consumer(ConsumerError::Plan(e))) => {
                RunOutcome::Failed(e.to_string())
            }
            Err(PipelineError::Consumer(ConsumerError::Store(e))) => return Err(e.into()),
        };
        match &outcome {
            RunOutcome::Completed => {
                self.store
                    .finish_import(id, ImportStatus::Completed, None, now)
                    .await?;
                if let Some(done) = self.store.get_import(organization.id, id).await? {
                    crate::telemetry::import_rows(
                        done.counters.rows_imported,
                        done.counters.rows_rejected,
                    );
                }
            }
            RunOutcome::Failed(message) => {
                self.store
                    .finish_import(id, ImportStatus::Failed, Some(message), now)
                    .await?;
            }
        }
        Ok(outcome)
    }
}
