//! Engine behaviour: each input's effects, timers, failures, and — by property — that it is
//! deterministic and stops within its budget on random flows, loops included.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::script::FieldMap;
use crate::{FlowDocument, validate};

fn compile(value: serde_json::Value) -> Flow {
    let doc = FlowDocument::from_value(value).expect("shape");
    validate(&doc, None)
        .flow()
        .cloned()
        .expect("structure resolves")
}

fn run(flow: &Flow, contact: &FieldMap, state: State, input: Input) -> Stepped {
    let ctx = Context {
        contact,
        organization_name: "Acme",
        portal_url: "https://pay.example/x",
        today: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        date_order: DateOrder::Dmy,
        country: CountryCode::GB,
        step_budget: DEFAULT_STEP_BUDGET,
    };
    step(flow, &ctx, state, input)
}

fn start(flow: &Flow, contact: &FieldMap) -> Stepped {
    run(
        flow,
        contact,
        State::default(),
        Input::Start { opening: None },
    )
}

fn closed(status: &str) -> Option<Effect> {
    Some(Effect::Close {
        status: status.to_owned(),
    })
}

fn sends(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn ask_flow() -> Flow {
    compile(json!({"schema": 1, "name": "t", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "DOB?", "save_as": "dob", "expect": "date", "retries": 1,
                "retry_text": "Again?", "timeout": "1h", "on_timeout": "late", "next": "get"},
        "get": {"type": "fetch", "fields": ["balance"], "next": "bye", "on_failure": "late"},
        "bye": {"type": "close", "status": "done", "text": "<<dob>> <<balance>> <<last_reply>>"},
        "late": {"type": "close", "status": "late", "text": "why: <<fetch_error>>"}
    }}))
}

#[test]
fn an_ask_re_asks_then_saves_and_times_out_only_while_current() {
    let flow = ask_flow();
    let contact = FieldMap::default();
    let o = start(&flow, &contact);
    assert_eq!(sends(&o.effects), ["DOB?"]);
    assert!(o.effects.contains(&Effect::StartTimer {
        id: 1,
        after: Duration::from_secs(3600)
    }));
    let o = run(&flow, &contact, o.state, Input::Reply(Reply::text("soon")));
    assert_eq!(sends(&o.effects), ["Again?"]);
    let o = run(
        &flow,
        &contact,
        o.state,
        Input::Reply(Reply::text("1/2/1980")),
    );
    assert_eq!(
        o.effects,
        [Effect::Fetch {
            fields: vec!["balance".to_owned()]
        }]
    );
    assert_eq!(
        o.state.vars.get("dob").map(String::as_str),
        Some("1980-02-01")
    );
    // The ask's timer is stale now.
    let stale = run(&flow, &contact, o.state.clone(), Input::Timer { id: 1 });
    assert!(stale.effects.is_empty());
    assert_eq!(stale.state, o.state);
    // A reply while fetching is remembered, nothing more.
    let o = run(
        &flow,
        &contact,
        o.state,
        Input::Reply(Reply::text("hello?")),
    );
    assert!(o.effects.is_empty());
    let fetched = BTreeMap::from([("balance".to_owned(), "12.50".to_owned())]);
    let o = run(&flow, &contact, o.state, Input::Fetched(Ok(fetched)));
    assert_eq!(sends(&o.effects), ["1980-02-01 12.50 hello?"]);
    assert_eq!(o.effects.last(), closed("done").as_ref());
    assert_eq!(o.state.phase, Phase::Ended);
    // Replies after the end are the runtime's business.
    assert!(
        run(&flow, &contact, o.state, Input::Reply(Reply::text("x")))
            .effects
            .is_empty()
    );
}

#[test]
fn a_fetch_missing_a_field_or_failing_goes_to_on_failure_with_the_reason() {
    let flow = ask_flow();
    let contact = FieldMap::default();
    let o = start(&flow, &contact);
    let o = run(
        &flow,
        &contact,
        o.state,
        Input::Reply(Reply::text("1980-02-01")),
    );
    let missing = run(
        &flow,
        &contact,
        o.state.clone(),
        Input::Fetched(Ok(BTreeMap::new())),
    );
    assert_eq!(
        sends(&missing.effects),
        ["why: the answer has no `balance`"]
    );
    let failed = run(
        &flow,
        &contact,
        o.state,
        Input::Fetched(Err("timed out".to_owned())),
    );
    assert_eq!(sends(&failed.effects), ["why: timed out"]);
    assert_eq!(failed.effects.last(), closed("late").as_ref());
}

