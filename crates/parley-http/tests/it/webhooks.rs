//! `/api/v1/webhooks` end to end with the delivery engine running against a real receiver
//! on a loopback port: signatures any Standard Webhooks library accepts, the retry
//! schedule under a fake clock, `Retry-After`, timeouts, `410 Gone`, five days of failure,
//! replay with the same `webhook-id`, the five tests, rotation, and the SSRF guard.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::Method;
use parley_domain::{Clock, EventId, EventType, NewEvent, OrgId, Role};
use parley_testkit::{Received, Receiver, Reply, TestApp, TestResponse};
use parley_webhooks::Secret;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

pub(crate) async fn app(timeout: Duration) -> TestApp {
    TestApp::with_settings(|s| {
        s.allow_private_targets = true;
        s.webhooks.timeout = timeout;
        // The fake clock moves days ahead; tokens must outlive it.
        s.token_ttl = Duration::from_secs(30 * 86_400);
    })
    .await
}

async fn post(t: &TestApp, path: &str, token: &str, body: Value) -> TestResponse {
    t.call(Method::POST, path, Some(token), None, Some(body))
        .await
}

async fn patch(t: &TestApp, id: &str, token: &str, body: Value) -> TestResponse {
    t.call(
        Method::PATCH,
        &format!("/api/v1/webhooks/{id}"),
        Some(token),
        None,
        Some(body),
    )
    .await
}

async fn create(t: &TestApp, token: &str, body: Value) -> (String, String) {
    let r = post(t, "/api/v1/webhooks", token, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    (
        r.json["id"].as_str().unwrap().to_owned(),
        r.json["secret"].as_str().unwrap().to_owned(),
    )
}

fn event(org: OrgId, t: EventType, at: DateTime<Utc>, n: u32) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type: t,
        timestamp: at,
        data: json!({"conversation_id": format!("conv_{n}"), "n": n}),
    }
}

/// The message of `event` on endpoint `id`, once its attempts reach `attempts` or it is no
/// longer pending.
async fn message_after(t: &TestApp, token: &str, id: &str, event: EventId, attempts: u64) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let r = t
            .get(&format!("/api/v1/webhooks/{id}/messages"), token)
            .await;
        assert_eq!(r.status, 200, "{}", r.json);
        let found = r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["event_id"] == event.to_string())
            .cloned();
        if let Some(m) = found
            && (m["attempts"].as_u64() == Some(attempts) || m["status"] != "pending")
        {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message {event} never reached {attempts} attempts"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn due_in(message: &Value, now: DateTime<Utc>) -> chrono::Duration {
    let at: DateTime<Utc> = message["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    at - now
}

/// Checks the signature and the JWT of a received delivery against `secret`.
pub(crate) fn assert_signed(r: &Received, secret: &str, endpoint: &str, event: EventId) {
    let secret = Secret::parse(secret).unwrap();
    assert_eq!(r.header("webhook-id"), event.to_string());
    let timestamp: i64 = r.header("webhook-timestamp").parse().unwrap();
    assert!(
        parley_webhooks::sign::verify(
            &secret,
            r.header("webhook-signature"),
            r.header("webhook-id"),
            timestamp,
            &r.body
        ),
        "the signature verifies"
    );
    assert_jwt(r, "authorization", &secret, endpoint, event);
}

/// Checks the JWT in header `name` of a received delivery against `secret`.
pub(crate) fn assert_jwt(
    r: &Received,
    name: &str,
    secret: &Secret,
    endpoint: &str,
    event: EventId,
) {
    let timestamp: i64 = r.header("webhook-timestamp").parse().unwrap();
    let token = r.header(name).strip_prefix("Bearer ").unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[endpoint]);
    validation.set_issuer(&["parley"]);
    validation.validate_exp = false; // the fake clock is not the wall clock
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.key()),
        &validation,
    )
    .unwrap_or_else(|e| panic!("the JWT verifies: {e}"))
    .claims;
    assert_eq!(claims["jti"], event.to_string());
    assert_eq!(claims["iat"], timestamp);
    assert_eq!(claims["exp"], timestamp + 300);
}

