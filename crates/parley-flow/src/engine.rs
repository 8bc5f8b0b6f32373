//! The engine (SPEC §4): pure and deterministic. Given a flow version, the conversation's
//! state and one input (start, reply, fetch result, timer), [`step`] returns the new state
//! and the effects for the runtime to carry out. It reads no clock and does no I/O: today's
//! date and the contact's fields come in a [`Context`].
//!
//! Decisions where SPEC §4 is silent:
//! * **Timers.** An `ask` with a `timeout` and a `wait` start a timer with a fresh id; only
//!   the latest id counts, so a timer that fires after its reply came is ignored and the
//!   runtime never has to cancel one. Re-asking keeps the first deadline.
//! * **Replies that are not of the expected kind** are re-asked up to `retries` times
//!   (with `retry_text`, else the question). After that the reply is saved as written and
//!   the flow goes on to `next`, whose conditions then decide (a typed comparison with
//!   text that is not a date is simply false).
//! * **Replies while the bot waits** for a fetch or a `wait` become the last reply
//!   (`<<last_reply>>`, `intent`) and move nothing. Replies after the end are ignored: the
//!   runtime owns what happens after a hand-over.
//! * **Fetch** answers must hold every requested field; otherwise, or on failure, the flow
//!   goes to `on_failure` with `<<fetch_error>>` saying why.
//! * **Hand-back.** [`Input::Resume`] runs from the named step whatever the state waited
//!   for; an unknown step is a failure (the fallback queue, with a note).
//! * **Failure.** A flow that runs more than the step budget for one input, or a state
//!   naming a step the version lacks, joins the fallback queue with a note saying why — a
//!   conversation never silently stops.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use parley_domain::{CountryCode, DateOrder};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::condition::Env;
use crate::expect;
use crate::program::{Flow, Program, StepIndex};
use crate::template::{Lookup, Template};

/// Steps one input may run before the flow is judged runaway.
pub const DEFAULT_STEP_BUDGET: u32 = 100;

/// Longest value kept for one variable, in characters.
pub const MAX_VARIABLE_CHARS: usize = 1_000;

/// A conversation's place in its flow: small, serialisable, stored with the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct State {
    /// The step the conversation is at (waiting in, or ended in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What it waits for.
    #[serde(default)]
    pub phase: Phase,
    /// Re-asks used at the current `ask`.
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub retries_used: u8,
    /// The id of the timer that counts (0: none).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub timer: u32,
    /// Timers started so far (ids are 1, 2, …).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub timers_started: u32,
    /// Answers, fetched values and `set` results.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The customer's last message and what the NLU made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reply: Option<Reply>,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// What a conversation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Not started.
    #[default]
    New,
    /// An `ask` waits for the customer.
    Reply,
    /// A `fetch` waits for the custom value request.
    Fetch,
    /// A `wait` waits for its timer.
    Wait,
    /// Handed over or closed.
    Ended,
}

/// A customer message and its understanding.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reply {
    /// The text.
    pub text: String,
    /// The intent the NLU found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// Its confidence, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Decimal>,
    /// Entities by kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, String>,
}

impl Reply {
    /// A reply with text only.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// One input to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Start the flow; an inbound conversation passes the customer's first message.
    Start {
        /// The message that opened the conversation, if the customer wrote first.
        opening: Option<Reply>,
    },
    /// The customer wrote.
    Reply(Reply),
    /// The custom value request answered (values by field) or failed (why).
    Fetched(Result<BTreeMap<String, String>, String>),
    /// A timer the engine started is due.
    Timer {
        /// Its id.
        id: u32,
    },
    /// A person hands the conversation back to the flow at this step (whatever it was
    /// waiting for, and even after it ended); the variables are kept.
    Resume {
        /// The step's name.
        step: String,
    },
}

/// Something the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send the customer this text.
    Send {
        /// The rendered text.
        text: String,
    },
    /// Request these fields (SPEC §7.3) and answer with [`Input::Fetched`].
    Fetch {
        /// The fields.
        fields: Vec<String>,
    },
    /// Tag the outcome status (`setStatus`).
    SetStatus {
        /// The status.
        status: String,
    },
    /// Hand over to people (`moveToQueue`); the bot stops.
    Queue {
        /// The queue.
        queue: String,
        /// Why, when the flow itself failed.
        note: Option<String>,
    },
    /// Close the conversation (`conversationClosed`).
    Close {
        /// The outcome status.
        status: String,
    },
    /// Answer with [`Input::Timer`] after this long.
    StartTimer {
        /// The id to answer with.
        id: u32,
        /// The delay.
        after: Duration,
    },
}

/// What [`step`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stepped {
    /// The new state.
    pub state: State,
    /// Effects, in order.
    pub effects: Vec<Effect>,
    /// Steps run for this input.
    pub steps_run: u32,
}

