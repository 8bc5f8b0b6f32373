//! The script runner fails on every kind of unmet expectation, naming the line.

use chrono::NaiveDate;
use serde_json::json;

use super::*;
use crate::{FlowDocument, validate};

fn flow() -> crate::Flow {
    let doc = FlowDocument::from_value(json!({
        "schema": 1, "name": "t", "start": "hi",
        "steps": {
            "hi": {"type": "message", "text": "Hi <<first_name>>", "next": "ask"},
            "ask": {"type": "ask", "text": "Amount?", "save_as": "amount", "expect": "money",
                    "timeout": "1h", "on_timeout": "late", "next": "get"},
            "get": {"type": "fetch", "fields": ["balance"], "next": "tag", "on_failure": "late"},
            "tag": {"type": "status", "status": "checked", "next": "bye"},
            "bye": {"type": "close", "status": "done", "text": "You owe <<balance>>"},
            "late": {"type": "queue", "queue": "people"}
        }
    }))
    .unwrap();
    validate(&doc, None).flow().cloned().unwrap()
}

fn run(script: &str) -> Result<Vec<DialogueReport>, String> {
    let settings = Settings::new(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
    run_script(&flow(), script, &settings).map_err(|e| e.to_string())
}

const GOOD: &str = "=== ok\ncontact: {\"first_name\": \"Sam\"}\nbot: Hi Sam\nbot: Amount?\ncustomer: £5\nfetch: {\"balance\": \"9\"}\nstatus: checked\nbot~: ^You owe 9$\nend: closed done\n";

#[test]
fn a_correct_script_passes() {
    let reports = run(GOOD).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].bot_messages, 3);
    assert_eq!(reports[0].steps, 5);
}

#[test]
fn each_unmet_expectation_names_its_line() {
    let cases = [
        (
            GOOD.replace("bot: Hi Sam", "bot: Hello Sam"),
            "line 3 (dialogue \"ok\"): expected the bot to say \"Hello Sam\", but the bot said \"Hi Sam\"",
        ),
        (
            GOOD.replace("bot: Amount?\n", ""),
            "line 4 (dialogue \"ok\"): the bot said \"Amount?\" before the customer's reply, which the script does not expect (add a line for it)",
        ),
        (
            GOOD.replace("end: closed done\n", ""),
            "line 8 (dialogue \"ok\"): the dialogue has no `end:` line saying how it ends",
        ),
        (
            GOOD.replace("end: closed done", "end: closed paid"),
            "line 9 (dialogue \"ok\"): expected the dialogue to end closed `paid`, but the flow closed with status `done`",
        ),
        (
            GOOD.replace("status: checked", "status: verified"),
            "line 7 (dialogue \"ok\"): expected status `verified`, but the flow tagged status `checked`",
        ),
        (
            GOOD.replace("customer: £5\n", "customer: £5\nafter: 1h\n"),
            "line 6 (dialogue \"ok\"): no timer is running (it waits for a fetch at step `get`)",
        ),
        (
            GOOD.replace("fetch: {\"balance\": \"9\"}", "customer: more"),
            "line 7 (dialogue \"ok\"): expected status `checked`, but nothing more happened (it waits for a fetch at step `get`)",
        ),
        (
            GOOD.replace("bot~: ^You owe 9$", "bot~: ^You owe 10$"),
            "line 8 (dialogue \"ok\"): expected the bot to say something matching /^You owe 10$/, but the bot said \"You owe 9\"",
        ),
        (
            "today: tomorrow\n=== x\nend: waiting\n".to_owned(),
            "line 1: `tomorrow` is not a date like 2026-11-21",
        ),
        (
            "=== x\nshout: hi\n".to_owned(),
            "line 2 (dialogue \"x\"): unknown line `shout`; see the script format in the README",
        ),
        (
            "# nothing\n".to_owned(),
            "line 1: the script has no dialogue (start one with `=== name`)",
        ),
        (
            "=== x\nbot: Hi\nbot: Amount?\nend: closed done\n".to_owned(),
            "line 4 (dialogue \"x\"): expected the dialogue to end closed `done`, but nothing more happened (it waits for the customer at step `ask`)",
        ),
    ];
    for (script, expected) in cases {
        assert_eq!(run(&script).unwrap_err(), expected, "{script}");
    }
}

#[test]
fn timers_fire_only_when_due() {
    let script = "=== late\nbot: Hi\nbot: Amount?\nafter: 30m\nend: waiting\n";
    assert_eq!(
        run(script).unwrap_err(),
        "line 4 (dialogue \"late\"): no timer is due within 30m (the next is due after 1h)"
    );
    let script = "=== late\nbot: Hi\nbot: Amount?\nafter: 2h\nend: queued people\n";
    assert!(run(script).is_ok());
}

#[test]
fn a_played_script_keeps_each_transcript_and_what_passed_before_a_failure() {
    let settings = Settings::new(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
    let played = play_script(&flow(), GOOD, &settings);
    assert!(played.failed.is_none());
    assert_eq!(
        played.passed[0].transcript,
        [
            "Bot: Hi Sam",
            "Bot: Amount?",
            "(a timer of 1h starts)",
            "You: £5",
            "(asks the custom value endpoint for balance)",
            "(the custom value endpoint answers: balance = 9)",
            "(outcome status set: checked)",
            "Bot: You owe 9",
            "(closed: done)",
        ]
    );
    let broken = format!(
        "{GOOD}{}",
        GOOD.replace("=== ok", "=== second")
            .replace("owe 9", "owe 8")
    );
    let played = play_script(&flow(), &broken, &settings);
    assert_eq!(played.passed.len(), 1, "the first dialogue passed");
    let (failure, transcript) = played.failed.expect("the second fails");
    assert_eq!(failure.dialogue.as_deref(), Some("second"));
    assert_eq!(failure.line, 17);
    assert_eq!(
        transcript.get(3).map(String::as_str),
        Some("You: £5"),
        "the transcript runs up to the failure: {transcript:?}"
    );
}
