//! `parley flow check|test` as a user meets them: the example flows pass their scripts,
//! a wrong script or a broken flow fails with exit 1 and a message naming the line or step.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows")
}

fn parley(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_example_passes_flow_check_and_flow_test() {
    for (flow, script) in [
        ("arrears_reminder.json", "arrears_reminder.test"),
        ("inbound_triage.yaml", "inbound_triage.test"),
        ("promise_to_pay.json", "promise_to_pay.test"),
    ] {
        let flow = examples().join(flow);
        let (ok, out) = parley(&["flow", "check", path(&flow)]);
        assert!(ok, "{out}");
        assert!(out.contains(": ok, "), "{out}");
        let (ok, out) = parley(&["flow", "test", path(&flow), path(&examples().join(script))]);
        assert!(ok, "{out}");
        assert!(
            out.contains("dialogue(s)") && !out.contains("FAILED"),
            "{out}"
        );
    }
}

#[test]
fn a_wrong_script_fails_with_the_line_and_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("wrong.test");
    std::fs::write(
        &script,
        "today: 2026-11-21\n=== verified customer pays\n\
         contact: {\"first_name\": \"Sam\", \"customer_id\": \"AC-1\", \"date_of_birth\": \"1980-02-01\"}\n\
         bot: Hi Sam\nbot: date of birth\ncustomer: 01/02/1980\nbot: Your balance is\nend: closed payment_link_sent\n",
    )
    .unwrap();
    let flow = examples().join("arrears_reminder.json");
    let (ok, out) = parley(&["flow", "test", path(&flow), path(&script)]);
    assert!(!ok, "a wrong script must fail: {out}");
    assert!(
        out.contains(
            "wrong.test: FAILED at line 7 (dialogue \"verified customer pays\"): expected the bot to say \"Your balance is\", but the bot said \"Thanks. And your postcode?\""
        ),
        "{out}"
    );
    assert!(out.contains("error: 1 of 1 script(s) failed"), "{out}");
}

#[test]
fn a_broken_flow_fails_check_naming_step_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("broken.yaml");
    std::fs::write(
        &flow,
        "schema: 1\nname: broken\nstart: a\nsteps:\n  a:\n    type: branch\n    rules:\n      - when: '<<x>> =='\n        next: b\n    otherwise: a\n",
    )
    .unwrap();
    let (ok, out) = parley(&["flow", "check", path(&flow)]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("broken.yaml: error[condition] step `a`, rules[0].when, column 9: expected a value after `==`"),
        "{out}"
    );
    assert!(
        out.contains(
            "broken.yaml: error[unknown_step] step `a`, rules[0].next: no step is named `b`"
        ),
        "{out}"
    );
    // A flow with errors is not run by `flow test`.
    let (ok, out) = parley(&["flow", "test", path(&flow), path(&flow)]);
    assert!(!ok && out.contains("3 error(s); fix them first"), "{out}");
}

#[test]
fn unknown_fields_are_checked_against_a_contact_row() {
    let dir = tempfile::tempdir().unwrap();
    let row = dir.path().join("row.json");
    std::fs::write(
        &row,
        r#"{"first_name": "Sam", "date_of_birth": "1980-02-01", "postcode": "SW1A 1AA"}"#,
    )
    .unwrap();
    let flow = examples().join("arrears_reminder.json");
    let (ok, out) = parley(&["flow", "check", path(&flow), "--contact", path(&row)]);
    assert!(ok, "{out}");
    let (ok, out) = parley(&["flow", "check", path(&flow), "--fields", "date_of_birth"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("`<<postcode>>` is not a variable of this flow"),
        "{out}"
    );
}

#[test]
fn queues_and_statuses_are_checked_against_the_organizations() {
    let flow = examples().join("arrears_reminder.json");
    let (ok, out) = parley(&[
        "flow",
        "check",
        path(&flow),
        "--queues",
        "collections",
        "--statuses",
        "verified,idv_failed,no_response",
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("error[unknown_queue] step `plan`, queue: queue `arrangements`"),
        "{out}"
    );
    assert!(
        out.contains("error[unknown_status] step `done`, status: status `payment_link_sent`"),
        "{out}"
    );
    let (ok, out) = parley(&[
        "flow",
        "check",
        path(&flow),
        "--queues",
        "collections,arrangements",
        "--statuses",
        "verified,idv_failed,no_response,payment_link_sent",
    ]);
    assert!(ok, "{out}");
}

/// `flow chat` without `--contact` says which contact fields the flow reads will be empty,
/// and not the flow's own variables or platform names.
#[test]
fn flow_chat_without_a_contact_warns_of_empty_fields() {
    let flow = examples().join("arrears_reminder.json");
    let (_, text) = parley(&["flow", "chat", path(&flow)]);
    let warning = text
        .lines()
        .find(|l| l.starts_with("warning: no --contact given"))
        .unwrap_or_else(|| panic!("a warning: {text}"));
    for field in [
        "<<first_name>>",
        "<<customer_id>>",
        "<<date_of_birth>>",
        "<<postcode>>",
    ] {
        assert!(warning.contains(field), "{field}: {warning}");
    }
    for own in [
        "<<organization_name>>",
        "<<dob_reply>>",
        "<<postcode_reply>>",
    ] {
        assert!(!warning.contains(own), "{own}: {warning}");
    }
}
