//! Conversations (SPEC §5): what the runtime writes when customers, flows, agents and
//! providers act. So far: the events they raise ([`events`]), the organization's outcome
//! statuses ([`outcomes`]) and queues ([`queues`]), and providers' status reports on our messages, the
//! [`runtime`] that turns every input into one turn of the store's `take_turn` (ADR 0006),
//! the [`send`] queue, and the web chat's visitors ([`webchat`]).

pub mod agents;
mod assignment;
pub mod canned;
pub mod events;
mod inbound;
pub mod outcomes;
pub mod queues;
mod read;
pub use read::contact_search;
pub mod runtime;
pub mod send;
mod sim;
mod status;
pub mod turn;
pub mod webchat;
