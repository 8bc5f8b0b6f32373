//! Conversations (SPEC §5): what the runtime writes when customers, flows, agents and
//! providers act. So far: the events they raise ([`events`]), the organization's outcome
//! statuses ([`outcomes`]) and queues ([`queues`]), and providers' status reports on our messages. The runtime's
//! turns build on the store's `take_turn` (ADR 0006).

pub mod events;
pub mod outcomes;
pub mod queues;
mod status;
