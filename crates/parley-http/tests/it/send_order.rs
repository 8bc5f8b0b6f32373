//! A turn's replies leave in the order the flow wrote them, on every channel: the
//! simulator's sends and delivery reports (in-process, and through the job workers, on
//! PostgreSQL too), Twilio's Messages API through the job workers alone, WhatsApp's
//! Cloud API in-process, and a first reply Twilio refuses for a while holding back the
//! ones after it until it went. The web chat's socket is `webchat.rs`; its widget,
//! `webchat_browser.rs`.

use std::time::Duration;

use http::Method;
use parley_testkit::{TestApp, TwilioStandIn, WhatsappStandIn};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "twilio-auth-token";
const FAST: Duration = Duration::from_millis(20);
/// Conversations each test runs (at once), each one turn writing [`PARTS`].
const TURNS: usize = 20;

/// What the flow writes in its one turn, in order.
pub const PARTS: [&str; 4] = [
    "You can pay securely here: https://pay.example.com/p/42",
    "Your reference is 42.",
    "It takes a minute or two to show.",
    "Goodbye!",
];

/// The flow: four messages in one turn, the last closing the conversation.
pub fn pay_flow() -> Value {
    json!({"schema": 1, "name": "pay", "start": "link", "steps": {
        "link": {"type": "message", "text": PARTS[0], "next": "reference"},
        "reference": {"type": "message", "text": PARTS[1], "next": "wait"},
        "wait": {"type": "message", "text": PARTS[2], "next": "bye"},
        "bye": {"type": "close", "status": "done", "text": PARTS[3]}}})
}

fn customer(i: usize) -> String {
    format!("+4479111{i:05}")
}

