//! Conversations on the `sim` channel, end to end through the runtime and the job
//! workers: a customer's message starts the channel's flow, replies go through the send
//! queue and are reported delivered, every change is in the outbox with its exact event
//! name and payload; keywords suppress, confirm once, re-subscribe and help; a suppressed
//! address is never sent to.

use std::time::Duration;

use http::Method;
use parley_testkit::TestApp;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const CUSTOMER: &str = "+447911123456";

async fn say(t: &TestApp, token: &str, channel: &str, text: &str) -> Value {
    say_from(t, token, channel, CUSTOMER, text).await
}

async fn thread(t: &TestApp, token: &str, conversation: &str) -> Value {
    t.ok(
        token,
        Method::GET,
        &format!("/api/v1/conversations/{conversation}"),
        None,
    )
    .await
}

/// Waits (moving the fake clock on, so delivery reports fall due) until every outbound
/// message of the conversation has left `pending` and `sent`.
async fn settled(t: &TestApp, token: &str, conversation: &str) -> Value {
    for _ in 0..200 {
        let th = thread(t, token, conversation).await;
        let busy = th["messages"].as_array().unwrap().iter().any(|m| {
            m["direction"] == "outbound" && matches!(m["status"].as_str(), Some("pending" | "sent"))
        });
        if !busy {
            return th;
        }
        t.clock.advance(chrono::Duration::seconds(1));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "messages did not settle: {}",
        thread(t, token, conversation).await
    );
}

fn bodies(thread: &Value) -> Vec<(String, String, String)> {
    thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["sender"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn triple(sender: &str, body: &str, status: &str) -> (String, String, String) {
    (sender.to_owned(), body.to_owned(), status.to_owned())
}

/// The outbox's events for the conversation, in order: (type, data).
async fn events_of(t: &TestApp, conversation: &str) -> Vec<(String, Value)> {
    t.store()
        .list_undispatched_events(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.data["conversation_id"] == conversation)
        .map(|e| (e.event.event_type.as_str().to_owned(), e.event.data))
        .collect()
}

/// The job workers and the in-process sender, as `parley serve` runs them (the provider
/// tests run sends through the job workers alone).
fn start_workers(t: &TestApp) -> CancellationToken {
    let cancel = CancellationToken::new();
    let runner = t.app.job_runner(2, Duration::from_secs(30));
    tokio::spawn(runner.start(cancel.clone()));
    t.app.start_sends(cancel.clone());
    cancel
}

#[tokio::test]
async fn a_customer_message_runs_the_flow_and_every_change_is_announced() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    t.ok(
        &token,
        Method::POST,
        "/api/v1/outcome-statuses",
        Some(json!({"key": "done", "label": "Done", "category": "positive", "closes": true})),
    )
    .await;
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "greet", "start": "ask_name", "steps": {
            "ask_name": {"type": "ask", "text": "Hello! What is your name?", "save_as": "name",
                         "next": "thanks"},
            "thanks": {"type": "close", "status": "done", "text": "Thanks <<name>>, goodbye."}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let workers = start_workers(&t);

    // The first message opens a conversation running the flow; the reply is queued with
    // it, in the same turn.
    let first = say(&t, &token, &channel, "hi").await;
    let conversation = first["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["conversation"]["state"], "bot");
    assert_eq!(first["conversation"]["flow_id"], flow.as_str());
    assert_eq!(first["conversation"]["flow_version"], 1);
    assert_eq!(first["conversation"]["direction"], "inbound");
    let written: Vec<_> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["sender"].clone(), m["status"].clone()))
        .collect();
    assert_eq!(
        written,
        [
            (json!("contact"), json!("received")),
            (json!("bot"), json!("pending"))
        ]
    );
    let reply = &first["messages"][1];
    assert_eq!(
        (reply["segments"].clone(), reply["encoding"].clone()),
        (json!(1), json!("gsm7"))
    );

    // The send queue sends it; the simulator reports it delivered.
    let th = settled(&t, &token, &conversation).await;
    assert_eq!(
        bodies(&th),
        [
            triple("contact", "hi", "received"),
            triple("bot", "Hello! What is your name?", "delivered"),
        ]
    );
    let sent = &th["messages"][1];
    let sim_id = format!("SIM{}", sent["id"].as_str().unwrap());
    assert_eq!(sent["provider_message_id"], sim_id.as_str());
    for status in ["pending", "sent", "delivered"] {
        assert!(sent["status_times"][status].is_string(), "{sent}");
    }

    // The answer moves the flow on to its end: the status closes the conversation.
    let second = say(&t, &token, &channel, "Sam").await;
    assert_eq!(second["conversation"]["id"], conversation.as_str());
    assert_eq!(second["conversation"]["state"], "closed");
    assert_eq!(second["conversation"]["status"], "done");
    let th = settled(&t, &token, &conversation).await;
    assert_eq!(
        bodies(&th)[2..],
        [
            triple("contact", "Sam", "received"),
            triple("bot", "Thanks Sam, goodbye.", "delivered"),
        ]
    );

    // The outbox holds each change once, in order, with SPEC §7.1's names and payloads.
    let events = events_of(&t, &conversation).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "inboundMessage",
            "messageSend",
            "deliveryReport",
            "inboundMessage",
            "setStatus",
            "conversationClosed",
            "messageSend",
            "deliveryReport",
        ]
    );
    let inbound = &events[0].1;
    assert_eq!(inbound["message"]["text"], "hi");
    assert_eq!(inbound["message"]["from"], CUSTOMER);
    assert_eq!(inbound["message"]["to"], "demo");
    assert_eq!(inbound["message"]["channel"], "sms");
    assert_eq!(inbound["contact"]["phone"], CUSTOMER);
    let delivered = &events[2].1;
    assert_eq!(delivered["message"]["status"], "delivered", "{delivered}");
    let status = &events[4].1;
    assert_eq!(status["status"], json!({"key": "done", "label": "Done"}));
    assert_eq!(status["set_by"]["type"], "bot");
    assert_eq!(events[5].1["status"], "done");

    // The next message is a new conversation.
    let again = say(&t, &token, &channel, "hello again").await;
    assert_ne!(again["conversation"]["id"], conversation.as_str());
    workers.cancel();
}

