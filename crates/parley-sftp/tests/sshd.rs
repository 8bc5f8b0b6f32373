//! The SFTP client against OpenSSH's `sshd` (`internal-sftp`) on a loopback port: atomic
//! writes, listing, reading and moving; the pinned host key; refused credentials.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use parley_sftp::{Auth, Connection, Destination, SftpError, fetch_host_key};
use parley_testkit::{Sshd, keygen};

const TIMEOUT: Duration = Duration::from_secs(10);

fn destination(sshd: &Sshd, auth: Auth) -> Destination {
    Destination {
        host: "localhost".into(),
        address: Some(std::net::IpAddr::from([127, 0, 0, 1])),
        port: sshd.port,
        user: sshd.user.clone(),
        auth,
        host_key: sshd.host_key.clone(),
    }
}

#[tokio::test]
async fn files_are_written_atomically_then_listed_read_and_moved() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let c = Connection::open(
        &destination(&sshd, Auth::PrivateKey(sshd.client_key.clone())),
        TIMEOUT,
    )
    .await
    .unwrap();
    let root = sshd.files.display().to_string();
    let outbox = format!("{root}/outbox");
    c.ensure_folder(&outbox).await.unwrap();
    c.ensure_folder(&outbox).await.unwrap(); // already there: fine
    let body = br#"{"id":"evt_1","type":"setStatus"}"#;
    let name = "20261121T100000.123Z_evt_1_setStatus.json";
    c.put_atomic(&outbox, name, body).await.unwrap();
    let listed = c.list(&outbox).await.unwrap();
    assert_eq!(listed.len(), 1, "no temporary file is left: {listed:?}");
    assert_eq!(
        (listed[0].name.as_str(), listed[0].size, listed[0].is_file),
        (name, body.len() as u64, true)
    );
    assert_eq!(c.read(&format!("{outbox}/{name}")).await.unwrap(), body);
    assert_eq!(
        std::fs::read(sshd.files.join("outbox").join(name)).unwrap(),
        body
    );

    // The inbox moves: into processed/.
    c.ensure_folder(&format!("{outbox}/processed"))
        .await
        .unwrap();
    c.rename(
        &format!("{outbox}/{name}"),
        &format!("{outbox}/processed/{name}"),
    )
    .await
    .unwrap();
    let names: Vec<String> = c
        .list(&outbox)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["processed"]);
    assert!(!c.list(&outbox).await.unwrap()[0].is_file);

    // Errors name the operation and the path.
    let err = c.read(&format!("{outbox}/missing.csv")).await.unwrap_err();
    assert!(
        matches!(&err, SftpError::Operation { operation: "read", path, .. } if path.ends_with("missing.csv")),
        "{err:?}"
    );
    c.close().await;
}

#[tokio::test]
async fn a_host_key_other_than_the_pinned_one_is_refused_before_logging_in() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, other) = keygen(&dir.path().join("other"));
    let mut d = destination(&sshd, Auth::PrivateKey(sshd.client_key.clone()));
    d.host_key = other;
    let err = Connection::open(&d, TIMEOUT).await.err().unwrap();
    let SftpError::HostKeyMismatch { pinned, shown } = &err else {
        panic!("expected a host key mismatch, got {err:?}");
    };
    assert_ne!(pinned, shown);
    assert!(shown.starts_with("SHA256:"), "{shown}");
    assert!(
        !sshd.log_text().contains("Accepted publickey"),
        "no credentials may reach a server with the wrong key"
    );
    // The key a server shows can be fetched for pinning, and it is the right one.
    let shown_key = fetch_host_key("127.0.0.1", None, sshd.port, TIMEOUT)
        .await
        .unwrap();
    let key_part = |k: &str| k.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert_eq!(key_part(&shown_key), key_part(&sshd.host_key));
    // A pinned key that is not a key at all.
    d.host_key = "ssh-ed25519 not-base64".into();
    assert!(matches!(
        Connection::open(&d, TIMEOUT).await.err().unwrap(),
        SftpError::BadHostKey(_)
    ));
}

#[tokio::test]
async fn refused_credentials_are_told_apart_from_connection_failures() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (stranger, _) = keygen(&dir.path().join("stranger"));
    let err = Connection::open(&destination(&sshd, Auth::PrivateKey(stranger)), TIMEOUT)
        .await
        .err()
        .unwrap();
    assert_eq!(err, SftpError::Auth(sshd.user.clone()));
    let err = Connection::open(
        &destination(&sshd, Auth::Password("wrong password".into())),
        TIMEOUT,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err, SftpError::Auth(sshd.user.clone()));
    let err = Connection::open(
        &destination(
            &sshd,
            Auth::PrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\nnope".into()),
        ),
        TIMEOUT,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, SftpError::BadPrivateKey(_)), "{err:?}");
    // Nothing listens on the port any more once the server is gone.
    let port = sshd.port;
    let d = destination(&sshd, Auth::PrivateKey(sshd.client_key.clone()));
    drop(sshd);
    let err = Connection::open(&d, TIMEOUT).await.err().unwrap();
    assert!(
        matches!(&err, SftpError::Connect(m) if m.contains(&port.to_string())),
        "{err:?}"
    );
}

#[tokio::test]
async fn large_files_stream_both_ways_and_a_limit_is_enforced() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let c = Connection::open(
        &destination(&sshd, Auth::PrivateKey(sshd.client_key.clone())),
        TIMEOUT,
    )
    .await
    .unwrap();
    let local = tempfile::tempdir().unwrap();
    // 3 MiB and a bit: many chunks, and not a multiple of the chunk size.
    let body: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    let source = local.path().join("contacts.csv");
    std::fs::write(&source, &body).unwrap();
    let root = sshd.files.display().to_string();
    c.upload_atomic(&root, "contacts.csv", &source)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(sshd.files.join("contacts.csv")).unwrap(),
        body
    );
    let listed = c.list(&root).await.unwrap();
    assert_eq!(listed.len(), 1, "no temporary file is left: {listed:?}");
    let modified = listed[0].modified.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(modified) < 60,
        "modified {modified}, now {now}"
    );

    let copy = local.path().join("copy.csv");
    let remote = format!("{root}/contacts.csv");
    assert_eq!(
        c.download(&remote, &copy, body.len() as u64).await.unwrap(),
        body.len() as u64
    );
    assert_eq!(std::fs::read(&copy).unwrap(), body);
    let err = c.download(&remote, &copy, 1024 * 1024).await.unwrap_err();
    assert_eq!(
        err,
        SftpError::TooLarge {
            path: remote.clone(),
            limit: 1024 * 1024
        }
    );
    let err = c
        .upload_atomic(&root, "x.csv", &local.path().join("missing.csv"))
        .await
        .unwrap_err();
    assert!(matches!(&err, SftpError::Local { path, .. } if path.ends_with("missing.csv")));
    c.close().await;
}
