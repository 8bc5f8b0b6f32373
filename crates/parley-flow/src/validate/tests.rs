//! One test per validation rule, each asserting the exact diagnostic.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

fn doc(start: &str, steps: serde_json::Value) -> FlowDocument {
    let mut value = json!({"schema": 1, "name": "t", "start": start});
    value["steps"] = steps;
    FlowDocument::from_value(value).expect("the test document has the right shape")
}

fn org_fields() -> BTreeSet<String> {
    ["date_of_birth", "balance"].map(str::to_owned).into()
}

fn diagnostics(start: &str, steps: serde_json::Value) -> Vec<String> {
    validate(&doc(start, steps), Some(&org_fields()))
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_sound_flow_has_no_diagnostics_and_is_publishable() {
    let d = doc(
        "ask",
        json!({
            "ask": {"type": "ask", "text": "DOB, <<first_name>>?", "save_as": "dob", "expect": "date",
                    "timeout": "24h", "on_timeout": "bye", "next": "check"},
            "check": {"type": "branch", "rules": [{"when": "<<dob>> == <<date_of_birth>>", "next": "bye"}],
                      "otherwise": "ask"},
            "bye": {"type": "close", "status": "done"}
        }),
    );
    let v = validate(&d, Some(&org_fields()));
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
    assert!(v.is_publishable());
    assert_eq!(v.into_publishable().map(|f| f.len()), Some(3));
}

#[test]
fn unknown_step_references() {
    assert_eq!(
        diagnostics(
            "hello",
            json!({
                "hello": {"type": "message", "text": "hi", "next": "ask_dbo"},
                "b": {"type": "branch", "rules": [{"when": "true", "next": "nowhere"}], "otherwise": "hello"}
            })
        ),
        [
            "error[unknown_step] step `b`, rules[0].next: no step is named `nowhere`",
            "error[unknown_step] step `hello`, next: no step is named `ask_dbo`",
            "warning[unreachable_step] step `b`: no path from `hello` reaches this step",
        ]
    );
    assert_eq!(
        diagnostics("missing", json!({"a": {"type": "close", "status": "x"}})),
        ["error[unknown_step] start: no step is named `missing`"]
    );
}

#[test]
fn unreachable_steps_are_warnings_only() {
    let steps = json!({
        "a": {"type": "close", "status": "x"},
        "orphan": {"type": "message", "text": "never", "next": "a"}
    });
    assert_eq!(
        diagnostics("a", steps.clone()),
        ["warning[unreachable_step] step `orphan`: no path from `a` reaches this step"]
    );
    assert!(validate(&doc("a", steps), None).is_publishable());
}

#[test]
fn condition_parse_errors_give_the_column() {
    assert_eq!(
        diagnostics(
            "check_dob",
            json!({
                "check_dob": {"type": "branch", "rules": [
                    {"when": "true", "next": "end"},
                    {"when": "<<dob_reply>> == ", "next": "end"}], "otherwise": "end"},
                "end": {"type": "close", "status": "x"}
            })
        ),
        [
            "error[condition] step `check_dob`, rules[1].when, column 18: expected a value after `==`"
        ]
    );
    assert_eq!(
        diagnostics(
            "s",
            json!({
                "s": {"type": "set", "values": {"n": "len(<<balance>>"}, "next": "end"},
                "end": {"type": "close", "status": "x"}
            })
        ),
        ["error[condition] step `s`, values.n, column 4: `(` is not closed"]
    );
}

#[test]
fn template_parse_errors_give_the_column() {
    assert_eq!(
        diagnostics(
            "hello",
            json!({
                "hello": {"type": "message", "text": "Hi <<first_name>, welcome", "next": "end"},
                "end": {"type": "close", "status": "x", "text": "Bye <<>>"}
            })
        ),
        [
            "error[template] step `end`, text, column 7: empty placeholder; write a field name between `<<` and `>>`",
            "error[template] step `hello`, text, column 4: `<<` is not closed by `>>`",
        ]
    );
}

#[test]
fn duration_errors_give_the_column() {
    assert_eq!(
        diagnostics(
            "w",
            json!({
                "w": {"type": "wait", "duration": "2 days", "next": "end"},
                "end": {"type": "close", "status": "x"}
            })
        ),
        [
            "error[duration] step `w`, duration, column 4: unexpected character; units are s, m, h, d and w"
        ]
    );
}

#[test]
fn unknown_fields_are_named_where_used() {
    assert_eq!(
        diagnostics(
            "hello",
            json!({
                "hello": {"type": "message", "text": "Hi <<frist_name>>, you owe <<balance>>", "next": "f"},
                "f": {"type": "fetch", "fields": ["next_payment_date"], "next": "b", "on_failure": "end"},
                "b": {"type": "branch", "rules": [{"when": "<<next_payment_date>> > today() and <<colour>> == 'red'", "next": "end"}], "otherwise": "end"},
                "end": {"type": "close", "status": "x", "text": "<<portal_url>> <<organization_name>> <<fetch_error>>"}
            })
        ),
        [
            "error[unknown_field] step `b`, rules[0].when: `<<colour>>` is not a variable of this flow, a built-in or a contact field of the organization",
            "error[unknown_field] step `hello`, text: `<<frist_name>>` is not a variable of this flow, a built-in or a contact field of the organization",
        ]
    );
}

#[test]
fn loops_that_never_wait_are_errors() {
    assert_eq!(
        diagnostics(
            "a",
            json!({
                "a": {"type": "message", "text": "again", "next": "b"},
                "b": {"type": "status", "status": "looping", "next": "a"},
                "ask": {"type": "ask", "text": "?", "save_as": "x", "next": "ask"},
                "self": {"type": "set", "values": {"n": "1"}, "next": "self"}
            })
        ),
        [
            "error[loop_without_wait] step `a`: `a` → `b` → `a` loop without waiting for the customer; add an `ask` or a `wait` step to the loop",
            "error[loop_without_wait] step `self`: `self` → `self` loop without waiting for the customer; add an `ask` or a `wait` step to the loop",
            "warning[unreachable_step] step `ask`: no path from `a` reaches this step",
            "warning[unreachable_step] step `self`: no path from `a` reaches this step",
        ]
    );
    // A loop through a wait (polling) is fine.
    assert_eq!(
        diagnostics(
            "poll",
            json!({
                "poll": {"type": "fetch", "fields": ["balance"], "next": "pause", "on_failure": "pause"},
                "pause": {"type": "wait", "duration": "1h", "next": "poll"}
            })
        ),
        Vec::<String>::new()
    );
}

#[test]
fn step_shapes() {
    assert_eq!(
        diagnostics(
            "a",
            json!({
                "a": {"type": "ask", "text": "?", "save_as": "today", "expect": "choice", "retries": 11,
                      "timeout": "1h", "next": "b"},
                "b": {"type": "ask", "text": "?", "save_as": "x y", "options": ["1"], "on_timeout": "a", "next": "c"},
                "c": {"type": "fetch", "fields": [], "next": "d", "on_failure": "d"},
                "d": {"type": "status", "status": "paid in full", "next": "e"},
                "e": {"type": "queue", "queue": ""}
            })
        ),
        [
            "error[step_shape] step `a`, options: `expect: choice` needs a list of options",
            "error[step_shape] step `a`, retries: at most 10 retries",
            "error[step_shape] step `a`, save_as: `today` is a built-in name and cannot be assigned",
            "error[step_shape] step `a`, timeout: a timeout needs `on_timeout`, the step to go to when no reply comes",
            "error[step_shape] step `b`, on_timeout: `on_timeout` needs a `timeout`",
            "error[step_shape] step `b`, options: options are only used with `expect: choice`",
            "error[step_shape] step `b`, save_as: `x y` is not a variable name: ' ' cannot be part of a field name (letters, digits and _)",
            "error[step_shape] step `c`, fields: a fetch needs at least one field",
            "error[step_shape] step `d`, status: status `paid in full` must be 1 to 64 letters, digits, `_` or `-`",
            "error[step_shape] step `e`, queue: queue `` must be 1 to 64 letters, digits, `_` or `-`",
        ]
    );
    assert_eq!(
        diagnostics("a", json!({})),
        [
            "error[unknown_step] start: no step is named `a`",
            "error[step_shape] steps: a flow needs at least one step",
        ]
    );
}

#[test]
fn a_broken_structure_gives_no_runnable_flow_but_a_loop_does() {
    let broken = doc(
        "a",
        json!({"a": {"type": "message", "text": "x", "next": "zz"}}),
    );
    assert!(validate(&broken, None).flow().is_none());
    let looping = doc(
        "a",
        json!({"a": {"type": "message", "text": "x", "next": "a"}}),
    );
    let v = validate(&looping, None);
    assert!(v.flow().is_some());
    assert!(!v.is_publishable());
}

#[test]
fn without_org_fields_placeholders_are_not_checked() {
    let d = doc(
        "a",
        json!({"a": {"type": "close", "status": "x", "text": "<<anything>>"}}),
    );
    assert!(validate(&d, None).is_publishable());
    assert!(!validate(&d, Some(&BTreeSet::new())).is_publishable());
}
