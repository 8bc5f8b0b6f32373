//! Twilio Programmable Messaging (`reference/channels.md` §1): the callback signature and
//! the message statuses.

pub mod signature;
pub mod status;
