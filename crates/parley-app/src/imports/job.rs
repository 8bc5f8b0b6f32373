//! The background job that runs an API import: it copies the stored source to a private
//! temporary file (spreadsheets need random access), runs it, and drops the source.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::{ImportId, JobId};
use parley_jobs::{Job, JobError};
use parley_store::JobEffects;
use serde::{Deserialize, Serialize};

use super::{ImportRun, RunOutcome};
use crate::{App, AppError};

/// Runs one import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportJob {
    /// The import.
    pub import_id: ImportId,
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry {
        message: e.to_string(),
        after: None,
    }
}

impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        retry(e)
    }
}

impl Job for ImportJob {
    const NAME: &'static str = "import";
    const QUEUE: &'static str = "imports";
    const MAX_ATTEMPTS: u32 = 3;
    type Context = App;

    async fn run(&self, app: &App, _job: JobId) -> Result<JobEffects, JobError> {
        let Some(record) = app.store.find_import(self.import_id).await? else {
            return Err(JobError::Permanent(format!(
                "import {} does not exist",
                self.import_id
            )));
        };
        if record.status.is_final() {
            return Ok(JobEffects::default());
        }
        // Read by this process right away, so no fsync: a crash restarts the job.
        let path = std::env::temp_dir().join(format!("parley-{}.{}", record.id, record.format));
        let mut file = std::fs::File::create(&path).map_err(retry)?;
        copy_chunks(app, record.id, &mut file).await?;
        drop(file);
        let result = app
            .run_import(
                record.id,
                ImportRun::File(path.clone()),
                Arc::new(AtomicU64::new(0)),
            )
            .await;
        let _ = std::fs::remove_file(path);
        match result {
            Ok(RunOutcome::Completed) => tracing::info!(import = %record.id, "import completed"),
            Ok(RunOutcome::Failed(message)) => {
                tracing::warn!(import = %record.id, %message, "import failed");
            }
            // The store is away: the job is retried, going on after the last committed row.
            Err(e @ (AppError::Unavailable(_) | AppError::Conflict(_))) => return Err(retry(e)),
            // Anything else (a bug, a panic in a reader) fails the import with a message
            // and the log line that explains it, rather than leaving it queued forever.
            Err(e) => {
                tracing::error!(import = %record.id, error = ?e, "import stopped by an unexpected error");
                let message = format!(
                    "the import stopped on an unexpected error; the server log names it with the import's id {}",
                    record.id
                );
                app.store
                    .finish_import(
                        record.id,
                        parley_domain::ImportStatus::Failed,
                        Some(&message),
                        app.clock.now(),
                    )
                    .await?;
                app.store.delete_import_chunks(record.id).await?;
                return Err(JobError::Permanent(message));
            }
        }
        app.store.delete_import_chunks(record.id).await?;
        Ok(JobEffects::default())
    }
}

/// Writes the stored source of `id` to `out`, chunk by chunk.
async fn copy_chunks(app: &App, id: ImportId, out: &mut impl Write) -> Result<(), JobError> {
    let mut seq = 0;
    while let Some(chunk) = app.store.import_chunk(id, seq).await? {
        out.write_all(&chunk).map_err(retry)?;
        seq += 1;
    }
    Ok(())
}
