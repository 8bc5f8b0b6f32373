//! Configuration loading: layering, typing, and errors that name the key.

use std::path::Path;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn with_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn defaults_match_the_documented_ones() {
    let c = load(Some(Path::new("/dev/null")), env(&[])).unwrap();
    assert_eq!(c.store_url, StoreUrl::Sqlite("sqlite://parley.db".into()));
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.token_ttl, Duration::from_secs(3600));
    assert_eq!(c.workers, 4);
    assert_eq!(c.max_import_bytes, 512 * 1024 * 1024);
    assert!(c.master_key.is_none());
}

#[test]
fn the_import_size_limit_is_configurable_and_checked() {
    let c = load(
        Some(Path::new("/dev/null")),
        env(&[("PARLEY_IMPORTS__MAX_FILE_MIB", "2")]),
    )
    .unwrap();
    assert_eq!(c.max_import_bytes, 2 * 1024 * 1024);
    for bad in ["0", "4097", "18446744073709551615"] {
        let e = load(
            Some(Path::new("/dev/null")),
            env(&[("PARLEY_IMPORTS__MAX_FILE_MIB", bad)]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("imports.max_file_mib"), "{bad}: {e}");
    }
}

#[test]
fn environment_beats_file_beats_defaults() {
    let (_dir, path) = with_file("[server]\nlisten = \"0.0.0.0:9000\"\n[jobs]\nworkers = 2\n");
    let c = load(
        Some(&path),
        env(&[
            ("PARLEY_JOBS__WORKERS", "7"),
            ("PARLEY_STORE__URL", "postgres://u@h/db"),
        ]),
    )
    .unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.workers, 7);
    assert_eq!(c.store_url, StoreUrl::Postgres("postgres://u@h/db".into()));
    let c = load(
        Some(&path),
        env(&[
            ("PARLEY_DATA_DIR", "/var/lib/parley"),
            ("PARLEY_TEST_POSTGRES_URL", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.data_dir, Path::new("/var/lib/parley"));
    // A list, written as in the file.
    let c = load(
        Some(&path),
        env(&[("PARLEY_SERVER__TRUSTED_PROXIES", r#"["10.0.0.1", "::1"]"#)]),
    )
    .unwrap();
    assert_eq!(
        c.trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["10.0.0.1", "::1"]
    );
    let e = load(
        Some(&path),
        env(&[("PARLEY_SERVER__TRUSTED_PROXIES", r#"["nope"]"#)]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("server.trusted_proxies[0]"), "{e}");
}

#[test]
fn errors_name_the_key_and_its_source() {
    let (_dir, path) = with_file("[server]\nlissten = \"0.0.0.0:9000\"\n");
    let e = load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(
        e.contains("server.lissten") && e.contains("parley.toml"),
        "{e}"
    );

    assert!(e.starts_with("unknown configuration key"), "{e}");

    // A bad value is called a bad value, not a bad key.
    let (_dir, path) = with_file("[server]\nlisten = \"nowhere\"\n");
    let e = load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(e.contains("server.listen"), "{e}");
    assert!(e.starts_with("invalid value for `server.listen`"), "{e}");

    // A missing file is said once.
    let e = load(Some(Path::new("/nonexistent/parley.toml")), env(&[])).unwrap_err();
    let chain = format!("{:#}", anyhow::Error::from(e));
    assert_eq!(chain.matches("No such file").count(), 1, "{chain}");

    let (_dir, path) = with_file("[jobs]\nworkers = \"many\"\n");
    let e = load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(e.contains("jobs.workers"), "{e}");

    let (_dir, path) = with_file("[server\nlisten = 1");
    let e = load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(e.contains("not valid TOML") && e.contains("line"), "{e}");

    let e = load(
        Some(Path::new("/dev/null")),
        env(&[("PARLEY_SERVER__LISTN", "x")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("server.listn") && e.contains("PARLEY_SERVER__LISTN"),
        "{e}"
    );

    let e = load(
        Some(Path::new("/dev/null")),
        env(&[("PARLEY_AUTH__TOKEN_TTL", "soon")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("auth.token_ttl"), "{e}");

    let e = load(
        Some(Path::new("/dev/null")),
        env(&[("PARLEY_STORE__URL", "mysql://x")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("store.url"), "{e}");

    let e = load(Some(Path::new("/no/such/parley.toml")), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/no/such/parley.toml"), "{e}");
}

#[test]
fn durations_parse_and_refuse_garbage() {
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    for bad in ["", "s", "10", "1.5h", "-3s", "3 weeks"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_public_url_defaults_to_the_listen_address_and_is_checked() {
    let (_dir, path) = with_file("[server]\nlisten = \"0.0.0.0:9000\"\n");
    let c = load(Some(&path), env(&[])).unwrap();
    assert_eq!(c.public_url, "http://0.0.0.0:9000");
    let (_dir, path) = with_file("[server]\npublic_url = \"https://parley.example.com/\"\n");
    let c = load(Some(&path), env(&[])).unwrap();
    assert_eq!(c.public_url, "https://parley.example.com");
    for bad in [
        "parley.example.com",
        "ftp://x.example",
        "https://x.example/parley",
        "https://x.example/?a=1",
    ] {
        let (_dir, path) = with_file(&format!("[server]\npublic_url = \"{bad}\"\n"));
        let e = load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(e.contains("server.public_url"), "{bad}: {e}");
    }
}
