//! Twilio Programmable Messaging (`reference/channels.md` §1): the callback signature, the
//! callbacks themselves (inbound messages and status reports) and the message statuses.

pub mod callback;
pub mod client;
pub mod signature;
pub mod status;