#[tokio::test]
async fn events_reach_each_subscribed_endpoint_signed_and_logged() {
    let t = app(Duration::from_secs(5)).await;
    // The Python verifier checks the timestamp against the wall clock.
    t.clock.set(Utc::now());
    let token = t.owner_token().await;
    let org = t.root.organization;
    let (all, only_status) = (Receiver::start().await, Receiver::start().await);
    let (all_id, all_secret) = create(&t, &token, json!({"url": all.url})).await;
    let (status_id, status_secret) = create(
        &t,
        &token,
        json!({"url": only_status.url, "events": ["setStatus"], "description": "CRM"}),
    )
    .await;
    assert!(all_secret.starts_with("whsec_"));
    // A disabled endpoint receives nothing.
    let quiet = Receiver::start().await;
    create(&t, &token, json!({"url": quiet.url, "enabled": false})).await;

    let now = t.clock.now();
    let events = vec![
        event(org, EventType::SetStatus, now, 1),
        event(org, EventType::Payment, now, 2),
        event(org, EventType::SetStatus, now, 3),
    ];
    t.store().append_events(&events).await.unwrap();
    let cancel = CancellationToken::new();
    let engine = t.app.start_webhook_delivery(cancel.clone());

    let got_all = all.wait_for(3, WAIT).await;
    let got_status = only_status.wait_for(2, WAIT).await;
    for r in &got_all {
        let id: EventId = r.header("webhook-id").parse().unwrap();
        assert_signed(r, &all_secret, &all_id, id);
        let body = r.json();
        let sent = events.iter().find(|e| e.id == id).unwrap();
        assert_eq!(body["id"], id.to_string());
        assert_eq!(body["type"], sent.event_type.as_str());
        assert_eq!(body["organization_id"], org.to_string());
        assert_eq!(body["data"], sent.data);
        assert_eq!(r.header("content-type"), "application/json");
    }
    let mut ids: Vec<_> = got_status
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    ids.sort();
    let mut want = vec![events[0].id.to_string(), events[2].id.to_string()];
    want.sort();
    assert_eq!(ids, want, "only the subscribed type");
    assert_signed(
        &got_status[0],
        &status_secret,
        &status_id,
        ids[0].parse().unwrap(),
    );
    // An independent verifier (the Standard Webhooks reference library) accepts it too.
    if standard_webhooks_installed() {
        assert!(standard_webhooks_accepts(&got_status[0], &status_secret));
        assert!(!standard_webhooks_accepts(&got_status[0], &all_secret));
    }

    let m = message_after(&t, &token, &all_id, events[1].id, 1).await;
    assert_eq!(m["status"], "delivered");
    let r = t
        .get(
            &format!(
                "/api/v1/webhooks/{all_id}/messages/{}/attempts",
                events[1].id
            ),
            &token,
        )
        .await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1, "{}", r.json);
    assert_eq!(r.json["data"][0]["status_code"], 200);
    assert_eq!(r.json["data"][0]["response"], "ok");
    assert_eq!(r.json["data"][0]["trigger"], "scheduled");
    assert!(r.json["data"][0]["error"].is_null());

    // Nothing is delivered twice, and the disabled endpoint saw nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(all.received().len(), 3);
    assert_eq!(only_status.received().len(), 2);
    assert!(quiet.received().is_empty());
    cancel.cancel();
    engine.stopped().await;
}

/// Whether the Standard Webhooks reference library can run (see
/// `parley_testkit::tools::available`).
fn standard_webhooks_installed() -> bool {
    parley_testkit::tools::available(
        "Python's standardwebhooks",
        parley_testkit::tools::python_standardwebhooks(),
        "python3 -m pip install standardwebhooks==1.1.0",
    )
}

/// Runs the Standard Webhooks reference library (Python) over a received request.
fn standard_webhooks_accepts(r: &Received, secret: &str) -> bool {
    let headers: Vec<(String, String)> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|n| ((*n).to_owned(), r.header(n).to_owned()))
        .collect();
    parley_testkit::standard_webhooks_accepts(secret, &headers, &r.body)
}

