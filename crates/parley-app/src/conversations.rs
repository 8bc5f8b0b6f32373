//! Conversations (SPEC §5): what the runtime writes when customers, flows, agents and
//! providers act. So far the events they raise ([`events`]) and the providers' status
//! reports on our messages ([`status`]); the runtime's turns build on the store's
//! `take_turn` (ADR 0006).

pub mod events;
mod status;
