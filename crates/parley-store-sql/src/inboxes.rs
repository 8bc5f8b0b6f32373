//! SFTP import inboxes. A claim is one `UPDATE … RETURNING`; a second poller's update
//! waits for the first and then sees the inbox taken.

use crate::{Cols, Engine, SqlStore, commit, query};
use chrono::{DateTime, Utc};
use parley_domain::{ImportId, NewAuditEntry, OrgId, SftpInbox, WebhookId, to_millis};
use parley_store::{InboxPoll, InboxStore, StoreError, decode};

use crate::audit::insert_audit;

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl<E: Engine> InboxStore for SqlStore<E> {
    async fn put_sftp_inbox(
        &self,
        inbox: SftpInbox,
        audit: NewAuditEntry,
    ) -> Result<SftpInbox, StoreError> {
        let options =
            serde_json::to_string(&inbox.options).map_err(|e| StoreError::Other(Box::new(e)))?;
        let mut tx = self.write().await?;
        // Only an SFTP endpoint of the organization can have an inbox.
        let row = query::<E>(
            "INSERT INTO sftp_inboxes (endpoint_id, organization_id, folder, options, enabled, \
             created_at, updated_at) SELECT id, organization_id, $3, $4, $5, $6, $7 \
             FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 \
             AND sftp_host_key IS NOT NULL \
             ON CONFLICT (endpoint_id) DO UPDATE SET folder = excluded.folder, \
             options = excluded.options, enabled = excluded.enabled, \
             updated_at = excluded.updated_at RETURNING *",
        )
        .bind(inbox.endpoint_id.to_string())
        .bind(inbox.organization_id.to_string())
        .bind(&inbox.folder)
        .bind(options)
        .bind(i64::from(inbox.enabled))
        .bind(to_millis(inbox.created_at))
        .bind(to_millis(inbox.updated_at))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let stored = decode::sftp_inbox(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn find_sftp_inbox(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
    ) -> Result<Option<SftpInbox>, StoreError> {
        query::<E>("SELECT * FROM sftp_inboxes WHERE endpoint_id = $1 AND organization_id = $2")
            .bind(endpoint.to_string())
            .bind(organization.to_string())
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::sftp_inbox(r))
            .await
    }

    async fn delete_sftp_inbox(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.delete_audited(
            query::<E>("DELETE FROM sftp_inboxes WHERE endpoint_id = $1 AND organization_id = $2")
                .bind(endpoint.to_string())
                .bind(organization.to_string()),
            &audit,
        )
        .await
    }

    async fn claim_sftp_inboxes(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        only: Option<WebhookId>,
    ) -> Result<Vec<SftpInbox>, StoreError> {
        let rows = query::<E>(
            "UPDATE sftp_inboxes SET busy_until = $2 WHERE enabled = 1 \
             AND (busy_until IS NULL OR busy_until <= $1) \
             AND ($3::text IS NULL OR endpoint_id = $3) RETURNING *",
        )
        .bind(to_millis(now))
        .bind(to_millis(lease_until))
        .bind(only.map(|id| id.to_string()))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let mut inboxes = rows
            .iter()
            .map(|r| decode::sftp_inbox(&Cols::<E>(r)))
            .collect::<Result<Vec<_>, _>>()?;
        inboxes.sort_by_key(|i| i.endpoint_id.to_string());
        Ok(inboxes)
    }

    async fn extend_sftp_inbox(
        &self,
        endpoint: WebhookId,
        lease_until: DateTime<Utc>,
        current_import: Option<ImportId>,
    ) -> Result<(), StoreError> {
        query::<E>(
            "UPDATE sftp_inboxes SET busy_until = $2, current_import_id = $3 \
             WHERE endpoint_id = $1",
        )
        .bind(endpoint.to_string())
        .bind(to_millis(lease_until))
        .bind(current_import.map(|id| id.to_string()))
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }

    async fn finish_sftp_inbox_poll(
        &self,
        endpoint: WebhookId,
        at: DateTime<Utc>,
        poll: &InboxPoll,
    ) -> Result<(), StoreError> {
        query::<E>(
            "UPDATE sftp_inboxes SET busy_until = NULL, current_import_id = NULL, \
             last_polled_at = $2, last_error = $3, files_processed = files_processed + $4, \
             files_failed = files_failed + $5, last_import_id = COALESCE($6::text, last_import_id) \
             WHERE endpoint_id = $1",
        )
        .bind(endpoint.to_string())
        .bind(to_millis(at))
        .bind(poll.error.as_deref())
        .bind(count(poll.processed))
        .bind(count(poll.failed))
        .bind(poll.last_import.map(|id| id.to_string()))
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }
}