#[tokio::test]
async fn keywords_suppress_confirm_once_resubscribe_and_help() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "echo", "start": "ask", "steps": {
            "ask": {"type": "ask", "text": "How can we help?", "save_as": "need", "next": "ask"}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let workers = start_workers(&t);

    let first = say(&t, &token, &channel, "hello").await;
    let conversation = first["conversation"]["id"].as_str().unwrap().to_owned();
    settled(&t, &token, &conversation).await;

    // STOP, however written: suppressed, one confirmation, closed as opted_out.
    let stop = say(&t, &token, &channel, "  stop. ").await;
    assert_eq!(stop["conversation"]["id"], conversation.as_str());
    assert_eq!(stop["conversation"]["state"], "closed");
    assert_eq!(stop["conversation"]["status"], "opted_out");
    let th = settled(&t, &token, &conversation).await;
    let confirmations: Vec<_> = bodies(&th)
        .into_iter()
        .filter(|(sender, _, _)| sender == "system")
        .collect();
    assert_eq!(confirmations.len(), 1, "{th}");
    assert_eq!(confirmations[0].2, "delivered", "the confirmation goes out");
    assert!(confirmations[0].1.contains("no more messages"));
    let listed = t
        .ok(
            &token,
            Method::GET,
            "/api/v1/contacts/suppressions?channel_kind=sms&address=%2B447911123456",
            None,
        )
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    let kinds: Vec<String> = events_of(&t, &conversation)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        kinds.ends_with(&[
            "inboundMessage".to_owned(),
            "setStatus".to_owned(),
            "conversationClosed".to_owned(),
            "messageSend".to_owned(),
            "deliveryReport".to_owned(),
        ]),
        "{kinds:?}"
    );

    // A later message starts the flow again, but its reply never reaches the provider.
    let later = say(&t, &token, &channel, "what now").await;
    let second = later["conversation"]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, conversation);
    let th = settled(&t, &token, &second).await;
    let reply = &th["messages"][1];
    assert_eq!(
        (
            reply["status"].clone(),
            reply["error_code"].clone(),
            reply["provider_message_id"].clone()
        ),
        (json!("failed"), json!("opted_out"), Value::Null),
        "{th}"
    );

    // START lifts it and confirms; HELP answers; neither moves the flow.
    say(&t, &token, &channel, "Start").await;
    say(&t, &token, &channel, "help").await;
    let th = settled(&t, &token, &second).await;
    let tail: Vec<_> = bodies(&th)[2..]
        .iter()
        .map(|(s, b, st)| {
            (
                s.clone(),
                b.split(':').next().unwrap().to_owned(),
                st.clone(),
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            triple("contact", "Start", "received"),
            triple("system", "Root", "delivered"),
            triple("contact", "help", "received"),
            triple("system", "Root", "delivered"),
        ]
    );
    assert!(bodies(&th)[3].1.contains("subscribed again"));
    assert!(bodies(&th)[5].1.contains("STOP"));
    let listed = t
        .ok(
            &token,
            Method::GET,
            "/api/v1/contacts/suppressions?channel_kind=sms&address=%2B447911123456",
            None,
        )
        .await;
    assert!(listed["data"].as_array().unwrap().is_empty(), "{listed}");
    // The flow still waits at its question.
    let next = say(&t, &token, &channel, "my bill").await;
    assert_eq!(next["conversation"]["id"], second.as_str());
    assert_eq!(next["messages"][1]["body"], "How can we help?");
    // Subscribed, YES (an opt-in word) is an answer like any other: the flow gets it.
    let yes = say(&t, &token, &channel, "YES").await;
    assert_eq!(yes["conversation"]["id"], second.as_str());
    assert_eq!(
        (&yes["messages"][0]["body"], &yes["messages"][1]["body"]),
        (&json!("YES"), &json!("How can we help?")),
        "{yes}"
    );
    workers.cancel();
}

