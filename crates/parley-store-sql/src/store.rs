//! The `Store` bundle's own methods: liveness, closing, the installation's counts and
//! facts, archiving, and rewriting every sealed value in one transaction.

use parley_store::{Store, StoreError, WorkCounts};

use crate::{Cols, Engine, SqlStore, commit, query, sql};
#[async_trait::async_trait]
impl<E: Engine> Store for SqlStore<E> {
    fn engine_name(&self) -> &'static str {
        E::NAME
    }

    async fn ping(&self) -> Result<(), StoreError> {
        query::<E>("SELECT 1")
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.engine().close();
        self.pool().close().await;
    }

    async fn work_counts(&self) -> Result<WorkCounts, StoreError> {
        let mut conn = self.conn().await?;
        let pending = query::<E>(sql::COUNT_PENDING_DELIVERIES)
            .fetch_int(&mut conn)
            .await?;
        let rows = query::<E>(sql::COUNT_RECIPIENTS_BY_STATE)
            .fetch_all(&mut conn)
            .await?;
        let recipients = rows
            .iter()
            .map(|r| Ok((Cols::<E>(r).text_at(0)?, Cols::<E>(r).int_at(1)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(WorkCounts::from_counts(pending, recipients))
    }

    async fn set_archived(
        &self,
        organization: parley_domain::OrgId,
        what: parley_store::Archivable,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, StoreError> {
        let changed = query::<E>(sql::archive(what))
            .bind(what.id())
            .bind(organization.to_string())
            .bind(at.map(parley_domain::to_millis))
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(changed > 0)
    }

    async fn installation_fact(&self, name: &str) -> Result<Option<String>, StoreError> {
        query::<E>(sql::INSTALLATION_FACT)
            .bind(name)
            .fetch_optional_text(&mut *self.conn().await?)
            .await
    }

    async fn claim_installation_fact(&self, name: &str, value: &str) -> Result<String, StoreError> {
        query::<E>(sql::CLAIM_INSTALLATION_FACT)
            .bind(name)
            .bind(value)
            .fetch_optional_text(&mut *self.conn().await?)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn reseal_secrets(
        &self,
        reseal: &parley_store::Reseal<'_>,
        facts: &[(&str, &str)],
    ) -> Result<parley_store::Resealed, StoreError> {
        use parley_store::{RESEAL_PAGE, SEALED_COLUMNS, SET_INSTALLATION_FACT, reseal_row};
        let mut tx = self.write().await?;
        // The facts first: the first write takes the store's write lock for the rest.
        for (name, value) in facts {
            query::<E>(SET_INSTALLATION_FACT)
                .bind(*name)
                .bind(*value)
                .execute(&mut *tx)
                .await?;
        }
        let mut counts = parley_store::Resealed::default();
        for column in &SEALED_COLUMNS {
            let (mut k1, mut k2) = (String::new(), String::new());
            loop {
                let rows = query::<E>(column.page)
                    .bind(&k1)
                    .bind(&k2)
                    .bind(RESEAL_PAGE)
                    .fetch_all(&mut *tx)
                    .await?;
                for row in &rows {
                    let done = reseal_row(&Cols::<E>(row), column, reseal, &mut counts)?;
                    if let Some(value) = &done.replacement {
                        let update = query::<E>(column.update).bind(&done.k1).bind(&done.k2);
                        let update = if column.bytes {
                            update.bind(value.as_bytes())
                        } else {
                            update.bind(value.as_str())
                        };
                        update.execute(&mut *tx).await?;
                    }
                    (k1, k2) = (done.k1, done.k2);
                }
                if rows.len() < RESEAL_PAGE as usize {
                    break;
                }
            }
        }
        commit::<E>(tx).await?;
        Ok(counts)
    }
}
