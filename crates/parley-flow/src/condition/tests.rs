//! Condition language: parsing errors with columns, typed comparisons, functions, and
//! never panicking on any input.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use parley_domain::DateOrder;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::template::Lookup;

struct TestEnv {
    fields: BTreeMap<&'static str, &'static str>,
    order: DateOrder,
    intent: Option<&'static str>,
}

impl TestEnv {
    fn new(fields: &[(&'static str, &'static str)]) -> Self {
        Self {
            fields: fields.iter().copied().collect(),
            order: DateOrder::Dmy,
            intent: None,
        }
    }
}

impl Lookup for TestEnv {
    fn lookup(&self, name: &str) -> Option<Cow<'_, str>> {
        self.fields.get(name).map(|v| Cow::Borrowed(*v))
    }
}

impl Env for TestEnv {
    fn intent(&self) -> Option<&str> {
        self.intent
    }
    fn intent_confidence(&self) -> Option<Decimal> {
        self.intent.map(|_| Decimal::new(87, 2))
    }
    fn entity(&self, kind: &str) -> Option<&str> {
        (kind == "amount").then_some("£50")
    }
    fn today(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }
    fn date_order(&self) -> DateOrder {
        self.order
    }
}

fn holds(cond: &str, env: &TestEnv) -> bool {
    Condition::parse(cond)
        .unwrap_or_else(|e| panic!("{cond}: {e}"))
        .holds(env)
}

fn error(cond: &str) -> String {
    Condition::parse(cond).unwrap_err().to_string()
}

