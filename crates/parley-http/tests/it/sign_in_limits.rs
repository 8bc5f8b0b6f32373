//! Guessing and flooding credentials: password checks run on a bounded pool (memory stays
//! flat through a flood, the overflow is answered 503 with `Retry-After`), failures are
//! limited per client address, per account (progressive lockout, audited once) and per
//! API key id (429 with `Retry-After`), failures for unknown emails write nothing, and
//! signing out needs the CSRF token.

use axum::body::Body;
use http::{Method, Request};
use parley_app::auth::{Argon2Cost, PoolSize, ThrottleSettings};
use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::{Value, json};

fn sign_in_request(email: &str, password: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/sign-in")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap()
}

/// `(VmRSS, VmHWM)` of this process in MiB.
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn audit_actions(t: &TestApp) -> Vec<String> {
    let token = t.owner_token().await;
    let log = t.get("/api/v1/audit-log?limit=200", &token).await;
    log.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Entries with no organization (`sqlite3` is installed by `.ci/run`).
fn organizationless_audit_rows(t: &TestApp) -> u64 {
    let out = std::process::Command::new("sqlite3")
        .arg(t.db.dir().join("parley.db"))
        .arg("SELECT count(*) FROM audit_log WHERE organization_id IS NULL")
        .output()
        .expect("the sqlite3 shell (apt-get install sqlite3)");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// 512 wrong sign-ins, 256 at a time, at the real Argon2 cost (19 MiB a check) and with
/// the rate limits out of the way: the pool checks two at a time, the overflow is told to
/// retry, and memory stays within a few hashes' worth during and after. (On the code
/// before the pool, every request ran its own 19 MiB hash on the unbounded blocking
/// pool: a flood like this took gigabytes and kept them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_flood_is_bounded_in_memory_and_answered_busy() {
    let t = TestApp::with_settings(|s| {
        s.argon2 = Argon2Cost::default();
        s.password_pool = PoolSize {
            threads: 2,
            queue: 8,
        };
        s.throttle = ThrottleSettings {
            address_failures_per_minute: 100_000,
            lockout_after: 100_000,
            key_failures_per_minute: 100_000,
        };
    })
    .await;
    // One check first so the pool's threads and their memory exist in the baseline.
    let warm = t
        .send(sign_in_request("warm@example.test", "wrong password 1"))
        .await;
    assert_eq!(warm.status, 401, "{}", warm.json);
    let (baseline, _) = memory_mib();

    let mut statuses = Vec::new();
    for round in 0..2 {
        let mut tasks = Vec::new();
        for i in 0..256 {
            let router = t.router.clone();
            tasks.push(tokio::spawn(async move {
                use tower::ServiceExt;
                let email = format!("nobody{round}-{i}@example.test");
                let response = router
                    .oneshot(sign_in_request(&email, "wrong password 123"))
                    .await
                    .unwrap();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (response.status().as_u16(), retry_after)
            }));
        }
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
    }
    let (after, peak) = memory_mib();
    let busy = statuses.iter().filter(|(s, _)| *s == 503).count();
    let refused = statuses.iter().filter(|(s, _)| *s == 401).count();
    println!(
        "flood: baseline {baseline} MiB, peak {peak} MiB, after {after} MiB; {refused} checked, {busy} busy"
    );
    assert_eq!(busy + refused, 512, "only 401 and 503: {statuses:?}");
    assert!(busy > 0, "the overflow is told to come back");
    assert!(refused >= 10, "the admitted ones are checked: {refused}");
    assert!(
        statuses
            .iter()
            .filter(|(s, _)| *s == 503)
            .all(|(_, retry)| retry.as_deref() == Some("1")),
        "503s carry Retry-After"
    );
    assert!(
        peak < baseline + 200,
        "peak {peak} MiB against a baseline of {baseline} MiB"
    );
    assert!(
        after < baseline + 100,
        "after the flood {after} MiB against a baseline of {baseline} MiB"
    );
    // The owner still signs in.
    let ok = t
        .send(sign_in_request("owner@example.test", OWNER_PASSWORD))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(
        organizationless_audit_rows(&t),
        0,
        "no rows for unknown emails"
    );
}

/// The 11th wrong password in a minute is refused with 429 (even the right one), the
/// lockout is audited once, and the right password works once it ends; lockouts grow.
#[tokio::test]
async fn repeated_failures_lock_an_account_progressively_and_are_audited_once() {
    let t = TestApp::new().await;
    for _ in 0..10 {
        let r = t
            .send(sign_in_request("owner@example.test", "not the password"))
            .await;
        assert_eq!(r.status, 401, "{}", r.json);
        assert_eq!(r.json["detail"], "wrong email or password");
    }
    let locked = t
        .send(sign_in_request("owner@example.test", OWNER_PASSWORD))
        .await;
    assert_eq!(
        (locked.status.as_u16(), locked.json["type"].as_str()),
        (429, Some("/problems/rate-limited")),
        "{}",
        locked.json
    );
    assert_eq!(locked.headers["retry-after"], "60");
    // Another account is not locked.
    let other = t
        .send(sign_in_request("someone@example.test", "not the password"))
        .await;
    assert_eq!(other.status, 401);

    let actions = audit_actions(&t).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "account_locked").count(),
        1,
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|a| a == "sign_in_failed"),
        "{actions:?}"
    );
    assert_eq!(organizationless_audit_rows(&t), 0);

    // After the minute the right password works and clears the count.
    t.clock.advance(chrono::Duration::seconds(61));
    let ok = t
        .send(sign_in_request("owner@example.test", OWNER_PASSWORD))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);

    // Two more runs of ten: one minute, then five.
    for run in 0..2 {
        for _ in 0..10 {
            let r = t
                .send(sign_in_request("owner@example.test", "not the password"))
                .await;
            assert_eq!(r.status, 401, "run {run}: {}", r.json);
        }
        let locked = t
            .send(sign_in_request("owner@example.test", "not the password"))
            .await;
        assert_eq!(locked.status, 429);
        let wait = if run == 0 { "60" } else { "300" };
        assert_eq!(locked.headers["retry-after"], wait, "run {run}");
        t.clock.advance(chrono::Duration::seconds(61));
    }
    let still = t
        .send(sign_in_request("owner@example.test", OWNER_PASSWORD))
        .await;
    assert_eq!(still.status, 429, "the five-minute lock holds after one");
    let actions = audit_actions(&t).await;
    assert_eq!(actions.iter().filter(|a| *a == "account_locked").count(), 3);
}

