//! `parley bench import`: the import benchmark of issue 3, as a command.
//!
//! It generates a contacts CSV (deterministic), imports it into a fresh SQLite store
//! through the real import path (plan, typed validation of every column, E.164 phones,
//! batched upserts, counters, report), and in the same run times the `sqlite3` shell's
//! `.import` of the same file into a plain table: the raw loader with no validation, the
//! practical limit. After each Parley run it also measures two *storage floors*: the time
//! the sqlite3 shell needs to store the rows and keys that import stored, with Parley's
//! own schema and nothing else, once copied set-based and once loaded row by row by
//! `.import` itself ([`storage_floors`]). The reference divided by a floor is the best
//! ratio an importer into this store could reach. Then it writes an XLSX of `--xlsx-rows` rows and imports that. It
//! prints rows/s for each, the ratio, and the peak RSS during an import (the highest of
//! the runs, each measured from its own start). Runs alternate the two
//! loaders and the medians are reported.

pub(crate) mod campaign;
pub(crate) mod campaign_page;
pub(crate) mod conversations;
pub(crate) mod desk;
pub(crate) mod flow;
pub(crate) mod flow_editor;
pub(crate) mod hostile;
pub(crate) mod import_page;
pub(crate) mod serve;
pub(crate) mod webhooks;
pub(crate) mod zones;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Args;
use parley_app::imports::RunOutcome;
use parley_app::{App, MasterKey, Settings};
use parley_domain::{FieldDefinition, FieldType, ImportOptions, OrgId, SystemClock};
use parley_store::{ContactFilter, PageRequest, Store};

/// Options of `parley bench import`.
#[derive(Debug, Args)]
pub struct ImportBench {
    /// CSV rows to generate and import.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// XLSX rows to generate and import (0 skips the XLSX run).
    #[arg(long, default_value_t = 100_000)]
    pub xlsx_rows: u64,
    /// Runs of each loader; medians are reported.
    #[arg(long, default_value_t = 1)]
    pub runs: u32,
    /// Working directory (a fresh temporary one by default; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The sqlite3 shell to compare with.
    #[arg(long, default_value = "sqlite3")]
    pub sqlite3: String,
    /// Also import the CSV file through the Imports page in headless chromium, against
    /// `parley import` of the same file (needs node and the browser tests' packages).
    #[arg(long)]
    pub page: bool,
}

/// SplitMix64: a tiny deterministic generator, so every run imports the same file.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

const FIRST: &[&str] = &[
    "Aoife", "Ben", "Chloé", "Dara", "Emma", "Finn", "Grace", "Harry", "Isla", "Jack", "Zoë",
    "Seán",
];
const LAST: &[&str] = &[
    "Smith",
    "Jones",
    "O'Brien",
    "Murphy",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Ó Súilleabháin",
    "Walsh",
];
const OUTWARD: &[&str] = &[
    "SW1A", "M1", "B33", "CR2", "DN55", "EC1A", "W1A", "LS1", "G2", "EH1",
];
const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
const HEADER: [&str; 8] = [
    "phone",
    "customer_ref",
    "first_name",
    "last_name",
    "date_of_birth",
    "postcode",
    "balance",
    "next_payment_date",
];

/// One generated contact; the phone (a valid UK mobile, +44 740…) is unique per row: an
/// affine bijection mod 10^7.
pub(crate) struct Contact {
    pub(crate) phone: String,
    pub(crate) customer_ref: String,
    pub(crate) first: &'static str,
    pub(crate) last: &'static str,
    pub(crate) dob: (i32, u32, u32),
    pub(crate) postcode: String,
    pub(crate) balance_cents: u64,
    pub(crate) next_payment: (i32, u32, u32),
}

pub(crate) fn contact(rng: &mut Rng, i: u64) -> Contact {
    let unique = (i.wrapping_mul(48_271).wrapping_add(11)) % 10_000_000;
    let letters: String = (0..2)
        .map(|_| {
            char::from(
                INWARD_LETTERS
                    [usize::try_from(rng.below(INWARD_LETTERS.len() as u64)).unwrap_or(0)],
            )
        })
        .collect();
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    Contact {
        phone: format!("+44740{unique:07}"),
        customer_ref: format!("CUST{i:08}"),
        first: rng.pick(FIRST),
        last: rng.pick(LAST),
        dob: (
            1940 + rng.below(65) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        ),
        postcode: format!("{} {}{letters}", rng.pick(OUTWARD), rng.below(10)),
        balance_cents: rng.below(500_000),
        next_payment: (
            2026 + rng.below(2) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        ),
    }
}

