//! An endpoint's messages and attempts page with the delivery engine running against a
//! real receiver: a message whose first try got a 500 is listed as pending with the 500
//! and the receiver's words in its attempts; **Replay** sends it again (the page says how
//! many were queued) and it is delivered, the new attempt marked as a replay; the status
//! filter narrows the list; a bad "since" is named beside its field; another
//! organization's endpoint is not there and the page is an administrator's only.

use std::time::Duration;

use http::StatusCode;
use parley_domain::{Clock, EventId, EventType, NewEvent, Role};
use parley_testkit::{OWNER_PASSWORD, Receiver, Reply, TestApp};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::web::{OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, sign_in};

/// The page at `path` once `want` appears in it.
async fn page_showing(t: &TestApp, path: &str, cookies: &str, want: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = html(&t.send(get(path, cookies)).await).to_owned();
        if text.contains(want) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never showed {want}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_administrator_follows_and_replays_an_endpoints_messages() {
    let t = TestApp::with_settings(|s| s.allow_private_targets = true).await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let created = t
        .post_ok(
            &token,
            "/api/v1/webhooks",
            json!({"url": receiver.url, "events": ["setStatus"]}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let event = NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type: EventType::SetStatus,
        timestamp: t.clock.now(),
        data: json!({"status": "promised"}),
    };
    t.store()
        .append_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let engine = t.app.start_webhook_delivery(cancel.clone());
    receiver.wait_for(1, Duration::from_secs(10)).await;

    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let integrations = html(
        &t.send(get(&format!("/app/{org}/integrations"), &owner))
            .await,
    )
    .to_owned();
    let path = format!("/app/{org}/integrations/{id}");
    assert!(integrations.contains(&format!("href=\"{path}\">Messages and attempts")));
    let text = page_showing(&t, &path, &owner, "answer 500").await;
    assert_page_headers(&t.send(get(&path, &owner)).await);
    assert!(text.contains("<strong>setStatus</strong>"));
    assert!(
        text.contains("<span class=\"badge\">pending</span>"),
        "{text}"
    );
    assert!(text.contains("<span class=\"badge closed\">500</span>"));
    assert!(
        text.contains("data-refresh=\"2000\""),
        "the lists follow deliveries"
    );

    let csrf = csrf_field(&text);
    let event_id = event.id.to_string();
    let r = t
        .send(form(
            &path,
            &owner,
            &[("csrf", &csrf), ("action", "replay"), ("event", &event_id)],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let replayed = format!("{path}?replayed=1");
    assert_eq!(r.headers["location"], replayed.as_str());
    let text = html(&t.send(get(&replayed, &owner)).await).to_owned();
    assert!(text.contains("role=\"status\">1 message is queued again."));
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let text = page_showing(&t, &path, &owner, "<span class=\"badge\">delivered</span>").await;
    assert!(
        text.contains("<td data-label=\"Started by\">replay</td>"),
        "{text}"
    );
    assert!(text.contains("<span class=\"badge\">200</span>"));

    let delivered = html(
        &t.send(get(&format!("{path}?status=delivered"), &owner))
            .await,
    )
    .to_owned();
    assert!(delivered.contains(&event_id));
    let failed = html(&t.send(get(&format!("{path}?status=failed"), &owner)).await).to_owned();
    assert!(
        failed.contains("No messages yet.") && !failed.contains(&format!("value=\"{event_id}\""))
    );

    let r = t
        .send(form(
            &path,
            &owner,
            &[
                ("csrf", &csrf),
                ("action", "replay-failed"),
                ("since", "yesterday"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&r).to_owned();
    assert!(
        text.contains("role=\"alert\">since must be a date and time"),
        "{text}"
    );
    assert!(
        text.contains("aria-describedby=\"replay-since-problem\"")
            && text.contains("value=\"yesterday\"")
    );
    let r = t
        .send(form(
            &path,
            &owner,
            &[
                ("csrf", &csrf),
                ("action", "replay-failed"),
                ("since", "2020-01-01T09:00"),
            ],
        ))
        .await;
    assert_eq!(
        r.headers["location"],
        format!("{path}?replayed=0").as_str(),
        "nothing had failed"
    );

    // Another organization's endpoint is not there; an agent may not look.
    let (_, other_token) = t.org_with_token("Other", None, Role::Admin).await;
    let theirs = t
        .post_ok(
            &other_token,
            "/api/v1/webhooks",
            json!({"url": receiver.url}),
        )
        .await;
    let r = t
        .send(get(
            &format!("/app/{org}/integrations/{}", theirs["id"].as_str().unwrap()),
            &owner,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    t.create_user(
        org,
        "ann@example.test",
        "Ann",
        "ann password 1".into(),
        Role::Agent,
    )
    .await
    .unwrap();
    let ann = cookies_of(&sign_in(&t, "ann@example.test", "ann password 1", "").await);
    assert_eq!(t.send(get(&path, &ann)).await.status, StatusCode::FORBIDDEN);
    cancel.cancel();
    engine.stopped().await;
}