async fn messages_of(t: &TestApp, token: &str, conversation: &str) -> Vec<Value> {
    let path = format!("/api/v1/conversations/{conversation}");
    t.ok(token, Method::GET, &path, None).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// The bodies of the conversation's replies in the order the outbox announced `kind`
/// for them (`messageSend`: handed to the provider; `deliveryReport`: reported).
async fn announced(t: &TestApp, conversation: &str, kind: &str) -> Vec<String> {
    t.store()
        .list_undispatched_events(100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.event.event_type.as_str() == kind && e.event.data["conversation_id"] == conversation
        })
        .map(|e| e.event.data["message"]["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `check` until it holds (15 s at most), moving the fake clock on a second a try
/// when `tick`, so jobs waiting for a time fall due.
async fn eventually<T>(
    t: &TestApp,
    tick: bool,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    for _ in 0..750 {
        if let Some(v) = check().await {
            return v;
        }
        if tick {
            t.clock.advance(chrono::Duration::seconds(1));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The job workers, and the in-process sender when `in_process` (as `parley serve`).
fn start_workers(t: &TestApp, in_process: bool) -> CancellationToken {
    let cancel = CancellationToken::new();
    let runner = t.app.job_runner(4, Duration::from_secs(30));
    tokio::spawn(runner.start(cancel.clone()));
    if in_process {
        t.app.start_sends(cancel.clone());
    }
    cancel
}

/// [`TURNS`] customers write at once on the sim channel; each conversation's replies
/// are stored, handed over, reported and timed in the flow's order.
async fn sim_replies_keep_the_flows_order(t: &TestApp, in_process: bool) {
    let token = t.owner_token().await;
    let flow = t.publish_flow(&token, pay_flow()).await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let workers = start_workers(t, in_process);
    let path = format!("/api/v1/channels/{channel}/sim/inbound");
    let turns = (0..TURNS).map(|i| {
        let body = json!({"from": customer(i), "text": "I want to pay"});
        t.ok(&token, Method::POST, &path, Some(body))
    });
    let answers = futures_util::future::join_all(turns).await;
    for answer in &answers {
        let conversation = answer["conversation"]["id"].as_str().unwrap();
        let messages = eventually(t, !in_process, "every reply delivered", async || {
            let m = messages_of(t, &token, conversation).await;
            m[1..]
                .iter()
                .all(|m| m["status"] == "delivered")
                .then_some(m)
        })
        .await;
        let stored: Vec<&str> = messages[1..]
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(stored, PARTS, "stored");
        assert_eq!(
            announced(t, conversation, "messageSend").await,
            PARTS,
            "sent"
        );
        let reported = announced(t, conversation, "deliveryReport").await;
        assert_eq!(reported, PARTS, "delivered");
        for status in ["sent", "delivered"] {
            let times: Vec<&str> = messages[1..]
                .iter()
                .map(|m| m["status_times"][status].as_str().unwrap())
                .collect();
            assert!(times.is_sorted(), "{status} times out of order: {times:?}");
        }
    }
    workers.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turns_replies_are_sent_and_delivered_in_the_flows_order_on_sim() {
    let t = TestApp::new().await;
    sim_replies_keep_the_flows_order(&t, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_job_workers_alone_a_turns_replies_keep_the_flows_order() {
    let t = TestApp::new().await;
    sim_replies_keep_the_flows_order(&t, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_turns_replies_keep_the_flows_order() {
    let Some(t) = TestApp::on_postgres().await else {
        return;
    };
    sim_replies_keep_the_flows_order(&t, true).await;
    let t = TestApp::on_postgres().await.unwrap();
    sim_replies_keep_the_flows_order(&t, false).await;
}

/// A test application served on a loopback port with that address as its public URL
/// (providers' callbacks come to it), with [`pay_flow`] published: (app, base URL,
/// token, flow id).
async fn served() -> (TestApp, String, String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let public = base.clone();
    let t = TestApp::with_settings(move |s| {
        s.public_url = public;
        s.allow_private_targets = true;
    })
    .await;
    let router = t.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let token = t.owner_token().await;
    let flow = t.publish_flow(&token, pay_flow()).await;
    (t, base, token, flow)
}

/// [`served`], with a Twilio channel on a stand-in running [`pay_flow`]: (app, token,
/// stand-in, inbound webhook URL).
async fn twilio_app() -> (TestApp, String, TwilioStandIn, String) {
    let (t, base, token, flow) = served().await;
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0).await.unwrap();
    let body = json!({"provider": "twilio", "name": "SMS", "sender": "+447700900001",
        "inbound_flow": flow, "rate_per_second": 1000,
        "settings": {"account_sid": SID, "base_url": standin.base_url},
        "credentials": {"auth_token": TOKEN}});
    let channel = t.post_ok(&token, "/api/v1/channels", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inbound = format!("{base}/hooks/twilio/{channel}/inbound");
    (t, token, standin, inbound)
}

/// What the stand-in took for `to`, in the order it took it.
fn taken_for(standin: &TwilioStandIn, to: &str) -> Vec<String> {
    standin
        .sent()
        .into_iter()
        .filter(|m| m.to == to)
        .map(|m| m.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_takes_each_turns_replies_in_the_flows_order_from_the_job_workers() {
    let (t, _token, standin, inbound) = twilio_app().await;
    let workers = start_workers(&t, false);
    let turns = (0..TURNS).map(|i| {
        let (standin, inbound) = (&standin, &inbound);
        async move {
            let (status, body) = standin
                .inbound(inbound, &customer(i), "+447700900001", "I want to pay")
                .await
                .unwrap();
            assert_eq!(status, 200, "{body}");
        }
    });
    futures_util::future::join_all(turns).await;
    eventually(&t, false, "every reply at Twilio", async || {
        (standin.sent_count() == TURNS * PARTS.len()).then_some(())
    })
    .await;
    for i in 0..TURNS {
        assert_eq!(taken_for(&standin, &customer(i)), PARTS, "customer {i}");
    }
    workers.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_twilio_refuses_for_a_while_holds_back_the_replies_after_it() {
    let (t, _token, standin, inbound) = twilio_app().await;
    let workers = start_workers(&t, true);
    // The first reply is refused with a 503 (try again): it is left to its job, and the
    // three after it wait for it rather than overtaking it.
    standin.fail_next(503, 20500, "Service unavailable");
    let to = customer(0);
    standin
        .inbound(&inbound, &to, "+447700900001", "I want to pay")
        .await
        .unwrap();
    eventually(&t, true, "every reply at Twilio", async || {
        (standin.sent_count() == PARTS.len()).then_some(())
    })
    .await;
    assert_eq!(taken_for(&standin, &to), PARTS);
    workers.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_takes_each_turns_replies_in_the_flows_order_from_the_in_process_sender() {
    let (t, base, token, flow) = served().await;
    let standin = WhatsappStandIn::start("1234567890", "wa-access", "wa-app-secret", "", FAST, 0)
        .await
        .unwrap();
    let body = json!({"provider": "whatsapp", "name": "WhatsApp", "sender": "1234567890",
        "inbound_flow": flow, "rate_per_second": 1000,
        "settings": {"base_url": standin.base_url},
        "credentials": {"access_token": "wa-access", "app_secret": "wa-app-secret",
                        "verify_token": "verify-me"}});
    let channel = t.post_ok(&token, "/api/v1/channels", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    standin.set_webhook(&format!("{base}/hooks/whatsapp/{channel}"));
    let workers = start_workers(&t, true);
    let turns = (0..TURNS).map(|i| {
        let standin = &standin;
        async move {
            let (status, body) = standin
                .inbound(&customer(i), "Sam", "I want to pay")
                .await
                .unwrap();
            assert_eq!(status, 200, "{body}");
        }
    });
    futures_util::future::join_all(turns).await;
    eventually(&t, false, "every reply at WhatsApp", async || {
        (standin.sent().len() == TURNS * PARTS.len()).then_some(())
    })
    .await;
    let sent = standin.sent();
    for i in 0..TURNS {
        let to = customer(i);
        let taken: Vec<&str> = sent
            .iter()
            .filter(|m| m.to == to.trim_start_matches('+'))
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(taken, PARTS, "customer {i}");
    }
    workers.cancel();
}
