//! The SQLite import writer's own promises, beyond the conformance suite: what a finished
//! import leaves in the database file.

use parley_domain::{ChannelKind, ContactId};
use parley_store::conformance::fixtures::{at, create_org, new_import};
use parley_store::{ImportBatch, ImportRow};

/// The writer checkpoints on a thread of its own while it imports (its connection's
/// automatic checkpoint is off then). A finished import must nevertheless be in the
/// database file itself, not only in the WAL: a copy of the main file alone holds every
/// contact. (The import is far below SQLite's automatic checkpoint of 1000 pages, so only
/// the writer's checkpoint can have put the rows there.)
#[tokio::test]
async fn a_finished_import_is_checkpointed_into_the_database_file() {
    let db = parley_testkit::temp_sqlite().await;
    let org = create_org(&*db, "Checkpointed", None).await.id;
    let record = new_import(org);
    db.create_import(&record, None).await.unwrap();
    db.start_import(record.id, &["phone".into()], &[], at(1))
        .await
        .unwrap();
    let rows = (0..500)
        .map(|i| ImportRow {
            row_number: i + 2,
            new_id: ContactId::generate(),
            customer_id: Some(format!("C{i:04}")),
            address: format!("+35387100{i:04}"),
            fields_json: "{}".to_owned(),
        })
        .collect();
    let batch = ImportBatch {
        channel: ChannelKind::Sms,
        rows,
        rejected_rows: 0,
        reject_lines: Vec::new(),
        bytes_read: 100,
        through_row: 0,
        new_fields: Vec::new(),
    };
    let none = |_: usize| -> Vec<String> { unreachable!("no conflicts expected") };
    let mut writer = db.import_writer(record.id, org).await.unwrap();
    let counters = writer.apply(&batch, &none, at(2)).await.unwrap();
    assert_eq!(counters.contacts_created, 500);
    writer.finish().await.unwrap();

    let main_file = db.dir.path().join("parley.db");
    let copy = db.dir.path().join("main-file-only.db");
    std::fs::copy(&main_file, &copy).unwrap();
    assert!(!db.dir.path().join("main-file-only.db-wal").exists());
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let in_file: i64 = conn
        .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(in_file, 500);
}
