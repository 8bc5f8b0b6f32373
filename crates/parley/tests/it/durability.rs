//! Durability: `parley serve` is SIGKILLed while canary jobs are claimed, then restarted.
//! Every job must end `done` exactly once, and every canary's effect must be recorded
//! under exactly one key (at-least-once execution, de-duplicated effects). The test
//! prints how many canaries were executed more than once.

use std::path::Path;
use std::time::{Duration, Instant};

use parley_store::JobQueue;
use parley_store_sqlite::SqliteStore;
use parley_testkit::{ParleyProcess, parley_command};

const CANARIES: u32 = 400;

async fn done_count(store: &SqliteStore) -> (u64, u64) {
    let stats = store.job_stats().await.unwrap();
    let default = stats
        .iter()
        .find(|s| s.queue == "default")
        .cloned()
        .unwrap_or_default();
    (default.done, default.running)
}

#[tokio::test(flavor = "multi_thread")]
async fn process_sigkill_during_jobs_loses_and_duplicates_nothing() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PARLEY_JOBS__LEASE", "2s".to_owned()),
        ("PARLEY_JOBS__WORKERS", "8".to_owned()),
    ];
    let out = parley_command(binary, dir.path(), &env)
        .args([
            "admin",
            "jobs",
            "canary",
            "--count",
            &CANARIES.to_string(),
            "--work-ms",
            "25",
            "--prefix",
            "crash",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!("sqlite://{}", dir.path().join("parley.db").display());
    let store = SqliteStore::connect(&url, false).await.unwrap();

    let first = ParleyProcess::start(binary, dir.path(), &env);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (done_before, running_at_kill) = loop {
        let (done, running) = done_count(&store).await;
        if done >= u64::from(CANARIES) / 4 && running > 0 {
            break (done, running);
        }
        assert!(
            Instant::now() < deadline,
            "the first process made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    first.kill_hard();
    assert!(
        running_at_kill > 0,
        "the kill must land while jobs are claimed"
    );
    assert!(
        done_before < u64::from(CANARIES),
        "the kill must land before the work is over"
    );

    let _second = ParleyProcess::start(binary, dir.path(), &env);
    let deadline = Instant::now() + Duration::from_secs(120);
    while done_count(&store).await.0 < u64::from(CANARIES) {
        assert!(
            Instant::now() < deadline,
            "the restarted process did not finish the jobs"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let canaries = store.list_canaries().await.unwrap();
    assert_eq!(
        canaries.len(),
        CANARIES as usize,
        "every canary's effect exactly once per key"
    );
    let mut keys: Vec<&str> = canaries.iter().map(|c| c.key.as_str()).collect();
    keys.dedup();
    assert_eq!(keys.len(), CANARIES as usize);
    let repeats: u32 = canaries.iter().map(|c| c.runs - 1).sum();
    let stats = store.job_stats().await.unwrap();
    let default = stats.iter().find(|s| s.queue == "default").unwrap();
    assert_eq!(
        (
            default.done,
            default.failed,
            default.pending,
            default.running
        ),
        (u64::from(CANARIES), 0, 0, 0)
    );
    println!(
        "durability: {CANARIES} canaries, SIGKILL with {done_before} done and {running_at_kill} claimed; \
         all {CANARIES} done exactly once after restart; {repeats} re-executions absorbed"
    );
}
