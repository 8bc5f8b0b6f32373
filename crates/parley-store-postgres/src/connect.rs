//! Opening a PostgreSQL store: the pool and migrations.

use std::str::FromStr;
use std::time::Duration;

use parley_store::{Store, StoreError, WorkCounts, sql};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::rows::{Cols, map_err};

/// Every port on one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) and applies pending migrations unless `migrate`
    /// is false. Migrations take an advisory lock, so concurrent starts apply them once.
    pub async fn connect(url: &str, migrate: bool) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(map_err)?
            .application_name("parley");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let store = Self { pool };
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
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn engine_name(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn close(&self) {
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
