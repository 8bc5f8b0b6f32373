//! Imports on SQLite: the record, the uploaded chunks and the report through the pool;
//! batches through [`writer`], a connection of the store's own that applies them with
//! prepared statements.

mod writer;

pub use writer::WRITER_CACHE_KIB;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parley_domain::{ImportId, ImportRecord, ImportStatus, OrgId, UserId, to_millis};
use parley_store::decode;
use parley_store::{ImportStore, ImportWriter, Page, PageRequest, RejectLine, StoreError};

use crate::SqliteStore;
use crate::rows::{Cols, map_err};

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(Box::new(e))
}

#[async_trait::async_trait]
impl ImportStore for SqliteStore {
    async fn create_import(
        &self,
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
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn set_import_size(&self, id: ImportId, bytes_total: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE imports SET bytes_total = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(i64::try_from(bytes_total).unwrap_or(i64::MAX))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn put_import_chunk(
        &self,
        id: ImportId,
        seq: u32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO import_chunks (import_id, seq, data) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(i64::from(seq))
            .bind(data)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn import_chunk(&self, id: ImportId, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2")
            .bind(id.to_string())
            .bind(i64::from(seq))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(|r| decode::bytes(&Cols(&r), "data")).transpose()
    }

    async fn delete_import_chunks(&self, id: ImportId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM import_chunks WHERE import_id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_import(
        &self,
        organization: OrgId,
        id: ImportId,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM imports WHERE id = $1 AND organization_id = $2")
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(|r| decode::import_record(&Cols(&r))).transpose()
    }

    async fn find_import(&self, id: ImportId) -> Result<Option<ImportRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM imports WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(|r| decode::import_record(&Cols(&r))).transpose()
    }

    async fn list_imports(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<ImportRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM imports WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::import_record(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |i| i.id.to_string()))
    }

    async fn start_import(
        &self,
        id: ImportId,
        header: &[String],
        warnings: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        // A retried job keeps what its earlier attempts committed (counters, report lines,
        // `rows_through`) and goes on after it.
        let done = sqlx::query(
            "UPDATE imports SET status = 'running', header = $2, warnings = $3, error = NULL, \
             started_at = COALESCE(started_at, $4), finished_at = NULL WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(serde_json::to_string(header).map_err(json_err)?)
        .bind(serde_json::to_string(warnings).map_err(json_err)?)
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(map_err)
    }

    async fn import_writer(
        &self,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Box<dyn ImportWriter>, StoreError> {
        let writer = writer::SqliteImportWriter::new(
            Arc::clone(&self.import_writer),
            self.path(),
            id,
            organization,
        )?;
        Ok(Box::new(writer))
    }

    async fn finish_import(
        &self,
        id: ImportId,
        status: ImportStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE imports SET status = $2, error = $3, finished_at = $4, \
             bytes_read = CASE WHEN $2 = 'completed' THEN bytes_total ELSE bytes_read END WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(error)
        .bind(to_millis(at))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn import_header(&self, id: ImportId) -> Result<Vec<String>, StoreError> {
        let row = sqlx::query("SELECT header FROM imports WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound)?;
        decode::import_header(&Cols(&row))
    }

    async fn import_reject_lines(
        &self,
        id: ImportId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, RejectLine)>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM import_rejects WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3",
        )
        .bind(id.to_string())
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(|r| decode::reject_line(&Cols(r))).collect()
    }
}