pub(crate) fn write_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "{}", HEADER.join(","))?;
    let mut rng = Rng(42);
    for i in 0..rows {
        let c = contact(&mut rng, i);
        let last = if c.last.contains(',') {
            format!("\"{}\"", c.last)
        } else {
            c.last.to_owned()
        };
        writeln!(
            out,
            "{},{},{},{last},{:02}/{:02}/{},{},{}.{:02},{}-{:02}-{:02}",
            c.phone,
            c.customer_ref,
            c.first,
            c.dob.2,
            c.dob.1,
            c.dob.0,
            c.postcode,
            c.balance_cents / 100,
            c.balance_cents % 100,
            c.next_payment.0,
            c.next_payment.1,
            c.next_payment.2
        )?;
    }
    out.flush()?;
    Ok(())
}

fn write_xlsx(path: &Path, rows: u64) -> anyhow::Result<()> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, u16::try_from(c)?, *h)?;
    }
    let mut rng = Rng(42);
    for i in 0..rows {
        let c = contact(&mut rng, i);
        let r = u32::try_from(i + 1)?;
        sheet.write_string(r, 0, &c.phone)?;
        sheet.write_string(r, 1, &c.customer_ref)?;
        sheet.write_string(r, 2, c.first)?;
        sheet.write_string(r, 3, c.last)?;
        let dob = ExcelDateTime::from_ymd(
            u16::try_from(c.dob.0)?,
            u8::try_from(c.dob.1)?,
            u8::try_from(c.dob.2)?,
        )?;
        sheet.write_datetime_with_format(r, 4, &dob, &date)?;
        sheet.write_string(r, 5, &c.postcode)?;
        #[allow(clippy::cast_precision_loss)]
        sheet.write_number(r, 6, c.balance_cents as f64 / 100.0)?;
        let next = ExcelDateTime::from_ymd(
            u16::try_from(c.next_payment.0)?,
            u8::try_from(c.next_payment.1)?,
            u8::try_from(c.next_payment.2)?,
        )?;
        sheet.write_datetime_with_format(r, 7, &next, &date)?;
    }
    workbook.save(path)?;
    Ok(())
}

/// Deletes a SQLite database and its WAL files, so each run starts from nothing.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A fresh store with one organization and the benchmark's field definitions.
pub(crate) async fn fresh_store(
    dir: &Path,
    name: &str,
    settings: Settings,
) -> anyhow::Result<(App, Arc<dyn Store>, OrgId)> {
    let path = dir.join(name);
    remove_database(&path);
    let store: Arc<dyn Store> = Arc::new(
        parley_store_sqlite::SqliteStore::connect(&format!("sqlite://{}", path.display()), true)
            .await?,
    );
    let app = App::new(
        store.clone(),
        Arc::new(SystemClock),
        &MasterKey::generate()?,
        settings,
    )
    .await?;
    let org = app.admin_create_organization("Benchmark", None).await?;
    let now = app.clock.now();
    for (key, field_type) in [
        ("date_of_birth", FieldType::Date),
        ("postcode", FieldType::Postcode),
        ("balance", FieldType::Money),
        ("next_payment_date", FieldType::Date),
    ] {
        store
            .create_field(FieldDefinition {
                organization_id: org.id,
                key: key.parse()?,
                label: key.to_owned(),
                field_type,
                pii: false,
                builtin: false,
                created_at: now,
                updated_at: now,
            })
            .await?;
    }
    Ok((app, store, org.id))
}

/// The `p` quantile (0 to 1) of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// An API access with the `admin` role in `org`, as a key's bearer token gives.
pub(crate) async fn admin_access(
    app: &App,
    org: OrgId,
) -> anyhow::Result<parley_app::auth::Access> {
    let key = app
        .admin_create_api_key(org, "bench", parley_domain::Role::Admin)
        .await?;
    let token = app.issue_token(key.key.id, &key.secret).await?.token;
    let principal = app.authenticate_bearer(&token).await?;
    Ok(app.access(principal, None).await?)
}

