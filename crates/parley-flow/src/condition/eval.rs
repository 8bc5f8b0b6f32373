//! Evaluates a parsed condition against an [`Env`]. Evaluation never fails: an unknown
//! field is empty text, a function of an unreadable value is empty, and comparisons of
//! values that cannot be read alike are false (see [`crate::value`]).

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::NaiveDate;
use parley_domain::DateOrder;
use rust_decimal::Decimal;

use super::{Expr, Func, Op};
use crate::template::Lookup;
use crate::value::{Value, compare, folded};

/// What a condition can read: fields (variables, contact, built-ins), the last reply's
/// understanding, the date and the organization's date order.
pub trait Env: Lookup {
    /// The intent of the last reply, when the NLU found one.
    fn intent(&self) -> Option<&str>;
    /// How sure the NLU was of that intent, 0 to 1.
    fn intent_confidence(&self) -> Option<Decimal>;
    /// The entity of `kind` found in the last reply.
    fn entity(&self, kind: &str) -> Option<&str>;
    /// Today, in the organization's time zone.
    fn today(&self) -> NaiveDate;
    /// How dates are read.
    fn date_order(&self) -> DateOrder;
}

const EMPTY: Value<'static> = Value::Text(Cow::Borrowed(""));

pub(crate) fn eval<'e>(expr: &Expr, env: &'e dyn Env) -> Value<'e> {
    match expr {
        Expr::Text(t) => Value::Text(Cow::Owned(t.to_string())),
        Expr::Number(n) => Value::Number(*n),
        Expr::Date(d) => Value::Date(*d),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Field(name) => env.lookup(name).map_or(EMPTY, Value::Text),
        Expr::Intent => env
            .intent()
            .map_or(EMPTY, |i| Value::Text(Cow::Borrowed(i))),
        Expr::IntentConfidence => Value::Number(env.intent_confidence().unwrap_or_default()),
        Expr::Entity(kind) => env
            .entity(kind)
            .map_or(EMPTY, |e| Value::Text(Cow::Borrowed(e))),
        Expr::Call(func, args) => call(*func, args, env),
        Expr::Not(a) => Value::Bool(!eval(a, env).truthy()),
        Expr::And(a, b) => Value::Bool(eval(a, env).truthy() && eval(b, env).truthy()),
        Expr::Or(a, b) => Value::Bool(eval(a, env).truthy() || eval(b, env).truthy()),
        Expr::IsSet(a) => Value::Bool(eval(a, env).is_set()),
        Expr::Matches(a, regex) => Value::Bool(regex.is_match(eval(a, env).to_text().trim())),
        Expr::Compare(op, a, b) => {
            let (a, b) = (eval(a, env), eval(b, env));
            Value::Bool(apply(*op, &a, &b, env.date_order()))
        }
    }
}

fn apply(op: Op, a: &Value<'_>, b: &Value<'_>, order: DateOrder) -> bool {
    let text_op = |f: fn(&str, &str) -> bool| f(&folded(&a.to_text()), &folded(&b.to_text()));
    match op {
        Op::Contains => text_op(|x, y| x.contains(y)),
        Op::StartsWith => text_op(|x, y| x.starts_with(y)),
        Op::EndsWith => text_op(|x, y| x.ends_with(y)),
        Op::Ne => compare(a, b, order) != Some(Ordering::Equal),
        Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let Some(ord) = compare(a, b, order) else {
                return false;
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
    }
}

fn call<'e>(func: Func, args: &[Expr], env: &'e dyn Env) -> Value<'e> {
    let arg = |i: usize| args.get(i).map_or(EMPTY, |a| eval(a, env));
    match func {
        Func::Today => Value::Date(env.today()),
        Func::Lower => Value::Text(Cow::Owned(arg(0).to_text().to_lowercase())),
        Func::Upper => Value::Text(Cow::Owned(arg(0).to_text().to_uppercase())),
        Func::Trim => Value::Text(Cow::Owned(arg(0).to_text().trim().to_owned())),
        Func::Len => Value::Number(Decimal::from(arg(0).to_text().chars().count())),
        Func::DaysBetween => {
            let order = env.date_order();
            match (arg(0).as_date(order), arg(1).as_date(order)) {
                (Some(a), Some(b)) => Value::Number(Decimal::from((b - a).num_days())),
                _ => EMPTY,
            }
        }
    }
}
