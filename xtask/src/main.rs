//! `cargo xtask check`: the repository rules a linter cannot express. Each check prints
//! what it verified and every violation; the command fails if any check fails.
//! `cargo xtask test`: the README's test command (see `test.rs`).

mod layers;
mod modules;
mod test;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// Files longer than this fail the size check unless listed in `SIZE_EXCEPTIONS`.
const MAX_LINES: usize = 800;
/// Reviewed exceptions to the size budget (none yet).
const SIZE_EXCEPTIONS: &[&str] = &[];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => match check() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask check failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some("test") => match test::run(&root(), &args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask test failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask check | cargo xtask test [nextest arguments]");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// One check: the problems it found (empty when the rule holds).
type Check = fn(&Path) -> anyhow::Result<Vec<String>>;

fn check() -> anyhow::Result<()> {
    let root = root();
    let mut failures = Vec::new();
    let checks: [(&str, Check); 7] = [
        ("layering", layers::check),
        ("file sizes", file_sizes),
        ("migration parity", migration_parity),
        ("example config", example_config),
        ("port coverage by the conformance suite", port_coverage),
        ("no import cycle between a crate's modules", modules::cycles),
        ("each crate README names its modules", modules::readmes),
    ];
    for (name, run) in checks {
        let problems = run(&root).with_context(|| format!("running the {name} check"))?;
        if problems.is_empty() {
            println!("ok   {name}");
        } else {
            println!("FAIL {name}");
            for p in &problems {
                println!("     - {p}");
            }
            failures.push(name);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} check(s) failed: {}",
            failures.len(),
            failures.join(", ")
        )
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn file_sizes(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files)?;
    rust_files(&root.join("xtask"), &mut files)?;
    let mut problems = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file)?;
        let lines = text.lines().count();
        if lines > MAX_LINES && !SIZE_EXCEPTIONS.contains(&rel.as_str()) {
            problems.push(format!(
                "{rel} has {lines} lines (budget {MAX_LINES}); split it"
            ));
        }
        if !text.starts_with("//!") && !text.starts_with("#![doc") {
            problems.push(format!(
                "{rel} does not open with a //! comment saying what it owns"
            ));
        }
    }
    Ok(problems)
}

fn migration_names(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sql") {
            names.insert(name);
        }
    }
    Ok(names)
}

fn migration_parity(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let crate_dir = root.join("crates/parley-store-sql");
    let dialects = ["sqlite", "postgres"];
    let sets: Vec<BTreeSet<String>> = dialects
        .iter()
        .map(|d| migration_names(&crate_dir.join("migrations").join(d)))
        .collect::<Result<_, _>>()?;
    for name in sets[0].symmetric_difference(&sets[1]) {
        problems.push(format!("migration {name} exists for one engine only"));
    }
    let list = std::fs::read_to_string(crate_dir.join("src/migrations.rs"))?;
    for name in &sets[0] {
        let step = format!("migration!(\"{}\")", name.trim_end_matches(".sql"));
        if !list.contains(&step) {
            problems.push(format!(
                "parley-store-sql: {name} is not listed in src/migrations.rs"
            ));
        }
    }
    Ok(problems)
}

fn example_config(root: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--package",
            "parley",
            "--",
            "config",
            "example",
        ])
        .current_dir(root)
        .output()
        .context("running `parley config example`")?;
    if !output.status.success() {
        return Ok(vec![format!(
            "`parley config example` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )]);
    }
    let committed = std::fs::read(root.join("parley.example.toml")).unwrap_or_default();
    Ok(if committed == output.stdout {
        Vec::new()
    } else {
        vec!["parley.example.toml differs from `parley config example`; regenerate it with `cargo run -p parley -- config example > parley.example.toml`".to_owned()]
    })
}

/// Every `async fn` declared by a port trait must be called somewhere in the conformance
/// suite, so no store method goes untested on either engine.
fn port_coverage(root: &Path) -> anyhow::Result<Vec<String>> {
    let src = root.join("crates/parley-store/src");
    let mut suite = String::new();
    for entry in std::fs::read_dir(src.join("conformance"))? {
        suite.push_str(&std::fs::read_to_string(entry?.path())?);
    }
    let mut problems = Vec::new();
    for port in [
        "organizations",
        "users",
        "api_keys",
        "sessions",
        "audit",
        "outbox",
        "jobs",
        "idempotency",
        "lib",
    ] {
        let text = std::fs::read_to_string(src.join(format!("{port}.rs")))?;
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("async fn ") else {
                continue;
            };
            let name = rest.split('(').next().unwrap_or_default();
            if !suite.contains(&format!(".{name}(")) {
                problems.push(format!(
                    "port method {name} ({port}.rs) is not exercised by the conformance suite"
                ));
            }
        }
    }
    Ok(problems)
}
