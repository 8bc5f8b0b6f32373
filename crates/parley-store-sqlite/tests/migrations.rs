//! SQLite's own migration steps, checked on data written before them.

use parley_store_sql::migrations;
use sqlx::Row;
use sqlx::sqlite::SqlitePoolOptions;

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
    migrations::migrator::<sqlx::Sqlite>(3)
        .run(&pool)
        .await
        .unwrap();
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
    migrations::migrator::<sqlx::Sqlite>(migrations::STEPS.len())
        .run(&pool)
        .await
        .unwrap();

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
