#![doc = include_str!("../README.md")]
#![allow(clippy::unwrap_used, clippy::missing_panics_doc, missing_docs)]

mod app;
mod clock;
mod db;
mod process;
mod receiver;
mod sshd;
pub mod tools;
mod verify;

pub use app::{OWNER_PASSWORD, TEST_ARGON2, TestApp, TestDb, TestResponse, problem_fields};
pub use clock::FakeClock;
pub use db::{TempPostgres, TempSqlite, postgres_url, temp_postgres, temp_sqlite};
pub use parley_standin::{SentSms, SentWhatsapp, TwilioOutcome, TwilioStandIn, WhatsappStandIn};
pub use process::{ParleyProcess, http_get, parley_command};
pub use receiver::{Received, Receiver, Reply};
pub use sshd::{Sshd, keygen};
pub use verify::standard_webhooks_accepts;
