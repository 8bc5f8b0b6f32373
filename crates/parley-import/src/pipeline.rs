//! The import pipeline: one thread reads, several validate, one orders and batches, the
//! caller's thread applies.
//!
//! ```text
//! reader ──chunks──▶ validators (N) ──verdicts──▶ batcher: reorder, dedupe ──batches──▶ caller: apply
//! ```
//!
//! Channels are bounded, so memory stays flat whatever the file's size: at most one batch
//! waits while the caller applies the previous one, so validation and writing overlap.
//! Chunks and batches are cut by bytes as well as by rows ([`Row::weight`]), so rows of
//! long text (a small `.xlsx` can copy one long shared string into every cell) do not
//! multiply the rows in flight into gigabytes: with the defaults about 40 chunks of at
//! most 1 MiB and four batches of at most 16 MiB are in flight, besides one row.
//! Measured (`tests/limits/measure.rs`): 600 rows of 1 MB of text from a 53 KB `.xlsx`
//! peak at 100 MB, against 1.8 GB when cut by rows only. Rows reach the
//! consumer in file order (chunks carry sequence numbers), so "the first occurrence wins"
//! for duplicates is deterministic. When the file breaks partway, every row before the
//! break is still applied and counted, then the read error is returned.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use crate::plan::ImportPlan;
use crate::source::{ReadError, ReadOutcome, Row, RowSink, Stop};
use crate::validate::{Checked, ContactRow, Deduplicator, RejectedRow, RowValidator};
use crate::values::ValueContext;

/// Rows handed to the consumer at once.
#[derive(Debug, Default)]
pub struct Batch {
    /// Valid, de-duplicated rows, in file order.
    pub rows: Vec<ContactRow>,
    /// The source row of each of `rows` (same index), for a report line should the
    /// consumer refuse one.
    pub sources: Vec<Row>,
    /// Refused rows, in file order.
    pub rejects: Vec<RejectedRow>,
    /// `rows.len() + rejects.len()`.
    pub rows_total: u64,
    /// Bytes of the source read when the last row of the batch was validated.
    pub bytes_read: u64,
}

/// Tuning.
#[derive(Debug, Clone, Copy)]
pub struct PipelineOptions {
    /// Validator threads.
    pub workers: usize,
    /// Rows per chunk sent to a validator.
    pub chunk_rows: usize,
    /// Rows per batch handed to the consumer.
    pub batch_rows: usize,
    /// Bytes of rows ([`Row::weight`]) after which a chunk is sent even if short of
    /// `chunk_rows`.
    pub chunk_bytes: usize,
    /// Bytes of rows after which a batch is sent even if short of `batch_rows`.
    pub batch_bytes: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8)),
            chunk_rows: 512,
            batch_rows: 10_000,
            chunk_bytes: 1024 * 1024,
            batch_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What receives the plan request and the batches.
pub trait ImportConsumer {
    /// The consumer's error.
    type Error: Send;
    /// Builds the plan for the header; `sample` is the file's first rows (up to
    /// [`crate::infer::SAMPLE_ROWS`]), to type the columns the organization has no field
    /// for.
    fn plan(&mut self, header: &[String], sample: &[&Row]) -> Result<ImportPlan, Self::Error>;
    /// Applies a batch.
    fn batch(&mut self, batch: Batch) -> Result<(), Self::Error>;
}

/// Why the pipeline stopped early.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError<E> {
    /// The source is malformed (rows before the problem were applied).
    #[error(transparent)]
    Read(ReadError),
    /// The consumer failed.
    #[error("the import could not be applied")]
    Consumer(E),
}

enum Verdict {
    Valid(ContactRow, Row),
    Rejected(RejectedRow),
}

/// A chunk of rows: its sequence number, the rows and their weight.
type Chunk = (u64, Vec<Row>, usize);

/// Most bytes of rows ([`Row::weight`]) held for the sample.
const SAMPLE_BYTES: usize = 4 * 1024 * 1024;

/// Where validators take chunks: first those read for the sample, then the reader's.
struct Work {
    sampled: Mutex<std::collections::VecDeque<Chunk>>,
    rx: Mutex<Receiver<Chunk>>,
}