#[test]
fn dates_compare_as_dates_under_dmy() {
    let env = TestEnv::new(&[("dob_reply", "01/02/1980"), ("date_of_birth", "1980-02-01")]);
    assert!(holds("<<dob_reply>> == <<date_of_birth>>", &env));
    assert!(holds("<<dob_reply>> == 1980-02-01", &env));
    assert!(holds(r#"<<dob_reply>> == "1 February 1980""#, &env));
    let mdy = TestEnv {
        order: DateOrder::Mdy,
        ..TestEnv::new(&[("dob_reply", "01/02/1980"), ("date_of_birth", "1980-02-01")])
    };
    assert!(!holds("<<dob_reply>> == <<date_of_birth>>", &mdy));
}

#[test]
fn money_compares_as_exact_decimals() {
    let env = TestEnv::new(&[("balance", "£1,234.50"), ("paid", "0.1"), ("due", "0.10")]);
    assert!(holds("<<balance>> == 1234.5", &env));
    assert!(holds(r#"<<balance>> == "1234.50""#, &env));
    assert!(holds("<<balance>> > 1000 and <<balance>> <= 1234.50", &env));
    assert!(holds("<<paid>> == <<due>>", &env));
    assert!(!holds("<<balance>> < 1234.5", &env));
}

#[test]
fn text_is_trimmed_and_case_insensitive() {
    let env = TestEnv::new(&[("choice", "  Pay Now ")]);
    assert!(holds(r#"<<choice>> == "pay now""#, &env));
    assert!(holds(r#"<<choice>> contains "PAY""#, &env));
    assert!(holds(
        r#"<<choice>> starts_with "pay" and <<choice>> ends_with "NOW""#,
        &env
    ));
    assert!(holds(r#"lower(<<choice>>) contains "pay""#, &env));
    assert!(!holds(r#"<<choice>> == "pay""#, &env));
    assert!(holds(r#"<<choice>> != "plan""#, &env));
}

#[test]
fn dates_against_today_with_a_fixed_clock() {
    let env = TestEnv::new(&[
        ("next_payment_date", "2026-12-01"),
        ("overdue_since", "01/11/2026"),
    ]);
    assert!(holds("<<next_payment_date>> > today()", &env));
    assert!(holds("<<overdue_since>> < today()", &env));
    assert!(holds("today() == 2026-11-21", &env));
    assert!(holds(
        "days_between(today(), <<next_payment_date>>) == 10",
        &env
    ));
    assert!(holds(
        "days_between(<<overdue_since>>, today()) >= 20",
        &env
    ));
    // An unreadable date is never before or after anything.
    let env = TestEnv::new(&[("next_payment_date", "soon")]);
    assert!(!holds("<<next_payment_date>> > today()", &env));
    assert!(!holds("<<next_payment_date>> <= today()", &env));
}

#[test]
fn nlu_hooks_functions_and_logic() {
    let mut env = TestEnv::new(&[("choice", "x"), ("empty", "  ")]);
    assert!(!holds(r#"intent == "pay""#, &env));
    env.intent = Some("pay");
    assert!(holds(
        r#"intent == "pay" and intent_confidence > 0.8"#,
        &env
    ));
    assert!(holds("entities.amount == 50", &env));
    assert!(holds(
        "<<choice>> is_set and <<empty>> is_empty and <<nothing>> is_empty",
        &env
    ));
    assert!(holds(
        "is_set(<<choice>>) and not is_set(<<nothing>>)",
        &env
    ));
    assert!(holds(
        "len(<<choice>>) == 1 and upper(<<choice>>) == \"X\"",
        &env
    ));
    assert!(holds(r#"<<choice>> matches "^[a-z]$""#, &env));
    assert!(holds("not (false or <<choice>> == \"y\") and (true)", &env));
    assert!(holds("trim(\"  a \") == 'A'", &env));
}

#[test]
fn value_text_of_expressions() {
    let env = TestEnv::new(&[("balance", "120.50")]);
    let text = |e: &str| Condition::parse(e).unwrap().value_text(&env);
    assert_eq!(text("<<balance>>"), "120.50");
    assert_eq!(text("days_between(today(), 2026-12-25)"), "34");
    assert_eq!(text("today()"), "2026-11-21");
    assert_eq!(text("<<balance>> > 100"), "true");
}

#[test]
fn parse_errors_name_the_column() {
    assert_eq!(error(""), "column 1: empty condition");
    assert_eq!(error("<<a>> == "), "column 10: expected a value after `==`");
    assert_eq!(error("<<a>> = 1"), "column 7: use `==` to compare");
    assert_eq!(error("(<<a>> == 1"), "column 1: `(` is not closed");
    assert_eq!(
        error("<<a>> == \"x"),
        "column 10: text opened with \" is not closed"
    );
    assert_eq!(error("<<a> == 1"), "column 1: `<<` is not closed by `>>`");
    assert_eq!(
        error("balance > 1"),
        "column 1: unknown name `balance`; write a field as <<balance>> and text in quotes"
    );
    assert_eq!(error("shout(<<a>>)"), "column 1: unknown function `shout`");
    assert_eq!(
        error("lower(<<a>>, 1) == 'x'"),
        "column 1: `lower` takes 1 argument, not 2"
    );
    assert_eq!(
        error("today(1)"),
        "column 1: `today` takes no arguments, not 1"
    );
    assert_eq!(error("<<a>> == 1 2"), "column 12: unexpected number 2");
    assert_eq!(
        error("<<a>> and"),
        "column 10: expected a condition after `and`"
    );
    assert_eq!(
        error("<<a>> matches <<b>>"),
        "column 15: `matches` needs a pattern in quotes"
    );
    assert!(error(r#"<<a>> matches "(""#).starts_with("column 15: not a valid pattern"));
    assert_eq!(
        error("<<a>> == 2026-13-01"),
        "column 10: `2026-13-01` is not a date"
    );
    assert_eq!(
        error("<<a b>> == 1"),
        "column 4: ' ' cannot be part of a field name (letters, digits and _)"
    );
    assert_eq!(
        error("entities. == 1"),
        "column 1: `entities.` is not an entity name"
    );
    assert_eq!(error("<<a>> == ;"), "column 10: unexpected ';'");
    assert_eq!(error(&"(".repeat(40)), "column 33: nested deeper than 32");
}

#[test]
fn fields_are_listed_in_order() {
    let c = Condition::parse("<<a>> == <<b>> or lower(<<c>>) matches 'x' and not <<d>> is_set")
        .unwrap();
    assert_eq!(c.fields().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<<a>>".to_owned()),
        Just("<<b>>".to_owned()),
        Just("==".to_owned()),
        Just("!=".to_owned()),
        Just("<".to_owned()),
        Just(">=".to_owned()),
        Just("and".to_owned()),
        Just("or".to_owned()),
        Just("not".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just(",".to_owned()),
        Just("contains".to_owned()),
        Just("matches".to_owned()),
        Just("is_set".to_owned()),
        Just("today()".to_owned()),
        Just("days_between".to_owned()),
        Just("lower".to_owned()),
        Just("intent".to_owned()),
        Just("entities.x".to_owned()),
        Just("\"t\"".to_owned()),
        Just("'(x'".to_owned()),
        Just("12.5".to_owned()),
        Just("2026-01-31".to_owned()),
        "[a-z<>=!(),\"' 0-9.-]{1,3}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,120}") {
        match Condition::parse(&text) {
            Ok(c) => { let _ = c.holds(&TestEnv::new(&[("a", "1")])); }
            Err(e) => prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1),
        }
    }

    #[test]
    fn token_soup_never_panics_and_errors_are_in_range(tokens in prop::collection::vec(token(), 0..24)) {
        let text = tokens.join(" ");
        match Condition::parse(&text) {
            Ok(c) => {
                let env = TestEnv::new(&[("a", "01/02/1980"), ("b", "£3")]);
                let _ = c.holds(&env);
                let _ = c.value_text(&env);
            }
            Err(e) => prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e}"),
        }
    }

    #[test]
    fn equality_is_symmetric_for_texts(a in "[0-9£,./ a-zA-Z-]{0,12}", b in "[0-9£,./ a-zA-Z-]{0,12}") {
        let env = TestEnv { fields: BTreeMap::new(), order: DateOrder::Dmy, intent: None };
        let va = crate::value::Value::Text(a.as_str().into());
        let vb = crate::value::Value::Text(b.as_str().into());
        let ab = crate::value::compare(&va, &vb, env.order);
        let ba = crate::value::compare(&vb, &va, env.order);
        prop_assert_eq!(ab, ba.map(std::cmp::Ordering::reverse));
    }
}
