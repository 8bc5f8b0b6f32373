//! Twilio and WhatsApp end to end, over loopback HTTP against the stand-ins: a customer's
//! message arrives exactly as the provider sends it (signed), the flow's reply reaches
//! the stand-in through the provider's API, the stand-in's signed status reports move the
//! message, and the outbox holds the events; forged callbacks get 403 and change nothing;
//! an opted-out address gets one confirmation and then nothing reaches the provider.

use std::time::Duration;

use http::Method;
use parley_testkit::{TestApp, TwilioStandIn, WhatsappStandIn};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "twilio-auth-token";
const CUSTOMER: &str = "+447911123456";
const FAST: Duration = Duration::from_millis(20);

/// A test application served on a loopback port (providers call it), with that address
/// as its public URL.
async fn served() -> (TestApp, String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let public = base.clone();
    // The stand-ins listen on loopback, which the SSRF guard refuses by default.
    let t = TestApp::with_settings(move |s| {
        s.public_url = public;
        s.allow_private_targets = true;
    })
    .await;
    let router = t.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let cancel = CancellationToken::new();
    let runner = t.app.job_runner(2, Duration::from_secs(30));
    tokio::spawn(runner.start(cancel.clone()));
    (t, base, cancel)
}

async fn flow(t: &TestApp, token: &str) -> String {
    let doc = json!({"schema": 1, "name": "help", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "How can we help?", "save_as": "need", "next": "ask"}}});
    let flow = t.ok(token, Method::POST, "/api/v1/flows", Some(doc)).await;
    let id = flow["id"].as_str().unwrap().to_owned();
    t.ok(
        token,
        Method::POST,
        &format!("/api/v1/flows/{id}/versions"),
        None,
    )
    .await;
    id
}

