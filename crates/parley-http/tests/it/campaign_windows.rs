//! Campaign send windows under a fake clock (SPEC §6, issue 7): a three-day campaign to
//! contacts in London, New York, Los Angeles and Sydney (by their numbers), one with a
//! `timezone` field, and a toll-free +1 800 number (whose candidate zones span the
//! continent, so the organization's zone rules) never sends outside 08:00–21:00 local
//! time, and waits exactly until its window opens; recipients whose window never opens
//! before the campaign's end are skipped with `window_expired`.

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use http::Method;
use parley_app::campaigns::dispatch::CampaignRun;
use parley_app::imports::ImportJob;
use parley_domain::{CampaignId, CampaignStatus, JobId, OrgId, RecipientState, Role};
use parley_jobs::Job;
use parley_store::PageRequest;
use parley_testkit::TestApp;
use serde_json::{Value, json};

/// Monday 2026-11-23 03:00 UTC: 03:00 in London, 22:00 (Sunday) in New York, 19:00 in
/// Los Angeles, 14:00 in Sydney, 21:00 in Chicago, 12:00 in Tokyo.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .unwrap()
}

/// `(phone, timezone field, the zone whose hours must hold)`.
const PEOPLE: &[(&str, Option<&str>, Tz)] = &[
    ("+447911100001", None, chrono_tz::Europe::London),
    ("+12124567890", None, chrono_tz::America::New_York),
    ("+12134567890", None, chrono_tz::America::Los_Angeles),
    ("+61291234567", None, chrono_tz::Australia::Sydney),
    ("+18004567890", None, chrono_tz::America::Chicago),
    ("+447911100002", Some("Asia/Tokyo"), chrono_tz::Asia::Tokyo),
];

