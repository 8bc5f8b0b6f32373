//! The step form reads each type's fields from the document and writes them back: values,
//! renames with every way to the step, type changes, rules and values rows, new and
//! removed steps, every problem at once; and an unchanged form changes nothing.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn doc() -> String {
    json!({"schema": 1, "name": "t", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "Can you pay?", "save_as": "answer", "expect": "yes_no",
                "retries": 1, "timeout": "24h", "on_timeout": "agent", "next": "check"},
        "check": {"type": "branch", "rules": [{"when": "<<answer>> == \"yes\"", "next": "thanks"}],
                  "otherwise": "agent"},
        "thanks": {"type": "close", "status": "promised", "text": "Thank you."},
        "agent": {"type": "queue", "queue": "arrears"}}})
    .to_string()
}

/// The form's fields as posted pairs, with `name` and `type`.
fn posted(form: &StepForm) -> Vec<(String, String)> {
    [
        ("name".to_owned(), form.step.clone()),
        ("type".to_owned(), form.kind.clone()),
    ]
    .into_iter()
    .chain(form.fields.iter().map(|f| (f.key.clone(), f.value.clone())))
    .collect()
}

fn set(pairs: &mut [(String, String)], key: &str, value: &str) {
    let at = pairs.iter().position(|(k, _)| k == key).unwrap();
    pairs[at].1 = value.to_owned();
}

fn value(form: &StepForm, key: &str) -> String {
    form.fields
        .iter()
        .find(|f| f.key == key)
        .unwrap_or_else(|| panic!("no {key} in {form:?}"))
        .value
        .clone()
}

#[test]
fn an_ask_step_is_a_form_of_its_own_fields_and_is_written_back() {
    let form = step_form(&doc(), "ask", None).unwrap();
    assert_eq!((form.kind.as_str(), form.exists), ("ask", true));
    let keys: Vec<&str> = form.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "text",
            "save_as",
            "expect",
            "options",
            "retries",
            "retry_text",
            "timeout",
            "on_timeout",
            "next"
        ]
    );
    assert_eq!(value(&form, "retries"), "1");
    assert_eq!(value(&form, "expect"), "yes_no");
    assert_eq!(form.fields[0].label, "Question");

    let mut pairs = posted(&form);
    set(
        &mut pairs,
        "text",
        "  Can you pay today?\nReply YES or NO.  ",
    );
    set(&mut pairs, "retries", "2");
    set(&mut pairs, "timeout", "");
    set(&mut pairs, "on_timeout", "");
    let applied = apply_step_form(&doc(), "ask", &pairs).unwrap();
    let written = FlowDocument::parse(&applied.document).unwrap();
    let Step::Ask(ask) = &written.steps["ask"] else {
        panic!("still an ask")
    };
    assert_eq!(ask.text, "Can you pay today?\nReply YES or NO.");
    assert_eq!(
        (
            ask.retries,
            ask.timeout.as_deref(),
            ask.on_timeout.as_deref()
        ),
        (2, None, None)
    );
    assert!(
        applied.document.starts_with("{\n  \"schema\": 1"),
        "indented JSON"
    );
}

#[test]
fn every_problem_is_named_at_once_and_nothing_is_written() {
    let form = step_form(&doc(), "ask", None).unwrap();
    let mut pairs = posted(&form);
    set(&mut pairs, "retries", "many");
    set(&mut pairs, "expect", "maybe");
    set(&mut pairs, "name", "check");
    let Err(problems) = apply_step_form(&doc(), "ask", &pairs) else {
        panic!("refused")
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["name", "expect", "retries"], "in the form's order");
    set(&mut pairs, "name", "bad name!");
    let Err(problems) = apply_step_form(&doc(), "ask", &pairs) else {
        panic!("refused")
    };
    assert!(problems[0].message.contains("letters, digits"));
    let Err(problems) = apply_step_form("{\"schema\": 1", "ask", &pairs) else {
        panic!("refused")
    };
    assert_eq!(problems[0].field, "document");
}

#[test]
fn renaming_a_step_renames_every_way_to_it_and_the_start() {
    let form = step_form(&doc(), "agent", None).unwrap();
    let mut pairs = posted(&form);
    set(&mut pairs, "name", "people");
    let applied = apply_step_form(&doc(), "agent", &pairs).unwrap();
    assert_eq!(applied.step, "people");
    let written = FlowDocument::parse(&applied.document).unwrap();
    assert!(!written.steps.contains_key("agent"));
    let Step::Ask(ask) = &written.steps["ask"] else {
        panic!()
    };
    assert_eq!(ask.on_timeout.as_deref(), Some("people"));
    let Step::Branch(b) = &written.steps["check"] else {
        panic!()
    };
    assert_eq!(b.otherwise, "people");

    let form = step_form(&doc(), "ask", None).unwrap();
    let mut pairs = posted(&form);
    set(&mut pairs, "name", "first");
    let written =
        FlowDocument::parse(&apply_step_form(&doc(), "ask", &pairs).unwrap().document).unwrap();
    assert_eq!(written.start, "first");
}

