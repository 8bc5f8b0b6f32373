//! Opening a SQLite store: connection options, pragmas, the pool, and migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parley_store::{Store, StoreError, WorkCounts, sql};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::direct::Direct;
use crate::rows::{Cols, map_err};

/// How long a connection waits for another writer before reporting `Unavailable`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// WAL pages between automatic checkpoints on every connection of the store: 4,000 (16 MiB
/// of WAL) rather than SQLite's 1,000, a quarter of the checkpoints and their fsyncs under
/// a steady stream of small writes.
pub(crate) const AUTOCHECKPOINT_PAGES: u32 = 4000;

/// Every port on one SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    path: PathBuf,
    /// The connection import batches are written through, opened on first use (see
    /// `imports::writer`); one at a time, as SQLite allows one writer anyway.
    pub(crate) import_writer: Arc<Mutex<Option<rusqlite::Connection>>>,
    /// The connection the webhook engine's transactions run on (see `direct`).
    pub(crate) direct: Arc<Direct>,
    /// The connection the hot reads run on (see `Direct::reader`).
    pub(crate) reads: Arc<Direct>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or
    /// `sqlite:path`), and applies pending migrations unless `migrate` is false.
    pub async fn connect(url: &str, migrate: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("secure_delete", "ON")
            // Imports stage each batch in a temporary table: keep it in memory, and give
            // each connection a page cache big enough for an import's working set.
            .pragma("temp_store", "MEMORY")
            .pragma("cache_size", "-32768")
            .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES.to_string());
        let path = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let store = Self {
            pool,
            direct: Arc::new(Direct::new(path.clone())),
            reads: Arc::new(Direct::reader(path.clone())),
            path,
            import_writer: Arc::default(),
        };
        if migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrations::migrator()
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(Box::new(e)))
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn engine_name(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn close(&self) {
        if let Ok(mut writer) = self.import_writer.lock() {
            writer.take();
        }
        self.direct.close();
        self.reads.close();
        self.pool.close().await;
    }

    async fn work_counts(&self) -> Result<WorkCounts, StoreError> {
        let pending: i64 = sqlx::query_scalar(sql::COUNT_PENDING_DELIVERIES)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let recipients: Vec<(String, i64)> = sqlx::query_as(sql::COUNT_RECIPIENTS_BY_STATE)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(WorkCounts::from_counts(pending, recipients))
    }

    async fn set_archived(
        &self,
        organization: parley_domain::OrgId,
        what: parley_store::Archivable,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(what.statement())
            .bind(what.id())
            .bind(organization.to_string())
            .bind(at.map(parley_domain::to_millis))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(changed.rows_affected() > 0)
    }

    async fn installation_fact(&self, name: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(sql::INSTALLATION_FACT)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn claim_installation_fact(&self, name: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query_scalar(sql::CLAIM_INSTALLATION_FACT)
            .bind(name)
            .bind(value)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn reseal_secrets(
        &self,
        reseal: &parley_store::Reseal<'_>,
        facts: &[(&str, &str)],
    ) -> Result<parley_store::Resealed, StoreError> {
        use parley_store::{RESEAL_PAGE, SEALED_COLUMNS, SET_INSTALLATION_FACT, reseal_row};
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // The facts first: the first write takes the store's write lock for the rest.
        for (name, value) in facts {
            sqlx::query(SET_INSTALLATION_FACT)
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let mut counts = parley_store::Resealed::default();
        for column in &SEALED_COLUMNS {
            let (mut k1, mut k2) = (String::new(), String::new());
            loop {
                let rows = sqlx::query(column.page)
                    .bind(&k1)
                    .bind(&k2)
                    .bind(RESEAL_PAGE)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for row in &rows {
                    let done = reseal_row(&Cols(row), column, reseal, &mut counts)?;
                    if let Some(value) = &done.replacement {
                        let update = sqlx::query(column.update).bind(&done.k1).bind(&done.k2);
                        let update = if column.bytes {
                            update.bind(value.as_bytes())
                        } else {
                            update.bind(value.as_str())
                        };
                        update.execute(&mut *tx).await.map_err(map_err)?;
                    }
                    (k1, k2) = (done.k1, done.k2);
                }
                if rows.len() < RESEAL_PAGE as usize {
                    break;
                }
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(counts)
    }
}
