//! The SFTP page against OpenSSH's `sshd` on a loopback port, as an administrator uses
//! it: **Fetch host key** shows the key the server presents with the fingerprint
//! `ssh-keygen -lf` gives for it and pins it in the form; a destination refused with each
//! bad field named (the password typed never shown back); then added as an import inbox
//! only; its inbox set up, **Poll now** queued and, once the poll ran, the page shows the
//! last poll and the files imported and failed; administrators only.

use std::time::Duration;

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, Sshd, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, get, html, person, poster, sign_in,
};

/// What `ssh-keygen -lf` says of `public_key`: its `SHA256:…` fingerprint.
fn keygen_fingerprint(public_key: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("host.pub");
    std::fs::write(&file, format!("{public_key}\n")).unwrap();
    let out = std::process::Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    said.split_whitespace().nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn an_administrator_pins_a_host_key_adds_a_destination_and_polls_its_inbox() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let t = TestApp::with_settings(|s| {
        s.allow_private_targets = true;
        s.webhooks.timeout = Duration::from_secs(10);
        s.webhooks.inbox_settle = Duration::ZERO;
    })
    .await;
    let org = t.root.organization;
    let inbox = sshd.files.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/integrations/sftp");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains("No SFTP destinations yet."));
    let csrf = csrf_field(&text);
    let port = sshd.port.to_string();
    let post = poster(&path, &owner, &csrf);

    let fetched = t
        .send(post(&[
            ("action", "fetch-key"),
            ("host", "127.0.0.1"),
            ("port", &port),
        ]))
        .await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", html(&fetched));
    let text = html(&fetched).to_owned();
    let print = keygen_fingerprint(&sshd.host_key);
    assert!(print.starts_with("SHA256:"), "{print}");
    assert!(
        text.contains(&format!(
            "The server presents the key <span class=\"mono\">{print}</span>"
        )),
        "the fingerprint ssh-keygen gives: {text}"
    );
    let key_type = sshd.host_key.split_whitespace().next().unwrap();
    assert!(
        text.contains(&format!(">{key_type} ")),
        "the key is pinned in the form"
    );
    let pinned = sshd.host_key.trim().to_owned();

    let refused = t
        .send(post(&[
            ("action", "create"),
            ("host", "127.0.0.1"),
            ("port", &port),
            ("host_key", &pinned),
            ("user", ""),
            ("password", "hunter2-secret"),
            ("folder", "inbox"),
            ("inbox_only", "1"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused).to_owned();
    assert!(text.contains("id=\"sftp-user-problem\""), "{text}");
    assert!(
        !text.contains("hunter2-secret"),
        "a typed password is never shown back"
    );

    let r = t
        .send(post(&[
            ("action", "create"),
            ("host", "127.0.0.1"),
            ("port", &port),
            ("host_key", &pinned),
            ("user", &sshd.user),
            ("private_key", &sshd.client_key),
            ("folder", &inbox.display().to_string()),
            ("inbox_only", "1"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let text = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(text.contains("No events: an import inbox only"));
    assert!(text.contains(&format!(
        "Host key pinned: <span class=\"mono\">{print}</span>"
    )));
    assert!(text.contains("Signs in with a private key"));
    let id = text
        .split("<li id=\"sftp-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let r = t
        .send(post(&[
            ("action", "inbox-set"),
            ("id", &id),
            ("inbox_folder", &inbox.display().to_string()),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let text = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(
        text.contains("Not polled yet · files imported: 0 · failed: 0"),
        "{text}"
    );

    std::fs::write(
        inbox.join("contacts.csv"),
        "Name,Mobile\nAnn,+353871234567\n",
    )
    .unwrap();
    std::fs::write(inbox.join("broken.xlsx"), b"not a workbook").unwrap();
    let r = t.send(post(&[("action", "poll"), ("id", &id)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = r.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("{path}?polled={id}"));
    assert!(html(&t.send(get(&back, &owner)).await).contains("A poll of the inbox is queued"));
    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert_eq!(polls.len(), 1);
    let text = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(
        text.contains("Last polled ") && text.contains(" · files imported: 1 · failed: 1"),
        "{text}"
    );

    let r = t
        .send(post(&[("action", "inbox-disable"), ("id", &id)]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(html(&t.send(get(&path, &owner)).await).contains(">Not polled</span>"));
    let r = t.send(post(&[("action", "poll"), ("id", &id)])).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a stopped inbox is not polled"
    );

    let sue = person(&t, org, "sue@example.test", Role::Supervisor).await;
    assert_eq!(t.send(get(&path, &sue)).await.status, StatusCode::FORBIDDEN);
    let r = t.send(post(&[("action", "delete"), ("id", &id)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(html(&t.send(get(&path, &owner)).await).contains("No SFTP destinations yet."));
}
