//! Two processes on one PostgreSQL database run one campaign (ADR 0008 §4, issue 7): each
//! takes part, together they keep the campaign's one pace (not one each), and every
//! recipient gets exactly one first message.

use std::time::{Duration, Instant};

use parley_app::App;
use parley_app::campaigns::dispatch::CampaignRun;
use parley_domain::{CampaignId, OrgId, Role};
use parley_testkit::TestApp;
use serde_json::{Value, json};

use super::campaigns::{fast_sim, flow, import, phones, recipients};

/// Runs one process's passes over the campaign until it has nothing more to do; how
/// many first messages this process began.
async fn run(app: App, org: OrgId, campaign: CampaignId) -> u32 {
    let mut run = CampaignRun::default();
    let mut started = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let pass = app.dispatch_pass(org, campaign, &mut run).await.unwrap();
        started += pass.started;
        if pass.done {
            app.finish_in_flight(org, campaign, &mut run).await.unwrap();
            return started;
        }
        if pass.started == 0 && pass.settled == 0 && pass.in_flight == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("the campaign did not finish within a minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_pace_and_send_each_recipient_once() {
    let Some(t) = TestApp::on_postgres().await else {
        return;
    };
    let second = t.second_process().await;
    let (org, token) = t.org_with_token("Shared", None, Role::Admin).await;
    let flow = flow(&t, &token).await;
    let channel = fast_sim(&t, &token).await;
    const N: usize = 120;
    const RATE: u32 = 20;
    let import = import(&t, &token, Value::Array(phones(N, 1))).await;
    let campaign = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Shared", "audience": {"import_id": import}, "flow_id": flow,
                   "channel_id": channel, "rate_per_second": RATE}),
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
    let began = Instant::now();
    let first = tokio::spawn(run(t.app.clone(), org, id));
    let other = tokio::spawn(run(second, org, id));
    let (first, other) = (first.await.unwrap(), other.await.unwrap());
    let took = began.elapsed();

    // The pace is one: a burst of RATE/10, then RATE a second, whichever process sends.
    // Two paces would finish in about half the time.
    let least = Duration::from_secs_f64((N as f64 - f64::from(RATE / 10)) / f64::from(RATE));
    assert!(
        took >= least.mul_f64(0.95),
        "{N} first messages at {RATE}/s took {took:?}, less than one pace allows ({least:?})"
    );
    assert!(
        took <= least * 2,
        "{N} first messages at {RATE}/s took {took:?}: the processes wasted the pace"
    );
    // Both took part (each holds a share of the recipients).
    assert!(
        first >= 20 && other >= 20,
        "first messages begun: {first} and {other}"
    );

    // Each recipient: sent once, in a conversation of its own.
    let all = recipients(&t, &token, &campaign).await;
    assert_eq!(all.len(), N);
    assert!(all.iter().all(|r| r["state"] == "sent"), "{all:?}");
    let mut conversations: Vec<&str> = all
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap())
        .collect();
    conversations.sort_unstable();
    conversations.dedup();
    assert_eq!(conversations.len(), N);
    // And no other conversation: the organization holds only these.
    let mut listed = 0;
    let mut cursor = String::new();
    loop {
        let page = t
            .get(&format!("/api/v1/conversations?limit=100{cursor}"), &token)
            .await;
        assert_eq!(page.status, 200, "{}", page.json);
        listed += page.json["data"].as_array().unwrap().len();
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(listed, N);
}
