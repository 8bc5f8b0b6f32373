//! Import crash recovery: `parley serve` is SIGKILLed while an uploaded 300,000-row
//! import runs, and restarted. The retried job goes on after the last row
//! whose outcome was committed: at the end every contact is counted once as created
//! (none as unchanged), and no client polling the import ever sees a counter move back.

use std::path::Path;
use std::time::{Duration, Instant};

use parley_app::Settings;
use parley_domain::{ImportOptions, ImportRecord, ImportStatus};
use parley_store::Store;
use parley_testkit::ParleyProcess;

const ROWS: u64 = 300_000;

/// The counters a client reads, in one tuple to compare.
fn counters(r: &ImportRecord) -> [u64; 6] {
    let c = &r.counters;
    [
        c.rows_total,
        c.rows_imported,
        c.rows_rejected,
        c.contacts_created,
        c.contacts_updated,
        c.contacts_unchanged,
    ]
}

/// Reads the import until `done` says so, asserting that no counter ever moves back.
async fn watch(
    store: &dyn Store,
    import: parley_domain::ImportId,
    last: &mut [u64; 6],
    within: Duration,
    done: impl Fn(&ImportRecord) -> bool,
) -> ImportRecord {
    let started = Instant::now();
    loop {
        let record = store.find_import(import).await.unwrap().unwrap();
        let now = counters(&record);
        for (i, (before, after)) in last.iter().zip(now).enumerate() {
            assert!(
                after >= *before,
                "counter {i} moved back: {last:?} → {now:?}"
            );
        }
        *last = now;
        if done(&record) {
            return record;
        }
        assert!(
            started.elapsed() < within,
            "import not there after {within:?}: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn process_sigkill_during_an_import_resumes_with_true_counters() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    // A short lease so the restarted process retries the dead one's job soon.
    let env = [("PARLEY_JOBS__LEASE", "2s".to_owned())];
    let serving = ParleyProcess::start(binary, dir.path(), &env);

    let (app, store, access) = serving.app_beside(dir.path(), Settings::default()).await;

    // An upload, as the API takes it; `parley serve` runs its job.
    let mut upload = app
        .start_upload(&access, "contacts.csv", ImportOptions::default())
        .await
        .unwrap();
    let mut csv = String::from("phone,first_name,balance\n");
    for i in 0..ROWS {
        csv.push_str(&format!("+447911{i:06},Person {i},{}.50\n", i % 900));
        if csv.len() > 1 << 20 {
            upload.push(csv.as_bytes()).await.unwrap();
            csv.clear();
        }
    }
    upload.push(csv.as_bytes()).await.unwrap();
    let import = upload.finish().await.unwrap().id;

    // Killed as soon as some rows are committed: partway through the file, or (when the
    // file went faster than the poll) in the window between the last commit of rows and
    // the import's status; either way the job is retried after the restart.
    let mut last = [0u64; 6];
    watch(&*store, import, &mut last, Duration::from_secs(120), |r| {
        r.counters.rows_total > 0
    })
    .await;
    serving.kill_hard();
    let at_kill = store.find_import(import).await.unwrap().unwrap();
    assert_eq!(at_kill.status, ImportStatus::Running, "{at_kill:?}");
    println!(
        "killed with {} of {ROWS} rows committed (through row {}), status {}",
        at_kill.counters.rows_total,
        at_kill.rows_through,
        at_kill.status.as_str()
    );

    let _restarted = ParleyProcess::start(binary, dir.path(), &env);
    let done = watch(&*store, import, &mut last, Duration::from_secs(180), |r| {
        r.status.is_final()
    })
    .await;
    assert_eq!(done.status, ImportStatus::Completed, "{done:?}");
    assert_eq!(
        counters(&done),
        [ROWS, ROWS, 0, ROWS, 0, 0],
        "every row once, every contact created once: {done:?}"
    );
    assert_eq!(done.rows_through, ROWS + 1, "the header is row 1");
    // The sqlite3 shell (installed by .ci/run) counts what the store holds.
    let out = std::process::Command::new("sqlite3")
        .arg(dir.path().join("parley.db"))
        .arg("SELECT count(*) FROM contacts")
        .output()
        .expect("the sqlite3 shell");
    let contacts: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(contacts, ROWS, "each contact once");
}
