//! The read-marks port: how far each person has read each conversation (the time of the
//! newest customer message they had in front of them), for the desk's unread marker.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{ConversationId, OrgId, UserId};

use crate::StoreError;

/// Read marks.
#[async_trait]
pub trait ReadMarkStore: Send + Sync {
    /// Records that `user` has read `conversation` (of `organization`) up to `up_to`; a
    /// mark only moves forward (an older `up_to` leaves a newer mark as it is). Nothing is
    /// written for a conversation that is not the organization's.
    async fn mark_read(
        &self,
        organization: OrgId,
        user: UserId,
        conversation: ConversationId,
        up_to: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// `user`'s marks on those of `conversations` they have read (at most 500 are asked
    /// about at once), in no particular order.
    async fn read_marks(
        &self,
        organization: OrgId,
        user: UserId,
        conversations: &[ConversationId],
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError>;
}
