//! Flows. Publishing bumps the flow's `latest_version` and inserts that version in one
//! write transaction (the `UPDATE` locks the flow row on PostgreSQL; SQLite's write
//! transaction holds the database's write lock), so two publishes never share a number.

use crate::{Cols, Engine, SqlStore, commit, query, sql};
use chrono::{DateTime, Utc};
use parley_domain::{FlowId, FlowRecord, FlowVersion, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{FlowStore, NewFlowVersion, Page, PageRequest, StoreError};

use crate::audit::insert_audit;

#[async_trait::async_trait]
impl<E: Engine> FlowStore for SqlStore<E> {
    async fn create_flow(
        &self,
        flow: FlowRecord,
        audit: NewAuditEntry,
    ) -> Result<FlowRecord, StoreError> {
        let mut tx = self.write().await?;
        let row = query::<E>(
            "INSERT INTO flows (id, organization_id, name, draft, latest_version, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6, $7) RETURNING *",
        )
        .bind(flow.id.to_string())
        .bind(flow.organization_id.to_string())
        .bind(&flow.name)
        .bind(&flow.draft)
        .bind(flow.created_by.map(|u| u.to_string()))
        .bind(to_millis(flow.created_at))
        .bind(to_millis(flow.updated_at))
        .fetch_one(&mut *tx).await?;
        let stored = decode::flow(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn update_flow_draft(
        &self,
        organization: OrgId,
        id: FlowId,
        name: &str,
        draft: &str,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<FlowRecord, StoreError> {
        let mut tx = self.write().await?;
        let row = query::<E>(
            "UPDATE flows SET name = $3, draft = $4, updated_at = $5 \
             WHERE id = $1 AND organization_id = $2 RETURNING *",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .bind(name)
        .bind(draft)
        .bind(to_millis(at))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let stored = decode::flow(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn find_flow(
        &self,
        organization: OrgId,
        id: FlowId,
    ) -> Result<Option<FlowRecord>, StoreError> {
        query::<E>("SELECT * FROM flows WHERE id = $1 AND organization_id = $2")
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::flow(r))
            .await
    }

    async fn list_flows(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<FlowRecord>, StoreError> {
        let items = query::<E>(sql::LIST_FLOWS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(archived)
            .fetch_all_as(&mut *self.conn().await?, |r| decode::flow(r))
            .await?;
        Ok(page.finish(items, |f| f.id.to_string()))
    }

    async fn publish_flow_version(
        &self,
        new: NewFlowVersion,
        audit: NewAuditEntry,
    ) -> Result<FlowVersion, StoreError> {
        let (organization, id) = (new.organization_id, new.flow_id);
        let mut tx = self.write().await?;
        let version: i64 = query::<E>(
            "UPDATE flows SET latest_version = COALESCE(latest_version, 0) + 1 \
             WHERE id = $1 AND organization_id = $2 RETURNING latest_version",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .fetch_optional_int(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let row = query::<E>(
            "INSERT INTO flow_versions (flow_id, version, organization_id, name, document, published_by, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(id.to_string())
        .bind(version)
        .bind(organization.to_string())
        .bind(&new.name)
        .bind(&new.document)
        .bind(new.published_by.map(|u| u.to_string()))
        .bind(to_millis(new.published_at))
        .fetch_one(&mut *tx).await?;
        let stored = decode::flow_version(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn list_flow_versions(
        &self,
        organization: OrgId,
        id: FlowId,
        page: PageRequest,
    ) -> Result<Page<FlowVersion>, StoreError> {
        let after: Option<i64> = match page.after.as_deref() {
            None => None,
            Some(c) => Some(c.parse().map_err(|_| StoreError::NotFound)?),
        };
        let items = query::<E>(
            "SELECT * FROM flow_versions WHERE flow_id = $1 AND organization_id = $2 \
             AND ($3 IS NULL OR version < $3) ORDER BY version DESC LIMIT $4",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::flow_version(r))
        .await?;
        Ok(page.finish(items, |v| v.version.to_string()))
    }

    async fn find_flow_version(
        &self,
        organization: OrgId,
        id: FlowId,
        version: u32,
    ) -> Result<Option<FlowVersion>, StoreError> {
        query::<E>(
            "SELECT * FROM flow_versions WHERE flow_id = $1 AND organization_id = $2 AND version = $3",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .bind(i64::from(version))
        .fetch_optional_as(&mut *self.conn().await?, |r| decode::flow_version(r))
        .await
    }
}
