#![doc = include_str!("../README.md")]
#![allow(clippy::unwrap_used, clippy::missing_panics_doc, missing_docs)]

mod clock;
mod db;

pub use clock::FakeClock;
pub use db::{TempPostgres, TempSqlite, postgres_url, temp_postgres, temp_sqlite};
