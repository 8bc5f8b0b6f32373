//! Campaigns end to end on the `sim` channel (SPEC §6, issue 7): an import becomes one
//! outbound conversation per contact, each first message written once; opted-out
//! addresses are skipped; replies continue the conversation and show in the counters;
//! pause acts within a second and resume carries on; cancel skips the rest; checks on
//! creation name the field.

use std::time::{Duration, Instant};

use http::Method;
use parley_app::campaigns::dispatch::CampaignRun;
use parley_app::imports::ImportJob;
use parley_domain::{CampaignId, JobId, MessageId, OrgId, Role};
use parley_jobs::Job;
use parley_testkit::TestApp;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The job workers and the in-process sender, as `parley serve` runs them.
fn start_workers(t: &TestApp) -> CancellationToken {
    let cancel = CancellationToken::new();
    let runner = t.app.job_runner(2, Duration::from_secs(30));
    tokio::spawn(runner.start(cancel.clone()));
    t.app.start_sends(cancel.clone());
    cancel
}

/// Imports `rows` through the API and runs the import's job; the import's id.
pub(super) async fn import(t: &TestApp, token: &str, rows: Value) -> String {
    let r = t
        .call(
            Method::POST,
            "/api/v1/imports",
            Some(token),
            None,
            Some(json!({ "rows": rows })),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    ImportJob {
        import_id: id.parse().unwrap(),
    }
    .run(&t.app, JobId::generate())
    .await
    .unwrap();
    id
}

/// A flow that greets by name and asks one question.
pub(super) async fn flow(t: &TestApp, token: &str) -> String {
    t.publish_flow(
        token,
        json!({"schema": 1, "name": "arrears", "start": "ask", "steps": {
            "ask": {"type": "ask", "text": "Hello <<first_name>>, can you pay today?",
                    "save_as": "answer", "next": "bye"},
            "bye": {"type": "close", "status": "done", "text": "Thank you."}}}),
    )
    .await
}

/// A fast simulator channel (reports delivery at once).
pub(super) async fn fast_sim(t: &TestApp, token: &str) -> String {
    t.post_ok(
        token,
        "/api/v1/channels",
        json!({"provider": "sim", "name": "Fast", "sender": "demo", "rate_per_second": 10000,
               "settings": {"delivery_delay_ms": 0}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(super) async fn get(t: &TestApp, token: &str, path: &str) -> Value {
    let r = t.get(path, token).await;
    assert_eq!(r.status, 200, "{path}: {}", r.json);
    r.json
}

/// Every recipient of a campaign, through the API.
pub(super) async fn recipients(t: &TestApp, token: &str, campaign: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/campaigns/{campaign}/recipients?limit=100&cursor={c}"),
            None => format!("/api/v1/campaigns/{campaign}/recipients?limit=100"),
        };
        let page = get(t, token, &path).await;
        all.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// Each recipient's (address, state, reason), in order.
fn states_of(all: &[Value]) -> Vec<(&str, &str, Option<&str>)> {
    all.iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
                r["reason"].as_str(),
            )
        })
        .collect()
}

/// Runs passes until the campaign has nothing more to do (at most `limit`).
async fn drive(t: &TestApp, org: OrgId, campaign: &str, limit: usize) {
    let id: CampaignId = campaign.parse().unwrap();
    let mut run = CampaignRun::default();
    for _ in 0..limit {
        let pass = t.app.dispatch_pass(org, id, &mut run).await.unwrap();
        if pass.done {
            return;
        }
    }
    panic!("the campaign did not finish in {limit} passes");
}

pub(super) fn phones(n: usize, from: usize) -> Vec<Value> {
    (from..from + n)
        .map(|i| {
            json!({"phone": format!("+4479111{i:05}"), "customer_id": format!("C{i}"),
                        "first_name": format!("Person {i}")})
        })
        .collect()
}

#[tokio::test]
async fn a_campaign_sends_each_imported_contact_one_first_message_and_counts_outcomes() {
    let t = TestApp::new().await;
    let (org, token) = t.org_with_token("Arrears", None, Role::Admin).await;
    let flow = flow(&t, &token).await;
    let channel = t.sim_channel(&token, None).await;
    let workers = start_workers(&t);
    // One customer opted out before the campaign.
    t.post_ok(
        &token,
        &format!("/api/v1/channels/{channel}/sim/inbound"),
        json!({"from": "+447911100003", "text": "STOP"}),
    )
    .await;
    let import = import(&t, &token, Value::Array(phones(5, 1))).await;

    let created = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "December arrears", "audience": {"import_id": import},
                   "flow_id": flow, "channel_id": channel, "rate_per_second": 50}),
        )
        .await;
    let campaign = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["flow_version"], 1);
    assert_eq!(
        created["window"],
        json!({"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
               "opens": "08:00", "closes": "21:00"})
    );
    let started = t
        .post_ok(
            &token,
            &format!("/api/v1/campaigns/{campaign}/start"),
            json!({}),
        )
        .await;
    assert_eq!(started["status"], "running");
    drive(&t, org, &campaign, 50).await;

    let all = recipients(&t, &token, &campaign).await;
    assert_eq!(all.len(), 5);
    let mut states = states_of(&all);
    states.sort_unstable();
    assert_eq!(
        states,
        [
            ("+447911100001", "sent", None),
            ("+447911100002", "sent", None),
            ("+447911100003", "skipped", Some("opted_out")),
            ("+447911100004", "sent", None),
            ("+447911100005", "sent", None)
        ]
    );
    let seqs: Vec<u64> = all.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    // Each sent recipient's conversation is outbound, the campaign's, and holds exactly
    // one first message, personalised.
    for r in all.iter().filter(|r| r["state"] == "sent") {
        let c = get(
            &t,
            &token,
            &format!(
                "/api/v1/conversations/{}",
                r["conversation_id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(c["conversation"]["direction"], "outbound");
        assert_eq!(c["conversation"]["campaign_id"], campaign.as_str());
        let outbound: Vec<&Value> = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .collect();
        assert_eq!(outbound.len(), 1, "{c}");
        assert!(
            outbound[0]["body"]
                .as_str()
                .unwrap()
                .starts_with("Hello Person "),
            "{c}"
        );
        assert_eq!(outbound[0]["id"], r["message_id"]);
        // The first message is named by its recipient (the provider's idempotency key).
        let named = MessageId::for_recipient(campaign.parse().unwrap(), r["seq"].as_u64().unwrap());
        assert_eq!(r["message_id"], named.to_string());
    }
    // Passes after the end change nothing: never twice.
    let again = t
        .app
        .dispatch_pass(org, campaign.parse().unwrap(), &mut CampaignRun::default())
        .await
        .unwrap();
    assert!(again.done && again.started == 0);
    let done = get(&t, &token, &format!("/api/v1/campaigns/{campaign}")).await;
    assert_eq!(done["status"], "completed");

    // A reply continues the conversation as a normal one.
    let reply = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911100001", "text": "I can pay on Friday"}),
        )
        .await;
    let first = all
        .iter()
        .find(|r| r["address"] == "+447911100001")
        .unwrap();
    assert_eq!(reply["conversation"]["id"], first["conversation_id"]);
    assert_eq!(reply["conversation"]["state"], "closed", "{reply}");
    assert_eq!(reply["conversation"]["status"], "done");
    // The desk's contact panel names the campaign that wrote to the contact.
    t.create_user(
        org,
        "sam@example.test",
        "Sam Supervisor",
        "sam password 1".into(),
        Role::Supervisor,
    )
    .await
    .unwrap();
    let owner = crate::web::cookies_of(
        &crate::web::sign_in(&t, "sam@example.test", "sam password 1", "").await,
    );
    let conversation = first["conversation_id"].as_str().unwrap();
    let page = t
        .send(crate::web::get(
            &format!("/app/{org}/conversations/{conversation}"),
            &owner,
        ))
        .await;
    let page = crate::web::html(&page);
    assert!(
        page.contains("<p class=\"facts-title\">Campaigns</p>")
            && page.contains(&format!(
                "<a href=\"/app/{org}/conversations/{conversation}\">December arrears, "
            )),
        "{page}"
    );

    // Counters, once the simulator's reports are in (and the counters, kept for a
    // second, are read again).
    let mut counts = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        t.clock.advance(chrono::Duration::seconds(2));
        counts = get(&t, &token, &format!("/api/v1/campaigns/{campaign}")).await["counts"].clone();
        if counts["delivered"] == 4 && counts["replied"] == 1 {
            break;
        }
    }
    assert_eq!(counts["pending"], 0, "{counts}");
    assert_eq!(counts["sent"], 4, "{counts}");
    assert_eq!(counts["delivered"], 4, "{counts}");
    assert_eq!(counts["failed"], 0, "{counts}");
    assert_eq!(counts["skipped"], json!({"opted_out": 1}), "{counts}");
    assert_eq!(counts["replied"], 1, "{counts}");
    assert_eq!(counts["completed"], json!({"done": 1}), "{counts}");

    // The recipients as a file.
    let csv = t
        .get(
            &format!("/api/v1/campaigns/{campaign}/recipients.csv"),
            &token,
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.json.as_str().unwrap().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "seq,contact_id,address,state,reason,error,conversation_id,message_id,updated_at"
    );
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(",+447911100003,skipped,opted_out,"))
            .count(),
        1,
        "{text}"
    );
    workers.cancel();
}

