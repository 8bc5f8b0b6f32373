#![doc = include_str!("../README.md")]

mod campaigns;
mod connect;
mod contacts;
mod conversations;
mod imports;
mod jobs;
mod rows;
mod webhooks;

/// Every port on one PostgreSQL database: the statements both engines share run in
/// `parley-store-sql`, the rest through [`Postgres`].
pub type PgStore = parley_store_sql::SqlStore<Postgres>;

/// The PostgreSQL engine: what Parley does its own way on PostgreSQL (claims with
/// `FOR UPDATE SKIP LOCKED`, advisory locks for turns, `COPY`-free bulk imports with
/// `INSERT … SELECT` from JSON).
#[derive(Debug, Default)]
pub struct Postgres;