/// Over a real socket the client is the connection's address: failures from it are
/// limited whatever emails it tries, and a forged `X-Forwarded-For` changes nothing.
#[tokio::test]
async fn failures_are_limited_per_client_address_and_forwarded_for_is_not_believed() {
    let t = TestApp::with_settings(|s| {
        s.throttle = ThrottleSettings {
            address_failures_per_minute: 5,
            ..ThrottleSettings::default()
        };
    })
    .await;
    let base = t.listen().await;
    let client = reqwest::Client::new();
    let attempt = |email: String, forwarded: String| {
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/sign-in");
        async move {
            let r = client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .header("content-type", "application/json")
                .body(json!({"email": email, "password": "not the password"}).to_string())
                .send()
                .await
                .unwrap();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), retry)
        }
    };
    for i in 0..5 {
        let (status, _) = attempt(format!("user{i}@example.test"), format!("203.0.113.{i}")).await;
        assert_eq!(status, 401);
    }
    let (status, retry) = attempt("user9@example.test".into(), "198.51.100.1".into()).await;
    assert_eq!(status, 429, "a sixth failure from the same address");
    assert_eq!(retry.as_deref(), Some("60"));

    // API-key exchanges from that address are limited too.
    let r = client
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(
            json!({"key_id": t.root.api_key.key.id.to_string(), "secret": "pk_wrong"}).to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

/// Wrong secrets for one API key id: the 11th in a minute is refused with 429, even with
/// the right secret; another key is unaffected; after the minute the right one works.
#[tokio::test]
async fn failed_key_exchanges_are_limited_per_key_id() {
    let t = TestApp::new().await;
    let exchange = |key_id: String, secret: String| {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/auth/token")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"key_id": key_id, "secret": secret}).to_string(),
            ))
            .unwrap();
        t.send(request)
    };
    let key = t.root.api_key.key.id.to_string();
    for _ in 0..10 {
        let r = exchange(key.clone(), "pk_wrong".into()).await;
        assert_eq!(r.status, 401, "{}", r.json);
    }
    let limited = exchange(key.clone(), t.root.api_key.secret.clone()).await;
    assert_eq!(limited.status, 429, "{}", limited.json);
    assert!(limited.headers.contains_key("retry-after"));
    let other = t
        .app
        .admin_create_api_key(t.root.organization, "other", parley_domain::Role::Admin)
        .await
        .unwrap();
    let fine = exchange(other.key.id.to_string(), other.secret.clone()).await;
    assert_eq!(fine.status, 200, "{}", fine.json);
    t.clock.advance(chrono::Duration::seconds(61));
    let ok = exchange(key, t.root.api_key.secret.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
}

/// Signing out is a change like any other: without the session's CSRF token it is
/// refused and the session goes on.
#[tokio::test]
async fn sign_out_needs_the_csrf_token() {
    let t = TestApp::new().await;
    let signed = t
        .send(sign_in_request("owner@example.test", OWNER_PASSWORD))
        .await;
    assert_eq!(signed.status, 200);
    let cookie = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("parley_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = signed.json["csrf_token"].as_str().unwrap().to_owned();
    let request = |csrf: Option<&str>, path: &str, method: Method| {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", &cookie);
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        b.body(Body::empty()).unwrap()
    };
    for forged in [None, Some("forged")] {
        let r = t
            .send(request(forged, "/api/v1/auth/sign-out", Method::POST))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.json["type"].clone()),
            (403, Value::from("/problems/csrf-failed"))
        );
        let still = t
            .send(request(None, "/api/v1/auth/session", Method::GET))
            .await;
        assert_eq!(still.status, 200, "the session goes on");
    }
    let r = t
        .send(request(Some(&csrf), "/api/v1/auth/sign-out", Method::POST))
        .await;
    assert_eq!(r.status, 204);
    let gone = t
        .send(request(None, "/api/v1/auth/session", Method::GET))
        .await;
    assert_eq!(gone.status, 401);
}
