//! Meta's WhatsApp Cloud API (`reference/channels.md` §3): the webhook signature, the
//! webhooks themselves (handshake, inbound messages, status reports) and the statuses.

pub mod callback;
pub mod client;
pub mod signature;
pub mod status;
