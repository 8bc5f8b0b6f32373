//! `parley admin key rotate` as an operator runs it: on a key-file installation the key
//! file is replaced and the old key kept aside; a rotation stopped between its commit and
//! its file renames is finished by the next start; with a configured key the command says
//! where the new key is and a start with the old one is refused, naming that file; and a
//! server left running with the old key stops by itself.

use std::path::Path;
use std::time::{Duration, Instant};

use parley_app::Settings;
use parley_app::webhooks::NewWebhook;
use parley_testkit::{ParleyProcess, http_get, parley_command};

fn rotate(binary: &Path, dir: &Path, env: &[(&str, String)]) -> String {
    let out = parley_command(binary, dir, env)
        .args(["admin", "key", "rotate"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn process_key_rotate_replaces_the_key_and_finishes_after_a_crash() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let (key, next, retired) = (
        dir.path().join("parley.key"),
        dir.path().join("parley.key.next"),
        dir.path().join("parley.key.retired"),
    );
    let first = ParleyProcess::start(binary, dir.path(), &[]);
    let settings = Settings {
        allow_private_targets: true,
        ..Settings::default()
    };
    let (app, _, access) = first.app_beside(dir.path(), settings).await;
    app.create_webhook(
        &access,
        NewWebhook {
            url: "http://127.0.0.1:9/hook".to_owned(),
            description: String::new(),
            events: None,
            secret: None,
            enabled: true,
        },
    )
    .await
    .unwrap();
    drop(app);
    first.kill_hard();

    // The key file is replaced; the old key is kept aside for older backups.
    let old = read(&key);
    let said = rotate(binary, dir.path(), &[]);
    assert!(
        said.contains("re-sealed 1 × webhook signing secret"),
        "{said}"
    );
    assert!(said.contains("parley.key.retired"), "{said}");
    assert_ne!(read(&key), old);
    assert_eq!(read(&retired), old);
    assert!(!next.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is its owner's alone");
    }
    let again = ParleyProcess::start(binary, dir.path(), &[]);
    assert_eq!(http_get(&again.address, "/readyz").0, 200);
    again.kill_hard();

    // Stopped after the store was committed and before the files were renamed: the next
    // start finishes the renames instead of refusing the key.
    let before = read(&key);
    rotate(binary, dir.path(), &[]);
    let rotated_to = read(&key);
    std::fs::rename(&key, &next).unwrap();
    std::fs::rename(&retired, &key).unwrap();
    assert_eq!(read(&key), before);
    let finished = ParleyProcess::start(binary, dir.path(), &[]);
    assert_eq!(http_get(&finished.address, "/readyz").0, 200);
    assert_eq!(read(&key), rotated_to);
    assert_eq!(read(&retired), before);
    assert!(!next.exists());

    // A server left running with the old key stops by itself once the key is rotated.
    let started = Instant::now();
    rotate(binary, dir.path(), &[]);
    let mut running = finished;
    let status = loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "the server kept running with a rotated key"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        !status.success(),
        "it stops with an error, not as if asked to"
    );
}

#[test]
fn process_key_rotate_with_a_configured_key_says_where_the_new_one_is() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let configured = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned();
    let env = [("PARLEY_SECRETS__MASTER_KEY", configured)];
    ParleyProcess::start(binary, dir.path(), &env).kill_hard();
    let said = rotate(binary, dir.path(), &env);
    let next = dir.path().join("parley.key.next");
    assert!(
        said.contains("secrets.master_key") && said.contains("parley.key.next"),
        "{said}"
    );
    let refused = parley_command(binary, dir.path(), &env)
        .arg("serve")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("was rotated to the key in") && stderr.contains("parley.key.next"),
        "{stderr}"
    );
    let new = [("PARLEY_SECRETS__MASTER_KEY", read(&next))];
    let started = ParleyProcess::start(binary, dir.path(), &new);
    assert_eq!(http_get(&started.address, "/readyz").0, 200);
    assert!(
        !dir.path().join("parley.key").exists(),
        "a configured key is never written to a file"
    );
}
