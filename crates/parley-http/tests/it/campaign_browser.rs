//! A messy file to a finished campaign in a real browser (`tests/browser/campaign.mjs`):
//! the file previewed and imported with its Account column mapped to the customer id, its
//! two bad rows rejected with reasons; a campaign made from the import with the audience
//! counted live, started, paused (sending stops), resumed and completed, its counters
//! moving on the page without a reload; the campaign's flow opened in the editor, drawn,
//! checked again as it is typed, and tried as a customer; axe-core finds nothing serious, light or dark.
//! The job workers, the send queue and the campaign dispatcher run as `parley serve`
//! runs them.

use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::{Value, json};

const ROWS: u64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messy_file_becomes_a_campaign_that_is_paused_resumed_and_completed_in_chromium() {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("balance", "money"), ("due_date", "date")])
        .await;
    super::campaigns::flow(&t, &token).await;
    super::campaigns::fast_sim(&t, &token).await;
    let workers = t.run_workers();
    let dispatcher = tokio_util::sync::CancellationToken::new();
    t.app.start_campaigns(dispatcher.clone());
    let base = t.listen().await;
    let stdout = super::browser::run_script(
        "campaign.mjs",
        &[
            ("BASE", base),
            ("EMAIL", "owner@example.test".to_owned()),
            ("PASSWORD", OWNER_PASSWORD.to_owned()),
            ("ROWS", ROWS.to_string()),
        ],
    )
    .await;
    dispatcher.cancel();
    workers.cancel();
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(summary["violations"], json!([]), "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
    assert_eq!(
        summary["phoneOverflow"],
        json!([]),
        "no page wider than a phone"
    );
    assert_eq!(
        (summary["imported"].as_u64(), summary["rejected"].as_u64()),
        (Some(ROWS), Some(2)),
        "{summary}"
    );
    let reasons = summary["rejectReasons"].as_str().unwrap();
    assert!(
        reasons.contains("not a number") && reasons.contains("lots"),
        "{reasons}"
    );
    assert_eq!(summary["audience"], format!("{ROWS} contacts"));
    assert_eq!(summary["pausedHeld"], true, "{summary}");
    let seen: Vec<u64> = summary["sentSeen"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(
        seen[0] >= 3 && seen[0] < ROWS,
        "seen climbing live: {seen:?}"
    );
    assert_eq!(seen.last().copied(), Some(ROWS), "{seen:?}");
    assert_eq!(summary["done"], format!("{ROWS} of {ROWS} recipients done"));
    assert!(
        summary["flowFindings"]
            .as_str()
            .unwrap()
            .contains("No findings"),
        "{summary}"
    );
    assert!(
        summary["flowTyped"].as_str().unwrap().contains("nowhere"),
        "the findings follow the typing: {summary}"
    );
    let tried = summary["tried"].as_str().unwrap();
    assert!(
        tried.contains("Bot: Hello Alex, can you pay today?")
            && tried.contains("You: yes")
            && tried.contains("Bot: Thank you."),
        "Try it: {tried}"
    );
    // The mapping seen was the mapping used, the values read as the file wrote them.
    let contacts = t.get("/api/v1/contacts?limit=100", &token).await.json;
    let first = contacts["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == "AC-1")
        .cloned()
        .unwrap_or_else(|| panic!("AC-1 by its Account: {contacts}"));
    assert_eq!(first["fields"]["balance"], "1.50");
    assert_eq!(first["fields"]["due_date"], "2026-12-02");
}