async fn setup(t: &TestApp) -> (OrgId, String, String, String, String) {
    let (org, token) = t.org_with_token("Windows", None, Role::Admin).await;
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/organizations/{org}"),
            Some(&token),
            None,
            Some(json!({"timezone": "America/Chicago"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "hello", "start": "hi", "steps": {
                "hi": {"type": "close", "status": "done", "text": "Hello from Parley"}}}),
        )
        .await;
    let channel = t.sim_channel(&token, None).await;
    let rows: Vec<Value> = PEOPLE
        .iter()
        .map(|(phone, tz, _)| match tz {
            Some(tz) => json!({"phone": phone, "timezone": tz}),
            None => json!({"phone": phone}),
        })
        .collect();
    let r = t
        .call(
            Method::POST,
            "/api/v1/imports",
            Some(&token),
            None,
            Some(json!({"rows": rows, "options": {"default_country": "GB"}})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let import = r.json["id"].as_str().unwrap().to_owned();
    ImportJob {
        import_id: import.parse().unwrap(),
    }
    .run(&t.app, JobId::generate())
    .await
    .unwrap();
    (org, token, flow, channel, import)
}

async fn campaign(t: &TestApp, token: &str, body: Value) -> String {
    let c = t.post_ok(token, "/api/v1/campaigns", body).await;
    let id = c["id"].as_str().unwrap().to_owned();
    t.post_ok(token, &format!("/api/v1/campaigns/{id}/start"), json!({}))
        .await;
    id
}

async fn recipients(t: &TestApp, token: &str, campaign: &str) -> Vec<Value> {
    let r = t
        .get(
            &format!("/api/v1/campaigns/{campaign}/recipients?limit=100"),
            token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["data"].as_array().unwrap().clone()
}

/// Runs passes at the clock's time until one does nothing.
async fn passes(t: &TestApp, org: OrgId, id: CampaignId, run: &mut CampaignRun) -> bool {
    for _ in 0..50 {
        let pass = t.app.dispatch_pass(org, id, run).await.unwrap();
        if pass.done {
            return true;
        }
        if pass.started == 0 && pass.settled == 0 && pass.in_flight == 0 {
            return false;
        }
    }
    panic!("passes kept finding work at one instant");
}

fn zone_of<'a>(people: &'a [(&str, Option<&str>, Tz)], address: &str) -> &'a Tz {
    &people.iter().find(|(p, _, _)| *p == address).unwrap().2
}

#[tokio::test]
async fn a_three_day_campaign_sends_only_inside_each_contacts_local_hours() {
    let t = TestApp::new().await;
    t.clock.set(t0());
    let (org, token, flow, channel, import) = setup(&t).await;
    let id = campaign(
        &t,
        &token,
        json!({"name": "Three days", "audience": {"import_id": import}, "flow_id": flow,
               "channel_id": channel, "end_at": t0() + Duration::days(3)}),
    )
    .await;
    let cid: CampaignId = id.parse().unwrap();
    let mut run = CampaignRun::default();
    passes(&t, org, cid, &mut run).await;

    // At the start, those outside their hours wait exactly until their window opens.
    let first = recipients(&t, &token, &id).await;
    let mut waiting: Vec<(String, String)> = first
        .iter()
        .filter(|r| r["state"] == "pending")
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_owned(),
                r["next_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    waiting.sort();
    assert_eq!(
        waiting,
        [
            // 08:00 in New York.
            ("+12124567890".to_owned(), "2026-11-23T13:00:00Z".to_owned()),
            // The organization's zone: 08:00 in Chicago.
            ("+18004567890".to_owned(), "2026-11-23T14:00:00Z".to_owned()),
            // 08:00 in London.
            (
                "+447911100001".to_owned(),
                "2026-11-23T08:00:00Z".to_owned()
            ),
        ],
        "{first:?}"
    );

    // Every ten minutes for three days: each is sent once, inside its own hours.
    let mut sent_at: Vec<(String, DateTime<Utc>)> = first
        .iter()
        .filter(|r| r["state"] == "sent")
        .map(|r| (r["address"].as_str().unwrap().to_owned(), t0()))
        .collect();
    let mut now = t0();
    let mut finished = false;
    while now < t0() + Duration::days(3) && !finished {
        now += Duration::minutes(10);
        t.clock.set(now);
        finished = passes(&t, org, cid, &mut run).await;
        // Read from the store: the API token has long expired on this clock.
        let page = t
            .store()
            .list_recipients(org, cid, None, PageRequest::first(100))
            .await
            .unwrap();
        for r in page.items {
            let address = r.address.clone().unwrap();
            if r.state == RecipientState::Sent && !sent_at.iter().any(|(a, _)| *a == address) {
                sent_at.push((address, now));
            }
        }
    }
    assert!(finished, "the campaign did not complete");
    assert_eq!(sent_at.len(), PEOPLE.len(), "{sent_at:?}");
    for (address, at) in &sent_at {
        let local = at.with_timezone(zone_of(PEOPLE, address));
        assert!(
            (8..21).contains(&local.hour()),
            "{address} was sent at {local}, outside 08:00–21:00"
        );
    }
    let c = t.store().get_campaign(org, cid).await.unwrap().unwrap();
    assert_eq!(c.status, CampaignStatus::Completed);
}

#[tokio::test]
async fn recipients_whose_window_never_opens_before_the_end_are_skipped() {
    let t = TestApp::new().await;
    t.clock.set(t0());
    let (org, token, flow, channel, import) = setup(&t).await;
    // Saturdays only, from Monday to Wednesday: no one's Saturday comes.
    let id = campaign(
        &t,
        &token,
        json!({"name": "Never", "audience": {"import_id": import}, "flow_id": flow,
               "channel_id": channel, "window": {"days": ["sat"]},
               "end_at": t0() + Duration::days(2)}),
    )
    .await;
    let done = passes(&t, org, id.parse().unwrap(), &mut CampaignRun::default()).await;
    assert!(done, "nothing is left to wait for");
    let all = recipients(&t, &token, &id).await;
    assert_eq!(all.len(), PEOPLE.len());
    for r in &all {
        assert_eq!(
            (r["state"].as_str(), r["reason"].as_str()),
            (Some("skipped"), Some("window_expired")),
            "{r}"
        );
    }
    let c = t.get(&format!("/api/v1/campaigns/{id}"), &token).await;
    assert_eq!(c.json["status"], "completed");
    assert_eq!(c.json["counts"]["skipped"]["window_expired"], 6);
}
