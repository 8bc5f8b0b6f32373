//! Twilio status callbacks (`/hooks/twilio/{channel}/status`): signed exactly as Twilio
//! signs them, over the public URL; forged or unsigned ones get 403 and change nothing;
//! reports move a message's status only forward and announce each move.

use std::collections::BTreeMap;

use axum::body::Body;
use http::{Method, Request};
use parley_domain::{
    ChannelAddress, ChannelKind, Conversation, Direction, Message, MessageId, MessageStatus, OrgId,
};
use parley_store::{MessageKey, Turn, TurnTarget};
use parley_testkit::{TestApp, TestResponse};
use serde_json::{Value, json};

const PUBLIC: &str = "https://parley.example";
const TOKEN: &str = "the-channel-auth-token";

/// A conversation with one outbound message Twilio took as `SM123` (written through the
/// store, as the send queue will).
async fn sent_message(t: &TestApp, org: OrgId, channel: parley_domain::ChannelId) -> Message {
    let address = ChannelAddress {
        kind: ChannelKind::Sms,
        address: "+447700900123".to_owned(),
    };
    let now = t.app.clock.now();
    let (contact, _) = t
        .store()
        .contact_for_address(org, &address, now)
        .await
        .unwrap();
    let written = t
        .store()
        .take_turn(
            TurnTarget::Open {
                organization: org,
                contact: contact.id,
                channel,
            },
            Box::new(move |_| {
                let conversation =
                    Conversation::open(org, contact.id, channel, Direction::Outbound, now);
                let message = Message {
                    id: MessageId::generate(),
                    organization_id: org,
                    conversation_id: conversation.id,
                    channel_id: channel,
                    direction: Direction::Outbound,
                    sender: "bot".to_owned(),
                    body: "Your balance is £12".to_owned(),
                    status: MessageStatus::Pending,
                    provider_message_id: Some("SM123".to_owned()),
                    error_code: None,
                    error_message: None,
                    segments: 1,
                    encoding: None,
                    status_times: BTreeMap::new(),
                    created_at: now,
                    updated_at: now,
                };
                Some(Turn {
                    conversation,
                    messages: vec![message],
                    events: vec![],
                    jobs: vec![],
                    suppression: None,
                    recipient: None,
                    notes: Vec::new(),
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    written.messages[0].clone()
}

fn params(status: &str, sid: &str) -> Vec<(String, String)> {
    let mut p = vec![
        ("MessageSid".to_owned(), sid.to_owned()),
        (
            "AccountSid".to_owned(),
            "AC0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("To".to_owned(), "+447700900123".to_owned()),
    ];
    if !status.is_empty() {
        p.push(("MessageStatus".to_owned(), status.to_owned()));
    }
    p
}

async fn post(
    t: &TestApp,
    path: &str,
    params: &[(String, String)],
    signature: Option<String>,
) -> TestResponse {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(s) = signature {
        request = request.header("x-twilio-signature", s);
    }
    t.send(request.body(Body::from(body)).unwrap()).await
}

async fn events(t: &TestApp) -> Vec<Value> {
    t.store()
        .list_undispatched_events(100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| json!({"type": e.event.event_type.as_str(), "data": e.event.data}))
        .collect()
}

#[tokio::test]
async fn signed_status_callbacks_move_messages_forward_and_forged_ones_change_nothing() {
    let t = TestApp::with_settings(|s| s.public_url = PUBLIC.to_owned()).await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let r = t
        .call(
            Method::POST,
            "/api/v1/channels",
            Some(&token),
            None,
            Some(json!({
                "provider": "twilio", "name": "SMS", "sender": "+447700900001",
                "settings": {"account_sid": "AC0123456789abcdef0123456789abcdef"},
                "credentials": {"auth_token": TOKEN},
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let channel: parley_domain::ChannelId = r.json["id"].as_str().unwrap().parse().unwrap();
    let message = sent_message(&t, org, channel).await;
    let path = format!("/hooks/twilio/{channel}/status");
    let url = format!("{PUBLIC}{path}");
    let sign = |p: &[(String, String)], key: &str, url: &str| {
        Some(parley_channels::twilio::signature::sign(key, url, p))
    };
    let stored = || async {
        t.store()
            .find_message(&MessageKey::Id {
                organization: org,
                id: message.id,
            })
            .await
            .unwrap()
            .unwrap()
    };

    // Unsigned, signed with another token, or signed for another URL: 403, nothing changes.
    let sent = params("sent", "SM123");
    for signature in [
        None,
        sign(&sent, "another-token", &url),
        sign(&sent, TOKEN, "https://elsewhere.example/x"),
    ] {
        let r = post(&t, &path, &sent, signature).await;
        assert_eq!(r.status, 403, "{}", r.json);
    }
    assert_eq!(stored().await.status, MessageStatus::Pending);
    assert!(events(&t).await.is_empty());

    // Signed: sent, then delivered (signed with the default port, as Twilio sometimes does).
    let r = post(&t, &path, &sent, sign(&sent, TOKEN, &url)).await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(stored().await.status, MessageStatus::Sent);
    let delivered = params("delivered", "SM123");
    let with_port = format!("https://parley.example:443{path}");
    let r = post(&t, &path, &delivered, sign(&delivered, TOKEN, &with_port)).await;
    assert_eq!(r.status, 204, "{}", r.json);
    let now = stored().await;
    assert_eq!(now.status, MessageStatus::Delivered);
    assert!(now.status_times.contains_key("sent") && now.status_times.contains_key("delivered"));
    let seen = events(&t).await;
    let kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["messageSend", "deliveryReport"]);
    assert_eq!(seen[1]["data"]["message"]["previous_status"], "sent");
    assert_eq!(seen[1]["data"]["message"]["status"], "delivered");
    assert_eq!(seen[1]["data"]["message"]["to"], "+447700900123");
    assert_eq!(
        seen[1]["data"]["conversation_id"],
        message.conversation_id.to_string()
    );

    // A late `sent` is acknowledged, kept nowhere new, and moves nothing back.
    let r = post(&t, &path, &sent, sign(&sent, TOKEN, &url)).await;
    assert_eq!(r.status, 204);
    assert_eq!(stored().await.status, MessageStatus::Delivered);
    assert_eq!(events(&t).await.len(), 2);

    // Signed but unreadable: 422 naming the field. Unknown message: acknowledged.
    let bad = params("", "SM123");
    let r = post(&t, &path, &bad, sign(&bad, TOKEN, &url)).await;
    assert_eq!(
        (r.status.as_u16(), r.json["errors"][0]["field"].as_str()),
        (422, Some("MessageStatus"))
    );
    let other = params("delivered", "SM999");
    assert_eq!(
        post(&t, &path, &other, sign(&other, TOKEN, &url))
            .await
            .status,
        204
    );
    assert_eq!(events(&t).await.len(), 2);

    // No such channel.
    let r = post(&t, "/hooks/twilio/chn_nope/status", &sent, None).await;
    assert_eq!(r.status, 404);
}
