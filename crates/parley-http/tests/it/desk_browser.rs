//! The agent desk in a real browser: Debian's chromium, driven by npm's `playwright-core`
//! (`tests/browser/desk.mjs`), signs in as the bootstrap owner (a wrong password first),
//! finds a waiting conversation whose customer wrote hostile HTML, opens it and reads
//! those words as text (no script runs), takes it, replies (Enter sends), adds a note,
//! sets an outcome status and closes it, and signs out; axe-core finds no serious or
//! critical violation on any page, on a phone in the light theme and wide in the dark
//! one, no page is wider than the screen (a 10,000-character unbroken note included),
//! and no request leaves Parley's origin.
//!
//! Needs what the web-chat browser test needs (`.ci/run` installs it). `SCREENSHOTS=folder`
//! keeps pictures of the pages.

use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::{Value, json};

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)> \u{202E}olleh <a href=\"javascript:alert(3)\">pay</a>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_signs_in_reads_a_waiting_conversation_and_signs_out() {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    super::web::define_promise_to_pay(&t).await;
    super::web::waiting_conversation(&t, "+447911123456", HOSTILE).await;
    // A 10,000-character line with nowhere to break (a note may be that long): the page
    // must stay as wide as the screen.
    let token = t.owner_token().await;
    let listed = t.get("/api/v1/conversations", &token).await;
    let id = listed.json["data"][0]["id"].as_str().unwrap().to_owned();
    t.post_ok(
        &token,
        &format!("/api/v1/conversations/{id}/notes"),
        json!({"body": "W".repeat(10_000)}),
    )
    .await;
    // The workers run as under `parley serve`: an import made in the page completes.
    let workers = t.run_workers();
    let base = t.listen().await;
    let stdout = super::browser::run_script(
        "desk.mjs",
        &[
            ("BASE", base),
            ("EMAIL", "owner@example.test".to_owned()),
            ("PASSWORD", OWNER_PASSWORD.to_owned()),
            ("EXPECT", HOSTILE.to_owned()),
        ],
    )
    .await;
    workers.cancel();
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(
        summary["refused"],
        "That email and password do not match an account. Check both and try again."
    );
    assert_eq!(
        summary["thread"], HOSTILE,
        "the customer's text, exactly, as text"
    );
    assert_eq!(summary["scriptRan"], false);
    assert_eq!(
        summary["reply"], "Owner",
        "the reply is the agent's, by name"
    );
    assert_eq!(
        summary["closedHasReply"], false,
        "a closed conversation takes no reply"
    );
    assert_eq!(
        summary["integrationsChecked"], true,
        "a refused webhook keeps its ticked events"
    );
    assert_eq!(
        summary["keySecretShown"], true,
        "a new API key's secret is shown once"
    );
    assert_eq!(
        summary["inserted"], "Friday is fine.",
        "/fri then Enter puts the canned reply in the box in place of /fri"
    );
    assert_eq!(
        (summary["searchRows"].clone(), summary["searchBox"].clone()),
        (json!(1), json!("07911 123456")),
        "/ then the number finds the closed conversation"
    );
    assert_eq!(summary["violations"], json!([]), "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
    assert_eq!(summary["foreign"], json!([]), "{summary}");
}

/// Two people on the desk at once, with the job workers, the send queue and the live feed
/// running as `parley serve` runs them (see `tests/browser/desk_live.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_is_live_for_two_people() {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    t.create_user(
        org,
        "sam@example.test",
        "Sam Supervisor",
        "sam's password 1".into(),
        parley_domain::Role::Supervisor,
    )
    .await
    .unwrap();
    let channel = super::web::queue_channel(&t, &token).await;
    let cancel = t.run_workers();
    let base = t.listen().await;
    let stdout = super::browser::run_script(
        "desk_live.mjs",
        &[
            ("BASE", base),
            ("TOKEN", token),
            ("CHANNEL", channel),
            ("ANN", format!("owner@example.test:{OWNER_PASSWORD}")),
            ("SAM", "sam@example.test:sam's password 1".to_owned()),
        ],
    )
    .await;
    cancel.cancel();
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(
        (&summary["countBefore"], &summary["countAfter"]),
        (&json!("0"), &json!("1")),
        "Unassigned's count changes live"
    );
    assert_eq!(summary["reachedSam"], true, "{summary}");
    assert_eq!(summary["delivered"], true, "{summary}");
    assert_eq!(
        summary["afterLoss"],
        json!([1, 1, 1]),
        "each message once after the loss"
    );
    assert_eq!(summary["closedSeen"], true, "{summary}");
    assert_eq!(summary["violations"], json!([]), "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
    eprintln!(
        "a new conversation appeared in {} ms",
        summary["appearedMs"]
    );
}

