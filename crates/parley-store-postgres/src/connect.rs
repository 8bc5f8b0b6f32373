//! Opening a PostgreSQL store: the pool and migrations.

use std::str::FromStr;
use std::time::Duration;

use parley_store::{Store, StoreError, WorkCounts, sql};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::rows::map_err;

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
}
