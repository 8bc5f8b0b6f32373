//! `parley import FILE --org ORG`: imports a local file through the same path as the API
//! (plan, validation, batches, counters, report), in this process, with a progress bar.
//! The rejects report is written next to the file as `<name>.rejects.csv`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use parley_app::App;
use parley_app::imports::{ImportRun, RunOutcome};
use parley_domain::{ImportId, ImportOptions, ImportRecord, OrgId};

use crate::config::Config;
use crate::wiring;

/// What an import run measured.
pub struct Finished {
    /// The final record.
    pub record: ImportRecord,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Imports `path` into `org`, drawing a progress bar when `progress` is set.
pub async fn import_file(
    app: &App,
    org: OrgId,
    path: &Path,
    options: ImportOptions,
    progress: bool,
) -> anyhow::Result<(Finished, RunOutcome)> {
    let record = app
        .admin_start_file_import(org, path, options)
        .await
        .with_context(|| format!("starting the import of {}", path.display()))?;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(record.bytes_total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:40}] {percent:>3}% {bytes}/{total_bytes} {elapsed} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let ticker = bar.clone().map(|bar| {
        let counter = Arc::clone(&counter);
        tokio::spawn(async move {
            loop {
                bar.set_position(counter.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let started = Instant::now();
    let outcome = app
        .run_import(record.id, ImportRun::File(path.to_path_buf()), counter)
        .await
        .context("applying the import")?;
    let elapsed = started.elapsed();
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let record = app
        .admin_find_import(record.id)
        .await?
        .context("the import record vanished")?;
    Ok((Finished { record, elapsed }, outcome))
}

/// Writes the rejects report of `id` to `target`.
pub async fn write_report(app: &App, id: ImportId, target: &Path) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(target).with_context(|| format!("creating {}", target.display()))?,
    );
    app.write_rejects_csv(id, &mut file)
        .await
        .with_context(|| format!("writing {}", target.display()))?;
    Ok(())
}

fn report_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.rejects.csv"))
}

/// Runs `parley import`.
pub async fn run(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let store = wiring::open_store(config, true).await?;
    let app = wiring::app(config, store.clone()).await?;
    let mut options = ImportOptions {
        sheet: args.sheet,
        address_column: args.address_column,
        ignore_unknown: args.ignore_unknown,
        default_country: args.country,
        channel: args.channel,
        ..ImportOptions::default()
    };
    for pair in &args.mapping {
        let (column, key) = pair.split_once('=').with_context(|| {
            format!("--mapping {pair:?}: expected COLUMN=FIELD (FIELD empty to ignore the column)")
        })?;
        let key = key.trim();
        options.mapping.insert(
            column.trim().to_owned(),
            (!key.is_empty()).then(|| key.to_owned()),
        );
    }
    let (finished, outcome) = import_file(&app, args.org, &args.file, options, !args.quiet).await?;
    let c = finished.record.counters;
    let seconds = finished.elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = c.rows_total as f64 / seconds.max(1e-9);
    println!(
        "import {}: {} rows in {seconds:.2} s ({rate:.0} rows/s)",
        finished.record.id, c.rows_total
    );
    println!(
        "  imported {} (created {}, updated {}, unchanged {}), rejected {}",
        c.rows_imported,
        c.contacts_created,
        c.contacts_updated,
        c.contacts_unchanged,
        c.rows_rejected
    );
    for w in &finished.record.warnings {
        println!("  warning: {w}");
    }
    if c.rows_rejected > 0 {
        let target = args
            .rejects
            .clone()
            .unwrap_or_else(|| report_path(&args.file));
        write_report(&app, finished.record.id, &target).await?;
        println!("  rejects report: {}", target.display());
    }
    store.close().await;
    match outcome {
        RunOutcome::Completed => Ok(()),
        RunOutcome::Failed(message) => {
            bail!("{} could not be read: {message}", args.file.display())
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file.
    pub file: PathBuf,
    /// The organization the contacts go into.
    #[arg(long, value_name = "ORG")]
    pub org: OrgId,
    /// COLUMN=FIELD, repeatable; `COLUMN=` ignores the column.
    #[arg(long, value_name = "COLUMN=FIELD")]
    pub mapping: Vec<String>,
    /// The worksheet (the first one otherwise).
    #[arg(long)]
    pub sheet: Option<String>,
    /// The channel-address column (detected from its name otherwise).
    #[arg(long, value_name = "COLUMN")]
    pub address_column: Option<String>,
    /// Drop unknown columns instead of creating text fields for them.
    #[arg(long)]
    pub ignore_unknown: bool,
    /// Country of local phone numbers (the organization's otherwise).
    #[arg(long, value_name = "CC")]
    pub country: Option<parley_domain::CountryCode>,
    /// Channel of the addresses (sms by default).
    #[arg(long)]
    pub channel: Option<parley_domain::ChannelKind>,
    /// Where to write the rejects report (default: <file>.rejects.csv beside the file).
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}
