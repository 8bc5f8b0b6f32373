//! Conversations (SPEC §5): what the runtime writes when customers, flows and agents act.
//! So far the events they raise ([`events`]); the runtime's turns build on the store's
//! `take_turn` (ADR 0006).

pub mod events;
