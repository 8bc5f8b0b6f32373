#![doc = include_str!("../README.md")]

mod audit;
mod campaigns;
mod channels;
mod connect;
mod contacts;
mod conversations;
mod direct;
mod imports;
mod jobs;
mod rows;
mod webhooks;

pub use connect::Sqlite;
pub use imports::WRITER_CACHE_KIB;

/// Every port on one SQLite database file: the statements both engines share run in
/// `parley-store-sql`, the rest through [`Sqlite`].
pub type SqliteStore = parley_store_sql::SqlStore<Sqlite>;
