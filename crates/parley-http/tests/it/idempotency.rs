//! `Idempotency-Key` as clients use it: a client that goes away mid-request gets the first
//! answer when it retries (the request finishes on its own), a key left running by a
//! process that stopped is released once stale, a refreshed token is the same client, and
//! an upload larger than the general body limit is idempotent too, streamed through a
//! temporary file.

use std::time::Duration;

use axum::body::Body;
use http::{Method, Request};
use parley_store::NewIdempotencyRecord;
use parley_testkit::{Receiver, Reply, TestApp, TestResponse};
use serde_json::{Value, json};
use sha2::Digest;
use tower::ServiceExt;

/// `POST path` with `body` under `key` (also used by the key-rotation test).
pub(crate) fn post(path: &str, token: &str, key: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn replayed(r: &TestResponse) -> &str {
    r.headers
        .get("idempotency-replayed")
        .map_or("", |v| v.to_str().unwrap())
}

async fn webhook_count(t: &TestApp, token: &str) -> usize {
    t.get("/api/v1/webhooks", token).await.json["data"]
        .as_array()
        .unwrap()
        .len()
}

/// The client gives up while the request runs (a slow receiver holds the endpoint test);
/// the request still finishes, and the retry gets its answer instead of 409 for a day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_gets_the_first_answer_when_it_retries() {
    let t = TestApp::with_settings(|s| s.allow_private_targets = true).await;
    let token = t.owner_token().await;
    let receiver = Receiver::start().await;
    let endpoint = t
        .post_ok(&token, "/api/v1/webhooks", json!({"url": receiver.url}))
        .await;
    let path = format!("/api/v1/webhooks/{}/test", endpoint["id"].as_str().unwrap());
    receiver.script([Reply::Slow(Duration::from_millis(1500), 200)]);
    let body = json!({"kind": "ping"});

    let router = t.router.clone();
    let request = post(&path, &token, "went-away", &body);
    let client = tokio::spawn(async move { router.oneshot(request).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.abort();
    assert!(client.await.is_err(), "the client went away mid-request");

    let started = std::time::Instant::now();
    let answer = loop {
        let r = t.send(post(&path, &token, "went-away", &body)).await;
        if r.status != 409 {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still in progress after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(replayed(&answer), "true", "{}", answer.json);
    assert_eq!(
        receiver.received().len(),
        1,
        "the test was sent once, not again by the retry"
    );
}

/// A claim still running from a process that stopped (written here as that process would
/// have) holds the key only until it is stale; then the retry runs.
#[tokio::test]
async fn a_key_left_running_by_a_stopped_process_is_released_when_stale() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let body = json!({"name": "After a crash"});
    let actor = t.root.api_key.key.id.to_string();
    let scope = hex::encode(sha2::Sha256::digest(format!(
        "{actor}\n{}",
        t.root.organization
    )));
    // What the crashed request hashed: method, path, a zero byte, the body.
    let mut fingerprint = sha2::Sha256::new();
    fingerprint.update("POST");
    fingerprint.update("/api/v1/organizations");
    fingerprint.update([0u8]);
    fingerprint.update(body.to_string());
    let now = t.app.clock.now();
    t.store()
        .begin_idempotent(NewIdempotencyRecord {
            scope,
            key: "crashed".into(),
            fingerprint: hex::encode(fingerprint.finalize()),
            at: now,
            expires_at: now + chrono::Duration::hours(24),
            stale_before: now - chrono::Duration::minutes(2),
        })
        .await
        .unwrap();
    let r = t
        .send(post("/api/v1/organizations", &token, "crashed", &body))
        .await;
    assert_eq!(
        r.status, 409,
        "still within the request timeout: {}",
        r.json
    );
    t.clock.advance(chrono::Duration::minutes(3));
    let r = t
        .send(post("/api/v1/organizations", &token, "crashed", &body))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(replayed(&r), "false");
}

/// A key belongs to the API key, not to one token: after a refresh the retry is
/// answered from the first request and nothing is made twice. Another key's client with
/// the same `Idempotency-Key` is someone else.
#[tokio::test]
async fn a_refreshed_token_is_the_same_client() {
    let t = TestApp::new().await;
    let first_token = t.owner_token().await;
    t.clock.advance(chrono::Duration::seconds(5));
    let refreshed = t.owner_token().await;
    assert_ne!(first_token, refreshed, "a new token");
    let body = json!({"url": "https://receiver.example.invalid/hook"});
    let first = t
        .send(post("/api/v1/webhooks", &first_token, "one-webhook", &body))
        .await;
    assert_eq!(first.status, 201, "{}", first.json);
    let retry = t
        .send(post("/api/v1/webhooks", &refreshed, "one-webhook", &body))
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(replayed(&retry), "true");
    assert_eq!(retry.json["id"], first.json["id"]);
    assert_eq!(webhook_count(&t, &refreshed).await, 1);

    let other = t
        .token_in(t.root.organization, parley_domain::Role::Admin)
        .await;
    let theirs = t
        .send(post("/api/v1/webhooks", &other, "one-webhook", &body))
        .await;
    assert_eq!(
        replayed(&theirs),
        "false",
        "another client's key is its own"
    );
    assert_eq!(webhook_count(&t, &refreshed).await, 2);
}

/// An upload of several MiB with an `Idempotency-Key` is taken (no 413), and its retry is
/// answered with the same import.
#[tokio::test]
async fn a_large_upload_is_idempotent() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let mut csv = String::from("phone,first_name\n");
    let mut i = 0u32;
    while csv.len() < 3 * 1024 * 1024 {
        csv.push_str(&format!(
            "+44791112{:04},Customer number {i:08}\n",
            i % 10_000
        ));
        i += 1;
    }
    let boundary = "parley-idempotent-boundary";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
    body.extend_from_slice(csv.as_bytes());
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = |body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/imports")
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("idempotency-key", "big-upload")
            .body(Body::from(body))
            .unwrap()
    };
    let first = t.send(upload(body.clone())).await;
    assert_eq!(first.status, 202, "{}", first.json);
    assert_eq!(first.json["bytes_total"], csv.len());
    let retry = t.send(upload(body.clone())).await;
    assert_eq!(retry.status, 202);
    assert_eq!(replayed(&retry), "true");
    assert_eq!(retry.json["id"], first.json["id"]);
    let imports = t.get("/api/v1/imports", &token).await;
    assert_eq!(imports.json["data"].as_array().unwrap().len(), 1);
    // The same key with another file is refused, not taken as the first.
    body.truncate(body.len() - 100);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let other = t.send(upload(body)).await;
    assert_eq!(other.status, 422, "{}", other.json);
}

/// A body over a route's limit is refused with the limit that route has.
#[tokio::test]
async fn a_413_quotes_the_routes_own_limit() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let big = "x".repeat(2 * 1024 * 1024);
    let r = t
        .send(post(
            "/api/v1/organizations",
            &token,
            "too-big",
            &json!({"name": big}),
        ))
        .await;
    assert_eq!(r.status, 413, "{}", r.json);
    assert!(
        r.json["detail"].as_str().unwrap().contains("1 MiB"),
        "{}",
        r.json
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/organizations")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"name": big}).to_string()))
        .unwrap();
    let r = t.send(request).await;
    assert_eq!(r.status, 413);
    assert!(
        r.json["detail"].as_str().unwrap().contains("1 MiB"),
        "{}",
        r.json
    );
}

/// A kept answer may hold a secret shown once (here a new API key's): it is sealed at
/// rest, and the retry still gets it.
#[tokio::test]
async fn kept_answers_are_sealed_at_rest() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let body = json!({"name": "integration"});
    let first = t
        .send(post("/api/v1/api-keys", &token, "new-key", &body))
        .await;
    assert_eq!(first.status, 201, "{}", first.json);
    let secret = first.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pk_"));
    let out = std::process::Command::new("sqlite3")
        .arg(t.db.dir().join("parley.db"))
        .arg("SELECT hex(body) FROM idempotency_keys")
        .output()
        .expect("the sqlite3 shell (.ci/run installs it)");
    let stored = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(!stored.trim().is_empty(), "the answer is kept");
    let secret_hex = hex::encode(&secret);
    assert!(
        !stored.contains(&secret_hex),
        "the secret is not stored in clear"
    );
    let retry = t
        .send(post("/api/v1/api-keys", &token, "new-key", &body))
        .await;
    assert_eq!(replayed(&retry), "true");
    assert_eq!(retry.json["secret"], secret.as_str());
}