impl Work {
    /// Reads the first chunks, up to [`crate::infer::SAMPLE_ROWS`] rows or
    /// [`SAMPLE_BYTES`], or all of a smaller file.
    fn sample(rx: Receiver<Chunk>) -> Self {
        let mut sampled = std::collections::VecDeque::new();
        let (mut rows, mut bytes) = (0, 0);
        while rows < crate::infer::SAMPLE_ROWS && bytes < SAMPLE_BYTES {
            let Ok(chunk) = rx.recv() else { break };
            rows += chunk.1.len();
            bytes += chunk.2;
            sampled.push_back(chunk);
        }
        Self {
            sampled: Mutex::new(sampled),
            rx: Mutex::new(rx),
        }
    }

    /// Calls `f` with the sampled rows, in file order.
    fn with_sample<T>(&self, f: impl FnOnce(&[&Row]) -> T) -> T {
        match self.sampled.lock() {
            Ok(sampled) => f(&sampled.iter().flat_map(|c| c.1.iter()).collect::<Vec<_>>()),
            Err(_) => f(&[]),
        }
    }

    /// The next chunk to validate, or `None` once the reader is done.
    fn next(&self) -> Option<Chunk> {
        if let Some(chunk) = self.sampled.lock().ok()?.pop_front() {
            return Some(chunk);
        }
        self.rx.lock().ok()?.recv().ok()
    }
}

struct ChunkSink {
    header: Option<SyncSender<Vec<String>>>,
    work: SyncSender<Chunk>,
    chunk: Vec<Row>,
    weight: usize,
    chunk_rows: usize,
    chunk_bytes: usize,
    seq: u64,
}

impl ChunkSink {
    fn flush(&mut self) -> Result<(), Stop> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.chunk_rows));
        let weight = std::mem::take(&mut self.weight);
        self.work
            .send((self.seq, chunk, weight))
            .map_err(|_| Stop)?;
        self.seq += 1;
        Ok(())
    }
}

impl RowSink for ChunkSink {
    fn header(&mut self, header: Vec<String>) -> Result<(), Stop> {
        let tx = self.header.take().ok_or(Stop)?;
        tx.send(header).map_err(|_| Stop)
    }
    fn row(&mut self, row: Row) -> Result<(), Stop> {
        self.weight += row.weight();
        self.chunk.push(row);
        if self.chunk.len() >= self.chunk_rows || self.weight >= self.chunk_bytes {
            self.flush()?;
        }
        Ok(())
    }
}

/// Runs `read` through validation into `consumer`.
pub fn run<C: ImportConsumer>(
    read: impl FnOnce(&mut dyn RowSink) -> Result<ReadOutcome, ReadError> + Send,
    context: impl Fn() -> ValueContext + Sync,
    bytes_read: &Arc<AtomicU64>,
    consumer: &mut C,
    options: PipelineOptions,
) -> Result<(), PipelineError<C::Error>> {
    let (header_tx, header_rx) = sync_channel::<Vec<String>>(1);
    let (work_tx, work_rx) = sync_channel::<Chunk>(options.workers * 4);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut sink = ChunkSink {
                header: Some(header_tx),
                work: work_tx,
                chunk: Vec::with_capacity(options.chunk_rows),
                weight: 0,
                chunk_rows: options.chunk_rows.max(1),
                chunk_bytes: options.chunk_bytes.max(1),
                seq: 0,
            };
            let outcome = read(&mut sink);
            // Rows read before a failure still go on to be applied and counted.
            let flushed = sink.flush();
            match (outcome, flushed) {
                (Err(e), _) => Err(e),
                (Ok(o), Ok(())) => Ok(o),
                (Ok(_), Err(Stop)) => Ok(ReadOutcome::Stopped),
            }
        });
        let header = header_rx.recv();
        // Without a header the reader has stopped, and this returns at once.
        let work = Arc::new(Work::sample(work_rx));
        let result = match header {
            Err(_) => Ok(()),
            Ok(header) => match work.with_sample(|sample| consumer.plan(&header, sample)) {
                Err(e) => Err(PipelineError::Consumer(e)),
                Ok(plan) => {
                    let plan = Arc::new(plan);
                    let (result_tx, result_rx) = sync_channel(options.workers * 4);
                    for _ in 0..options.workers.max(1) {
                        let work = Arc::clone(&work);
                        let result_tx = result_tx.clone();
                        let context = &context;
                        let plan = Arc::clone(&plan);
                        scope.spawn(move || {
                            validate_chunks(&plan, context(), &work, &result_tx, bytes_read);
                        });
                    }
                    drop(result_tx);
                    let (batch_tx, batch_rx) = sync_channel::<Batch>(1);
                    let limits = (options.batch_rows, options.batch_bytes);
                    scope.spawn(move || batch_in_order(&result_rx, &batch_tx, limits));
                    let mut applied = Ok(());
                    for batch in &batch_rx {
                        applied = consumer.batch(batch);
                        if applied.is_err() {
                            break;
                        }
                    }
                    // Stops the batcher, and through it the validators and the reader.
                    drop(batch_rx);
                    applied.map_err(PipelineError::Consumer)
                }
            },
        };
        // Unblock the reader if nobody is validating any more.
        drop(work);
        let read = reader
            .join()
            .unwrap_or(Err(ReadError::Io("the reader thread panicked".to_owned())));
        result?;
        read.map(|_| ()).map_err(PipelineError::Read)
    })
}

