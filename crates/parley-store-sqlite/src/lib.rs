#![doc = include_str!("../README.md")]

mod api_keys;
mod audit;
mod campaigns;
mod channels;
mod connect;
mod contacts;
mod conversations;
mod direct;
mod flows;
mod idempotency;
mod imports;
mod inboxes;
mod invitations;
mod jobs;
mod migrations;
mod organizations;
mod outbox;
mod outcomes;
mod reads;
mod rows;
mod sessions;
mod users;
mod webhooks;

pub use connect::SqliteStore;
pub use imports::WRITER_CACHE_KIB;
pub use migrations::MIGRATION_NAMES;
