//! The condition language of branch rules and `set` values (SPEC §4).
//!
//! ```text
//! expr    = and ("or" and)*
//! and     = not ("and" not)*
//! not     = "not" not | compare
//! compare = value [op value | "is_set" | "is_empty"]
//! op      = == != < <= > >= contains starts_with ends_with matches
//! value   = "text" | 'text' | 12.5 | -3 | 2026-01-31 | true | false | <<field>>
//!         | intent | intent_confidence | entities.<kind> | name(args) | ( expr )
//! ```
//! Functions: `lower`, `upper`, `trim`, `len`, `today()`, `days_between(a, b)` (days from
//! `a` to `b`), `is_set(x)`, `is_empty(x)`. `matches` takes a regular-expression literal,
//! compiled when the flow is validated. Comparisons are typed (see [`crate::value`]).
//!
//! Parsing is [`Condition::parse`]; every error carries the 1-based column it found.
//!
//! ```
//! use parley_flow::Condition;
//! let c = Condition::parse(r#"intent == "pay" or lower(<<choice>>) contains "pay""#).unwrap();
//! assert_eq!(c.fields().collect::<Vec<_>>(), ["choice"]);
//! let e = Condition::parse("<<a>> == ").unwrap_err();
//! assert_eq!(e.to_string(), "column 10: expected a value after `==`");
//! ```

mod eval;
mod lex;
mod parse;

use chrono::NaiveDate;
use regex::Regex;
use rust_decimal::Decimal;

pub use eval::Env;

/// Longest condition accepted, in bytes.
pub const MAX_CONDITION_LEN: usize = 4_096;
/// Deepest nesting of parentheses and `not`.
pub const MAX_DEPTH: usize = 32;

/// A parsed condition or expression.
#[derive(Debug, Clone)]
pub struct Condition {
    root: Expr,
}

/// Why a condition could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ConditionError {
    /// 1-based, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    StartsWith,
    EndsWith,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Lower,
    Upper,
    Trim,
    Len,
    Today,
    DaysBetween,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Text(Box<str>),
    Number(Decimal),
    Date(NaiveDate),
    Bool(bool),
    Field(Box<str>),
    Intent,
    IntentConfidence,
    Entity(Box<str>),
    Call(Func, Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Op, Box<Expr>, Box<Expr>),
    Matches(Box<Expr>, Box<Regex>),
    IsSet(Box<Expr>),
}

impl Condition {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, ConditionError> {
        if text.len() > MAX_CONDITION_LEN {
            return Err(ConditionError {
                column: 1,
                message: format!("longer than {MAX_CONDITION_LEN} bytes"),
            });
        }
        let tokens = lex::tokenize(text)?;
        let root = parse::Parser::new(&tokens, text.chars().count()).parse()?;
        Ok(Self { root })
    }

    /// The `<<field>>` names the condition reads, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        let mut out = Vec::new();
        collect_fields(&self.root, &mut out);
        out.into_iter()
    }

    /// Evaluates the condition to true or false.
    #[must_use]
    pub fn holds(&self, env: &dyn Env) -> bool {
        eval::eval(&self.root, env).truthy()
    }

    /// Evaluates the expression to its text (what a `set` step stores).
    #[must_use]
    pub fn value_text(&self, env: &dyn Env) -> String {
        eval::eval(&self.root, env).to_text().into_owned()
    }
}

fn collect_fields<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    match e {
        Expr::Field(name) => out.push(name),
        Expr::Call(_, args) => args.iter().for_each(|a| collect_fields(a, out)),
        Expr::Not(a) | Expr::IsSet(a) | Expr::Matches(a, _) => collect_fields(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(_, a, b) => {
            collect_fields(a, out);
            collect_fields(b, out);
        }
        Expr::Text(_)
        | Expr::Number(_)
        | Expr::Date(_)
        | Expr::Bool(_)
        | Expr::Intent
        | Expr::IntentConfidence
        | Expr::Entity(_) => {}
    }
}

#[cfg(test)]
mod tests;