/// What the engine reads besides the state.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The contact's fields.
    pub contact: &'a dyn Lookup,
    /// `<<organization_name>>`.
    pub organization_name: &'a str,
    /// `<<portal_url>>`.
    pub portal_url: &'a str,
    /// Today, in the organization's zone.
    pub today: NaiveDate,
    /// How dates are read.
    pub date_order: DateOrder,
    /// Whose postcodes are expected.
    pub country: CountryCode,
    /// Steps one input may run.
    pub step_budget: u32,
}

struct Scope<'a> {
    ctx: &'a Context<'a>,
    vars: &'a BTreeMap<String, String>,
    last: Option<&'a Reply>,
}

impl Lookup for Scope<'_> {
    fn lookup(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some(v) = self.vars.get(name) {
            return Some(Cow::Borrowed(v));
        }
        if let Some(v) = self.ctx.contact.lookup(name) {
            return Some(v);
        }
        match name {
            "portal_url" => Some(Cow::Borrowed(self.ctx.portal_url)),
            "organization_name" => Some(Cow::Borrowed(self.ctx.organization_name)),
            "today" => Some(Cow::Owned(self.ctx.today.format("%Y-%m-%d").to_string())),
            "last_reply" => self.last.map(|r| Cow::Borrowed(r.text.as_str())),
            _ => None,
        }
    }
}

impl Env for Scope<'_> {
    fn intent(&self) -> Option<&str> {
        self.last?.intent.as_deref()
    }
    fn intent_confidence(&self) -> Option<Decimal> {
        self.last?.confidence
    }
    fn entity(&self, kind: &str) -> Option<&str> {
        self.last?.entities.get(kind).map(String::as_str)
    }
    fn today(&self) -> NaiveDate {
        self.ctx.today
    }
    fn date_order(&self) -> DateOrder {
        self.ctx.date_order
    }
}

/// Runs one input through `flow`.
#[must_use]
pub fn step(flow: &Flow, ctx: &Context<'_>, state: State, input: Input) -> Stepped {
    let mut run = Run {
        flow,
        ctx,
        state,
        effects: Vec::new(),
        steps_run: 0,
    };
    run.input(input);
    Stepped {
        state: run.state,
        effects: run.effects,
        steps_run: run.steps_run,
    }
}

struct Run<'a> {
    flow: &'a Flow,
    ctx: &'a Context<'a>,
    state: State,
    effects: Vec<Effect>,
    steps_run: u32,
}

