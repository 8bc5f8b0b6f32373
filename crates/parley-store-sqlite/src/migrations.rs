//! The embedded migrations. File names match the PostgreSQL set one for one (checked by
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
    (
        25,
        "0025_canned_replies.sql",
        include_str!("../migrations/0025_canned_replies.sql"),
    ),
    (
        26,
        "0026_conversation_reads.sql",
        include_str!("../migrations/0026_conversation_reads.sql"),
    ),
    (
        27,
        "0027_desk_indexes.sql",
        include_str!("../migrations/0027_desk_indexes.sql"),
    ),
    (
        28,
        "0028_conversation_events.sql",
        include_str!("../migrations/0028_conversation_events.sql"),
    ),
    (
        29,
        "0029_organization_contact.sql",
        include_str!("../migrations/0029_organization_contact.sql"),
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
    "0025_canned_replies.sql",
    "0026_conversation_reads.sql",
    "0027_desk_indexes.sql",
    "0028_conversation_events.sql",
    "0029_organization_contact.sql",
];

pub(crate) fn migrator() -> Migrator {
    migrator_of(MIGRATIONS)
}

fn migrator_of(migrations: &[(i64, &str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
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

#[cfg(test)]
mod tests {
    use sqlx::Row;
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;

    /// Migration 0004 moves contacts and addresses onto integer keys: existing rows keep
    /// their ids, values and addresses, each address still names its own contact, and
    /// organizations created afterwards get the next `seq`.
    #[tokio::test]
    async fn compact_keys_keep_every_contact_and_address() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        migrator_of(&MIGRATIONS[..3]).run(&pool).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO organizations (id, name, path, region, default_country, timezone, locale, created_at, updated_at) VALUES \
               ('org_a', 'A', '/a', 'eu', 'GB', 'Europe/London', 'dmy', 1, 1), \
               ('org_b', 'B', '/b', 'eu', 'IE', 'Europe/Dublin', 'dmy', 1, 1); \
             INSERT INTO contacts (organization_id, id, customer_id, fields, created_at, updated_at) VALUES \
               ('org_a', 'ct_1', 'C1', '{\"x\":1}', 5, 6), \
               ('org_a', 'ct_2', NULL, '{}', 5, 6), \
               ('org_b', 'ct_3', 'C1', '{\"y\":2}', 7, 8); \
             INSERT INTO contact_addresses (organization_id, channel_kind, address, contact_id, created_at) VALUES \
               ('org_a', 'sms', '+447700900001', 'ct_1', 5), \
               ('org_a', 'whatsapp', '+447700900001', 'ct_2', 5), \
               ('org_b', 'sms', '+447700900001', 'ct_3', 7);",
        )
        .execute(&pool)
        .await
        .unwrap();
        migrator().run(&pool).await.unwrap();

        let rows = sqlx::query(
            "SELECT o.id AS org, c.id, c.customer_id, c.fields, c.created_at, c.updated_at, \
             (SELECT group_concat(a.channel_kind || ' ' || a.address, ',') FROM contact_addresses a \
              WHERE a.contact_seq = c.seq AND a.organization_seq = c.organization_seq) AS addresses \
             FROM contacts c JOIN organizations o ON o.seq = c.organization_seq ORDER BY c.id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let seen: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {:?} {} {} {} {}",
                    r.get::<String, _>("org"),
                    r.get::<String, _>("id"),
                    r.get::<Option<String>, _>("customer_id"),
                    r.get::<String, _>("fields"),
                    r.get::<i64, _>("created_at"),
                    r.get::<i64, _>("updated_at"),
                    r.get::<String, _>("addresses"),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                r#"org_a ct_1 Some("C1") {"x":1} 5 6 sms +447700900001"#,
                r#"org_a ct_2 None {} 5 6 whatsapp +447700900001"#,
                r#"org_b ct_3 Some("C1") {"y":2} 7 8 sms +447700900001"#,
            ]
        );
        let addresses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contact_addresses")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(addresses, 3);
        let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM organizations ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(seqs.len(), 2);
        assert_ne!(seqs[0], seqs[1]);
    }
}
