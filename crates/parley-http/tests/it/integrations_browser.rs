//! The seed's path end to end in a real browser (`tests/browser/integrations.mjs`): sign
//! in → Integrations → **Add webhook** to a local receiver with two events → **Test** with
//! each of the five kinds; the receiver's requests are each verified with the Standard
//! Webhooks reference library (Python's `standardwebhooks`) against the secret the page
//! showed once, and the page showed each answer. axe-core finds no serious or critical
//! violation on the pages, light or dark.

use parley_testkit::{OWNER_PASSWORD, Receiver, TestApp};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_webhook_path_in_chromium_verified_by_the_standard_webhooks_library() {
    if !super::browser::available() {
        return;
    }
    assert!(
        parley_testkit::tools::python_standardwebhooks(),
        "Python's standardwebhooks is needed: python3 -m pip install standardwebhooks==1.1.0 (.ci/run does)"
    );
    let t = TestApp::with_settings(|s| s.allow_private_targets = true).await;
    // The reference library refuses a timestamp five minutes away from its own clock.
    t.clock.set(chrono::Utc::now());
    let receiver = Receiver::start().await;
    let base = t.listen().await;
    let stdout = super::browser::run_script(
        "integrations.mjs",
        &[
            ("BASE", base),
            ("EMAIL", "owner@example.test".to_owned()),
            ("PASSWORD", OWNER_PASSWORD.to_owned()),
            ("RECEIVER", receiver.url.clone()),
        ],
    )
    .await;
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(summary["violations"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["errors"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["foreign"], serde_json::json!([]), "{summary}");
    let secret = summary["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{summary}");
    assert!(
        summary["events"]
            .as_str()
            .unwrap()
            .contains("setStatus, conversationClosed"),
        "{summary}"
    );
    let results = summary["results"].as_array().unwrap();
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ping",
            "inboundMessage",
            "deliveryReport",
            "setStatus",
            "customValueRequest"
        ]
    );
    for r in results {
        let text = r["text"].as_str().unwrap();
        assert!(
            text.contains(": 200 in "),
            "the page shows the answer: {text}"
        );
    }
    let received = receiver
        .wait_for(5, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(received.len(), 5);
    for (request, kind) in received.iter().zip(&kinds) {
        let headers: Vec<(String, String)> =
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
                .iter()
                .map(|n| ((*n).to_owned(), request.header(n).to_owned()))
                .collect();
        assert!(
            parley_testkit::standard_webhooks_accepts(secret, &headers, &request.body),
            "{kind}: the reference library verifies the signature"
        );
        assert!(
            !parley_testkit::standard_webhooks_accepts(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                &headers,
                &request.body
            ),
            "{kind}: and refuses another secret"
        );
    }
}