impl Run<'_> {
    fn input(&mut self, input: Input) {
        let phase = self.state.phase;
        match (phase, input) {
            (Phase::New, Input::Start { opening }) => {
                self.state.last_reply = opening;
                self.go(self.flow.start);
            }
            (Phase::Reply, Input::Reply(reply)) => {
                if let Some(at) = self.current() {
                    self.answer(at, reply);
                }
            }
            (Phase::Fetch | Phase::Wait, Input::Reply(reply)) => {
                self.state.last_reply = Some(reply)
            }
            (Phase::Fetch, Input::Fetched(result)) => {
                if let Some(at) = self.current() {
                    self.fetched(at, result);
                }
            }
            (Phase::Reply | Phase::Wait, Input::Timer { id })
                if id != 0 && id == self.state.timer =>
            {
                self.state.timer = 0;
                let Some(at) = self.current() else { return };
                match &self.flow.steps[usize::from(at)] {
                    Program::Ask(ask) => {
                        if let Some((_, on_timeout)) = ask.timeout {
                            self.go(on_timeout);
                        }
                    }
                    Program::Wait { next, .. } => self.go(*next),
                    _ => {}
                }
            }
            (_, Input::Resume { step }) => {
                self.state.timer = 0;
                self.state.retries_used = 0;
                match self.flow.index.get(step.as_str()) {
                    Some(&at) => self.go(at),
                    None => self.fail(format!(
                        "the conversation was handed back at step `{step}`, which this flow version does not have"
                    )),
                }
            }
            // Stale timers and fetch answers, replies after the end, a second start.
            _ => {}
        }
    }

    /// The current step, or the fallback queue when the state names a step this version
    /// does not have.
    fn current(&mut self) -> Option<StepIndex> {
        let name = self.state.at.as_deref().unwrap_or_default();
        if let Some(i) = self.flow.index.get(name) {
            return Some(*i);
        }
        let note =
            format!("the conversation is at step `{name}`, which this flow version does not have");
        self.fail(note);
        None
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            ctx: self.ctx,
            vars: &self.state.vars,
            last: self.state.last_reply.as_ref(),
        }
    }

    fn render(&self, template: &Template) -> String {
        template.render(&self.scope())
    }

    fn send(&mut self, template: &Template) {
        let text = self.render(template);
        self.effects.push(Effect::Send { text });
    }

    fn start_timer(&mut self, after: Duration) {
        self.state.timers_started = self.state.timers_started.wrapping_add(1).max(1);
        self.state.timer = self.state.timers_started;
        self.effects.push(Effect::StartTimer {
            id: self.state.timer,
            after,
        });
    }

    fn set_var(&mut self, name: &str, value: &str) {
        let value: String = value.chars().take(MAX_VARIABLE_CHARS).collect();
        self.state.vars.insert(name.to_owned(), value);
    }

    fn fail(&mut self, note: String) {
        self.effects.push(Effect::Queue {
            queue: self.flow.fallback_queue.clone(),
            note: Some(note),
        });
        self.state.phase = Phase::Ended;
        self.state.timer = 0;
    }

    fn answer(&mut self, at: StepIndex, reply: Reply) {
        let Program::Ask(ask) = &self.flow.steps[usize::from(at)] else {
            return;
        };
        let checked = expect::check(
            ask.expect,
            &ask.options,
            &reply.text,
            self.ctx.date_order,
            self.ctx.country,
        );
        if checked.is_none() && self.state.retries_used < ask.retries {
            self.state.retries_used += 1;
            self.state.last_reply = Some(reply);
            self.send(ask.retry_text.as_ref().unwrap_or(&ask.text));
            return;
        }
        let value = checked.unwrap_or_else(|| reply.text.trim().to_owned());
        self.set_var(&ask.save_as, &value);
        self.state.last_reply = Some(reply);
        self.state.timer = 0;
        self.go(ask.next);
    }

    fn fetched(&mut self, at: StepIndex, result: Result<BTreeMap<String, String>, String>) {
        let Program::Fetch {
            fields,
            next,
            on_failure,
        } = &self.flow.steps[usize::from(at)]
        else {
            return;
        };
        let outcome = result.and_then(|values| {
            match fields.iter().find(|f| !values.contains_key(f.as_str())) {
                Some(missing) => Err(format!("the answer has no `{missing}`")),
                None => Ok(values),
            }
        });
        match outcome {
            Ok(values) => {
                for field in fields {
                    if let Some(v) = values.get(field) {
                        self.set_var(field, v);
                    }
                }
                self.state.vars.remove("fetch_error");
                self.go(*next);
            }
            Err(why) => {
                self.set_var("fetch_error", &why);
                self.go(*on_failure);
            }
        }
    }

    /// Records the step the conversation stops at (only when it stops: the name is not
    /// needed while steps run).
    fn settle(&mut self, at: StepIndex) {
        let name = self.flow.name_of(at);
        if self.state.at.as_deref() != Some(name) {
            self.state.at = Some(name.to_owned());
        }
    }

    /// Runs from step `at` until the flow waits or ends.
    fn go(&mut self, mut at: StepIndex) {
        loop {
            if self.steps_run >= self.ctx.step_budget {
                let note = format!(
                    "the flow ran {} steps without waiting for the customer (stopped at step `{}`)",
                    self.steps_run,
                    self.flow.name_of(at)
                );
                self.settle(at);
                self.fail(note);
                return;
            }
            self.steps_run += 1;
            let flow = self.flow;
            match &flow.steps[usize::from(at)] {
                Program::Message { text, next } => {
                    self.send(text);
                    at = *next;
                }
                Program::Ask(ask) => {
                    self.send(&ask.text);
                    self.state.phase = Phase::Reply;
                    self.state.retries_used = 0;
                    self.state.timer = 0;
                    if let Some((after, _)) = ask.timeout {
                        self.start_timer(after);
                    }
                    self.settle(at);
                    return;
                }
                Program::Branch { rules, otherwise } => {
                    let scope = self.scope();
                    at = rules
                        .iter()
                        .find(|(c, _)| c.holds(&scope))
                        .map_or(*otherwise, |(_, n)| *n);
                }
                Program::Fetch { fields, .. } => {
                    self.effects.push(Effect::Fetch {
                        fields: fields.clone(),
                    });
                    self.state.phase = Phase::Fetch;
                    self.settle(at);
                    return;
                }
                Program::Set { values, next } => {
                    let scope = self.scope();
                    let computed: Vec<(&str, String)> = values
                        .iter()
                        .map(|(k, c)| (&**k, c.value_text(&scope)))
                        .collect();
                    for (k, v) in computed {
                        self.set_var(k, &v);
                    }
                    at = *next;
                }
                Program::Status { status, next } => {
                    self.effects.push(Effect::SetStatus {
                        status: status.clone(),
                    });
                    at = *next;
                }
                Program::Queue { queue, text } => {
                    if let Some(t) = text {
                        self.send(t);
                    }
                    self.effects.push(Effect::Queue {
                        queue: queue.clone(),
                        note: None,
                    });
                    self.state.phase = Phase::Ended;
                    self.state.timer = 0;
                    self.settle(at);
                    return;
                }
                Program::Close { status, text } => {
                    if let Some(t) = text {
                        self.send(t);
                    }
                    self.effects.push(Effect::Close {
                        status: status.clone(),
                    });
                    self.state.phase = Phase::Ended;
                    self.state.timer = 0;
                    self.settle(at);
                    return;
                }
                Program::Wait { duration, .. } => {
                    self.state.phase = Phase::Wait;
                    self.start_timer(*duration);
                    self.settle(at);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
