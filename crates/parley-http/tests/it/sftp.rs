//! `/api/v1/sftp`: SFTP hooks against OpenSSH's `sshd` on a loopback port. Events are
//! written as `<UTC timestamp>_<event id>_<type>.json` through a temporary name, with the
//! retries and attempts log of webhooks; a wrong host key is refused and retried.

use std::time::Duration;

use http::Method;
use parley_domain::{Clock, EventId, EventType, NewEvent, Role};
use parley_testkit::{Sshd, TestApp, keygen};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::webhooks::app;

const WAIT: Duration = Duration::from_secs(15);

/// The finished files in `folder`, by name (a `.<name>.part` being written is not one).
fn files(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = all_files(folder)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Every file in `folder`, temporary ones included.
fn all_files(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn wait_for_files(folder: &std::path::Path, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let names = files(folder);
        if names.len() >= count {
            return names;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {names:?} arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The newest logged attempt to deliver `event` to endpoint `id`, once there is one.
async fn first_attempt(t: &TestApp, token: &str, id: &str, event: EventId) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let path = format!("/api/v1/webhooks/{id}/attempts?event_id={event}");
        let log = t.get(&path, token).await.json;
        if let Some(a) = log["data"].as_array().unwrap().first() {
            return a.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no attempt logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sftp_hooks_write_each_event_as_a_file_and_refuse_a_wrong_host_key() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let t = app(Duration::from_secs(5)).await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let outbox = sshd.files.join("outbox");
    std::fs::create_dir(&outbox).unwrap();

    // The key the server shows is offered for pinning.
    let r = t
        .get(
            &format!("/api/v1/sftp/host-key?host=127.0.0.1&port={}", sshd.port),
            &token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let shown = r.json["host_key"].as_str().unwrap().to_owned();
    assert!(shown.starts_with("ssh-ed25519 "));

    // Bad input names every field and creates nothing.
    let r = t
        .request(
            &token,
            Method::POST,
            "/api/v1/sftp",
            Some(json!({
        "host": "127.0.0.1", "user": "a b", "password": "x", "private_key": sshd.client_key,
        "folder": "../etc", "host_key": "nope"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    let mut fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["folder", "host_key", "password", "user"]);
    assert_eq!(t.get("/api/v1/sftp", &token).await.json["data"], json!([]));

    let r = t
        .request(
            &token,
            Method::POST,
            "/api/v1/sftp",
            Some(json!({
        "host": "127.0.0.1", "port": sshd.port, "user": sshd.user, "private_key": sshd.client_key,
        "host_key": shown, "folder": outbox.display().to_string(), "events": ["setStatus"],
        "description": "Nightly CRM feed"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["auth"], "private_key");
    assert!(r.json["url"].as_str().unwrap().starts_with("sftp://"));
    assert!(
        !r.json.to_string().contains("PRIVATE KEY"),
        "the key is never shown"
    );
    assert_eq!(
        t.get("/api/v1/sftp", &token).await.json["data"][0]["id"],
        id.as_str()
    );

    // The test button writes a sample file.
    let r = t
        .request(
            &token,
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(json!({"kind": "ping"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.json["response"]["error"].is_null(), "{}", r.json);
    let names = files(&outbox);
    assert_eq!(names.len(), 1);
    assert!(names[0].ends_with("_ping.json"), "{names:?}");
    std::fs::remove_file(outbox.join(&names[0])).unwrap();

    // Subscribed events become files named by time, id and type; no temporary file stays.
    let now = t.clock.now();
    let event = |event_type, n: u32| NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type,
        timestamp: now + chrono::Duration::milliseconds(i64::from(n)),
        data: json!({"conversation_id": format!("conv_{n}")}),
    };
    let events = [
        event(EventType::SetStatus, 1),
        event(EventType::Payment, 2),
        event(EventType::SetStatus, 3),
    ];
    t.store().append_events(&events).await.unwrap();
    let cancel = CancellationToken::new();
    let engine = t.app.start_webhook_delivery(cancel.clone());
    let names = wait_for_files(&outbox, 2).await;
    let ts = |e: &NewEvent| e.timestamp.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    assert_eq!(
        names,
        [
            format!("{}_{}_setStatus.json", ts(&events[0]), events[0].id),
            format!("{}_{}_setStatus.json", ts(&events[2]), events[2].id),
        ]
    );
    let written: Value =
        serde_json::from_slice(&std::fs::read(outbox.join(&names[0])).unwrap()).unwrap();
    assert_eq!(written["id"], events[0].id.to_string());
    assert_eq!(written["data"], events[0].data);
    // The file is renamed into place before the attempt is recorded: wait for the log.
    let first = first_attempt(&t, &token, &id, events[0].id).await;
    assert!(
        first["response"].as_str().unwrap().starts_with("wrote "),
        "{first}"
    );

    // Another host key pinned: refused, logged, retried on schedule; nothing written.
    let dir = tempfile::tempdir().unwrap();
    let (_, other) = keygen(&dir.path().join("other"));
    let r = t
        .request(
            &token,
            Method::PATCH,
            &format!("/api/v1/sftp/{id}"),
            Some(json!({"host_key": other})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let late = event(EventType::SetStatus, 4);
    t.store()
        .append_events(std::slice::from_ref(&late))
        .await
        .unwrap();
    let failed = first_attempt(&t, &token, &id, late.id).await;
    assert!(
        failed["error"].as_str().unwrap().contains("host key"),
        "{failed}"
    );
    assert_eq!(files(&outbox).len(), 2);
    // Pinned right again, the retry writes it.
    let r = t
        .request(
            &token,
            Method::PATCH,
            &format!("/api/v1/sftp/{id}"),
            Some(json!({"host_key": shown})),
        )
        .await;
    assert_eq!(r.status, 200);
    t.clock.advance(chrono::Duration::seconds(7));
    let names = wait_for_files(&outbox, 3).await;
    assert!(names[2].contains(&late.id.to_string()), "{names:?}");
    cancel.cancel();
    engine.stopped().await;
    assert_eq!(
        all_files(&outbox),
        files(&outbox),
        "no temporary file is left"
    );

    // An SFTP hook's URL is not changed through /webhooks; agents cannot see hooks.
    let r = t
        .request(
            &token,
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"url": "https://example.com/"})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("url")));
    let agent = t.token_in(org, Role::Agent).await;
    assert_eq!(t.get("/api/v1/sftp", &agent).await.status, 403);
    assert_eq!(
        t.get("/api/v1/sftp/host-key?host=127.0.0.1", &agent)
            .await
            .status,
        403
    );
    let r = t
        .request(&token, Method::DELETE, &format!("/api/v1/sftp/{id}"), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        t.get(&format!("/api/v1/sftp/{id}"), &token).await.status,
        404
    );
}