/// Defines the outcome statuses and queues a flow document names, as an administrator
/// does before publishing it (publishing refuses names the organization lacks). Those
/// already defined are left as they are.
pub(crate) async fn define_flow_names(
    app: &App,
    access: &parley_app::auth::Access,
    document: &str,
) -> anyhow::Result<()> {
    use parley_app::AppError;
    let doc = parley_flow::FlowDocument::parse(document).map_err(|e| anyhow::anyhow!("{e}"))?;
    let used = parley_flow::names_used(&doc);
    for key in &used.statuses {
        let new = parley_app::conversations::outcomes::NewOutcome {
            key: key.to_owned(),
            label: key.replace('_', " "),
            category: "neutral".to_owned(),
            closes: false,
        };
        match app.create_outcome_status(access, new).await {
            Ok(_) | Err(AppError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    for key in &used.queues {
        match app
            .create_queue(access, key, &key.replace(['_', '-'], " "))
            .await
        {
            Ok(_) | Err(AppError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

pub(crate) fn options() -> ImportOptions {
    let mut options = ImportOptions::default();
    options
        .mapping
        .insert("customer_ref".into(), Some("customer_id".into()));
    options
}

async fn parley_run(dir: &Path, file: &Path, rows: u64) -> anyhow::Result<Duration> {
    let (app, store, org) = fresh_store(dir, "parley.db", Settings::default()).await?;
    let (finished, outcome) =
        crate::import_cmd::import_file(&app, org, file, options(), false).await?;
    if let RunOutcome::Failed(message) = outcome {
        bail!("the benchmark file failed to import: {message}");
    }
    let c = finished.record.counters;
    if c.rows_total != rows || c.contacts_created != rows || c.rows_rejected != 0 {
        let lines = store.import_reject_lines(finished.record.id, 0, 5).await?;
        for (_, l) in lines {
            eprintln!(
                "rejected row {}: {} {:?}: {}",
                l.row_number, l.column, l.value, l.reason
            );
        }
        bail!("expected {rows} contacts created, got {c:?}");
    }
    let sample = store
        .list_contacts(org, &ContactFilter::default(), PageRequest::first(1))
        .await?;
    ensure!(sample.items.len() == 1, "no contact stored");
    store.close().await;
    Ok(finished.elapsed)
}

fn sqlite3_run(shell: &str, dir: &Path, file: &Path) -> anyhow::Result<Duration> {
    let db = dir.join("reference.db");
    remove_database(&db);
    let script = format!(
        "PRAGMA journal_mode=WAL;\nCREATE TABLE contacts(phone TEXT NOT NULL, customer_ref TEXT NOT NULL, first_name TEXT, last_name TEXT, date_of_birth TEXT, postcode TEXT, balance REAL, next_payment_date TEXT);\n.mode csv\n.import --skip 1 {} contacts\n",
        file.display()
    );
    Ok(sqlite3_script(shell, &db, &script)?.1)
}

/// Runs `script` through the sqlite3 shell on `db`, returning its standard output and the
/// wall time.
pub(crate) fn sqlite3_script(
    shell: &str,
    db: &Path,
    script: &str,
) -> anyhow::Result<(String, Duration)> {
    let started = Instant::now();
    let mut child = Command::new(shell)
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("running {shell} (install the sqlite3 shell, or pass --sqlite3 PATH)")
        })?;
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .context("sqlite3 stdin")?
            .write_all(script.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    let elapsed = started.elapsed();
    ensure!(
        output.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        elapsed,
    ))
}

/// The tables an import writes, each with the order the import created its rows in and
/// an expression reading every column of a row.
const STORED: [(&str, &str, &str); 2] = [
    (
        "contacts",
        "seq",
        "seq + organization_seq + length(id) + length(customer_id) + length(fields) + created_at + updated_at",
    ),
    (
        "contact_addresses",
        "contact_seq",
        "length(address) + length(channel_kind) + organization_seq + contact_seq",
    ),
];

/// One line of script per table of [`STORED`], made by `line(table, order, columns)`.
fn per_table(line: impl Fn(&str, &str, &str) -> String) -> String {
    STORED.iter().map(|(t, o, c)| line(t, o, c)).collect()
}

/// What SQLite alone needs to store what a Parley import stored.
struct Floors {
    /// The rows copied with `INSERT … SELECT`, less the time to read them.
    copy: Duration,
    /// The rows loaded by the reference tool itself: `sqlite3 .import`, a row at a time.
    row_by_row: Duration,
}

/// Measures [`Floors`] for the contact and address rows in `parley_db`: stored by the
/// sqlite3 shell into a fresh database with Parley's own schema for those tables (read
/// from `parley_db`: the same keys and indexes) and the writer's page cache, in the order
/// the import created them, with no parsing of typed values, no validation, no probing
/// for existing contacts and no foreign-key checks. Nothing that imports into this store
/// can store these rows faster than the copy; nothing that loads a row at a time, faster
/// than `.import`. (Both assume every row has a customer_id, as the benchmark's do: CSV
/// has no NULL.)
fn storage_floors(shell: &str, dir: &Path, parley_db: &Path) -> anyhow::Result<Floors> {
    let names = STORED
        .iter()
        .map(|(t, _, _)| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // Tables before their indexes ('table' sorts after 'index').
    let (schema, _) = sqlite3_script(
        shell,
        parley_db,
        &format!(
            "SELECT sql || ';' FROM sqlite_schema WHERE tbl_name IN ({names}) AND sql IS NOT NULL ORDER BY type DESC;\n"
        ),
    )?;
    ensure!(
        schema.matches("CREATE TABLE").count() == STORED.len(),
        "the import's tables were not found in {}",
        parley_db.display()
    );
    let src = parley_db.display();
    let rows_file = |t: &str| dir.join(format!("{t}.rows.csv"));
    let copy = per_table(|t, order, _| {
        format!("INSERT INTO {t} SELECT * FROM src.{t} ORDER BY {order};\n")
    });
    // The same rows, every column read, nothing written: subtracted from the copy.
    let read = per_table(|t, order, columns| {
        format!("SELECT count(*), sum({columns}) FROM (SELECT * FROM src.{t} ORDER BY {order});\n")
    });
    let export = per_table(|t, order, _| {
        format!(
            ".once {}\nSELECT * FROM {t} ORDER BY {order};\n",
            rows_file(t).display()
        )
    });
    let import = per_table(|t, _, _| format!(".import {} {t}\n", rows_file(t).display()));
    sqlite3_script(shell, parley_db, &format!(".mode csv\n{export}"))?;
    // The import's pages reach the disk first, so the kernel is not still writing them
    // back while the floors are timed.
    for suffix in ["", "-wal"] {
        if let Ok(f) = std::fs::File::open(format!("{}{suffix}", parley_db.display())) {
            f.sync_all()?;
        }
    }
    let db = dir.join("floor.db");
    let pragmas = format!(
        "PRAGMA synchronous = NORMAL;\nPRAGMA cache_size = -{};\n",
        parley_store_sqlite::WRITER_CACHE_KIB
    );
    let count = per_table(|t, _, _| format!("SELECT count(*) FROM {t};\n"));
    let stored = sqlite3_script(shell, parley_db, &count)?.0;
    // Times `script` on a fresh database with the schema; `loads` says it stores the rows
    // (checked against the import's counts afterwards).
    let timed = |script: String, loads: bool| -> anyhow::Result<Duration> {
        remove_database(&db);
        sqlite3_script(shell, &db, &format!("PRAGMA journal_mode = WAL;\n{schema}"))?;
        let took = sqlite3_script(shell, &db, &format!("{pragmas}{script}"))?.1;
        if loads {
            let copied = sqlite3_script(shell, &db, &count)?.0;
            ensure!(
                copied == stored,
                "the floor stored {copied:?} rows, the import {stored:?}"
            );
        }
        Ok(took)
    };
    let copied = timed(
        format!("ATTACH '{src}' AS src;\nBEGIN;\n{copy}COMMIT;\n"),
        true,
    )?;
    let reading = timed(format!("ATTACH '{src}' AS src;\n{read}"), false)?;
    let row_by_row = timed(format!(".mode csv\n{import}"), true)?;
    remove_database(&db);
    for (t, _, _) in STORED {
        let _ = std::fs::remove_file(rows_file(t));
    }
    Ok(Floors {
        copy: copied.saturating_sub(reading),
        row_by_row,
    })
}

/// A `/proc/self/status` figure in MB: `VmHWM` (peak RSS) or `VmRSS` (current).
pub(crate) fn status_mb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Starts a new peak-RSS measurement from the current RSS (Linux: writing 5 to
/// `clear_refs` resets `VmHWM`), so each import's peak is its own.
pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[allow(clippy::cast_precision_loss)]
fn per_second(rows: u64, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64().max(1e-9)
}

/// The folder a benchmark works in: the one given, or a fresh temporary one (which the
/// caller removes when done).
pub(crate) fn work_dir(given: Option<&PathBuf>, prefix: &str) -> anyhow::Result<PathBuf> {
    let dir = given
        .cloned()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("{prefix}-{}", std::process::id())));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the working folder {}", dir.display()))?;
    Ok(dir)
}

/// Runs the benchmark and prints its figures.
pub async fn import(args: ImportBench) -> anyhow::Result<()> {
    let dir = work_dir(args.dir.as_ref(), "parley-bench")?;
    let csv = dir.join("contacts.csv");
    let started = Instant::now();
    write_csv(&csv, args.rows)?;
    let size = std::fs::metadata(&csv)?.len();
    println!(
        "generated {} rows ({:.1} MB) in {:.1} s",
        args.rows,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut copies, mut row_by_rows) = (Vec::new(), Vec::new());
    let mut peak: Option<f64> = None;
    for run in 1..=args.runs.max(1) {
        let reference = sqlite3_run(&args.sqlite3, &dir, &csv)?;
        reset_peak_rss();
        let parley = parley_run(&dir, &csv, args.rows).await?;
        let run_peak = status_mb("VmHWM:");
        peak = match (peak, run_peak) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let after = status_mb("VmRSS:").unwrap_or(0.0);
        let floor = storage_floors(&args.sqlite3, &dir, &dir.join("parley.db"))?;
        println!(
            "run {run}: sqlite3 .import {:.2} s, parley import {:.2} s, peak RSS {:.0} MB (after: {after:.0} MB), floors: copy {:.2} s, row by row {:.2} s",
            reference.as_secs_f64(),
            parley.as_secs_f64(),
            run_peak.unwrap_or(0.0),
            floor.copy.as_secs_f64(),
            floor.row_by_row.as_secs_f64(),
        );
        theirs.push(reference);
        ours.push(parley);
        copies.push(floor.copy);
        row_by_rows.push(floor.row_by_row);
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let (copy, row_by_row) = (median(copies), median(row_by_rows));
    let (ours_rate, theirs_rate) = (per_second(args.rows, ours), per_second(args.rows, theirs));
    println!("csv {} rows:", args.rows);
    println!(
        "  sqlite3 .import (no validation): {:>9.0} rows/s  ({:.2} s)",
        theirs_rate,
        theirs.as_secs_f64()
    );
    println!(
        "  parley import (full validation): {:>9.0} rows/s  ({:.2} s)",
        ours_rate,
        ours.as_secs_f64()
    );
    println!(
        "  ratio parley / sqlite3:          {:>9.2}",
        ours_rate / theirs_rate
    );
    println!("  storing parley's rows and keys with sqlite3 alone (no validation, no probes):");
    for (how, t) in [
        ("copied by INSERT … SELECT", copy),
        ("loaded row by row by .import", row_by_row),
    ] {
        println!(
            "    {how}: {:.2} s, at most {:.2}× the reference",
            t.as_secs_f64(),
            theirs.as_secs_f64() / t.as_secs_f64().max(1e-9)
        );
    }
    if let Some(rss) = peak {
        println!("  peak RSS during an import:       {rss:>9.0} MB");
    }
    if args.page {
        crate::bench::import_page::run(&dir, &csv, args.rows, ours).await?;
    }
    if args.xlsx_rows > 0 {
        let xlsx = dir.join("contacts.xlsx");
        write_xlsx(&xlsx, args.xlsx_rows)?;
        let mut times = Vec::new();
        for _ in 0..args.runs.max(1) {
            times.push(parley_run(&dir, &xlsx, args.xlsx_rows).await?);
        }
        let t = median(times);
        println!("xlsx {} rows:", args.xlsx_rows);
        println!(
            "  parley import (full validation): {:>9.0} rows/s  ({:.2} s)",
            per_second(args.xlsx_rows, t),
            t.as_secs_f64()
        );
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// A runtime of a benchmark's own (a stand-in, an endpoint), shut down without blocking
/// however the run ends.
pub(crate) struct Background(pub(crate) Option<tokio::runtime::Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
