//! `cargo xtask test`: the README's test command. It sets up what the suite needs on this
//! machine, then runs the whole suite with `cargo nextest run --workspace`.
//!
//! * Tools: `cargo-nextest` (installed with cargo), `sqlite3`, OpenSSH's `sshd` and Debian's
//!   `chromium` (installed with `apt-get` when running as root on a machine that has it),
//!   Python's `standardwebhooks` (with pip), and the browser tests' npm packages (`npm ci`).
//!   What cannot be installed is named with the command that installs it; those tests then
//!   print `skipped: …` and pass without running, except under `CI=true`, where every
//!   missing tool fails the run before the suite starts.
//! * PostgreSQL: unless `PARLEY_TEST_POSTGRES_URL` is set, a server answering on
//!   127.0.0.1:5432 gets a fresh database for this run (dropped afterwards); without one,
//!   the PostgreSQL tests print `skipped`.
//! * Extra arguments are passed to nextest instead of `--workspace`
//!   (`cargo xtask test -p parley-flow`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// A tool the suite uses: how to find it, how to install it, which tests need it.
struct Tool {
    name: &'static str,
    present: fn(&Path) -> bool,
    install: &'static [&'static str],
    tests: &'static str,
}

fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

const TOOLS: [Tool; 5] = [
    Tool {
        name: "sqlite3",
        present: |_| on_path("sqlite3"),
        install: &["apt-get", "install", "-y", "-qq", "sqlite3"],
        tests: "the import benchmark's comparison",
    },
    Tool {
        name: "OpenSSH's sshd",
        present: |_| Path::new("/usr/sbin/sshd").exists(),
        install: &["apt-get", "install", "-y", "-qq", "openssh-server"],
        tests: "the SFTP tests",
    },
    Tool {
        name: "chromium",
        present: |_| Path::new("/usr/bin/chromium").exists(),
        install: &["apt-get", "install", "-y", "-qq", "chromium"],
        tests: "the browser tests",
    },
    Tool {
        name: "playwright-core (npm)",
        present: |root| {
            root.join("crates/parley-http/tests/browser/node_modules/playwright-core")
                .exists()
        },
        install: &[
            "npm",
            "ci",
            "--prefix",
            "crates/parley-http/tests/browser",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ],
        tests: "the browser tests",
    },
    Tool {
        name: "Python's standardwebhooks",
        present: |_| runs("python3", &["-c", "import standardwebhooks"]),
        install: &[
            "python3",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "standardwebhooks==1.1.0",
        ],
        tests: "the Standard Webhooks cross-check",
    },
];

/// Whether this process may install system packages (root, with apt-get).
fn may_use_apt() -> bool {
    on_path("apt-get")
        && Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn install(root: &Path, tool: &Tool) -> bool {
    let Some((program, args)) = tool.install.split_first() else {
        return false;
    };
    if *program == "apt-get" && !may_use_apt() {
        return false;
    }
    if *program != "apt-get" && !on_path(program) {
        return false;
    }
    let attempt = || {
        Command::new(program)
            .args(args)
            .current_dir(root)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if attempt() {
        return true;
    }
    // A fresh machine's package lists may be empty: refresh once and retry.
    *program == "apt-get" && {
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        attempt()
    }
}

/// A fresh PostgreSQL database for this run, when a server answers and none was named.
struct Postgres {
    server: String,
    database: String,
}

impl Postgres {
    fn create() -> Option<Self> {
        if std::env::var_os("PARLEY_TEST_POSTGRES_URL").is_some() || !on_path("psql") {
            return None;
        }
        let server = std::env::var("PARLEY_CI_POSTGRES_SERVER")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let database = format!("parley_test_{stamp}_{}", std::process::id());
        let created = runs(
            "psql",
            &[
                &format!("{server}/postgres"),
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                &format!("CREATE DATABASE {database}"),
            ],
        );
        created.then_some(Self { server, database })
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.database)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = runs(
            "psql",
            &[
                &format!("{}/postgres", self.server),
                "-qc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            ],
        );
    }
}

/// Runs the suite; `args` go to nextest.
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if !runs("cargo", &["nextest", "--version"]) {
        println!("== installing cargo-nextest");
        let ok = Command::new("cargo")
            .args(["install", "cargo-nextest", "--locked"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("cargo-nextest is needed: cargo install cargo-nextest --locked");
        }
    }
    let mut missing = Vec::new();
    for tool in &TOOLS {
        if (tool.present)(root) {
            continue;
        }
        println!("== installing {}", tool.name);
        if !(install(root, tool) && (tool.present)(root)) {
            missing.push(tool);
        }
    }
    for tool in &missing {
        println!(
            "skipped: {} is not installed, so {} are skipped (install with: {})",
            tool.name,
            tool.tests,
            tool.install.join(" ")
        );
    }
    if ci && !missing.is_empty() {
        bail!("CI=true and {} tool(s) are missing (above)", missing.len());
    }
    let postgres = Postgres::create();
    let mut command = Command::new("cargo");
    command.args(["nextest", "run"]);
    // Arguments choose what to run (`-p parley-flow`); none means everything.
    if args.is_empty() {
        command.arg("--workspace");
    }
    command.args(args).current_dir(root);
    match &postgres {
        Some(db) => {
            println!("== PostgreSQL tests use a fresh database: {}", db.database);
            command.env("PARLEY_TEST_POSTGRES_URL", db.url());
        }
        None if std::env::var_os("PARLEY_TEST_POSTGRES_URL").is_none() => {
            if ci {
                bail!(
                    "CI=true and no PostgreSQL server answers on 127.0.0.1:5432 (start one, or set PARLEY_TEST_POSTGRES_URL)"
                );
            }
            println!(
                "skipped: no PostgreSQL server answers on 127.0.0.1:5432 and PARLEY_TEST_POSTGRES_URL is not set, so the PostgreSQL tests are skipped"
            );
        }
        None => {}
    }
    let status = command.status().context("running cargo nextest")?;
    drop(postgres);
    if !status.success() {
        bail!("the test suite failed");
    }
    if !missing.is_empty() {
        println!(
            "passed, with {} tool(s) missing: their tests were skipped (above)",
            missing.len()
        );
    }
    Ok(())
}
