//! Imports on SQLite: creating an import with its first chunk, and batches through
//! [`writer`], a connection of the store's own that applies them with prepared
//! statements. The record's other reads and writes are `parley-store-sql`'s.

mod writer;

pub use writer::WRITER_CACHE_KIB;

use std::sync::Arc;

use parley_domain::{ImportId, ImportRecord, OrgId, UserId, to_millis};
use parley_store::{ImportWriter, StoreError};

use crate::rows::map_err;
use crate::{Sqlite, SqliteStore};
use parley_store_sql::ImportsEngine;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(Box::new(e))
}

#[async_trait::async_trait]
impl ImportsEngine for Sqlite {
    async fn create_import(
        store: &SqliteStore,
        r: &ImportRecord,
        created_by: Option<UserId>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO imports (id, organization_id, status, format, file_name, options, bytes_total, created_by, created_at, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT COALESCE(MAX(seq), 0) + 1 FROM imports))",
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
        store: &SqliteStore,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Box<dyn ImportWriter>, StoreError> {
        let writer = writer::SqliteImportWriter::new(
            Arc::clone(&store.engine().import_writer),
            store.engine().path(),
            id,
            organization,
        )?;
        Ok(Box::new(writer))
    }
}