/// The README's picture of the desk: named customers waiting, one taken and answered.
/// `README_SCREENSHOT=path` saves it (the README shows `docs/desk.png`, made with
/// `README_SCREENSHOT=$PWD/docs/desk.png cargo nextest run -p parley-http -E
/// 'test(the_readme_picture_of_the_desk)'`); the page passes axe-core either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_picture_of_the_desk() {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("balance", "money")]).await;
    let people = [
        (
            "Maria",
            "Lopez",
            "+447911100201",
            "I lost my job last month. Can I pay £50 a month instead?",
        ),
        (
            "Tom",
            "Becker",
            "+447911100202",
            "I already paid on Friday, why did I get this letter?",
        ),
        (
            "Aisha",
            "Khan",
            "+447911100203",
            "Can you call me after 5pm please",
        ),
        (
            "Lee",
            "Chen",
            "+447911100204",
            "What is the balance on my account?",
        ),
    ];
    for (first, last, phone, _) in &people {
        let body = json!({"fields": {"first_name": first, "last_name": last, "balance": "420.00"},
            "addresses": [{"kind": "sms", "address": phone}]});
        t.post_ok(&token, "/api/v1/contacts", body).await;
    }
    let channel = super::web::queue_channel(&t, &token).await;
    let cancel = t.run_workers();
    for (_, _, phone, text) in people.iter().rev() {
        t.post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": phone, "text": text}),
        )
        .await;
    }
    let base = t.listen().await;
    let mut env = vec![
        ("BASE", base),
        ("EMAIL", "owner@example.test".to_owned()),
        ("PASSWORD", OWNER_PASSWORD.to_owned()),
    ];
    if let Ok(out) = std::env::var("README_SCREENSHOT") {
        env.push(("OUT", out));
    }
    let stdout = super::browser::run_script("readme.mjs", &env).await;
    cancel.cancel();
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(summary["violations"], json!([]), "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_waiting_conversations_and_a_long_name_keep_the_desk_usable() {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let long = "Maximiliana Alexandrovna Featherstonehaugh-Cholmondeley-Smythe";
    let (first, last) = long.split_once(' ').unwrap();
    t.post_ok(
        &token,
        "/api/v1/contacts",
        json!({"fields": {"first_name": first, "last_name": last},
               "addresses": [{"kind": "sms", "address": "+447911200000"}]}),
    )
    .await;
    let channel = super::web::queue_channel(&t, &token).await;
    for i in 0..1_000 {
        t.post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": format!("+4479112{i:05}"), "text": format!("Question {i} about my account")}),
        )
        .await;
    }
    let base = t.listen().await;
    let stdout = super::browser::run_script(
        "desk_many.mjs",
        &[
            ("BASE", base),
            ("EMAIL", "owner@example.test".to_owned()),
            ("PASSWORD", OWNER_PASSWORD.to_owned()),
            ("LONG", long.to_owned()),
        ],
    )
    .await;
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(summary["counts"], json!(["1000", "1000"]), "{summary}");
    assert_eq!(summary["firstPage"], json!([50, 50]), "{summary}");
    assert_eq!(summary["secondPage"], json!([50, 50]), "{summary}");
    assert_eq!(summary["longTitle"], json!([long, long]), "{summary}");
    assert_eq!(summary["violations"], json!([]), "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
}