#[tokio::test]
async fn a_recipient_in_an_open_conversation_waits_and_says_why() {
    let t = TestApp::new().await;
    let (org, token) = t.org_with_token("Busy", None, Role::Admin).await;
    let flow = flow(&t, &token).await;
    let channel = t.sim_channel(&token, None).await;
    let import = import(&t, &token, Value::Array(phones(2, 1))).await;
    // The first customer is talking on the channel already.
    let open = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911100001", "text": "Hello, a question about my bill"}),
        )
        .await;
    assert_eq!(open["conversation"]["state"], "queued", "{open}");
    let campaign = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Busy", "audience": {"import_id": import},
                   "flow_id": flow, "channel_id": channel, "rate_per_second": 50}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.post_ok(
        &token,
        &format!("/api/v1/campaigns/{campaign}/start"),
        json!({}),
    )
    .await;
    let id: CampaignId = campaign.parse().unwrap();
    let mut run = CampaignRun::default();
    for _ in 0..5 {
        t.app.dispatch_pass(org, id, &mut run).await.unwrap();
    }
    let all = recipients(&t, &token, &campaign).await;
    let states = states_of(&all);
    assert_eq!(
        states,
        [
            ("+447911100001", "pending", Some("open_conversation")),
            ("+447911100002", "sent", None)
        ]
    );
    assert!(all[0]["next_at"].is_string(), "{}", all[0]);
    // The counters use the recipients' words.
    let counts = get(&t, &token, &format!("/api/v1/campaigns/{campaign}")).await["counts"].clone();
    assert_eq!(
        (
            &counts["pending"],
            &counts["waiting"],
            &counts["sent"],
            &counts["failed"]
        ),
        (
            &json!(1),
            &json!({"open_conversation": 1}),
            &json!(1),
            &json!(0)
        ),
        "{counts}"
    );
    let waiting = get(
        &t,
        &token,
        &format!("/api/v1/campaigns/{campaign}/recipients?state=pending"),
    )
    .await;
    assert_eq!(waiting["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn campaigns_are_checked_field_by_field_and_move_only_as_allowed() {
    let t = TestApp::new().await;
    let (org, token) = t.org_with_token("Checks", None, Role::Admin).await;
    let flow = flow(&t, &token).await;
    let channel = t.sim_channel(&token, None).await;
    let import = import(&t, &token, Value::Array(phones(1, 1))).await;
    let bad = t
        .call(
            Method::POST,
            "/api/v1/campaigns",
            Some(&token),
            None,
            Some(json!({"name": " ", "audience": {"import_id": parley_domain::ImportId::generate().to_string()},
                "flow_id": flow, "channel_id": channel, "rate_per_second": 0,
                "window": {"days": ["someday"], "opens": "25:00", "closes": "08:00"}})),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.json);
    let fields: Vec<&str> = bad.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "audience.import_id",
            "window.days",
            "window.opens",
            "rate_per_second"
        ],
        "{}",
        bad.json
    );
    let both = t
        .call(
            Method::POST,
            "/api/v1/campaigns",
            Some(&token),
            None,
            Some(
                json!({"name": "x", "audience": {"import_id": import, "filter": {}},
                "flow_id": flow, "channel_id": channel}),
            ),
        )
        .await;
    assert_eq!(both.problem_field(), (422, Some("audience")));
    let unknown_field = t
        .call(
            Method::POST,
            "/api/v1/campaigns",
            Some(&token),
            None,
            Some(
                json!({"name": "x", "audience": {"filter": {"fields": {"nope": "1"}}},
                "flow_id": flow, "channel_id": channel}),
            ),
        )
        .await;
    assert_eq!(
        unknown_field.problem_field(),
        (422, Some("audience.filter.fields.nope"))
    );

    let c = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Moves", "audience": {"import_id": import}, "flow_id": flow,
                   "channel_id": channel}),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    let schedule = t
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/schedule"),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(schedule.problem_field(), (422, Some("start_at")));
    for (how, status) in [
        ("resume", 409),
        ("pause", 409),
        ("start", 200),
        ("start", 409),
        ("pause", 200),
        ("start", 409),
        ("resume", 200),
        ("cancel", 200),
        ("resume", 409),
        ("cancel", 409),
    ] {
        let r = t
            .call(
                Method::POST,
                &format!("/api/v1/campaigns/{id}/{how}"),
                Some(&token),
                None,
                None,
            )
            .await;
        assert_eq!(r.status, status, "{how}: {}", r.json);
    }
    let bad_cursor = t
        .get(
            &format!("/api/v1/campaigns/{id}/recipients?cursor=abc"),
            &token,
        )
        .await;
    assert_eq!(bad_cursor.problem_field(), (422, Some("cursor")));
    let viewer = t.token_in(org, Role::Viewer).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/campaigns",
            Some(&viewer),
            None,
            Some(
                json!({"name": "Viewer's", "audience": {"import_id": import},
                        "flow_id": flow, "channel_id": channel}),
            ),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.json);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/cancel"),
            Some(&viewer),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.json);
    let r = t.get(&format!("/api/v1/campaigns/{id}"), &viewer).await;
    assert_eq!(r.status, 200, "a viewer reads campaigns");
}

