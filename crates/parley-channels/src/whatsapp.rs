//! Meta's WhatsApp Cloud API (`reference/channels.md` §3): the webhook signature and the
//! message statuses.

pub mod signature;
pub mod status;
