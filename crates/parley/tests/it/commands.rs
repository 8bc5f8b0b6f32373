//! The README's commands as a user meets them: `parley serve` answers on a fresh folder,
//! a second start does not bootstrap again, and a malformed setting names its key.

use std::path::Path;

use parley_testkit::{ParleyProcess, http_get, parley_command};

#[test]
fn process_serve_bootstraps_once_and_answers() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let first = ParleyProcess::start(binary, dir.path(), &[]);
    let printed = first.stdout_lines.join("\n");
    assert!(printed.contains("API key secret: pk_"), "{printed}");
    assert!(
        printed.contains("Sign in as owner@parley.local"),
        "{printed}"
    );
    assert_eq!(http_get(&first.address, "/healthz").0, 200);
    let (status, body) = http_get(&first.address, "/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(
        dir.path().join("parley.key").exists(),
        "the master key is generated, never absent"
    );
    first.kill_hard();
    let second = ParleyProcess::start(binary, dir.path(), &[]);
    assert!(
        !second.stdout_lines.join("\n").contains("API key secret"),
        "bootstrap runs once"
    );
}

#[test]
fn process_malformed_configuration_names_the_key() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let out = parley_command(
        binary,
        dir.path(),
        &[("PARLEY_SERVER__LISTEN", "everywhere".to_owned())],
    )
    .args(["config", "check"])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server.listen"), "{stderr}");
    std::fs::write(dir.path().join("parley.toml"), "[jobs]\nworkres = 3\n").unwrap();
    let out = parley_command(binary, dir.path(), &[])
        .args(["config", "check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("jobs.workres") && stderr.contains("parley.toml"),
        "{stderr}"
    );
    let out = parley_command(binary, dir.path(), &[])
        .args(["serve"])
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("jobs.workres"));
}
