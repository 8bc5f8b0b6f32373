//! The embedded migrations. File names match the SQLite set one for one (checked by
//! `cargo xtask check`).

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, file name, SQL)` in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_foundation.sql",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (
        2,
        "0002_contacts.sql",
        include_str!("../migrations/0002_contacts.sql"),
    ),
    (
        3,
        "0003_address_key_order.sql",
        include_str!("../migrations/0003_address_key_order.sql"),
    ),
    (
        4,
        "0004_compact_contact_keys.sql",
        include_str!("../migrations/0004_compact_contact_keys.sql"),
    ),
    (
        5,
        "0005_flows.sql",
        include_str!("../migrations/0005_flows.sql"),
    ),
    (
        6,
        "0006_webhooks.sql",
        include_str!("../migrations/0006_webhooks.sql"),
    ),
    (
        7,
        "0007_delivery_due_order.sql",
        include_str!("../migrations/0007_delivery_due_order.sql"),
    ),
    (
        8,
        "0008_custom_value_endpoints.sql",
        include_str!("../migrations/0008_custom_value_endpoints.sql"),
    ),
    (
        9,
        "0009_sftp_hooks.sql",
        include_str!("../migrations/0009_sftp_hooks.sql"),
    ),
    (
        10,
        "0010_sftp_inboxes.sql",
        include_str!("../migrations/0010_sftp_inboxes.sql"),
    ),
    (
        11,
        "0011_channels.sql",
        include_str!("../migrations/0011_channels.sql"),
    ),
    (
        12,
        "0012_conversations.sql",
        include_str!("../migrations/0012_conversations.sql"),
    ),
    (
        13,
        "0013_outcome_statuses.sql",
        include_str!("../migrations/0013_outcome_statuses.sql"),
    ),
    (
        14,
        "0014_queues.sql",
        include_str!("../migrations/0014_queues.sql"),
    ),
    (
        15,
        "0015_notes.sql",
        include_str!("../migrations/0015_notes.sql"),
    ),
    (
        16,
        "0016_queue_members.sql",
        include_str!("../migrations/0016_queue_members.sql"),
    ),
    (
        17,
        "0017_campaigns.sql",
        include_str!("../migrations/0017_campaigns.sql"),
    ),
    (
        18,
        "0018_campaign_recipients.sql",
        include_str!("../migrations/0018_campaign_recipients.sql"),
    ),
    (
        19,
        "0019_campaign_dispatch.sql",
        include_str!("../migrations/0019_campaign_dispatch.sql"),
    ),
    (
        20,
        "0020_invitations.sql",
        include_str!("../migrations/0020_invitations.sql"),
    ),
    (
        21,
        "0021_import_resume.sql",
        include_str!("../migrations/0021_import_resume.sql"),
    ),
    (
        22,
        "0022_key_check.sql",
        include_str!("../migrations/0022_key_check.sql"),
    ),
    (
        23,
        "0023_job_lanes.sql",
        include_str!("../migrations/0023_job_lanes.sql"),
    ),
    (
        24,
        "0024_archive.sql",
        include_str!("../migrations/0024_archive.sql"),
    ),
];

/// The file names of every embedded migration, for the parity check.
pub const MIGRATION_NAMES: &[&str] = &[
    "0001_foundation.sql",
    "0002_contacts.sql",
    "0003_address_key_order.sql",
    "0004_compact_contact_keys.sql",
    "0005_flows.sql",
    "0006_webhooks.sql",
    "0007_delivery_due_order.sql",
    "0008_custom_value_endpoints.sql",
    "0009_sftp_hooks.sql",
    "0010_sftp_inboxes.sql",
    "0011_channels.sql",
    "0012_conversations.sql",
    "0013_outcome_statuses.sql",
    "0014_queues.sql",
    "0015_notes.sql",
    "0016_queue_members.sql",
    "0017_campaigns.sql",
    "0018_campaign_recipients.sql",
    "0019_campaign_dispatch.sql",
    "0020_invitations.sql",
    "0021_import_resume.sql",
    "0022_key_check.sql",
    "0023_job_lanes.sql",
    "0024_archive.sql",
];

pub(crate) fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, name, sql)| {
                let description = name.trim_end_matches(".sql").to_owned();
                Migration::new(
                    *version,
                    Cow::Owned(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}
