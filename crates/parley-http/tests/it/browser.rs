//! Running one of the browser scripts (`tests/browser/*.mjs`: Debian's chromium driven by
//! npm's `playwright-core`) and reading what it printed. Needs `node`, `/usr/bin/chromium`
//! and the scripts' packages (`npm ci --prefix crates/parley-http/tests/browser`);
//! `.ci/run` installs all three. Without them a test fails saying so: never skipped.

use std::path::PathBuf;
use std::time::Duration;

/// Runs `script` with `env` (and `CHROMIUM`, and `SCREENSHOTS` when set for the test
/// run); what it printed on standard output, once it succeeded.
pub(crate) async fn run_script(script: &str, env: &[(&str, String)]) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no chromium at {chromium}: apt-get install chromium (.ci/run does)"
    );
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && dir.join("node_modules/axe-core").is_dir(),
        "the browser scripts' packages are not installed: npm ci --prefix {} (.ci/run does)",
        dir.display()
    );
    let mut command = tokio::process::Command::new("node");
    command
        .arg(dir.join(script))
        .current_dir(&dir)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    if let Ok(folder) = std::env::var("SCREENSHOTS") {
        command.env("SCREENSHOTS", folder);
    }
    let out = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("the browser finishes within 90 s")
        .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test {script} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// Whether Chromium and the npm packages the browser tests drive it with are installed;
/// see [`parley_testkit::tools::available`].
pub(crate) fn available() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let modules = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/playwright-core");
    parley_testkit::tools::available(
        "Chromium with playwright-core",
        std::path::Path::new(&chromium).exists() && modules.exists(),
        "apt-get install chromium && npm ci --prefix crates/parley-http/tests/browser",
    )
}
