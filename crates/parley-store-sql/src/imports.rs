//! Imports: the record, its stored chunks, its counters and its report. Creating one and
//! writing its batches are each engine's own ([`ImportsEngine`], ADR 0003).

use crate::{Cols, Engine, SqlStore, query};
use chrono::{DateTime, Utc};
use parley_domain::{ImportId, ImportRecord, ImportStatus, OrgId, UserId, to_millis};
use parley_store::decode::{self};
use parley_store::{ImportStore, ImportWriter, Page, PageRequest, RejectLine, StoreError};

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(Box::new(e))
}

#[async_trait::async_trait]
impl<E: Engine> ImportStore for SqlStore<E> {
    async fn create_import(
        &self,
        r: &ImportRecord,
        created_by: Option<UserId>,
    ) -> Result<(), StoreError> {
        E::create_import(self, r, created_by).await
    }

    async fn set_import_size(&self, id: ImportId, bytes_total: u64) -> Result<(), StoreError> {
        query::<E>("UPDATE imports SET bytes_total = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(i64::try_from(bytes_total).unwrap_or(i64::MAX))
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn put_import_chunk(
        &self,
        id: ImportId,
        seq: u32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        query::<E>("INSERT INTO import_chunks (import_id, seq, data) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(i64::from(seq))
            .bind(data)
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn import_chunk(&self, id: ImportId, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let row = query::<E>("SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2")
            .bind(id.to_string())
            .bind(i64::from(seq))
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.map(|r| decode::bytes(&Cols::<E>(&r), "data"))
            .transpose()
    }

    async fn delete_import_chunks(&self, id: ImportId) -> Result<(), StoreError> {
        query::<E>("DELETE FROM import_chunks WHERE import_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn get_import(
        &self,
        organization: OrgId,
        id: ImportId,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let row = query::<E>("SELECT * FROM imports WHERE id = $1 AND organization_id = $2")
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.map(|r| decode::import_record(&Cols::<E>(&r)))
            .transpose()
    }

    async fn find_import(&self, id: ImportId) -> Result<Option<ImportRecord>, StoreError> {
        let row = query::<E>("SELECT * FROM imports WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.map(|r| decode::import_record(&Cols::<E>(&r)))
            .transpose()
    }

    async fn list_imports(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<ImportRecord>, StoreError> {
        let items = query::<E>(
            "SELECT * FROM imports WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::import_record(r))
        .await?;
        Ok(page.finish(items, |i| i.id.to_string()))
    }

    async fn start_import(
        &self,
        id: ImportId,
        header: &[String],
        warnings: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // A retried job keeps what its earlier attempts committed (counters, report lines,
        // `rows_through`) and goes on after it.
        let done = query::<E>(
            "UPDATE imports SET status = 'running', header = $2, warnings = $3, error = NULL, \
             started_at = COALESCE(started_at, $4), finished_at = NULL WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(serde_json::to_string(header).map_err(json_err)?)
        .bind(serde_json::to_string(warnings).map_err(json_err)?)
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(E::map_err)
    }

    async fn import_writer(
        &self,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Box<dyn ImportWriter>, StoreError> {
        E::import_writer(self, id, organization).await
    }

    async fn finish_import(
        &self,
        id: ImportId,
        status: ImportStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query::<E>(
            "UPDATE imports SET status = $2, error = $3, finished_at = $4, \
             bytes_read = CASE WHEN $2 = 'completed' THEN bytes_total ELSE bytes_read END WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(error)
        .bind(to_millis(at))
        .execute(&mut *self.conn().await?).await?;
        Ok(())
    }

    async fn import_header(&self, id: ImportId) -> Result<Vec<String>, StoreError> {
        let row = query::<E>("SELECT header FROM imports WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?
            .ok_or(StoreError::NotFound)?;
        decode::import_header(&Cols::<E>(&row))
    }

    async fn import_reject_lines(
        &self,
        id: ImportId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, RejectLine)>, StoreError> {
        query::<E>(
            "SELECT * FROM import_rejects WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3",
        )
        .bind(id.to_string())
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all_as(&mut *self.conn().await?, |r| decode::reject_line(r))
        .await
    }
}
