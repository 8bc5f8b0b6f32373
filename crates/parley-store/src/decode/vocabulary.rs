//! Decoding of an organization's conversation vocabulary: outcome statuses, queues and
//! their members, canned replies.

use parley_domain::{CannedReply, OutcomeStatus, Queue, QueueMember, StatusCategory};

use super::{RowSource, StoreError, count, instant, int, named, opt_instant, parsed, text};

/// `outcome_statuses.*`
pub fn outcome_status(r: &impl RowSource) -> Result<OutcomeStatus, StoreError> {
    Ok(OutcomeStatus {
        organization_id: parsed(r, "organization_id")?,
        key: text(r, "key")?,
        label: text(r, "label")?,
        category: named(r, "category", StatusCategory::from_name)?,
        closes: int(r, "closes")? != 0,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `queues.*`
pub fn queue(r: &impl RowSource) -> Result<Queue, StoreError> {
    Ok(Queue {
        organization_id: parsed(r, "organization_id")?,
        key: text(r, "key")?,
        name: text(r, "name")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `canned_replies.*`
pub fn canned_reply(r: &impl RowSource) -> Result<CannedReply, StoreError> {
    Ok(CannedReply {
        organization_id: parsed(r, "organization_id")?,
        key: text(r, "key")?,
        title: text(r, "title")?,
        body: text(r, "body")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `queue_members.*`
pub fn queue_member(r: &impl RowSource) -> Result<QueueMember, StoreError> {
    Ok(QueueMember {
        organization_id: parsed(r, "organization_id")?,
        queue: text(r, "queue")?,
        user_id: parsed(r, "user_id")?,
        capacity: count(r, "capacity")?,
        available: int(r, "available")? != 0,
        last_assigned_at: opt_instant(r, "last_assigned_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}
