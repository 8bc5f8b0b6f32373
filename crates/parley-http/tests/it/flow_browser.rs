//! The flow editor with the example flows in a real browser (`tests/browser/flows.mjs`):
//! each opened from Flows and drawn with a box per step; a branch's condition broken as
//! typed and found at its step, line and column, then fixed; a placeholder completed after
//! `<<` from the organization's fields; a step opened from the drawing, renamed in its form
//! and written into the document; the draft published; its dialogue script chosen as a file
//! and played to the end, every dialogue passing. axe-core finds nothing serious, light or
//! dark, and the editor fits a phone.
//!
//! `README_FLOW_SCREENSHOT=path` also saves the README's picture of the editor (the README
//! shows `docs/flow-editor.png`, made with `README_FLOW_SCREENSHOT=$PWD/docs/flow-editor.png
//! cargo nextest run -p parley-http -E 'test(/flow_browser/)'`).

use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::{Value, json};

const EXAMPLES: [(&str, &str, &str, &str); 3] = [
    (
        "Promise to pay",
        include_str!("../../../../examples/flows/promise_to_pay.json"),
        "promise_to_pay.test",
        include_str!("../../../../examples/flows/promise_to_pay.test"),
    ),
    (
        "Arrears reminder",
        include_str!("../../../../examples/flows/arrears_reminder.json"),
        "arrears_reminder.test",
        include_str!("../../../../examples/flows/arrears_reminder.test"),
    ),
    (
        "Inbound triage",
        include_str!("../../../../examples/flows/inbound_triage.yaml"),
        "inbound_triage.test",
        include_str!("../../../../examples/flows/inbound_triage.test"),
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_example_flow_is_drawn_broken_fixed_edited_published_and_its_script_played_in_chromium()
 {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    t.define_fields(
        &token,
        &[
            ("balance", "money"),
            ("postcode", "text"),
            ("date_of_birth", "date"),
        ],
    )
    .await;
    let mut flows = Vec::new();
    for (name, text, script_name, script) in EXAMPLES {
        let kind = if text.starts_with('{') {
            "application/json"
        } else {
            "application/yaml"
        };
        let request = http::Request::post("/api/v1/flows")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", kind)
            .body(axum::body::Body::from(text))
            .unwrap();
        let made = t.send(request).await;
        assert_eq!(made.status.as_u16(), 201, "{name}: {}", made.json);
        t.define_flow_names(&token, &made.json["draft"]).await;
        flows.push(json!({"name": name, "scriptName": script_name, "script": script}));
    }
    let base = t.listen().await;
    let mut env = vec![
        ("BASE", base),
        ("EMAIL", "owner@example.test".to_owned()),
        ("PASSWORD", OWNER_PASSWORD.to_owned()),
        ("FLOWS", Value::Array(flows).to_string()),
    ];
    if let Ok(out) = std::env::var("README_FLOW_SCREENSHOT") {
        env.push(("OUT", out));
    }
    let stdout = super::browser::run_script("flows.mjs", &env).await;
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    eprintln!("{summary:#}");
    assert_eq!(summary["violations"], json!([]), "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
    assert_eq!(summary["phoneOverflow"], json!(false), "{summary}");
    for (name, text, _, script) in EXAMPLES {
        let seen = &summary["flows"][name];
        let steps = text.matches("\"type\":").count() + text.matches("type: ").count();
        assert_eq!(seen["boxes"].as_u64(), Some(steps as u64), "{name}: {seen}");
        assert!(
            seen["arrows"].as_u64() >= Some(steps as u64 - 1),
            "{name}: {seen}"
        );
        assert_eq!(
            seen["clean"], "No findings: the flow can be published.",
            "{name}"
        );
        let finding = seen["finding"].as_str().unwrap();
        let line = seen["brokenLine"].as_u64().unwrap();
        assert!(
            finding.starts_with("Error steps.")
                && finding.contains(&format!(".when, line {line}, column "))
                && finding.contains("condition:"),
            "{name}: {finding}"
        );
        assert!(
            seen["offered"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o.as_str().unwrap().contains("<<first_name>>")),
            "{name}: {seen}"
        );
        assert_eq!(seen["completed"], true, "{name}: {seen}");
        let labels = seen["formFields"].to_string();
        assert!(
            labels.contains("Step name")
                && labels.contains("Rule 1: when")
                && labels.contains("Otherwise go to"),
            "{name}: a branch's form: {labels}"
        );
        assert!(
            seen["selected"].is_string(),
            "the step is drawn as chosen: {seen}"
        );
        assert_eq!(seen["renamed"], true, "{name}: {seen}");
        assert_eq!(
            seen["afterRename"],
            "No findings: the flow can be published."
        );
        assert_eq!(seen["published"], "Published as version 1.", "{name}");
        let dialogues = script.matches("\n===").count() + usize::from(script.starts_with("==="));
        assert_eq!(
            seen["played"],
            format!(
                "All {dialogues} {} passed.",
                if dialogues == 1 {
                    "dialogue"
                } else {
                    "dialogues"
                }
            ),
            "{name}: {seen}"
        );
        assert_eq!(
            seen["dialogues"].as_array().unwrap().len(),
            dialogues,
            "{name}"
        );
        let transcript = seen["firstTranscript"].as_array().unwrap();
        assert!(
            transcript
                .iter()
                .any(|l| l.as_str().unwrap().starts_with("Bot: "))
                && transcript
                    .last()
                    .is_some_and(|l| l.as_str().unwrap().starts_with('(')),
            "{name}: played to its end: {transcript:?}"
        );
    }
}
