//! Webhook durability: `parley serve` is SIGKILLed while it delivers 20,000 events, then
//! restarted. The receiver must end with every event id at least once, and only the
//! deliveries in flight at the kill may arrive twice: those the receiver had taken but
//! whose answer the dead process had not yet recorded (they are sent again when their
//! lease ends). The test prints the figures and asserts that every repeated id was one of
//! those.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use parley_app::Settings;
use parley_app::webhooks::NewWebhook;
use parley_domain::{EventId, EventType, NewEvent};
use parley_testkit::{ParleyProcess, Receiver};

const EVENTS: usize = 20_000;

/// Distinct ids received and the total number of requests.
fn tally(receiver: &Receiver) -> (HashMap<String, u32>, usize) {
    let received = receiver.received();
    let mut ids = HashMap::new();
    for r in &received {
        *ids.entry(r.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    (ids, received.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn process_sigkill_during_webhook_delivery_loses_no_event() {
    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PARLEY_OUTBOUND__ALLOW_PRIVATE_TARGETS", "true".to_owned()),
        // A short timeout makes a short lease (2 × timeout + 5 s): the restart resends
        // what was in flight without a long wait.
        ("PARLEY_WEBHOOKS__TIMEOUT", "2s".to_owned()),
    ];
    let receiver = Receiver::start().await;
    let first = ParleyProcess::start(binary, dir.path(), &env);

    // An endpoint, made through the use case as an administrator would, in this process
    // over the same database and master key.
    let settings = Settings {
        allow_private_targets: true,
        ..Settings::default()
    };
    let (app, store, access) = first.app_beside(dir.path(), settings).await;
    app.create_webhook(
        &access,
        NewWebhook {
            url: receiver.url.clone(),
            enabled: true,
            ..NewWebhook::default()
        },
    )
    .await
    .unwrap();

    let org = access.org_id();
    let events: Vec<NewEvent> = (0..EVENTS)
        .map(|n| NewEvent {
            id: EventId::generate(),
            organization_id: org,
            event_type: EventType::SetStatus,
            timestamp: chrono::Utc::now(),
            data: serde_json::json!({"conversation_id": format!("conv_{n}")}),
        })
        .collect();
    for chunk in events.chunks(1000) {
        store.append_events(chunk).await.unwrap();
    }

    // Kill it mid-way.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (ids, _) = tally(&receiver);
        if ids.len() >= EVENTS / 5 {
            assert!(
                ids.len() < EVENTS,
                "the kill must land before the work is over"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first process made no progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill_hard();
    let (received_at_kill, _) = tally(&receiver);
    let at_kill = received_at_kill.len();
    // In flight at the kill: taken by the receiver, not recorded as delivered.
    let out = std::process::Command::new("sqlite3")
        .arg(dir.path().join("parley.db"))
        .arg("SELECT event_id FROM webhook_deliveries WHERE status = 'delivered'")
        .output()
        .expect("the sqlite3 shell (.ci/run installs it)");
    let recorded: std::collections::HashSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let in_flight: std::collections::HashSet<&String> = received_at_kill
        .keys()
        .filter(|id| !recorded.contains(*id))
        .collect();

    let _second = ParleyProcess::start(binary, dir.path(), &env);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (ids, total) = tally(&receiver);
        if ids.len() == EVENTS {
            let repeated: Vec<&String> = ids
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(id, _)| id)
                .collect();
            println!(
                "webhook crash test: {EVENTS} events, {at_kill} delivered before the kill \
                 ({} of them recorded), {} in flight at the kill, {total} requests in all, \
                 {} ids delivered more than once",
                recorded.len(),
                in_flight.len(),
                repeated.len()
            );
            let outside: Vec<_> = repeated
                .iter()
                .filter(|id| !in_flight.contains(**id))
                .collect();
            assert!(
                outside.is_empty(),
                "{} ids were delivered again although their delivery was recorded: {:?}",
                outside.len(),
                outside.iter().take(5).collect::<Vec<_>>()
            );
            assert!(repeated.len() <= in_flight.len());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the restart only {} of {EVENTS} ids arrived",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (ids, _) = tally(&receiver);
    let missing: Vec<_> = events
        .iter()
        .filter(|e| !ids.contains_key(&e.id.to_string()))
        .collect();
    assert!(missing.is_empty(), "{} events never arrived", missing.len());
}