#[tokio::test]
async fn without_an_inbound_flow_customers_wait_in_the_inbound_queue() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let channel = t.sim_channel(&token, None).await;
    let first = say(&t, &token, &channel, "is anyone there?").await;
    let conversation = first["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["conversation"]["state"], "queued");
    assert_eq!(first["conversation"]["queue"], "default");
    assert_eq!(first["messages"].as_array().unwrap().len(), 1);
    let again = say(&t, &token, &channel, "hello?").await;
    assert_eq!(again["conversation"]["id"], conversation.as_str());
    assert_eq!(again["messages"].as_array().unwrap().len(), 1);
    let events = events_of(&t, &conversation).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["inboundMessage", "moveToQueue", "inboundMessage"]);
    assert_eq!(events[1].1["queue"], "default");
    assert_eq!(events[1].1["moved_by"]["type"], "system");

    // Not a sim channel, or not one of this organization: refused.
    let other = t
        .token_in(t.root.organization, parley_domain::Role::Viewer)
        .await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            Some(&other),
            None,
            Some(json!({"from": CUSTOMER, "text": "hi"})),
        )
        .await;
    assert_eq!(r.status, 403, "a viewer cannot write: {}", r.json);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            Some(&token),
            None,
            Some(json!({"from": "not a number", "text": "hi"})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("from")));
}

/// A flow that answers every message with what it read, then asks again.
fn echo_flow() -> Value {
    json!({"schema": 1, "name": "echo", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "Next?", "save_as": "n", "next": "echo"},
        "echo": {"type": "message", "text": "got <<n>>", "next": "ask"}}})
}