#[test]
fn a_type_change_keeps_the_shared_values_and_rules_rows_come_and_go() {
    let form = step_form(&doc(), "thanks", Some("message")).unwrap();
    assert_eq!(form.kind, "message");
    assert_eq!(value(&form, "text"), "Thank you.");
    let mut pairs = posted(&form);
    set(&mut pairs, "next", "agent");
    let written =
        FlowDocument::parse(&apply_step_form(&doc(), "thanks", &pairs).unwrap().document).unwrap();
    assert_eq!(written.steps["thanks"].type_name(), "message");
    assert_eq!(written.steps["thanks"].targets(), ["agent"]);

    let form = step_form(&doc(), "check", None).unwrap();
    let keys: Vec<&str> = form.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rules[0].when",
            "rules[0].next",
            "rules[1].when",
            "rules[1].next",
            "otherwise"
        ],
        "one blank row to add a rule"
    );
    let parts: Vec<Part> = form.fields.iter().map(|f| f.part).collect();
    assert_eq!(
        parts,
        [
            Part::First,
            Part::Second,
            Part::First,
            Part::Second,
            Part::Alone
        ],
        "a rule's condition and step are the halves of a row"
    );
    let mut pairs = posted(&form);
    set(&mut pairs, "rules[0].when", "");
    set(&mut pairs, "rules[0].next", "");
    set(&mut pairs, "rules[1].when", "<<answer>> == \"no\"");
    set(&mut pairs, "rules[1].next", "agent");
    let written =
        FlowDocument::parse(&apply_step_form(&doc(), "check", &pairs).unwrap().document).unwrap();
    let Step::Branch(b) = &written.steps["check"] else {
        panic!()
    };
    assert_eq!(b.rules.len(), 1, "the blank row is dropped");
    assert_eq!(b.rules[0].when, "<<answer>> == \"no\"");
}

#[test]
fn a_missing_step_is_made_and_a_step_removed() {
    let form = step_form(&doc(), "later", None).unwrap();
    assert_eq!((form.kind.as_str(), form.exists), ("message", false));
    let mut pairs = posted(&form);
    set(&mut pairs, "text", "Talk soon.");
    set(&mut pairs, "next", "agent");
    let applied = apply_step_form(&doc(), "later", &pairs).unwrap();
    assert!(
        FlowDocument::parse(&applied.document)
            .unwrap()
            .steps
            .contains_key("later")
    );

    let removed = remove_step(&doc(), "thanks").unwrap();
    assert!(
        !FlowDocument::parse(&removed)
            .unwrap()
            .steps
            .contains_key("thanks")
    );
    assert!(remove_step(&doc(), "nowhere").is_err());

    let form = step_form(&doc(), "x", Some("set")).unwrap();
    let mut pairs = posted(&form);
    set(&mut pairs, "values[0].expr", "1");
    let Err(problems) = apply_step_form(&doc(), "x", &pairs) else {
        panic!("a value needs a name")
    };
    assert_eq!(problems[0].field, "values[0].name");
}

#[test]
fn each_example_flows_steps_come_back_unchanged_through_their_forms() {
    for text in [
        include_str!("../../../../examples/flows/arrears_reminder.json"),
        include_str!("../../../../examples/flows/inbound_triage.yaml"),
        include_str!("../../../../examples/flows/promise_to_pay.json"),
    ] {
        let before = FlowDocument::parse(text).unwrap();
        for name in before.steps.keys() {
            let form = step_form(text, name, None).unwrap();
            let after = apply_step_form(text, name, &posted(&form)).unwrap();
            assert_eq!(
                FlowDocument::parse(&after.document).unwrap(),
                before,
                "step {name}"
            );
        }
    }
}

fn a_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9<>_ .,!?£\"]{0,40}".prop_map(|s| s.trim().to_owned())
}

proptest! {
    /// Whatever is typed into a step's form is what the form shows after it is written.
    #[test]
    fn what_is_typed_is_what_the_form_reads_back(
        kind in prop::sample::select(STEP_TYPES.to_vec()),
        values in prop::collection::vec(a_text(), 24),
        retries in 0u8..=255,
    ) {
        let form = step_form(&doc(), "ask", Some(kind)).unwrap();
        let mut pairs = posted(&form);
        for (i, (key, value)) in pairs.iter_mut().enumerate().skip(2) {
            *value = match key.as_str() {
                "retries" => retries.to_string(),
                "expect" => "money".to_owned(),
                "options" | "fields" => values[i % 24].replace(',', " "),
                _ => values[i % 24].clone(),
            };
        }
        let applied = apply_step_form(&doc(), "ask", &pairs);
        let Ok(applied) = applied else {
            // Only a value given no name (a set step's row) may be refused here.
            let Err(p) = applied else { panic!("{applied:?}") };
            prop_assert!(p.iter().all(|p| p.field.starts_with("values[")), "{p:?}");
            return Ok(());
        };
        let again = step_form(&applied.document, "ask", None).unwrap();
        prop_assert_eq!(&again.kind, kind);
        for field in &again.fields {
            let typed = pairs.iter().find(|(k, _)| *k == field.key).map(|(_, v)| v.trim());
            if let Some(typed) = typed {
                if field.key.starts_with("rules[") || field.key.starts_with("values[") {
                    continue; // rows are renumbered when a blank one is dropped
                }
                prop_assert_eq!(field.value.trim(), typed, "{}", field.key);
            }
        }
    }
}