/// A chunk's verdicts: its sequence number, the verdicts, the bytes of the source read
/// and the chunk's weight.
type Verdicts = (u64, Vec<Verdict>, u64, usize);

fn validate_chunks(
    plan: &ImportPlan,
    context: ValueContext,
    work: &Work,
    results: &SyncSender<Verdicts>,
    bytes_read: &AtomicU64,
) {
    let mut validator = RowValidator::new(plan, context);
    loop {
        let Some((seq, rows, weight)) = work.next() else {
            return;
        };
        let verdicts = rows
            .into_iter()
            .map(|row| match validator.check(&row) {
                Checked::Valid(valid) => Verdict::Valid(valid, row),
                Checked::Rejected(rejected) => Verdict::Rejected(rejected),
            })
            .collect();
        let bytes = bytes_read.load(Ordering::Relaxed);
        if results.send((seq, verdicts, bytes, weight)).is_err() {
            return;
        }
    }
}

/// Puts verdicts back in file order, drops repeated addresses and customer_ids, and sends
/// batches of about `batch_rows` rows or `batch_bytes` of rows, whichever comes first.
/// Returns when the validators are done or the receiver is gone.
fn batch_in_order(
    results: &Receiver<Verdicts>,
    batches: &SyncSender<Batch>,
    (batch_rows, batch_bytes): (usize, usize),
) {
    let mut waiting: BTreeMap<u64, (Vec<Verdict>, u64, usize)> = BTreeMap::new();
    let mut next = 0u64;
    let mut dedupe = Deduplicator::new();
    let mut batch = Batch::default();
    let mut weight = 0usize;
    for (seq, verdicts, bytes, chunk_weight) in results {
        waiting.insert(seq, (verdicts, bytes, chunk_weight));
        while let Some((verdicts, bytes, chunk_weight)) = waiting.remove(&next) {
            next += 1;
            weight += chunk_weight;
            for verdict in verdicts {
                batch.rows_total += 1;
                match verdict {
                    Verdict::Rejected(r) => batch.rejects.push(r),
                    Verdict::Valid(row, original) => {
                        match dedupe.check(row, || original.to_strings()) {
                            Checked::Valid(row) => {
                                batch.rows.push(row);
                                batch.sources.push(original);
                            }
                            Checked::Rejected(r) => batch.rejects.push(r),
                        }
                    }
                }
            }
            batch.bytes_read = bytes;
            if batch.rows_total >= batch_rows as u64 || weight >= batch_bytes {
                weight = 0;
                if batches.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
            }
        }
    }
    if batch.rows_total > 0 {
        // The receiver may be gone; nothing is left to stop then.
        let _ = batches.send(batch);
    }
}

#[cfg(test)]
mod tests {
    use parley_domain::{DateOrder, FieldDefinition, ImportOptions, OrgId};

    use super::*;

    /// Takes batches until `fail_at`, then refuses.
    struct Take {
        batches: Vec<(u64, u64)>,
        fail_at: usize,
    }