#[test]
fn the_timer_leads_to_on_timeout() {
    let flow = ask_flow();
    let contact = FieldMap::default();
    let o = start(&flow, &contact);
    let o = run(&flow, &contact, o.state, Input::Timer { id: 1 });
    assert_eq!(o.effects.last(), closed("late").as_ref());
}

#[test]
fn a_runaway_flow_joins_the_fallback_queue_with_a_note() {
    let flow = compile(
        json!({"schema": 1, "name": "t", "start": "a", "fallback_queue": "ops", "steps": {
            "a": {"type": "set", "values": {"n": "len(<<n>>)"}, "next": "b"},
            "b": {"type": "branch", "rules": [], "otherwise": "a"}
        }}),
    );
    let o = start(&flow, &FieldMap::default());
    assert_eq!(o.steps_run, DEFAULT_STEP_BUDGET);
    assert_eq!(
        o.effects,
        [Effect::Queue {
            queue: "ops".to_owned(),
            note: Some(
                "the flow ran 100 steps without waiting for the customer (stopped at step `a`)"
                    .to_owned()
            ),
        }]
    );
    assert_eq!(o.state.phase, Phase::Ended);
}

#[test]
fn a_state_from_another_version_fails_loudly() {
    let flow = ask_flow();
    let state = State {
        at: Some("gone".to_owned()),
        phase: Phase::Reply,
        ..State::default()
    };
    let o = run(
        &flow,
        &FieldMap::default(),
        state,
        Input::Reply(Reply::text("x")),
    );
    assert_eq!(
        o.effects,
        [Effect::Queue {
            queue: "default".to_owned(),
            note: Some(
                "the conversation is at step `gone`, which this flow version does not have"
                    .to_owned()
            ),
        }]
    );
}

#[test]
fn set_values_read_the_state_before_the_step_and_lookup_order_is_vars_contact_builtins() {
    let flow = compile(json!({"schema": 1, "name": "t", "start": "s", "steps": {
        "s": {"type": "set", "values": {"a": "\"one\"", "b": "<<a>>"}, "next": "m"},
        "m": {"type": "message", "text": "<<a>>/<<b>>/<<first_name>>/<<portal_url>>/<<organization_name>>/<<today>>/<<nope>>", "next": "end"},
        "end": {"type": "close", "status": "x"}
    }}));
    let contact = FieldMap::from_json(
        r#"{"first_name": "Sam", "a": "contact", "organization_name": "Branch 7"}"#,
    )
    .unwrap();
    let o = start(&flow, &contact);
    assert_eq!(
        sends(&o.effects),
        ["one/contact/Sam/https://pay.example/x/Branch 7/2026-11-21/"]
    );
}

#[test]
fn state_serialises_small_and_round_trips() {
    let flow = ask_flow();
    let contact = FieldMap::default();
    let o = start(&flow, &contact);
    let json = serde_json::to_string(&o.state).unwrap();
    assert_eq!(
        json,
        r#"{"at":"ask","phase":"reply","timer":1,"timers_started":1}"#
    );
    assert_eq!(serde_json::from_str::<State>(&json).unwrap(), o.state);
}

// ---- properties over random flows ----

fn step_json(kind: u8, targets: [usize; 3], names: &[String]) -> serde_json::Value {
    let t = |i: usize| names[targets[i] % names.len()].clone();
    match kind % 9 {
        0 => json!({"type": "message", "text": "m <<v>>", "next": t(0)}),
        1 => json!({"type": "ask", "text": "q", "save_as": "v", "expect": "number", "retries": 1,
                    "timeout": "1h", "on_timeout": t(1), "next": t(0)}),
        2 => json!({"type": "branch", "rules": [{"when": "<<v>> > 5", "next": t(1)},
                                                 {"when": "intent == \"x\"", "next": t(2)}], "otherwise": t(0)}),
        3 => json!({"type": "fetch", "fields": ["f"], "next": t(0), "on_failure": t(1)}),
        4 => json!({"type": "set", "values": {"v": "len(<<v>>) == 1"}, "next": t(0)}),
        5 => json!({"type": "status", "status": "s", "next": t(0)}),
        6 => json!({"type": "queue", "queue": "q"}),
        7 => json!({"type": "close", "status": "c"}),
        _ => json!({"type": "wait", "duration": "5m", "next": t(0)}),
    }
}

