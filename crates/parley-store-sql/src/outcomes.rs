//! Outcome statuses, queues and canned replies: each change with its audit entry in one
//! transaction.

use crate::{Cols, Engine, Sql, SqlStore, query, sql};
use chrono::{DateTime, Utc};
use parley_domain::{
    CannedReply, ConversationId, NewAuditEntry, OrgId, OutcomeStatus, Queue, QueueMember, UserId,
    to_millis,
};
use parley_store::{CannedReplyStore, OutcomeStore, QueueStore, StoreError, decode};

/// Binds every column of `outcome_statuses` as `$1…$7` in table order.
fn bind_status<E: Engine>(q: Sql<E>, s: &OutcomeStatus) -> Sql<E> {
    q.bind(s.organization_id.to_string())
        .bind(&s.key)
        .bind(&s.label)
        .bind(s.category.as_str())
        .bind(i64::from(s.closes))
        .bind(to_millis(s.created_at))
        .bind(to_millis(s.updated_at))
}

#[async_trait::async_trait]
impl<E: Engine> OutcomeStore for SqlStore<E> {
    async fn create_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError> {
        let query = bind_status::<E>(query::<E>(sql::INSERT_OUTCOME_STATUS), &status);
        self.write_audited(query, |r| decode::outcome_status(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError> {
        let query = bind_status::<E>(query::<E>(sql::UPDATE_OUTCOME_STATUS), &status);
        self.write_audited(query, |r| decode::outcome_status(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_outcome_statuses(
        &self,
        organization: OrgId,
    ) -> Result<Vec<OutcomeStatus>, StoreError> {
        query::<E>(sql::LIST_OUTCOME_STATUSES)
            .bind(organization.to_string())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::outcome_status(r))
            .await
    }

    async fn delete_outcome_status(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let query = query::<E>(sql::DELETE_OUTCOME_STATUS)
            .bind(organization.to_string())
            .bind(key);
        self.delete_audited(query, &audit).await
    }
}

/// Binds every column of `queues` as `$1…$5` in table order.
fn bind_queue<E: Engine>(q: Sql<E>, queue: &Queue) -> Sql<E> {
    q.bind(queue.organization_id.to_string())
        .bind(&queue.key)
        .bind(&queue.name)
        .bind(to_millis(queue.created_at))
        .bind(to_millis(queue.updated_at))
}

#[async_trait::async_trait]
impl<E: Engine> QueueStore for SqlStore<E> {
    async fn create_queue(&self, queue: Queue, audit: NewAuditEntry) -> Result<Queue, StoreError> {
        let query = bind_queue::<E>(query::<E>(sql::INSERT_QUEUE), &queue);
        self.write_audited(query, |r| decode::queue(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_queue(&self, queue: Queue, audit: NewAuditEntry) -> Result<Queue, StoreError> {
        let query = bind_queue::<E>(query::<E>(sql::UPDATE_QUEUE), &queue);
        self.write_audited(query, |r| decode::queue(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_queues(&self, organization: OrgId) -> Result<Vec<Queue>, StoreError> {
        query::<E>(sql::LIST_QUEUES)
            .bind(organization.to_string())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::queue(r))
            .await
    }

    async fn put_queue_member(&self, m: QueueMember) -> Result<QueueMember, StoreError> {
        let row = query::<E>(sql::PUT_QUEUE_MEMBER)
            .bind(m.organization_id.to_string())
            .bind(&m.queue)
            .bind(m.user_id.to_string())
            .bind(i64::from(m.capacity))
            .bind(i64::from(m.available))
            .bind(m.last_assigned_at.map(to_millis))
            .bind(to_millis(m.updated_at))
            .fetch_one(&mut *self.conn().await?)
            .await?;
        decode::queue_member(&Cols::<E>(&row))
    }

    async fn list_queue_members(
        &self,
        organization: OrgId,
        queue: &str,
    ) -> Result<Vec<QueueMember>, StoreError> {
        query::<E>(sql::LIST_QUEUE_MEMBERS)
            .bind(organization.to_string())
            .bind(queue)
            .fetch_all_as(&mut *self.conn().await?, |r| decode::queue_member(r))
            .await
    }

    async fn delete_queue_member(
        &self,
        organization: OrgId,
        queue: &str,
        user: UserId,
    ) -> Result<(), StoreError> {
        let done = query::<E>(sql::DELETE_QUEUE_MEMBER)
            .bind(organization.to_string())
            .bind(queue)
            .bind(user.to_string())
            .execute(&mut *self.conn().await?)
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn mark_member_assigned(
        &self,
        organization: OrgId,
        queue: &str,
        user: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query::<E>(sql::MARK_MEMBER_ASSIGNED)
            .bind(organization.to_string())
            .bind(queue)
            .bind(user.to_string())
            .bind(to_millis(at))
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn assigned_loads(&self, organization: OrgId) -> Result<Vec<(UserId, u32)>, StoreError> {
        let rows = query::<E>(sql::ASSIGNED_LOADS)
            .bind(organization.to_string())
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                let user = decode::text(&Cols::<E>(r), "assignee")?;
                let load = decode::int(&Cols::<E>(r), "load")?;
                let user = user.parse().map_err(|_| {
                    StoreError::corrupt("conversations.assignee holds an invalid id")
                })?;
                Ok((user, u32::try_from(load).unwrap_or(u32::MAX)))
            })
            .collect()
    }

    async fn waiting_conversations(
        &self,
        organization: OrgId,
        queue: &str,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let rows = query::<E>(sql::WAITING_CONVERSATIONS)
            .bind(organization.to_string())
            .bind(queue)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                let id = decode::text(&Cols::<E>(r), "id")?;
                id.parse()
                    .map_err(|_| StoreError::corrupt("conversations.id holds an invalid id"))
            })
            .collect()
    }

    async fn delete_queue(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let query = query::<E>(sql::DELETE_QUEUE)
            .bind(organization.to_string())
            .bind(key);
        self.delete_audited(query, &audit).await
    }
}

fn bind_canned_reply<E: Engine>(q: Sql<E>, reply: &CannedReply) -> Sql<E> {
    q.bind(reply.organization_id.to_string())
        .bind(&reply.key)
        .bind(&reply.title)
        .bind(&reply.body)
        .bind(to_millis(reply.created_at))
        .bind(to_millis(reply.updated_at))
}

#[async_trait::async_trait]
impl<E: Engine> CannedReplyStore for SqlStore<E> {
    async fn create_canned_reply(
        &self,
        reply: CannedReply,
        audit: NewAuditEntry,
    ) -> Result<CannedReply, StoreError> {
        let query = bind_canned_reply::<E>(query::<E>(sql::INSERT_CANNED_REPLY), &reply);
        self.write_audited(query, |r| decode::canned_reply(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_canned_reply(
        &self,
        reply: CannedReply,
        audit: NewAuditEntry,
    ) -> Result<CannedReply, StoreError> {
        let query = bind_canned_reply::<E>(query::<E>(sql::UPDATE_CANNED_REPLY), &reply);
        self.write_audited(query, |r| decode::canned_reply(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_canned_replies(
        &self,
        organization: OrgId,
    ) -> Result<Vec<CannedReply>, StoreError> {
        query::<E>(sql::LIST_CANNED_REPLIES)
            .bind(organization.to_string())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::canned_reply(r))
            .await
    }

    async fn delete_canned_reply(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let query = query::<E>(sql::DELETE_CANNED_REPLY)
            .bind(organization.to_string())
            .bind(key);
        self.delete_audited(query, &audit).await
    }
}