    impl ImportConsumer for Take {
        type Error = String;
        fn plan(&mut self, header: &[String], _: &[&Row]) -> Result<ImportPlan, String> {
            let known = FieldDefinition::builtins(OrgId::generate());
            crate::plan(header, &ImportOptions::default(), &known).map_err(|e| e.to_string())
        }
        fn batch(&mut self, batch: Batch) -> Result<(), String> {
            if self.batches.len() == self.fail_at {
                return Err("refused".into());
            }
            let first = batch
                .rows
                .first()
                .map(|r| r.number)
                .into_iter()
                .chain(batch.rejects.first().map(|r| r.number))
                .min()
                .unwrap_or(0);
            self.batches.push((first, batch.rows_total));
            Ok(())
        }
    }

    fn csv(rows: u64) -> Vec<u8> {
        let mut text = String::from("phone,customer_id\n");
        for i in 0..rows {
            text.push_str(&format!("+35387{:07},C{i}\n", 2_000_000 + i));
        }
        text.into_bytes()
    }

    fn run_with(consumer: &mut Take, rows: u64) -> Result<(), PipelineError<String>> {
        let data = csv(rows);
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&bytes);
        let country = "IE"
            .parse()
            .map_err(|_| PipelineError::Consumer("country".into()))?;
        let options = PipelineOptions {
            workers: 2,
            chunk_rows: 64,
            batch_rows: 1_000,
            ..PipelineOptions::default()
        };
        run(
            move |sink: &mut dyn RowSink| {
                crate::csv_file::read_csv(&data[..], counter, sink).map(|(_, o)| o)
            },
            || ValueContext::new(country, DateOrder::Dmy),
            &bytes,
            consumer,
            options,
        )
    }

    #[test]
    fn batches_arrive_in_file_order_and_count_every_row() {
        let mut consumer = Take {
            batches: Vec::new(),
            fail_at: usize::MAX,
        };
        run_with(&mut consumer, 10_000).unwrap();
        let firsts: Vec<u64> = consumer.batches.iter().map(|b| b.0).collect();
        let mut sorted = firsts.clone();
        sorted.sort_unstable();
        assert_eq!(firsts, sorted);
        assert_eq!(consumer.batches.iter().map(|b| b.1).sum::<u64>(), 10_000);
        // The header is line 1, so the first row is line 2.
        assert_eq!(firsts[0], 2);
    }

    #[test]
    fn rows_of_long_text_are_batched_by_bytes() {
        let note = "n".repeat(100_000);
        let mut consumer = Take {
            batches: Vec::new(),
            fail_at: usize::MAX,
        };
        let bytes = Arc::new(AtomicU64::new(0));
        let options = PipelineOptions {
            workers: 2,
            batch_bytes: 1024 * 1024,
            chunk_bytes: 256 * 1024,
            ..PipelineOptions::default()
        };
        let read = |sink: &mut dyn RowSink| {
            sink.header(vec!["phone".into(), "note".into()])
                .map_err(|_| ReadError::Empty)?;
            for i in 0..200u64 {
                let cells = vec![
                    crate::OwnedCell::Text(format!("+35387{:07}", 2_000_000 + i)),
                    crate::OwnedCell::Text(note.clone()),
                ];
                if sink.row(Row::from_cells(i + 2, cells)).is_err() {
                    return Ok(ReadOutcome::Stopped);
                }
            }
            Ok(ReadOutcome::Finished)
        };
        let country = "IE".parse().unwrap();
        run(
            read,
            || ValueContext::new(country, DateOrder::Dmy),
            &bytes,
            &mut consumer,
            options,
        )
        .unwrap();
        assert_eq!(consumer.batches.iter().map(|b| b.1).sum::<u64>(), 200);
        // Chunks of 3 rows (~300 KB); a batch takes chunks until it holds 1 MiB.
        assert!(
            consumer.batches.iter().all(|b| b.1 <= 12),
            "a batch holds about 1 MiB: {:?}",
            consumer.batches
        );
    }

    #[test]
    fn a_refused_batch_stops_every_thread() {
        let mut consumer = Take {
            batches: Vec::new(),
            fail_at: 2,
        };
        // Returning at all shows the reader, validators and batcher all stopped.
        let result = run_with(&mut consumer, 50_000);
        assert!(matches!(result, Err(PipelineError::Consumer(e)) if e == "refused"));
        assert_eq!(consumer.batches.len(), 2);
    }
}
