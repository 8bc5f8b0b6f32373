//! The events outbox port. Events are written by other ports' methods in the same
//! transaction as the change they announce (SPEC §7.2); this port reads and retires them,
//! and appends events that stand alone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{EventId, NewEvent};

use crate::StoreError;

/// An event as stored in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The event.
    pub event: NewEvent,
    /// When a dispatcher took it, if one has.
    pub dispatched_at: Option<DateTime<Utc>>,
}

/// The outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Writes events in one transaction of their own: all or none. For producers whose
    /// change is the event itself (load generators, operator tooling); a change that
    /// announces itself writes its events with its own port method.
    async fn append_events(&self, events: &[NewEvent]) -> Result<(), StoreError>;

    /// Up to `limit` events not yet dispatched, oldest first.
    async fn list_undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// Up to `limit` events with ids above `after`, dispatched or not, oldest first (the
    /// live stream's feed).
    async fn events_after(
        &self,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Up to `limit` events about one conversation of `organization` (those whose data
    /// names it as `conversation_id`), oldest first: what happened to it, for its thread.
    async fn conversation_events(
        &self,
        organization: parley_domain::OrgId,
        conversation: parley_domain::ConversationId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Marks events dispatched; ids already dispatched are left as they were. Returns how
    /// many changed.
    async fn mark_events_dispatched(
        &self,
        ids: &[EventId],
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
