//! The `sim` channel's inbound door (SPEC §5): a customer's message posted by API or by
//! `parley chat`, handled exactly as a provider's would be. Needs `conversations:write`
//! (whoever may reply as an agent may play a customer on the simulator).

use parley_domain::{ChannelId, Permission, Provider};

use super::turn::{Handled, Inbound};
use crate::auth::Access;
use crate::{App, AppError, Conflict};

/// The longest simulated message (a long concatenated SMS is about 1,600).
pub const MAX_INBOUND_CHARS: usize = 4_096;

impl App {
    /// A customer at `from` writes `text` on the simulator channel `channel`.
    pub async fn sim_inbound(
        &self,
        access: &Access,
        channel: ChannelId,
        from: &str,
        text: &str,
    ) -> Result<Option<Handled>, AppError> {
        access.require(Permission::ConversationsWrite)?;
        let channel = self
            .store
            .find_channel(access.org_id(), channel)
            .await?
            .ok_or(AppError::NotFound("channel"))?;
        if channel.provider != Provider::Sim {
            return Err(AppError::Conflict(Conflict::NOT_SIM_CHANNEL));
        }
        if text.chars().count() > MAX_INBOUND_CHARS {
            return Err(AppError::invalid(
                "text",
                format!("must be at most {MAX_INBOUND_CHARS} characters"),
            ));
        }
        self.receive(Inbound {
            channel,
            from: from.to_owned(),
            text: text.to_owned(),
            provider_message_id: None,
            from_provider: false,
        })
        .await
    }
}
