//! The channels port: an organization's messaging channels. Provider callbacks name a
//! channel by id alone (`/hooks/twilio/{channel}/…`), so one lookup is not scoped to an
//! organization; everything an API caller reaches is.

use async_trait::async_trait;
use parley_domain::{Channel, ChannelId, NewAuditEntry, OrgId};

use crate::{Page, PageRequest, StoreError};

/// Channels.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Stores a new channel with its audit entry.
    async fn create_channel(
        &self,
        channel: Channel,
        audit: NewAuditEntry,
    ) -> Result<Channel, StoreError>;

    /// Replaces a channel of `channel.organization_id` (everything but `id`,
    /// `organization_id`, `provider` and `created_at`) with its audit entry; `NotFound`
    /// otherwise.
    async fn update_channel(
        &self,
        channel: Channel,
        audit: NewAuditEntry,
    ) -> Result<Channel, StoreError>;

    /// A channel of `organization`.
    async fn find_channel(
        &self,
        organization: OrgId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError>;

    /// A channel by id alone, for provider callbacks (which prove who they are by the
    /// channel's own credentials, not by an organization).
    async fn find_channel_for_callback(&self, id: ChannelId)
    -> Result<Option<Channel>, StoreError>;

    /// Channels of exactly `organization`, by id.
    /// (`archived`: the archived ones instead of the others.)
    async fn list_channels(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Channel>, StoreError>;
}