fn random_flow() -> impl Strategy<Value = Flow> {
    prop::collection::vec((any::<u8>(), any::<[usize; 3]>()), 1..10).prop_map(|specs| {
        let names: Vec<String> = (0..specs.len()).map(|i| format!("s{i}")).collect();
        let steps: serde_json::Map<String, serde_json::Value> = specs
            .iter()
            .enumerate()
            .map(|(i, (kind, targets))| (names[i].clone(), step_json(*kind, *targets, &names)))
            .collect();
        let value = json!({"schema": 1, "name": "random", "start": "s0", "steps": steps});
        let doc = FlowDocument::from_value(value).expect("shape");
        validate(&doc, None)
            .flow()
            .cloned()
            .expect("targets all exist")
    })
}

fn random_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Start { opening: None }),
        "[0-9a-z ]{0,4}".prop_map(|t| Input::Reply(Reply {
            intent: Some("x".to_owned()),
            ..Reply::text(t)
        })),
        Just(Input::Fetched(Ok(BTreeMap::from([(
            "f".to_owned(),
            "7".to_owned()
        )])))),
        Just(Input::Fetched(Err("down".to_owned()))),
        (0u32..4).prop_map(|id| Input::Timer { id }),
    ]
}

proptest! {
    #[test]
    fn the_engine_is_deterministic_and_bounded(flow in random_flow(), inputs in prop::collection::vec(random_input(), 1..12)) {
        let contact = FieldMap::default();
        let mut a = State::default();
        let mut b = State::default();
        for input in inputs {
            let oa = run(&flow, &contact, a, input.clone());
            let ob = run(&flow, &contact, b, input);
            prop_assert_eq!(&oa, &ob);
            prop_assert!(oa.steps_run <= DEFAULT_STEP_BUDGET);
            if oa.steps_run == DEFAULT_STEP_BUDGET {
                let stopped = matches!(oa.effects.last(), Some(Effect::Queue { note: Some(_), .. }));
                let waited = oa.state.phase != Phase::Ended;
                prop_assert!(stopped || waited, "{:?}", oa.effects);
            }
            prop_assert!(serde_json::to_vec(&oa.state).unwrap().len() <= 2048);
            a = oa.state;
            b = ob.state;
        }
    }
}

#[test]
fn a_hand_back_resumes_at_the_step_keeping_the_variables() {
    let flow = ask_flow();
    let contact = FieldMap::default();
    let o = start(&flow, &contact);
    let o = run(
        &flow,
        &contact,
        o.state,
        Input::Reply(Reply::text("1/2/1980")),
    );
    // Ended by a hand-over (here: closed late), then handed back at the question.
    let ended = run(&flow, &contact, o.state, Input::Fetched(Err("down".into())));
    assert_eq!(ended.state.phase, Phase::Ended);
    let back = run(
        &flow,
        &contact,
        ended.state,
        Input::Resume {
            step: "ask".to_owned(),
        },
    );
    assert_eq!(sends(&back.effects), ["DOB?"]);
    assert_eq!(back.state.phase, Phase::Reply);
    assert_eq!(back.state.at.as_deref(), Some("ask"));
    assert_eq!(
        back.state.vars.get("dob").map(String::as_str),
        Some("1980-02-01"),
        "variables are kept"
    );
    // A step the version lacks: the fallback queue with a note.
    let lost = run(
        &flow,
        &contact,
        back.state,
        Input::Resume {
            step: "nowhere".to_owned(),
        },
    );
    assert!(matches!(
        lost.effects.as_slice(),
        [Effect::Queue { note: Some(note), .. }] if note.contains("nowhere")
    ));
}
