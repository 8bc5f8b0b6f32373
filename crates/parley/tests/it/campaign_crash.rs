//! Campaign exactly-once (issue 7): `parley serve` is SIGKILLed three times while a
//! 100,000-recipient campaign sends through the Twilio stand-in, and restarted each time.
//! At the end the stand-in holds exactly one first message per recipient: none missing,
//! none twice. A first message is written once, with its recipient's claim, in one
//! transaction; a message written but not yet handed over when the process dies is sent
//! by its send job after the restart; one handed over whose answer was lost is sent
//! again with the same `Idempotency-Key`, which the stand-in answers without sending.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use parley_app::Settings;
use parley_app::campaigns::{AudienceInput, Move, NewCampaign, WindowInput};
use parley_app::channels::NewChannel;
use parley_app::imports::{ImportRun, RunOutcome};
use parley_domain::{CampaignStatus, ImportOptions};
use parley_standin::TwilioStandIn;
use parley_testkit::ParleyProcess;

const RECIPIENTS: usize = 100_000;
const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "crash-test-auth-token";

fn phone(i: usize) -> String {
    format!("+4477{i:08}")
}

/// A free loopback port (so every restart listens where the callbacks go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn process_sigkill_three_times_during_a_campaign_sends_each_recipient_once() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let standin = TwilioStandIn::start(SID, TOKEN, Duration::from_millis(200), 0)
        .await
        .unwrap();
    let port = free_port();
    let env = [
        ("PARLEY_OUTBOUND__ALLOW_PRIVATE_TARGETS", "true".to_owned()),
        ("PARLEY_SERVER__LISTEN", format!("127.0.0.1:{port}")),
        (
            "PARLEY_SERVER__PUBLIC_URL",
            format!("http://127.0.0.1:{port}"),
        ),
    ];
    let mut serving = ParleyProcess::start(binary, dir.path(), &env);

    // The audience, flow, channel and campaign, made through the use cases as an
    // administrator would, in this process over the same database and master key.
    // The stand-in listens on loopback, which the SSRF guard refuses by default.
    let settings = Settings {
        allow_private_targets: true,
        ..Settings::default()
    };
    let (app, store, access) = serving.app_beside(dir.path(), settings).await;
    let org = access.org_id();

    let file = dir.path().join("audience.csv");
    let mut csv = String::from("phone,first_name\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("{},Person {i}\n", phone(i)));
    }
    std::fs::write(&file, csv).unwrap();
    let import = app
        .admin_start_file_import(org, &file, ImportOptions::default())
        .await
        .unwrap();
    let outcome = app
        .run_import(
            import.id,
            ImportRun::File(file.clone()),
            Arc::new(AtomicU64::new(0)),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, RunOutcome::Completed), "{outcome:?}");

    // The status the flow closes with, defined before publishing.
    app.create_outcome_status(
        &access,
        parley_app::conversations::outcomes::NewOutcome {
            key: "done".into(),
            label: "Done".into(),
            category: "positive".into(),
            closes: true,
        },
    )
    .await
    .unwrap();
    let flow = app
        .create_flow(
            &access,
            r#"{"schema": 1, "name": "crash", "start": "ask", "steps": {
                "ask": {"type": "ask", "text": "Hello <<first_name>>, can you pay today?",
                        "save_as": "answer", "next": "bye"},
                "bye": {"type": "close", "status": "done", "text": "Thank you."}}}"#,
        )
        .await
        .unwrap()
        .flow
        .id;
    app.publish_flow(&access, flow).await.unwrap();
    let mut settings = serde_json::Map::new();
    settings.insert("account_sid".into(), SID.into());
    settings.insert("base_url".into(), standin.base_url.clone().into());
    let mut credentials = serde_json::Map::new();
    credentials.insert("auth_token".into(), TOKEN.into());
    let channel = app
        .create_channel(
            &access,
            NewChannel {
                provider: "twilio".into(),
                name: "Crash".into(),
                sender: "+447700900001".into(),
                rate_per_second: Some(10_000),
                settings,
                credentials,
                ..NewChannel::default()
            },
        )
        .await
        .unwrap()
        .channel
        .id;
    let campaign = app
        .create_campaign(
            &access,
            NewCampaign {
                name: "Crash".into(),
                audience: AudienceInput::Import(import.id),
                flow_id: flow,
                flow_version: None,
                channel_id: channel,
                start_at: None,
                end_at: None,
                window: WindowInput {
                    days: None,
                    opens: Some("00:00".into()),
                    closes: Some("24:00".into()),
                },
                rate_per_second: Some(10_000),
            },
        )
        .await
        .unwrap()
        .campaign
        .id;
    app.move_campaign(&access, campaign, Move::Start)
        .await
        .unwrap();

    // Three kills, at about a fifth, two fifths and three fifths of the way.
    let mut at_kills = Vec::new();
    for fifth in 1..=3 {
        let deadline = Instant::now() + Duration::from_secs(300);
        while standin.sent_count() < RECIPIENTS * fifth / 5 {
            assert!(
                Instant::now() < deadline,
                "no progress before kill {fifth}: {} sent",
                standin.sent_count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        serving.kill_hard();
        at_kills.push(standin.sent_count());
        serving = ParleyProcess::start(binary, dir.path(), &env);
    }

    // The restarted process finishes the campaign and hands over what was left.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let c = store.get_campaign(org, campaign).await.unwrap().unwrap();
        if c.status == CampaignStatus::Completed && standin.sent_count() >= RECIPIENTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "unfinished: campaign {:?}, {} of {RECIPIENTS} at the stand-in",
            c.status,
            standin.sent_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment more: a duplicate would arrive now if it were coming.
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(serving);

    let mut per_number: HashMap<String, usize> = HashMap::new();
    for sms in standin.sent() {
        *per_number.entry(sms.to).or_default() += 1;
    }
    let missing = (0..RECIPIENTS)
        .filter(|i| !per_number.contains_key(&phone(*i)))
        .count();
    let duplicates = per_number.values().filter(|n| **n > 1).count();
    println!(
        "campaign crash test: {RECIPIENTS} recipients, killed at {at_kills:?} messages, \
         {} requests answered from an earlier one by idempotency key, {missing} missing, \
         {duplicates} duplicates",
        standin.replays()
    );
    assert_eq!(missing, 0, "recipients without a first message");
    assert_eq!(duplicates, 0, "recipients with more than one first message");
    assert_eq!(per_number.len(), RECIPIENTS);
    let counts = store.campaign_counts(org, campaign).await.unwrap();
    assert_eq!(counts.sent, RECIPIENTS as u64, "{counts:?}");
}
