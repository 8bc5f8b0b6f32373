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

/// `parley admin user create` invites: it prints a one-time link (never a password), and
/// the person behind the link chooses their own password, which makes the account.
#[tokio::test]
async fn process_admin_user_create_prints_a_link_the_person_accepts() {
    use std::sync::Arc;

    use parley_app::tenancy::AcceptRequest;
    use parley_app::{App, MasterKey, Settings};
    use parley_domain::SystemClock;
    use parley_store::Store;
    use parley_store_sqlite::SqliteStore;

    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = parley_command(binary, dir.path(), &[])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let org = run(&["admin", "org", "create", "--name", "Acme"]);
    let org = org.split('\t').next().unwrap().trim().to_owned();
    let printed = run(&[
        "admin",
        "user",
        "create",
        "--org",
        &org,
        "--email",
        "Ann@Example.com",
        "--role",
        "agent",
    ]);
    assert!(printed.contains("ann@example.com\tagent"), "{printed}");
    assert!(!printed.to_lowercase().contains("password:"), "{printed}");
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/invitation#"))
        .unwrap_or_else(|| panic!("no link in {printed}"));
    let token = link.split_once('#').unwrap().1;

    let url = format!("sqlite://{}", dir.path().join("parley.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&url, false).await.unwrap());
    let key = std::fs::read_to_string(dir.path().join("parley.key")).unwrap();
    let app = App::new(
        store.clone(),
        Arc::new(SystemClock),
        &MasterKey::from_base64(key.trim()).unwrap(),
        Settings::default(),
    )
    .await
    .unwrap();
    let accepted = app
        .accept_invitation(AcceptRequest {
            token: token.to_owned(),
            password: "ann's own password".into(),
            name: Some("Ann".into()),
            client: "test".into(),
        })
        .await
        .unwrap();
    assert!(accepted.created_account);
    assert_eq!(accepted.membership.organization_id.to_string(), org);
    let creds = store
        .find_user_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(parley_app::auth::verify_password(
        "ann's own password",
        &creds.password_hash
    ));
}

/// A lost master key is not silently replaced: with the key file moved away, or another
/// key in its place, `serve` refuses to start and says what to restore; with the right
/// key back it starts, and the tokens the first key's API key gets still work.
#[test]
fn process_a_lost_master_key_is_refused_not_replaced() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let first = ParleyProcess::start(binary, dir.path(), &[]);
    first.kill_hard();
    let key_file = dir.path().join("parley.key");
    let kept = dir.path().join("parley.key.backup");
    std::fs::rename(&key_file, &kept).unwrap();

    let serve = |env: &[(&str, String)]| {
        parley_command(binary, dir.path(), env)
            .arg("serve")
            .output()
            .unwrap()
    };
    let missing = serve(&[]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success(), "{stderr}");
    assert!(
        stderr.contains("Restore the key file") && stderr.contains("parley.key"),
        "{stderr}"
    );
    assert!(
        !key_file.exists(),
        "no new key is written for a store that had one"
    );

    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned();
    let wrong = serve(&[("PARLEY_SECRETS__MASTER_KEY", other)]);
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success(), "{stderr}");
    assert!(
        stderr.contains("is not the master key this store was set up with"),
        "{stderr}"
    );

    std::fs::rename(&kept, &key_file).unwrap();
    let again = ParleyProcess::start(binary, dir.path(), &[]);
    assert_eq!(http_get(&again.address, "/readyz").0, 200);
}

/// The log a service manager captures: no colour codes when it is not a terminal, one
/// `info` line per request with its method, route, status, latency and request id, and a
/// job's span never inside another job's.
#[test]
fn process_logs_read_well_in_a_file() {
    use std::io::{BufRead, BufReader};
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = parley_command(
        binary,
        dir.path(),
        &[("PARLEY_LOG__LEVEL", "info".to_owned())],
    )
    .arg("serve")
    .stdout(std::process::Stdio::piped())
    .stderr(log)
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = stdout
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Parley is listening on http://")
                .map(str::to_owned)
        })
        .unwrap();
    // Keep reading, as a service manager does.
    std::thread::spawn(move || stdout.for_each(drop));
    assert_eq!(http_get(&address, "/healthz").0, 200);
    assert_eq!(http_get(&address, "/api/v1/organizations").0, 401);
    // Let the first housekeeping and inbox jobs run, then stop.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a file: {text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("route=/api/v1/organizations"))
        .unwrap_or_else(|| panic!("a line for the request: {text}"));
    assert!(
        line.contains("INFO")
            && line.contains("method=GET")
            && line.contains("status=401")
            && line.contains("latency_ms=")
            && line.contains("request_id="),
        "{line}"
    );
    assert!(
        !text.lines().any(|l| l.matches("job{").count() > 1),
        "job spans do not nest: {text}"
    );
}

/// `/metrics` as a team alerts on it: every family has help text, and the work itself is
/// there from the start (job queues, deliveries, campaign recipients, the store, the
/// process), not only HTTP counters.
#[test]
fn process_metrics_describe_the_work() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let process = ParleyProcess::start(binary, dir.path(), &[]);
    assert_eq!(http_get(&process.address, "/healthz").0, 200);
    let (status, text) = http_get(&process.address, "/metrics");
    assert_eq!(status, 200);
    for family in [
        "parley_http_requests_total",
        "parley_jobs_queued",
        "parley_send_queue_depth",
        "parley_webhook_deliveries_pending",
        "parley_campaign_recipients",
        "parley_store_up",
        "process_resident_memory_bytes",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} has help: {text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with(family) && !l.starts_with('#')),
            "{family} has a sample: {text}"
        );
    }
    assert!(text.contains("parley_store_up 1"), "{text}");
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let family = line.split(' ').nth(2).unwrap();
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} has no help"
        );
    }
}

#[test]
fn process_output_cut_short_by_its_reader_stops_quietly() {
    use std::io::{BufRead, BufReader};
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    // The API document is far longer than a pipe holds: most of it is written after the
    // reader has gone, as with `parley dev openapi | head -1`.
    let mut child = parley_command(binary, dir.path(), &[])
        .args(["dev", "openapi"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.trim().is_empty(), "nothing to report: {stderr}");
}
