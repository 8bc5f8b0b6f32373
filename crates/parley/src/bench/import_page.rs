//! `parley bench import --page`: the import page's goal (issue 26). After the CLI runs of
//! `parley bench import` on the same file, a fresh store is served as `parley serve`
//! serves it (job workers and router on a local port) and a person in headless chromium
//! (`tests/browser/bench_import_page.mjs`) chooses the file on the Imports page, maps its
//! `customer_ref` column to the customer id in the preview, presses Import and watches
//! the import's page until it says completed. Printed: the time from Import pressed to
//! completed on screen against `parley import` of the same file in the same run (goal:
//! within 10 %), how that time divides (upload, waiting for a worker, the import itself,
//! until the page showed it), and the longest wait between two changes of the page's
//! "Rows read" while the import ran (goal: at most a second).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use parley_domain::Role;
use parley_store::{ContactFilter, PageRequest};

use crate::bench::fresh_store;
use crate::bench::serve::{Served, person};

const EMAIL: &str = "importer@example.test";
const PASSWORD: &str = "import page benchmark password";

/// The browser script, beside the web application's browser tests (their chromium and
/// playwright-core).
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../parley-http/tests/browser/bench_import_page.mjs"
);

/// Imports `file` (`rows` rows) through the page and prints its figures against `cli`,
/// the `parley import` time of the same file.
pub(crate) async fn run(dir: &Path, file: &Path, rows: u64, cli: Duration) -> anyhow::Result<()> {
    let (app, store, org) = fresh_store(dir, "page.db", parley_app::Settings::default()).await?;
    let access = crate::bench::admin_access(&app, org).await?;
    person(&app, &access, EMAIL, PASSWORD, Role::Admin).await?;
    let served = Served::start(&app).await?;
    let summary = crate::bench::serve::browser_script(
        SCRIPT,
        vec![
            ("BASE", served.base.clone()),
            ("EMAIL", EMAIL.to_owned()),
            ("PASSWORD", PASSWORD.to_owned()),
            ("FILE", file.display().to_string()),
        ],
    )
    .await;
    served.stop().await;
    let summary = summary?;
    ensure!(
        summary["status"] == "completed",
        "the import through the page did not complete: {summary}"
    );
    let imports = app.list_imports(&access, PageRequest::first(1)).await?;
    let record = imports.items.first().context("no import recorded")?;
    let c = record.counters;
    ensure!(
        c.rows_total == rows && c.contacts_created == rows && c.rows_rejected == 0,
        "expected {rows} contacts created through the page, got {c:?}"
    );
    let stored = store
        .list_contacts(org, &ContactFilter::default(), PageRequest::first(1))
        .await?;
    ensure!(
        stored
            .items
            .first()
            .is_some_and(|c| c.customer_id.is_some()),
        "the preview's mapping (customer_ref → customer id) was not used"
    );
    let ms = |key: &str| summary[key].as_u64().unwrap_or(0);
    let (uploaded, completed) = (ms("uploaded"), ms("completed"));
    let changes: Vec<(u64, u64)> = summary["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p[0].as_u64()?, p[1].as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    // While it ran: from the first change shown after the page opened to the last.
    let longest = changes
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .max()
        .unwrap_or(0);
    let between = |a: Option<chrono::DateTime<chrono::Utc>>,
                   b: Option<chrono::DateTime<chrono::Utc>>| {
        match (a, b) {
            (Some(a), Some(b)) => (b - a).num_milliseconds(),
            _ => 0,
        }
    };
    let job = between(record.started_at, record.finished_at);
    #[allow(clippy::cast_precision_loss)]
    let ratio = completed as f64 / cli.as_secs_f64() / 1000.0;
    println!("import page, {rows} rows in headless chromium:");
    println!(
        "  Import pressed → completed on screen: {:.2} s; parley import of the same file: {:.2} s; ratio {ratio:.3} (goal <= 1.10)",
        completed as f64 / 1000.0,
        cli.as_secs_f64()
    );
    println!(
        "  of which: the upload until the import's page showed {:.2} s, the import job (started → finished in the store) {:.2} s, the rest (copying the stored file out, the worker taking the job, the page catching up) {:.2} s",
        uploaded as f64 / 1000.0,
        job as f64 / 1000.0,
        (completed as f64 - uploaded as f64 - job as f64).max(0.0) / 1000.0,
    );
    println!(
        "  progress on screen: {} changes of Rows read, the longest wait between two {longest} ms (goal <= 1000 ms)",
        changes.len()
    );
    if summary["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        println!("  page errors: {}", summary["errors"]);
    }
    store.close().await;
    Ok(())
}