#[tokio::test]
async fn failures_follow_the_schedule_then_410_disables_and_replay_redelivers() {
    let t = app(Duration::from_millis(500)).await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::Status(500),
        Reply::RetryAfter(503, "120".into()),
        Reply::Slow(Duration::from_secs(2), 200),
        Reply::Redirect("http://127.0.0.1:9/elsewhere".into()),
        Reply::Status(410),
    ]);
    let (id, _) = create(&t, &token, json!({"url": receiver.url})).await;
    let e = event(org, EventType::DeliveryReport, t.clock.now(), 1);
    t.store()
        .append_events(std::slice::from_ref(&e))
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let engine = t.app.start_webhook_delivery(cancel.clone());

    // 1: 500, retried after 5 s ± 20 %.
    receiver.wait_for(1, WAIT).await;
    let m = message_after(&t, &token, &id, e.id, 1).await;
    assert_eq!(m["status"], "pending");
    let wait = due_in(&m, t.clock.now());
    assert!(
        (4000..=6000).contains(&wait.num_milliseconds()),
        "first retry after {wait}"
    );
    // Not before it is due.
    t.clock.advance(chrono::Duration::seconds(3));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.received().len(), 1, "retried early");

    // 2: 503 with Retry-After: 120, honoured exactly.
    t.clock.advance(chrono::Duration::seconds(3));
    receiver.wait_for(2, WAIT).await;
    let m = message_after(&t, &token, &id, e.id, 2).await;
    assert_eq!(due_in(&m, t.clock.now()), chrono::Duration::seconds(120));

    // 3: slower than the timeout; then 30 min ± 20 % (the third step of the schedule).
    t.clock.advance(chrono::Duration::seconds(121));
    receiver.wait_for(3, WAIT).await;
    let m = message_after(&t, &token, &id, e.id, 3).await;
    let wait = due_in(&m, t.clock.now());
    assert!(
        (24..=36).contains(&wait.num_minutes()),
        "third retry after {wait}"
    );

    // 4: a redirect, not followed, is a failure; 2 h ± 20 % next.
    t.clock.advance(chrono::Duration::minutes(37));
    receiver.wait_for(4, WAIT).await;
    let m = message_after(&t, &token, &id, e.id, 4).await;
    let wait = due_in(&m, t.clock.now());
    assert!((96..=144).contains(&wait.num_minutes()), "after {wait}");

    // 5: 410 Gone fails the message and disables the endpoint at once.
    t.clock.advance(chrono::Duration::minutes(145));
    receiver.wait_for(5, WAIT).await;
    let m = message_after(&t, &token, &id, e.id, 5).await;
    assert_eq!(m["status"], "failed");
    let endpoint = t.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(endpoint.json["enabled"], false);
    assert_eq!(endpoint.json["disabled_reason"], "gone");

    let log = t
        .get(&format!("/api/v1/webhooks/{id}/attempts"), &token)
        .await
        .json;
    let log = log["data"].as_array().unwrap();
    let codes: Vec<Value> = log.iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(
        codes,
        [json!(410), json!(302), Value::Null, json!(503), json!(500)],
        "newest first"
    );
    assert!(
        log[2]["error"]
            .as_str()
            .unwrap()
            .contains("no answer within")
    );
    assert!(log[1]["error"].as_str().unwrap().contains("not followed"));
    assert_eq!(log[3]["response"], "later");
    let audit = t.get("/api/v1/audit-log", &token).await.json;
    let disabled = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "webhook_disabled")
        .expect("an audit entry says why");
    assert_eq!(disabled["detail"]["reason"], "gone");

    // Nothing more is sent; a replay is refused until the endpoint is enabled.
    t.clock.advance(chrono::Duration::hours(20));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.received().len(), 5);
    let replay = json!({"event_id": e.id.to_string()});
    let r = post(
        &t,
        &format!("/api/v1/webhooks/{id}/replay"),
        &token,
        replay.clone(),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.json);
    let r = patch(&t, &id, &token, json!({"enabled": true})).await;
    assert_eq!(r.json["disabled_reason"], Value::Null);
    let r = post(&t, &format!("/api/v1/webhooks/{id}/replay"), &token, replay).await;
    assert_eq!((r.status.as_u16(), &r.json["replayed"]), (202, &json!(1)));
    let again = receiver.wait_for(6, WAIT).await;
    assert_eq!(again[5].header("webhook-id"), e.id.to_string(), "same id");
    assert_eq!(again[5].body, again[0].body, "same body");
    let m = message_after(&t, &token, &id, e.id, 1).await;
    assert_eq!(m["status"], "delivered");
    let log = t
        .get(
            &format!("/api/v1/webhooks/{id}/attempts?event_id={}", e.id),
            &token,
        )
        .await
        .json;
    assert_eq!(log["data"][0]["trigger"], "replay");
    assert_eq!(log["data"].as_array().unwrap().len(), 6);
    cancel.cancel();
    engine.stopped().await;
}

