//! The migrations of both engines, in one numbered list: each step has a SQL file per
//! dialect under `migrations/sqlite/` and `migrations/postgres/` (the dialects differ:
//! SQLite keeps contacts on integer keys, PostgreSQL has `SKIP LOCKED` indexes and its own
//! types), and the Rust that embeds and applies them is this one file. A step's number is
//! its place in the list, which is also its file name's prefix; a file without its twin
//! does not compile.

use std::borrow::Cow;

use parley_store::StoreError;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::dialect::Dialect;

/// One step: its name (the file name without `.sql`) and its SQL in each dialect.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// `0001_foundation` and so on.
    pub name: &'static str,
    /// The SQLite file.
    pub sqlite: &'static str,
    /// The PostgreSQL file.
    pub postgres: &'static str,
}

macro_rules! migration {
    ($name:literal) => {
        Step {
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

/// Every step, in order.
pub const STEPS: &[Step] = &[
    migration!("0001_foundation"),
    migration!("0002_contacts"),
    migration!("0003_address_key_order"),
    migration!("0004_compact_contact_keys"),
    migration!("0005_flows"),
    migration!("0006_webhooks"),
    migration!("0007_delivery_due_order"),
    migration!("0008_custom_value_endpoints"),
    migration!("0009_sftp_hooks"),
    migration!("0010_sftp_inboxes"),
    migration!("0011_channels"),
    migration!("0012_conversations"),
    migration!("0013_outcome_statuses"),
    migration!("0014_queues"),
    migration!("0015_notes"),
    migration!("0016_queue_members"),
    migration!("0017_campaigns"),
    migration!("0018_campaign_recipients"),
    migration!("0019_campaign_dispatch"),
    migration!("0020_invitations"),
    migration!("0021_import_resume"),
    migration!("0022_key_check"),
    migration!("0023_job_lanes"),
    migration!("0024_archive"),
    migration!("0025_canned_replies"),
    migration!("0026_conversation_reads"),
    migration!("0027_desk_indexes"),
    migration!("0028_conversation_events"),
    migration!("0029_organization_contact"),
];

/// The migration file names, in order (the same for both engines).
#[must_use]
pub fn names() -> Vec<String> {
    STEPS.iter().map(|s| format!("{}.sql", s.name)).collect()
}

/// The migrator of dialect `D` for the first `count` steps.
#[must_use]
pub fn migrator<D: Dialect>(count: usize) -> Migrator {
    Migrator::with_migrations(
        STEPS
            .iter()
            .take(count)
            .zip(1..)
            .map(|(step, version)| {
                Migration::new(
                    version,
                    Cow::Borrowed(step.name),
                    MigrationType::Simple,
                    D::pick(step.sqlite, step.postgres).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Applies every pending step on `pool` (sqlx takes a lock first, so concurrent starts
/// apply each step once).
pub async fn run<D: Dialect>(pool: &sqlx::Pool<D>) -> Result<(), StoreError> {
    D::migrate(pool, migrator::<D>(STEPS.len()))
        .await
        .map_err(|e| StoreError::Other(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_by_their_place_in_the_list() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(step.name[..4], format!("{:04}", i + 1), "{}", step.name);
        }
    }
}
