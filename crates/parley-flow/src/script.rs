//! Flow dialogue scripts: the text format behind `parley flow test` (the README documents it
//! for operators). A script holds one or more dialogues; each line is a directive:
//!
//! ```text
//! # a comment
//! today: 2026-11-21                 settings: today, date_order (dmy|mdy), country,
//! portal_url: https://pay.example   organization_name — before the first dialogue they
//!                                   apply to all, inside one to that dialogue only
//! === verified customer pays        a dialogue and its name
//! contact: {"first_name": "Sam"}    the contact's fields (JSON object)
//! start: I got a text from you      start, optionally with the customer's opening message
//!                                   (otherwise the flow starts at the first bot/customer line)
//! bot: Hi Sam                       the bot's next message contains this text
//! bot~: ^Your balance is £\d+       … or matches this regular expression
//! status: verified                  the flow's next effect tags this status
//! intent: pay 0.93                  the NLU's reading of the next customer line
//! entity: amount=£50                an entity of the next customer line
//! customer: 01/02/1980              the customer says this
//! fetch: {"balance": "120.50"}      answer the pending fetch with these values
//! fetch-fails: CRM timed out        … or fail it
//! after: 24h                        time passes: the pending timer fires if due by then
//! end: closed payment_link_sent     the dialogue ends: closed with a status,
//! end: queued collections           handed to a queue, or
//! end: waiting                      still waiting for the customer
//! ```
//!
//! Every message the bot sends must be matched, in order, before the customer speaks, a
//! fetch is answered, time passes or the dialogue ends; so a script states the whole
//! conversation and fails on anything unexpected, naming the line.

mod run;

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use parley_domain::{CountryCode, DateOrder};

pub use run::{DialogueReport, ScriptRun, play_script, run_script};

use crate::engine::{Context, DEFAULT_STEP_BUDGET};
use crate::template::Lookup;

/// Why a script failed: its line (1-based) and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFailure {
    /// The line of the script.
    pub line: usize,
    /// The dialogue, when the line is inside one.
    pub dialogue: Option<String>,
    /// What was expected and what happened.
    pub message: String,
}

impl fmt::Display for ScriptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.dialogue {
            Some(d) => write!(f, "line {} (dialogue {d:?}): {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for ScriptFailure {}

/// The organization side of a run: what a script's settings change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Today.
    pub today: NaiveDate,
    /// How dates are read.
    pub date_order: DateOrder,
    /// The organization's country.
    pub country: CountryCode,
    /// `<<organization_name>>`.
    pub organization_name: String,
    /// `<<portal_url>>`.
    pub portal_url: String,
}

impl Settings {
    /// Settings for `today`, day-first dates, GB, and sample names.
    #[must_use]
    pub fn new(today: NaiveDate) -> Self {
        Self {
            today,
            date_order: DateOrder::Dmy,
            country: CountryCode::GB,
            organization_name: "Example Ltd".to_owned(),
            portal_url: "https://pay.example.com/p/test".to_owned(),
        }
    }

    /// The engine context these settings give, for `contact`, with the default budget.
    #[must_use]
    pub fn context<'a>(&'a self, contact: &'a dyn Lookup) -> Context<'a> {
        Context {
            contact,
            organization_name: &self.organization_name,
            portal_url: &self.portal_url,
            today: self.today,
            date_order: self.date_order,
            country: self.country,
            step_budget: DEFAULT_STEP_BUDGET,
        }
    }

    /// Applies a setting line; `Ok(false)` when `key` is not a setting.
    pub(crate) fn apply(&mut self, key: &str, value: &str) -> Result<bool, String> {
        match key {
            "today" => {
                self.today = NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_err(|_| format!("`{value}` is not a date like 2026-11-21"))?;
            }
            "date_order" => {
                self.date_order = match value {
                    "dmy" => DateOrder::Dmy,
                    "mdy" => DateOrder::Mdy,
                    _ => return Err(format!("date_order is dmy or mdy, not `{value}`")),
                };
            }
            "country" => {
                self.country = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a country code like GB"))?;
            }
            "organization_name" => self.organization_name = value.to_owned(),
            "portal_url" => self.portal_url = value.to_owned(),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A contact's fields as text, read from a JSON object (numbers and booleans as written,
/// `null` as absent). What `flow test` and `flow chat` give the engine as the contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(pub BTreeMap<String, String>);

impl FieldMap {
    /// Reads a JSON object.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
        let serde_json::Value::Object(map) = value else {
            return Err("expected a JSON object like {\"first_name\": \"Sam\"}".to_owned());
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let text = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                    return Err(format!("field `{k}` must be text, a number or true/false"));
                }
                other => other.to_string(),
            };
            out.insert(k, text);
        }
        Ok(Self(out))
    }
}

impl Lookup for FieldMap {
    fn lookup(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.0
            .get(name)
            .map(|v| std::borrow::Cow::Borrowed(v.as_str()))
    }
}

#[cfg(test)]
mod tests;
