//! Tools some tests need from the machine (OpenSSH's `sshd`, Chromium with npm's
//! `playwright-core`, Python's `standardwebhooks`). `cargo xtask test` installs them when it
//! may; when one is still missing, its tests print `skipped: …` with the command that
//! installs it and pass without running — except under `CI=true`, where a missing tool
//! fails the test, so CI never passes by skipping.

/// Whether a needed tool is there: `true` to run the test; `false` (after printing why and
/// how to install it) to skip it.
///
/// # Panics
/// Under `CI=true`, when the tool is missing.
#[must_use]
pub fn available(tool: &str, present: bool, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{tool} is missing and CI=true: install it with {install}"
    );
    eprintln!("skipped: {tool} is not installed (install with {install})");
    false
}

/// Whether Python's `standardwebhooks` package can be imported.
#[must_use]
pub fn python_standardwebhooks() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output()
        .is_ok_and(|o| o.status.success())
}
