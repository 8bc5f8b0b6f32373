//! The conversation vocabulary ports: an organization's outcome statuses, which flows and
//! agents tag conversations with, its queues, where conversations wait for people (SPEC
//! §5), and its canned replies, which agents insert in their replies; each change with its
//! audit entry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    CannedReply, ConversationId, NewAuditEntry, OrgId, OutcomeStatus, Queue, QueueMember, UserId,
};

use crate::StoreError;

/// Outcome statuses.
#[async_trait]
pub trait OutcomeStore: Send + Sync {
    /// Defines a status (`Conflict { constraint: "outcome_statuses_pkey" }` when its key
    /// exists).
    async fn create_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError>;

    /// Replaces the label, category, `closes` and `updated_at` of the status with
    /// `status.key` (`NotFound` when there is none).
    async fn update_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError>;

    /// The organization's statuses, by key.
    async fn list_outcome_statuses(
        &self,
        organization: OrgId,
    ) -> Result<Vec<OutcomeStatus>, StoreError>;

    /// Removes a status (`NotFound` when there is none). Conversations tagged with it
    /// keep the key they were tagged with.
    async fn delete_outcome_status(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
}

/// Queues.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Defines a queue (`Conflict { constraint: "queues_pkey" }` when its key exists).
    async fn create_queue(&self, queue: Queue, audit: NewAuditEntry) -> Result<Queue, StoreError>;

    /// Renames the queue with `queue.key` (`NotFound` when there is none).
    async fn update_queue(&self, queue: Queue, audit: NewAuditEntry) -> Result<Queue, StoreError>;

    /// The organization's queues, by key.
    async fn list_queues(&self, organization: OrgId) -> Result<Vec<Queue>, StoreError>;

    /// Adds a member to a queue, or changes one (its capacity and availability).
    async fn put_queue_member(&self, member: QueueMember) -> Result<QueueMember, StoreError>;

    /// A queue's members, by user.
    async fn list_queue_members(
        &self,
        organization: OrgId,
        queue: &str,
    ) -> Result<Vec<QueueMember>, StoreError>;

    /// Removes a member (`NotFound` when there is none).
    async fn delete_queue_member(
        &self,
        organization: OrgId,
        queue: &str,
        user: UserId,
    ) -> Result<(), StoreError>;

    /// Records that a member was given one of the queue's conversations at `at`.
    async fn mark_member_assigned(
        &self,
        organization: OrgId,
        queue: &str,
        user: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// How many open conversations each person has assigned.
    async fn assigned_loads(&self, organization: OrgId) -> Result<Vec<(UserId, u32)>, StoreError>;

    /// A queue's conversations waiting for a person, oldest first.
    async fn waiting_conversations(
        &self,
        organization: OrgId,
        queue: &str,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StoreError>;

    /// Removes a queue (`NotFound` when there is none). Conversations waiting in it keep
    /// its key.
    async fn delete_queue(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
}

/// Canned replies.
#[async_trait]
pub trait CannedReplyStore: Send + Sync {
    /// Saves a reply (`Conflict { constraint: "canned_replies_pkey" }` when its key
    /// exists).
    async fn create_canned_reply(
        &self,
        reply: CannedReply,
        audit: NewAuditEntry,
    ) -> Result<CannedReply, StoreError>;

    /// Replaces the title, body and `updated_at` of the reply with `reply.key`
    /// (`NotFound` when there is none).
    async fn update_canned_reply(
        &self,
        reply: CannedReply,
        audit: NewAuditEntry,
    ) -> Result<CannedReply, StoreError>;

    /// The organization's replies, by title (then key).
    async fn list_canned_replies(
        &self,
        organization: OrgId,
    ) -> Result<Vec<CannedReply>, StoreError>;

    /// Removes a reply (`NotFound` when there is none).
    async fn delete_canned_reply(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
}