#[tokio::test]
async fn five_days_of_failure_disable_an_endpoint_and_say_so() {
    let t = app(Duration::from_secs(5)).await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let receiver = Receiver::start().await;
    receiver.script(std::iter::repeat_n(Reply::Status(500), 50));
    let (id, _) = create(&t, &token, json!({"url": receiver.url})).await;
    let cancel = CancellationToken::new();
    let engine = t.app.start_webhook_delivery(cancel.clone());

    let first = event(org, EventType::SetStatus, t.clock.now(), 1);
    t.store()
        .append_events(std::slice::from_ref(&first))
        .await
        .unwrap();
    message_after(&t, &token, &id, first.id, 1).await;
    let since =
        t.get(&format!("/api/v1/webhooks/{id}"), &token).await.json["failing_since"].clone();
    assert!(since.is_string(), "the failing streak started");

    // Four days on, still failing: still enabled.
    t.clock.advance(chrono::Duration::days(4));
    let second = event(org, EventType::SetStatus, t.clock.now(), 2);
    t.store()
        .append_events(std::slice::from_ref(&second))
        .await
        .unwrap();
    message_after(&t, &token, &id, second.id, 1).await;
    message_after(&t, &token, &id, first.id, 2).await;
    let endpoint = t.get(&format!("/api/v1/webhooks/{id}"), &token).await.json;
    assert_eq!(
        (
            endpoint["enabled"].clone(),
            endpoint["failing_since"].clone()
        ),
        (json!(true), since)
    );

    // Past five days of uninterrupted failure, the next failed attempt (the retries due by
    // then) disables the endpoint, with an audit entry.
    t.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let endpoint = t.get(&format!("/api/v1/webhooks/{id}"), &token).await.json;
        if endpoint["disabled_reason"] == "failing" {
            assert_eq!(endpoint["enabled"], false);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never disabled: {endpoint}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for e in [&first, &second] {
        let m = message_after(&t, &token, &id, e.id, u64::MAX).await;
        assert_eq!(m["status"], "failed");
    }
    // Events raised now are not queued for it.
    let third = event(org, EventType::SetStatus, t.clock.now(), 3);
    t.store().append_events(&[third]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let messages = t
        .get(&format!("/api/v1/webhooks/{id}/messages"), &token)
        .await;
    assert_eq!(messages.json["data"].as_array().unwrap().len(), 2);
    let audit = t.get("/api/v1/audit-log", &token).await.json;
    let disabled: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "webhook_disabled")
        .collect();
    assert_eq!(disabled.len(), 1, "one entry, however many attempts saw it");
    assert_eq!(disabled[0]["detail"]["reason"], "failing");
    assert_eq!(disabled[0]["actor"], "system");
    cancel.cancel();
    engine.stopped().await;
}

#[tokio::test]
async fn pending_messages_of_a_disabled_endpoint_fail_unsent() {
    let t = app(Duration::from_secs(5)).await;
    let token = t.owner_token().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let (id, _) = create(&t, &token, json!({"url": receiver.url})).await;
    let cancel = CancellationToken::new();
    let engine = t.app.start_webhook_delivery(cancel.clone());
    let e = event(t.root.organization, EventType::Payment, t.clock.now(), 1);
    t.store()
        .append_events(std::slice::from_ref(&e))
        .await
        .unwrap();
    message_after(&t, &token, &id, e.id, 1).await;
    let r = patch(&t, &id, &token, json!({"enabled": false})).await;
    assert_eq!(r.json["disabled_reason"], "manual");
    t.clock.advance(chrono::Duration::seconds(10));
    let m = message_after(&t, &token, &id, e.id, 2).await;
    assert_eq!(m["status"], "failed");
    let log = t
        .get(
            &format!("/api/v1/webhooks/{id}/attempts?event_id={}", e.id),
            &token,
        )
        .await
        .json;
    assert_eq!(
        log["data"][0]["error"],
        "not sent: the endpoint is disabled (manual)"
    );
    assert_eq!(receiver.received().len(), 1, "the retry was not sent");
    // Events raised while disabled are not queued at all.
    let later = event(t.root.organization, EventType::Payment, t.clock.now(), 2);
    t.store().append_events(&[later]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let messages = t
        .get(&format!("/api/v1/webhooks/{id}/messages"), &token)
        .await;
    assert_eq!(messages.json["data"].as_array().unwrap().len(), 1);
    cancel.cancel();
    engine.stopped().await;
}

#[tokio::test]
async fn endpoints_are_validated_updated_rotated_tested_and_deleted() {
    let t = app(Duration::from_secs(5)).await;
    let token = t.owner_token().await;
    let receiver = Receiver::start().await;

    // Bad input names every bad field and creates nothing.
    let r = post(
        &t,
        "/api/v1/webhooks",
        &token,
        json!({"url": "ftp://example.com", "events": ["setStatus", "nope"], "secret": "whsec_short"}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.json);
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["events[1]", "url", "secret"]);
    assert_eq!(
        t.get("/api/v1/webhooks", &token).await.json["data"],
        json!([])
    );

    // A supplied secret is used.
    let secret = Secret::generate().unwrap().expose();
    let r = post(
        &t,
        "/api/v1/webhooks",
        &token,
        json!({"url": receiver.url, "secret": secret, "events": ["payment", "setStatus"]}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["secret"], secret);
    assert_eq!(r.json["events"], json!(["payment", "setStatus"]));
    let id = r.json["id"].as_str().unwrap().to_owned();
    let got = t.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert!(got.json.get("secret").is_none(), "never shown again");

    // The five tests send at once and show both sides.
    for kind in ["ping", "inboundMessage", "deliveryReport", "setStatus"] {
        let r = post(
            &t,
            &format!("/api/v1/webhooks/{id}/test"),
            &token,
            json!({"kind": kind}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["request"]["method"], "POST");
        assert_eq!(r.json["response"]["status"], 200);
        assert_eq!(r.json["response"]["body"], "ok");
        let body: Value =
            serde_json::from_str(r.json["request"]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["type"], kind);
        assert_eq!(body["data"]["test"], true);
        if kind != "ping" {
            // The shapes real events have (built by the same code).
            let conversation = body["data"]["conversation_id"].as_str().unwrap();
            assert!(conversation.starts_with("conv_"), "{body}");
            assert_eq!(body["data"]["contact"]["customer_id"], "C-1001");
            assert_eq!(body["data"]["contact"]["name"], "Alex Sample");
        }
    }
    let r = post(
        &t,
        &format!("/api/v1/webhooks/{id}/test"),
        &token,
        json!({"kind": "customValueRequest"}),
    )
    .await;
    assert_eq!(r.json["request"]["method"], "GET");
    let got = receiver.received();
    assert_eq!(got.len(), 5);
    let get = &got[4];
    assert_eq!(get.method, Method::GET);
    assert!(
        get.uri.ends_with(
            "?customerId=C-1001&channelId=%2B447700900123&fields=balance%2Cnext_payment_date"
        ),
        "{}",
        get.uri
    );
    for r in &got {
        let event: EventId = r.header("webhook-id").parse().unwrap();
        assert_signed(r, &secret, &id, event);
    }
    let r = post(
        &t,
        &format!("/api/v1/webhooks/{id}/test"),
        &token,
        json!({"kind": "pong"}),
    )
    .await;
    assert_eq!(r.problem_field(), (422, Some("kind")));
    // A test is not a delivery: the log is empty.
    let log = t
        .get(&format!("/api/v1/webhooks/{id}/attempts"), &token)
        .await;
    assert_eq!(log.json["data"], json!([]));

    // Rotation: the new secret is returned; both sign during the overlap.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let new_secret = r.json["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(r.json["previous_secret_expires_at"].is_string());
    post(
        &t,
        &format!("/api/v1/webhooks/{id}/test"),
        &token,
        json!({"kind": "ping"}),
    )
    .await;
    let rotated = receiver.received().pop().unwrap();
    assert_eq!(rotated.header("webhook-signature").split(' ').count(), 2);
    let event: EventId = rotated.header("webhook-id").parse().unwrap();
    // The signature header carries both; `Authorization` stays signed by the old secret so
    // a receiver verifying the JWT does not break at once, and the next header carries the
    // same claims signed by the new one.
    assert_signed(&rotated, &secret, &id, event);
    assert_jwt(
        &rotated,
        "parley-authorization-next",
        &Secret::parse(&new_secret).unwrap(),
        &id,
        event,
    );
    let timestamp: i64 = rotated.header("webhook-timestamp").parse().unwrap();
    assert!(parley_webhooks::sign::verify(
        &Secret::parse(&secret).unwrap(),
        rotated.header("webhook-signature"),
        &event.to_string(),
        timestamp,
        &rotated.body
    ));
    // Past the overlap only the new one signs.
    t.clock.advance(chrono::Duration::hours(25));
    post(
        &t,
        &format!("/api/v1/webhooks/{id}/test"),
        &token,
        json!({"kind": "ping"}),
    )
    .await;
    let later = receiver.received().pop().unwrap();
    assert_eq!(later.header("webhook-signature").split(' ').count(), 1);
    let event: EventId = later.header("webhook-id").parse().unwrap();
    assert_signed(&later, &new_secret, &id, event);
    assert!(!later.headers.contains_key("parley-authorization-next"));
    let r = post(
        &t,
        &format!("/api/v1/webhooks/{id}/rotate-secret"),
        &token,
        json!({"overlap_seconds": 700_000}),
    )
    .await;
    assert_eq!(r.problem_field(), (422, Some("overlap_seconds")));

    // Update: every field, `*` for all events; a bad value changes nothing.
    let r = patch(
        &t,
        &id,
        &token,
        json!({"events": ["*"], "description": "All of it", "enabled": false}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["events"], json!(["*"]));
    assert_eq!(r.json["disabled_reason"], "manual");
    let r = patch(
        &t,
        &id,
        &token,
        json!({"events": [], "description": "changed"}),
    )
    .await;
    assert_eq!(r.problem_field(), (422, Some("events")));
    let got = t.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(got.json["description"], "All of it");

    // Only administrators manage webhooks.
    let agent = t.token_in(t.root.organization, Role::Agent).await;
    assert_eq!(t.get("/api/v1/webhooks", &agent).await.status, 403);
    let r = post(
        &t,
        &format!("/api/v1/webhooks/{id}/test"),
        &agent,
        json!({"kind": "ping"}),
    )
    .await;
    assert_eq!(r.status, 403);

    // Delete.
    let r = t
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        t.get(&format!("/api/v1/webhooks/{id}"), &token)
            .await
            .status,
        404
    );
    let audit = t.get("/api/v1/audit-log", &token).await.json;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .filter(|a| a.starts_with("webhook_"))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook_deleted",
            "webhook_updated",
            "webhook_secret_rotated",
            "webhook_created"
        ]
    );
    assert!(
        !audit.to_string().contains(&secret),
        "no secret in the audit log"
    );
}

#[tokio::test]
async fn targets_on_private_networks_are_refused_unless_allowed() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://user:pw@example.com/hook",
        "gopher://example.com",
    ] {
        let r = post(&t, "/api/v1/webhooks", &token, json!({"url": url})).await;
        assert_eq!(r.problem_field(), (422, Some("url")), "{url}: {}", r.json);
    }
    assert_eq!(
        t.get("/api/v1/webhooks", &token).await.json["data"],
        json!([])
    );
}