/// Sent recipients of a campaign, read from the store.
async fn sent_count(t: &TestApp, token: &str, campaign: &str) -> usize {
    recipients(t, token, campaign)
        .await
        .iter()
        .filter(|r| r["state"] == "sent")
        .count()
}

#[tokio::test]
async fn pause_stops_sending_within_a_second_and_cancel_skips_the_rest() {
    let t = TestApp::new().await;
    let (_, token) = t.org_with_token("Pause", None, Role::Admin).await;
    let flow = flow(&t, &token).await;
    let channel = fast_sim(&t, &token).await;
    let import = import(&t, &token, Value::Array(phones(120, 1))).await;
    let workers = start_workers(&t);
    let dispatcher = CancellationToken::new();
    t.app.start_campaigns(dispatcher.clone());
    let c = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Paced", "audience": {"import_id": import}, "flow_id": flow,
                   "channel_id": channel, "rate_per_second": 20}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    t.post_ok(&token, &format!("/api/v1/campaigns/{id}/start"), json!({}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent_count(&t, &token, &id).await < 10 {
        assert!(Instant::now() < deadline, "nothing was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let paused = t
        .post_ok(&token, &format!("/api/v1/campaigns/{id}/pause"), json!({}))
        .await;
    assert_eq!(paused["status"], "paused");
    let at_pause = Instant::now();
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(at_pause.elapsed())).await;
    let after_a_second = sent_count(&t, &token, &id).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = sent_count(&t, &token, &id).await;
    assert_eq!(
        later, after_a_second,
        "first messages went out more than a second after the pause"
    );
    assert!(later < 120, "the pause came after the end");
    // The pace held: 20 a second, with a burst of two.
    assert!(later <= 2 + 20 * 4, "{later} sent");

    // Resume carries on from where it stopped.
    t.post_ok(&token, &format!("/api/v1/campaigns/{id}/resume"), json!({}))
        .await;
    let resumed_from = later;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent_count(&t, &token, &id).await < resumed_from + 10 {
        assert!(Instant::now() < deadline, "the campaign did not resume");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Cancel: whatever is pending is skipped with `cancelled`, at once.
    let cancelled = t
        .post_ok(&token, &format!("/api/v1/campaigns/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["counts"]["pending"], 0, "{cancelled}");
    let all = recipients(&t, &token, &id).await;
    let sent = all.iter().filter(|r| r["state"] == "sent").count();
    let skipped = all
        .iter()
        .filter(|r| r["state"] == "skipped" && r["reason"] == "cancelled")
        .count();
    assert_eq!(sent + skipped, 120, "every recipient is sent or cancelled");
    assert!(skipped > 0);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        sent_count(&t, &token, &id).await,
        sent,
        "nothing after cancel"
    );
    dispatcher.cancel();
    workers.cancel();
}
