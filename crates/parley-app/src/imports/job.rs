//! The background job that runs an API import: it copies the stored source to a private
//! temporary file (spreadsheets need random access), runs it, and drops the source.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::{ImportFormat, ImportId, JobId};
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
        let source = if record.format == ImportFormat::Rows {
            let bytes = read_all(app, record.id).await?;
            ImportRun::Rows(
                serde_json::from_slice(&bytes).map_err(|e| JobError::Permanent(e.to_string()))?,
            )
        } else {
            let path = std::env::temp_dir().join(format!("parley-{}.{}", record.id, record.format));
            let mut file = std::fs::File::create(&path).map_err(retry)?;
            let mut seq = 0;
            while let Some(chunk) = app.store.import_chunk(record.id, seq).await? {
                file.write_all(&chunk).map_err(retry)?;
                seq += 1;
            }
            file.sync_all().map_err(retry)?;
            ImportRun::File(path)
        };
        let path = match &source {
            ImportRun::File(p) => Some(p.clone()),
            ImportRun::Rows(_) => None,
        };
        let result = app
            .run_import(record.id, source, Arc::new(AtomicU64::new(0)))
            .await;
        if let Some(path) = path {
            let _ = std::fs::remove_file(path);
        }
        match result? {
            RunOutcome::Completed => tracing::info!(import = %record.id, "import completed"),
            RunOutcome::Failed(message) => {
                tracing::info!(import = %record.id, %message, "import failed")
            }
        }
        app.store.delete_import_chunks(record.id).await?;
        Ok(JobEffects::default())
    }
}

async fn read_all(app: &App, id: ImportId) -> Result<Vec<u8>, JobError> {
    let mut bytes = Vec::new();
    let mut seq = 0;
    while let Some(chunk) = app.store.import_chunk(id, seq).await? {
        bytes.extend_from_slice(&chunk);
        seq += 1;
    }
    Ok(bytes)
}
