//! A master-key rotation as an operator makes it: afterwards every stored secret still
//! works under the new key (a webhook's signing secrets, current and previous; a channel's
//! credentials; the custom-value secret; a kept Idempotency-Key answer), the opt-out list
//! still matches, tokens signed with the old key are refused, and a process still running
//! with the old key learns that it must stop.

use axum::body::Body;
use http::{Method, Request};
use parley_app::MasterKey;
use parley_app::webhooks::custom_values::ValueRequest;
use parley_domain::{ChannelAddress, ChannelKind};
use parley_testkit::{Receiver, Reply, TestApp, TestResponse};
use parley_webhooks::Secret;
use serde_json::json;

use crate::idempotency::post;

const PUBLIC: &str = "https://parley.example";
const AUTH_TOKEN: &str = "the-channel-auth-token";

/// A Twilio status report for `channel`, signed with `auth_token` as Twilio signs it.
async fn status_report(t: &TestApp, channel: &str, auth_token: &str) -> TestResponse {
    let path = format!("/hooks/twilio/{channel}/status");
    let params = vec![
        ("MessageSid".to_owned(), "SM-not-ours".to_owned()),
        ("MessageStatus".to_owned(), "sent".to_owned()),
    ];
    let signature =
        parley_channels::twilio::signature::sign(auth_token, &format!("{PUBLIC}{path}"), &params);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// The opted-out address is still on the suppression list.
async fn assert_opted_out(t: &TestApp, token: &str) {
    let check = t
        .get(
            "/api/v1/contacts/suppressions?channel_kind=sms&address=%2B447911123456",
            token,
        )
        .await;
    assert_eq!(
        check.json["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        check.json
    );
}

/// Whether `received` carries a signature by `secret`.
fn signed_by(received: &parley_testkit::Received, secret: &str) -> bool {
    parley_webhooks::sign::verify(
        &Secret::parse(secret).unwrap(),
        received.header("webhook-signature"),
        received.header("webhook-id"),
        received.header("webhook-timestamp").parse().unwrap(),
        &received.body,
    )
}

#[tokio::test]
async fn a_rotation_keeps_every_secret_and_the_opt_out_list_and_ends_old_tokens() {
    let mut t = TestApp::with_settings(|s| {
        s.allow_private_targets = true;
        s.public_url = PUBLIC.to_owned();
    })
    .await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let receiver = Receiver::start().await;

    // A webhook whose secret was rotated (both secrets sign during the overlap).
    let hook = t
        .post_ok(&token, "/api/v1/webhooks", json!({"url": receiver.url}))
        .await;
    let (id, first_secret) = (
        hook["id"].as_str().unwrap(),
        hook["secret"].as_str().unwrap(),
    );
    let rotated = t
        .post_ok(
            &token,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            json!({}),
        )
        .await;
    let second_secret = rotated["secret"].as_str().unwrap();
    // A Twilio channel, the custom-value endpoint, a kept answer and an opt-out.
    let channel = t
        .post_ok(
            &token,
            "/api/v1/channels",
            json!({
                "provider": "twilio", "name": "SMS", "sender": "+447700900001",
                "settings": {"account_sid": "AC0123456789abcdef0123456789abcdef"},
                "credentials": {"auth_token": AUTH_TOKEN},
            }),
        )
        .await;
    let channel = channel["id"].as_str().unwrap();
    let values = t
        .call(
            Method::PUT,
            "/api/v1/custom-value-endpoint",
            Some(&token),
            None,
            Some(json!({"url": receiver.url})),
        )
        .await;
    let values_secret = values.json["secret"].as_str().unwrap().to_owned();
    let test_path = format!("/api/v1/webhooks/{id}/test");
    let ping = json!({"kind": "ping"});
    let first = t.send(post(&test_path, &token, "kept-answer", &ping)).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let opted_out = ChannelAddress {
        kind: ChannelKind::Sms,
        address: "+447911123456".to_owned(),
    };
    let principal = t.app.authenticate_bearer(&token).await.unwrap();
    let access = t.app.access(principal, None).await.unwrap();
    t.app.suppress(&access, &opted_out, "STOP").await.unwrap();

    let old_app = t.app.clone();
    let new = MasterKey::generate().unwrap();
    let done = t.app.rotate_master_key(&new).await.unwrap();
    // Webhook secret, previous secret, SFTP credential, channel credentials, custom-value
    // secret, kept answers.
    assert_eq!(done.replaced, [1, 1, 0, 1, 1, 1]);
    assert_eq!(done.kept, [0; 6]);
    assert!(!old_app.master_key_is_current().await.unwrap());
    t.restart_with_key(new.clone()).await;
    assert!(t.app.master_key_is_current().await.unwrap());
    let again = t.app.rotate_master_key(&new).await.unwrap_err();
    assert!(again.to_string().contains("new_key"), "{again}");

    // The old token was signed with the old key; the API key itself still works.
    assert_eq!(t.get("/api/v1/webhooks", &token).await.status, 401);
    let token = t.owner_token().await;

    // Both webhook secrets still sign; the kept answer is replayed as it was.
    let test = t
        .call(
            Method::POST,
            &test_path,
            Some(&token),
            None,
            Some(ping.clone()),
        )
        .await;
    assert_eq!(test.status, 200, "{}", test.json);
    let sent = receiver.received().pop().unwrap();
    assert!(signed_by(&sent, first_secret) && signed_by(&sent, second_secret));
    let replay = t.send(post(&test_path, &token, "kept-answer", &ping)).await;
    assert_eq!(
        replay.headers.get("idempotency-replayed").unwrap(),
        "true",
        "{}",
        replay.json
    );
    assert_eq!((replay.status, &replay.json), (first.status, &first.json));

    // The channel's credentials open: Twilio's signature checks out, a forged one does not.
    assert_eq!(status_report(&t, channel, AUTH_TOKEN).await.status, 204);
    assert_eq!(status_report(&t, channel, "forged").await.status, 403);

    // The custom-value request is signed with the same secret.
    receiver.script([Reply::Json(200, "{}".into())]);
    let request = ValueRequest {
        customer_id: Some("C-1".into()),
        channel_id: "+447700900123".into(),
        fields: Vec::new(),
    };
    t.app
        .fetch_custom_values(org, &request)
        .await
        .unwrap()
        .unwrap();
    let fetched = receiver.received().pop().unwrap();
    assert!(signed_by(&fetched, &values_secret));

    // The opt-out still matches the address.
    assert_opted_out(&t, &token).await;

    // A second rotation carries the opt-out key again.
    let third = MasterKey::generate().unwrap();
    t.app.rotate_master_key(&third).await.unwrap();
    t.restart_with_key(third).await;
    let token = t.owner_token().await;
    assert_opted_out(&t, &token).await;
}
