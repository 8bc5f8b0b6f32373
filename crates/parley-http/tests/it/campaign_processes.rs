//! Two processes on one PostgreSQL database run one campaign (ADR 0008 §4, issue 7): each
//! takes part, together they keep the campaign's one pace (not one each), and every
//! recipient gets exactly one first message; a process that stops hands its share to
//! the others at their next mark, not when its own would have run out.

use std::time::{Duration, Instant};

use parley_app::App;
use parley_app::campaigns::dispatch::CampaignRun;
use parley_domain::{CampaignId, OrgId, Role};
use parley_testkit::TestApp;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

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

/// A running campaign of `n` imported contacts at `rate` on a fast simulator channel:
/// its organization, a token and its id.
async fn started_campaign(t: &TestApp, n: usize, rate: u32) -> (OrgId, String, String) {
    let (org, token) = t.org_with_token("Shared", None, Role::Admin).await;
    let flow = flow(t, &token).await;
    let channel = fast_sim(t, &token).await;
    let import = import(t, &token, Value::Array(phones(n, 1))).await;
    let campaign = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Shared", "audience": {"import_id": import}, "flow_id": flow,
                   "channel_id": channel, "rate_per_second": rate}),
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
    (org, token, campaign)
}

/// Each of the campaign's `n` recipients was sent once, in a conversation of its own,
/// and the organization holds no other conversation.
async fn each_sent_once(t: &TestApp, token: &str, campaign: &str, n: usize) {
    let all = recipients(t, token, campaign).await;
    assert_eq!(all.len(), n);
    assert!(all.iter().all(|r| r["state"] == "sent"), "{all:?}");
    let mut conversations: Vec<&str> = all
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap())
        .collect();
    conversations.sort_unstable();
    conversations.dedup();
    assert_eq!(conversations.len(), n);
    let mut listed = 0;
    let mut cursor = String::new();
    loop {
        let page = t
            .get(&format!("/api/v1/conversations?limit=100{cursor}"), token)
            .await;
        assert_eq!(page.status, 200, "{}", page.json);
        listed += page.json["data"].as_array().unwrap().len();
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(listed, n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_pace_and_send_each_recipient_once() {
    const N: usize = 120;
    const RATE: u32 = 20;
    let Some(t) = TestApp::on_postgres().await else {
        return;
    };
    let second = t.second_process().await;
    let (org, token, campaign) = started_campaign(&t, N, RATE).await;

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

    each_sent_once(&t, &token, &campaign, N).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_stops_hands_its_share_to_the_others_at_once() {
    // Five seconds of sends at the pace, so the stopped process's share is not done by
    // the time the first renews its mark.
    const N: usize = 200;
    const RATE: u32 = 40;
    let Some(t) = TestApp::on_postgres().await else {
        return;
    };
    let second = t.second_process().await;
    let (org, token, campaign) = started_campaign(&t, N, RATE).await;
    let id: CampaignId = campaign.parse().unwrap();

    // The second process runs its dispatcher as `parley serve` does, and stops after a
    // second, while the campaign is under way.
    let stop = CancellationToken::new();
    let dispatcher = second.start_campaigns(stop.clone());
    let began = Instant::now();
    let first = tokio::spawn(run(t.app.clone(), org, id));
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    dispatcher.await.unwrap();
    first.await.unwrap();
    let took = began.elapsed();

    // Its mark would last ten seconds (the campaign would take at least that); removed
    // when it stopped, the first process takes the whole campaign at its next mark
    // (within three seconds) and finishes at the pace (five seconds).
    assert!(
        took < Duration::from_secs(9),
        "the campaign took {took:?}: the stopped process's share waited for its mark to run out"
    );
    each_sent_once(&t, &token, &campaign, N).await;
}
