//! The SQLite engine: connection options and pragmas, the pool, the direct connections
//! beside it, its error mapping and the clauses it spells its own way.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use parley_store::StoreError;
use parley_store_sql::{Engine, sql};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::direct::{AUTOCHECKPOINT_PAGES, BUSY_TIMEOUT, Direct};
use crate::rows::map_err;

/// The SQLite engine: the database file, and the connections Parley opens on it beside
/// sqlx's pool.
#[derive(Debug)]
pub struct Sqlite {
    path: PathBuf,
    /// The connection import batches are written through, opened on first use (see
    /// `imports::writer`); one at a time, as SQLite allows one writer anyway.
    pub(crate) import_writer: Arc<Mutex<Option<rusqlite::Connection>>>,
    /// The connection the webhook engine's transactions run on (see `direct`).
    pub(crate) direct: Arc<Direct>,
    /// The connection the hot reads run on (see `Direct::reader`).
    pub(crate) reads: Arc<Direct>,
}

#[async_trait::async_trait]
impl Engine for Sqlite {
    type Db = sqlx::Sqlite;
    const NAME: &'static str = "sqlite";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    // `seq` is the organization's compact key for the contact tables (migration 0004); the
    // statement runs under the write lock, so `MAX + 1` cannot be taken twice.
    const INSERT_ORGANIZATION: &'static str = "INSERT INTO organizations (id, name, parent_id, \
         path, region, default_country, timezone, locale, created_at, updated_at, help_text, \
         contact_hours, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, \
         (SELECT COALESCE(MAX(seq), 0) + 1 FROM organizations))";
    const LOCK_ORGANIZATIONS: Option<&'static str> = None;

    const CONTACT_JOIN: sql::ContactJoin = sql::ContactJoin {
        join: "JOIN organizations o ON o.id = c.organization_id \
               JOIN contacts ct ON ct.organization_seq = o.seq AND ct.id = c.contact_id",
        address: "(SELECT a.address FROM contact_addresses a WHERE a.contact_seq = ct.seq \
                  AND a.channel_kind = {kind} ORDER BY a.address LIMIT 1)",
        fields: "ct.fields",
        matching: "SELECT s.id FROM contacts s WHERE s.customer_id = {text} \
             AND s.organization_seq = (SELECT seq FROM organizations WHERE id = {org}) \
             UNION SELECT s.id FROM contact_addresses a JOIN contacts s ON s.seq = a.contact_seq \
             WHERE a.address = {address} \
             AND a.organization_seq = (SELECT seq FROM organizations WHERE id = {org}) \
             UNION SELECT s.id FROM contacts s WHERE {name} IS NOT NULL \
             AND s.organization_seq = (SELECT seq FROM organizations WHERE id = {org}) \
             AND (LOWER(COALESCE(json_extract(s.fields, '$.first_name'), '') || ' ' || \
                  COALESCE(json_extract(s.fields, '$.last_name'), '')) LIKE {name} ESCAPE '\\' \
               OR LOWER(json_extract(s.fields, '$.name')) LIKE {name} ESCAPE '\\')",
    };

    fn map_err(e: sqlx::Error) -> StoreError {
        map_err(e)
    }

    fn json_texts(param: &str) -> String {
        format!("SELECT value FROM json_each({param})")
    }

    fn close(&self) {
        if let Ok(mut writer) = self.import_writer.lock() {
            writer.take();
        }
        self.direct.close();
        self.reads.close();
    }

    /// Opens (creating if needed) the database at `url` (`sqlite://path` or
    /// `sqlite:path`).
    async fn open(url: &str) -> Result<(SqlitePool, Self), StoreError> {
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
        let engine = Self {
            direct: Arc::new(Direct::new(path.clone())),
            reads: Arc::new(Direct::reader(path.clone())),
            path,
            import_writer: Arc::default(),
        };
        Ok((pool, engine))
    }
}

impl Sqlite {
    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}