/// A Twilio channel on the stand-in at `base_url`, starting `flow` for customers who
/// write first; its id.
async fn twilio_channel(t: &TestApp, token: &str, base_url: &str, flow: &str) -> String {
    t.ok(
        token,
        Method::POST,
        "/api/v1/channels",
        Some(
            json!({"provider": "twilio", "name": "SMS", "sender": "+447700900001",
            "inbound_flow": flow, "rate_per_second": 100,
            "settings": {"account_sid": SID, "base_url": base_url},
            "credentials": {"auth_token": TOKEN}}),
        ),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `check` until it holds (5 s at most).
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn messages_of(t: &TestApp, token: &str, conversation: &str) -> Vec<Value> {
    t.ok(
        token,
        Method::GET,
        &format!("/api/v1/conversations/{conversation}"),
        None,
    )
    .await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// The conversation of the message the provider knows as `provider_message_id`.
async fn conversation_of(t: &TestApp, channel: &str, provider_message_id: &str) -> String {
    t.store()
        .find_message(&parley_store::MessageKey::Provider {
            channel: channel.parse().unwrap(),
            provider_message_id: provider_message_id.to_owned(),
        })
        .await
        .unwrap()
        .unwrap()
        .conversation_id
        .to_string()
}

/// The organization's conversations' event types, in outbox order.
async fn event_types(t: &TestApp) -> Vec<String> {
    t.store()
        .list_undispatched_events(10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.event_type.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn twilio_end_to_end_signed_both_ways_and_opt_out_reaches_nothing() {
    let (t, base, workers) = served().await;
    let token = t.owner_token().await;
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0).await.unwrap();
    let flow = flow(&t, &token).await;
    let channel = twilio_channel(&t, &token, &standin.base_url, &flow).await;
    let inbound = format!("{base}/hooks/twilio/{channel}/inbound");

    // The customer writes; Twilio's signed webhook gets empty TwiML.
    let (status, body) = standin
        .inbound(&inbound, CUSTOMER, "+447700900001", "hello")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Response></Response>"), "{body}");

    // The reply goes out through the Messages API with our status callback.
    let sent = eventually("the reply at the stand-in", async || {
        standin.sent().into_iter().next()
    })
    .await;
    assert_eq!(sent.to, CUSTOMER);
    assert_eq!(sent.from, "+447700900001");
    assert_eq!(sent.body, "How can we help?");
    assert_eq!(
        sent.status_callback.as_deref(),
        Some(format!("{base}/hooks/twilio/{channel}/status").as_str())
    );

    // The stand-in's signed status callbacks move it to delivered.
    let conversation = conversation_of(&t, &channel, &sent.sid).await;
    eventually("delivered", async || {
        let m = messages_of(&t, &token, &conversation).await;
        (m[1]["status"] == "delivered").then_some(())
    })
    .await;
    assert!(
        standin
            .callbacks()
            .iter()
            .all(|(_, _, answer)| *answer == 204),
        "{:?}",
        standin.callbacks()
    );
    let types = event_types(&t).await;
    assert_eq!(
        types[..3],
        ["inboundMessage", "messageSend", "deliveryReport"],
        "{types:?}"
    );

    // A forged inbound post: 403, nothing recorded.
    let forged = reqwest::Client::new()
        .post(&inbound)
        .header("x-twilio-signature", "bm90IGEgc2lnbmF0dXJl")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("MessageSid", "SMforged"),
                    ("AccountSid", SID),
                    ("From", CUSTOMER),
                    ("To", "+447700900001"),
                    ("Body", "forged"),
                ])
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(messages_of(&t, &token, &conversation).await.len(), 2);

    // A refusal Twilio will never accept fails the message with its code, sent once.
    standin.fail_next(400, 21211, "The 'To' number is not a valid phone number.");
    t.ok(
        &token,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(json!({"text": "Can we call you?"})),
    )
    .await;
    let refused = eventually("the refusal recorded", async || {
        let m = messages_of(&t, &token, &conversation).await;
        let last = m.last().cloned()?;
        (last["status"] == "failed").then_some(last)
    })
    .await;
    assert_eq!(refused["error_code"], "21211", "{refused}");
    assert_eq!(
        standin.sent().len(),
        1,
        "the refused message is not in the stand-in's ledger"
    );

    // STOP: one confirmation through Twilio, then nothing reaches it.
    standin
        .inbound(&inbound, CUSTOMER, "+447700900001", "STOP")
        .await
        .unwrap();
    eventually("the confirmation", async || {
        (standin.sent().len() == 2).then_some(())
    })
    .await;
    assert!(standin.sent()[1].body.contains("no more messages"));
    assert_eq!(
        standin
            .sent()
            .iter()
            .filter(|m| m.body.contains("no more messages"))
            .count(),
        1,
        "one confirmation"
    );
    standin
        .inbound(&inbound, CUSTOMER, "+447700900001", "hello again")
        .await
        .unwrap();
    let failed = eventually("the refused reply", async || {
        let found = t
            .store()
            .list_undispatched_events(10_000)
            .await
            .unwrap()
            .into_iter()
            .find(|e| {
                e.event.data["message"]["status"] == "failed"
                    && e.event.data["message"]["error_code"] == "opted_out"
            });
        found.map(|e| e.event.data)
    })
    .await;
    assert_eq!(failed["message"]["to"], CUSTOMER, "{failed}");
    assert_eq!(
        standin.sent().len(),
        2,
        "the stand-in received nothing more"
    );
    workers.cancel();
}

#[tokio::test]
async fn whatsapp_end_to_end_handshake_signed_messages_and_statuses_out_of_order() {
    let (t, base, workers) = served().await;
    let token = t.owner_token().await;
    let flow = flow(&t, &token).await;
    let standin = WhatsappStandIn::start("1234567890", "wa-access", "wa-app-secret", "", FAST, 0)
        .await
        .unwrap();
    standin.reorder(true);
    let channel = t
        .ok(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(
                json!({"provider": "whatsapp", "name": "WhatsApp", "sender": "1234567890",
            "inbound_flow": flow,
            "settings": {"base_url": standin.base_url, "template_name": "payment_reminder",
                         "template_language": "en_GB"},
            "credentials": {"access_token": "wa-access", "app_secret": "wa-app-secret",
                            "verify_token": "verify-me"}}),
            ),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    standin.set_webhook(&format!("{base}/hooks/whatsapp/{channel}"));

    // The handshake echoes the challenge for our token only.
    assert_eq!(
        standin
            .handshake("verify-me", "challenge-42")
            .await
            .unwrap(),
        (200, "challenge-42".to_owned())
    );
    assert_eq!(standin.handshake("wrong", "x").await.unwrap().0, 403);

    // A message in: the reply goes out as text (inside the 24-hour window).
    let (status, body) = standin.inbound(CUSTOMER, "Sam", "hello").await.unwrap();
    assert_eq!(status, 200, "{body}");
    let sent = eventually("the reply at the stand-in", async || {
        standin.sent().into_iter().next()
    })
    .await;
    assert_eq!(sent.to, "447911123456");
    assert_eq!(sent.text, "How can we help?");
    assert!(!sent.template);

    // Statuses arrive out of order (read before delivered): it ends read, every time kept.
    let conversation = conversation_of(&t, &channel, &sent.id).await;
    let reply = eventually("read, with delivered kept", async || {
        let m = messages_of(&t, &token, &conversation).await;
        let reply = m[1].clone();
        (reply["status"] == "read" && reply["status_times"]["delivered"].is_string())
            .then_some(reply)
    })
    .await;
    assert!(reply["status_times"]["sent"].is_string(), "{reply}");
    let first = messages_of(&t, &token, &conversation).await[0].clone();
    assert_eq!(first["body"], "hello");
    let contact = &t.store().list_undispatched_events(10).await.unwrap()[0]
        .event
        .data["contact"];
    assert_eq!(contact["phone"], CUSTOMER, "stored in E.164");

    // A day later the window is shut: a person's reply goes as the channel's template.
    t.clock.advance(chrono::Duration::hours(25));
    let token = t.owner_token().await;
    t.ok(
        &token,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(json!({"text": "Your balance is £20."})),
    )
    .await;
    let template = eventually("the template at the stand-in", async || {
        standin.sent().into_iter().nth(1)
    })
    .await;
    assert!(template.template, "{template:?}");
    assert_eq!(template.text, "payment_reminder");

    // A person writes first to another customer: it goes as the template.
    let other = t
        .ok(
            &token,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"addresses": [{"kind": "whatsapp", "address": "+447911123499"}]})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = t.ok(&token, Method::POST, "/api/v1/conversations", Some(
            json!({"contact_id": other, "channel_id": channel, "text": "Your statement is ready."}),
        ))
    .await;
    assert_eq!(
        started["conversation"]["direction"], "outbound",
        "{started}"
    );
    let first = eventually("the first message as the template", async || {
        standin.sent().into_iter().find(|m| m.to == "447911123499")
    })
    .await;
    assert!(first.template, "{first:?}");
    assert_eq!(first.text, "payment_reminder");

    // Without an approved template a business cannot write first on WhatsApp.
    let bare = t
        .ok(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(
                json!({"provider": "whatsapp", "name": "No template", "sender": "1234567891",
            "settings": {"base_url": standin.base_url},
            "credentials": {"access_token": "wa-access", "app_secret": "wa-app-secret",
                            "verify_token": "verify-me"}}),
            ),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = t
        .call(
            Method::POST,
            "/api/v1/conversations",
            Some(&token),
            None,
            Some(json!({"contact_id": other, "channel_id": bare, "text": "Hello"})),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.json);
    assert_eq!(refused.json["errors"][0]["field"], "channel_id");
    assert!(
        refused.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("template_name"),
        "{}",
        refused.json
    );

    // A forged body: 403, nothing recorded.
    let forged = reqwest::Client::new()
        .post(format!("{base}/hooks/whatsapp/{channel}"))
        .header("x-hub-signature-256", "sha256=00")
        .body(r#"{"object":"whatsapp_business_account","entry":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(messages_of(&t, &token, &conversation).await.len(), 3);
    workers.cancel();
}

/// A sender Parley cannot read as a phone number (an alphanumeric sender, a short code, a
/// number the numbering plan does not know) is still taken, stored under the address as
/// the provider gave it, and answered there: a refused webhook is a message lost.
#[tokio::test]
async fn senders_that_are_not_phone_numbers_are_kept_as_given_and_answered() {
    let (t, base, workers) = served().await;
    let token = t.owner_token().await;
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0).await.unwrap();
    let flow = flow(&t, &token).await;
    let channel = twilio_channel(&t, &token, &standin.base_url, &flow).await;
    let inbound = format!("{base}/hooks/twilio/{channel}/inbound");
    for (n, sender) in ["MyBank", "72404", "+99912345678"].into_iter().enumerate() {
        let (status, body) = standin
            .inbound(&inbound, sender, "+447700900001", "hello")
            .await
            .unwrap();
        assert_eq!(status, 200, "{sender}: {body}");
        // The bot's reply is written and handed to the provider for that address (which
        // the provider may refuse, as Twilio does: one cannot text an alphanumeric sender
        // back; the refusal is recorded on the message).
        let reply = eventually("the reply", async || {
            t.store()
                .list_undispatched_events(10_000)
                .await
                .unwrap()
                .into_iter()
                .find(|e| {
                    e.event.data["message"]["direction"] == "outbound"
                        && e.event.data["message"]["to"] == sender
                })
                .map(|e| e.event.data)
        })
        .await;
        assert_eq!(reply["message"]["text"], "How can we help?", "{reply}");
        let _ = n;
    }
    let accepted: Vec<String> = standin.sent().into_iter().map(|m| m.to).collect();
    assert!(
        accepted
            .iter()
            .all(|to| ["MyBank", "72404", "+99912345678"].contains(&to.as_str())),
        "{accepted:?}"
    );
    workers.cancel();
}