async fn say_from(t: &TestApp, token: &str, channel: &str, from: &str, text: &str) -> Value {
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            Some(token),
            None,
            Some(json!({"from": from, "text": text})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    r.json
}

#[tokio::test]
async fn a_burst_to_one_conversation_is_taken_in_order_and_bursts_to_many_run_together() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let flow = t.publish_flow(&token, echo_flow()).await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let first = say(&t, &token, &channel, "hello").await;
    let conversation = first["conversation"]["id"].as_str().unwrap().to_owned();

    // 50 messages from one customer at once: each is one whole turn, none interleaves,
    // and each turn saw the one before it.
    let texts: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let burst =
        futures_util::future::join_all(texts.iter().map(|text| say(&t, &token, &channel, text)))
            .await;
    for answer in &burst {
        assert_eq!(answer["conversation"]["id"], conversation.as_str());
        let texts: Vec<&str> = answer["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        let sent = texts[0].to_owned();
        assert_eq!(texts, [sent.as_str(), &format!("got {sent}"), "Next?"]);
    }
    let page = t
        .ok(
            &token,
            Method::GET,
            &format!("/api/v1/conversations/{conversation}?limit=500"),
            None,
        )
        .await;
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(texts[..2], ["hello", "Next?"]);
    assert_eq!(texts.len(), 2 + 50 * 3, "every message, once");
    // Stored in the order taken: after the opening, each customer message is followed
    // by its own two replies.
    for chunk in texts[2..].chunks(3) {
        assert_eq!(chunk[1], format!("got {}", chunk[0]), "{texts:?}");
        assert_eq!(chunk[2], "Next?");
    }
    let mut seen: Vec<&str> = texts[2..].chunks(3).map(|c| c[0]).collect();
    seen.sort_unstable();
    let mut expected: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    expected.sort_unstable();
    assert_eq!(seen, expected);

    // 200 customers at once: 200 conversations, each with its own opening and reply.
    let customers: Vec<String> = (0..200).map(|i| format!("+4479112{i:05}")).collect();
    let answers = futures_util::future::join_all(
        customers
            .iter()
            .map(|from| say_from(&t, &token, &channel, from, from)),
    )
    .await;
    let mut ids: Vec<&str> = answers
        .iter()
        .map(|a| a["conversation"]["id"].as_str().unwrap())
        .collect();
    for (answer, from) in answers.iter().zip(&customers) {
        let texts: Vec<&str> = answer["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(texts, [from.as_str(), "Next?"]);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
}

#[tokio::test]
async fn a_flow_timeout_fires_as_a_job_and_a_late_reply_finds_the_flow_moved_on() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "timeout", "start": "ask", "steps": {
                "ask": {"type": "ask", "text": "Can you pay today?", "save_as": "answer",
                        "timeout": "2h", "on_timeout": "nudge", "next": "thanks"},
                "nudge": {"type": "queue", "queue": "default", "text": "We will call you."},
                "thanks": {"type": "close", "status": "done", "text": "Thanks."}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let workers = start_workers(&t);
    let first = say(&t, &token, &channel, "hi").await;
    let conversation = first["conversation"]["id"].as_str().unwrap().to_owned();
    settled(&t, &token, &conversation).await;
    // Nothing before the deadline…
    t.clock.advance(chrono::Duration::minutes(119));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let token = t.owner_token().await; // the first one has expired
    assert_eq!(
        thread(&t, &token, &conversation).await["conversation"]["state"],
        "bot"
    );
    // …then the timer's job runs the timeout branch.
    t.clock.advance(chrono::Duration::minutes(2));
    let mut queued = Value::Null;
    for _ in 0..300 {
        let th = thread(&t, &token, &conversation).await;
        if th["conversation"]["state"] == "queued" {
            queued = th;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(queued["conversation"]["queue"], "default", "{queued}");
    let last = queued["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["body"], "We will call you.");
    // The answer arriving late is recorded for the people who now have it.
    let late = say(&t, &token, &channel, "sure, today").await;
    assert_eq!(late["conversation"]["id"], conversation.as_str());
    assert_eq!(
        late["messages"].as_array().unwrap().len(),
        1,
        "no bot reply"
    );
    workers.cancel();
}

/// A flow's "today" is the organization's local date: at 20:00 UTC on 7 December an
/// organization in Auckland (UTC+13) is already on the 8th, and one in Los Angeles
/// (UTC−8) at 03:00 UTC on the 8th is still on the 7th; `<<today>>` and `today()` say so.
#[tokio::test]
async fn a_flows_today_is_the_organizations_local_date() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "today", "start": "when", "steps": {
                "when": {"type": "branch",
                         "rules": [{"when": "today() == \"2026-12-08\"", "next": "eighth"}],
                         "otherwise": "other"},
                "eighth": {"type": "close", "status": "done", "text": "On the 8th: <<today>>."},
                "other": {"type": "close", "status": "done", "text": "Not the 8th: <<today>>."}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    for (zone, at, customer, reply) in [
        (
            "Pacific/Auckland",
            "2026-12-07T20:00:00Z",
            "+447911123401",
            "On the 8th: 2026-12-08.",
        ),
        (
            "America/Los_Angeles",
            "2026-12-08T03:00:00Z",
            "+447911123402",
            "Not the 8th: 2026-12-07.",
        ),
        (
            "UTC",
            "2026-12-08T03:00:00Z",
            "+447911123403",
            "On the 8th: 2026-12-08.",
        ),
    ] {
        t.clock.set(at.parse().unwrap());
        let token = t.owner_token().await;
        t.ok(
            &token,
            Method::PATCH,
            &format!("/api/v1/organizations/{org}"),
            Some(json!({"timezone": zone})),
        )
        .await;
        // The runtime reads an organization's settings again after a short while.
        t.clock.advance(chrono::Duration::seconds(5));
        tokio::time::sleep(parley_app::conversations::runtime::SETTINGS_TTL).await;
        let said = say_from(&t, &token, &channel, customer, "hi").await;
        let bodies: Vec<&str> = said["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, [reply], "{zone} at {at}: {said}");
    }
}
