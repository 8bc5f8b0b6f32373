//! Conversations: what the runtime writes when customers, flows, people and providers
//! act. The [`runtime`] turns every input into one turn of the store's `take_turn` (ADR
//! 0006); [`turn`] holds what the modules hand each other; [`send`] is the send queue and
//! the sender's state; [`agents`] what people do, with `assignment` of waiting
//! conversations, [`canned`] replies and `read` marks and search; [`events`] the events
//! they raise; [`outcomes`] and [`queues`] the organization's statuses and queues;
//! `inbound` and `status` providers' messages and status reports; `sim` the simulated
//! customer; [`webchat`] the web chat's visitors.

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
