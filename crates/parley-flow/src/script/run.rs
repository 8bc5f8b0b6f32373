//! Runs a script's dialogues against a flow through the engine, matching each expectation
//! against the effects in order.

use std::collections::VecDeque;
use std::time::Duration;

use regex::Regex;

use super::{FieldMap, ScriptFailure, Settings};
use crate::duration::{format_duration, parse_duration};
use crate::engine::{Effect, Input, Phase, Reply, State, step};
use crate::program::Flow;

/// One dialogue that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogueReport {
    /// Its name.
    pub name: String,
    /// Engine steps it ran.
    pub steps: u32,
    /// Messages the bot sent.
    pub bot_messages: usize,
    /// The largest serialised state seen, in bytes.
    pub max_state_bytes: usize,
    /// The inputs the dialogue gave the engine, in order (for replaying, as the benchmark
    /// does).
    pub inputs: Vec<Input>,
    /// The contact it ran with.
    pub contact: FieldMap,
    /// The settings it ran with.
    pub settings: Settings,
    /// The conversation as it went: the customer's lines and the flow's effects, in the
    /// words of [`Input::transcript_line`] and [`Effect`]'s `Display`.
    pub transcript: Vec<String>,
}

/// A script played to its end, or to its first unmet expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    /// The dialogues that passed, in order.
    pub passed: Vec<DialogueReport>,
    /// The first failure and the transcript of its dialogue up to it.
    pub failed: Option<(ScriptFailure, Vec<String>)>,
}

/// Runs every dialogue of `script` against `flow`, starting from `defaults`. Stops at the
/// first unmet expectation.
pub fn run_script(
    flow: &Flow,
    script: &str,
    defaults: &Settings,
) -> Result<Vec<DialogueReport>, ScriptFailure> {
    let run = play_script(flow, script, defaults);
    match run.failed {
        Some((failure, _)) => Err(failure),
        None => Ok(run.passed),
    }
}

/// Plays `script` against `flow` as [`run_script`] does, keeping what passed before a
/// failure and the failed dialogue's transcript (for a page that shows the run).
pub fn play_script(flow: &Flow, script: &str, defaults: &Settings) -> ScriptRun {
    let mut passed = Vec::new();
    let failed = play(flow, script, defaults, &mut passed).err();
    ScriptRun { passed, failed }
}

/// A failure and the transcript of its dialogue up to it (empty outside a dialogue).
type Failed = (ScriptFailure, Vec<String>);

/// A failure at `line`, in `dialogue` when inside one.
fn failed(line: usize, dialogue: Option<Dialogue>, message: String) -> Failed {
    let (name, transcript) = dialogue.map_or((None, Vec::new()), |d| (Some(d.name), d.transcript));
    let failure = ScriptFailure {
        line,
        dialogue: name,
        message,
    };
    (failure, transcript)
}

/// Plays `script`, adding each dialogue that passes to `passed`, until the first failure.
fn play(
    flow: &Flow,
    script: &str,
    defaults: &Settings,
    passed: &mut Vec<DialogueReport>,
) -> Result<(), Failed> {
    let mut shared = defaults.clone();
    let mut current: Option<Dialogue> = None;
    let mut last_line = 0;
    for (i, raw) in script.lines().enumerate() {
        let line = i + 1;
        last_line = line;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if let Some(name) = text.strip_prefix("===") {
            if let Some(d) = current.take() {
                passed.push(d.finish(line)?);
            }
            current = Some(Dialogue::new(name.trim(), shared.clone()));
            continue;
        }
        let (key, value) = split(text);
        match current.as_mut() {
            None => match shared.apply(key, value) {
                Ok(true) => {}
                Ok(false) => {
                    let message = format!(
                        "`{key}` before the first `=== dialogue` line; only settings may come first"
                    );
                    return Err(failed(line, None, message));
                }
                Err(message) => return Err(failed(line, None, message)),
            },
            Some(d) => {
                if let Err(message) = d.line(flow, key, value) {
                    return Err(failed(line, current.take(), message));
                }
            }
        }
    }
    match current {
        Some(d) => passed.push(d.finish(last_line + 1)?),
        None => {
            let message = "the script has no dialogue (start one with `=== name`)".to_owned();
            return Err(failed(last_line.max(1), None, message));
        }
    }
    Ok(())
}

fn split(text: &str) -> (&str, &str) {
    match text.split_once(':') {
        Some((k, v)) if !k.contains(' ') => (k.trim(), v.trim()),
        _ => (text, ""),
    }
}

#[derive(Debug)]
enum Seen {
    Bot(String),
    Status(String),
    Queue(String, Option<String>),
    Close(String),
}

impl Seen {
    fn describe(&self) -> String {
        match self {
            Seen::Bot(t) => format!("the bot said {t:?}"),
            Seen::Status(s) => format!("the flow tagged status `{s}`"),
            Seen::Queue(q, None) => format!("the flow handed over to queue `{q}`"),
            Seen::Queue(q, Some(note)) => format!("the flow failed and joined queue `{q}`: {note}"),
            Seen::Close(s) => format!("the flow closed with status `{s}`"),
        }
    }
}

struct Dialogue {
    name: String,
    settings: Settings,
    contact: FieldMap,
    state: State,
    pending: VecDeque<Seen>,
    /// The delay of the latest timer the engine started; the state holds its id.
    timer_after: Duration,
    next_reply: Reply,
    ended: bool,
    steps: u32,
    bot_messages: usize,
    max_state_bytes: usize,
    inputs: Vec<Input>,
    transcript: Vec<String>,
}

impl Dialogue {
    fn new(name: &str, settings: Settings) -> Self {
        Self {
            name: name.to_owned(),
            settings,
            contact: FieldMap::default(),
            state: State::default(),
            pending: VecDeque::new(),
            timer_after: Duration::ZERO,
            next_reply: Reply::default(),
            ended: false,
            steps: 0,
            bot_messages: 0,
            max_state_bytes: 0,
            inputs: Vec::new(),
            transcript: Vec::new(),
        }
    }

    fn feed(&mut self, flow: &Flow, input: Input) {
        let ctx = self.settings.context(&self.contact);
        self.transcript.extend(input.transcript_line());
        self.inputs.push(input.clone());
        let outcome = step(flow, &ctx, std::mem::take(&mut self.state), input);
        self.state = outcome.state;
        self.steps += outcome.steps_run;
        let bytes = serde_json::to_vec(&self.state).map_or(0, |v| v.len());
        self.max_state_bytes = self.max_state_bytes.max(bytes);
        for effect in outcome.effects {
            self.transcript.push(effect.to_string());
            match effect {
                Effect::Send { text } => {
                    self.bot_messages += 1;
                    self.pending.push_back(Seen::Bot(text));
                }
                Effect::SetStatus { status } => self.pending.push_back(Seen::Status(status)),
                Effect::Queue { queue, note } => self.pending.push_back(Seen::Queue(queue, note)),
                Effect::Close { status } => self.pending.push_back(Seen::Close(status)),
                // The state says the flow waits for a fetch, and which timer counts.
                Effect::Fetch { .. } => {}
                Effect::StartTimer { after, .. } => self.timer_after = after,
            }
        }
    }

    fn started(&self) -> bool {
        self.state.phase != Phase::New
    }

    /// Nothing the bot did may be left unmatched before `what`.
    fn settled(&self, what: &str) -> Result<(), String> {
        match self.pending.front() {
            None => Ok(()),
            Some(seen) => Err(format!(
                "{} before {what}, which the script does not expect (add a line for it)",
                seen.describe()
            )),
        }
    }

    fn line(&mut self, flow: &Flow, key: &str, value: &str) -> Result<(), String> {
        if self.ended {
            return Err("the dialogue already ended with its `end:` line".to_owned());
        }
        if self.settings.apply(key, value)? {
            return Ok(());
        }
        // Lines about what happens start the flow when no `start:` line did.
        let sets_up = matches!(key, "contact" | "start" | "intent" | "entity");
        if !sets_up && !self.started() {
            self.feed(flow, Input::Start { opening: None });
        }
        match key {
            "contact" => {
                if self.started() {
                    return Err("`contact:` must come before the flow starts".to_owned());
                }
                self.contact = FieldMap::from_json(value)?;
            }
            "start" => {
                if self.started() {
                    return Err("the flow has already started".to_owned());
                }
                let opening = (!value.is_empty()).then(|| Reply {
                    text: value.to_owned(),
                    ..std::mem::take(&mut self.next_reply)
                });
                self.feed(flow, Input::Start { opening });
            }
            "bot" | "bot~" => {
                let matches = |said: &str| -> Result<bool, String> {
                    if key == "bot" {
                        Ok(said.contains(value))
                    } else {
                        let re = Regex::new(value)
                            .map_err(|e| format!("`{value}` is not a valid pattern: {e}"))?;
                        Ok(re.is_match(said))
                    }
                };
                let wanted = if key == "bot" {
                    format!("say {value:?}")
                } else {
                    format!("say something matching /{value}/")
                };
                match self.pending.pop_front() {
                    Some(Seen::Bot(said)) if matches(&said)? => {}
                    Some(other) => {
                        return Err(format!(
                            "expected the bot to {wanted}, but {}",
                            other.describe()
                        ));
                    }
                    None => {
                        return Err(format!(
                            "expected the bot to {wanted}, but it said nothing more ({})",
                            self.waiting()
                        ));
                    }
                }
            }
            "status" => match self.pending.pop_front() {
                Some(Seen::Status(s)) if s == value => {}
                Some(other) => {
                    return Err(format!(
                        "expected status `{value}`, but {}",
                        other.describe()
                    ));
                }
                None => {
                    return Err(format!(
                        "expected status `{value}`, but nothing more happened ({})",
                        self.waiting()
                    ));
                }
            },
            "intent" => {
                let mut parts = value.split_whitespace();
                self.next_reply.intent = parts.next().map(str::to_owned);
                if let Some(c) = parts.next() {
                    self.next_reply.confidence = Some(
                        c.parse()
                            .map_err(|_| format!("`{c}` is not a confidence like 0.9"))?,
                    );
                }
            }
            "entity" => {
                let (kind, v) = value
                    .split_once('=')
                    .ok_or("write an entity as kind=value")?;
                self.next_reply
                    .entities
                    .insert(kind.trim().to_owned(), v.trim().to_owned());
            }
            "customer" => {
                self.settled("the customer's reply")?;
                if self.state.phase == Phase::Ended {
                    return Err("the customer replied, but the flow has already ended".to_owned());
                }
                let reply = Reply {
                    text: value.to_owned(),
                    ..std::mem::take(&mut self.next_reply)
                };
                self.feed(flow, Input::Reply(reply));
            }
            "fetch" | "fetch-fails" => {
                self.settled("the fetch answer")?;
                if self.state.phase != Phase::Fetch {
                    return Err(format!(
                        "the flow is not waiting for a fetch ({})",
                        self.waiting()
                    ));
                }
                let result = if key == "fetch" {
                    Ok(FieldMap::from_json(value)?.0)
                } else {
                    Err(if value.is_empty() {
                        "the request failed".to_owned()
                    } else {
                        value.to_owned()
                    })
                };
                self.feed(flow, Input::Fetched(result));
            }
            "after" => {
                self.settled("time passes")?;
                let by = parse_duration(value).map_err(|e| format!("`{value}`: {e}"))?;
                let id = self.state.timer;
                if id == 0 {
                    return Err(format!("no timer is running ({})", self.waiting()));
                }
                if self.timer_after > by {
                    return Err(format!(
                        "no timer is due within {value} (the next is due after {})",
                        format_duration(self.timer_after)
                    ));
                }
                self.feed(flow, Input::Timer { id });
            }
            "end" => {
                self.end(value)?;
                self.ended = true;
            }
            other => {
                return Err(format!(
                    "unknown line `{other}`; see the script format in the README"
                ));
            }
        }
        Ok(())
    }

    fn end(&mut self, value: &str) -> Result<(), String> {
        let (kind, arg) = value
            .split_once(' ')
            .map_or((value, ""), |(k, a)| (k, a.trim()));
        match kind {
            "waiting" => {
                self.settled("the end")?;
                if self.state.phase != Phase::Reply {
                    return Err(format!(
                        "expected the flow to wait for the customer, but {}",
                        self.waiting()
                    ));
                }
            }
            "closed" | "queued" => {
                let seen = self.pending.pop_front();
                let ok = match (&seen, kind) {
                    (Some(Seen::Close(s)), "closed") => s == arg,
                    (Some(Seen::Queue(q, _)), "queued") => q == arg,
                    _ => false,
                };
                if !ok {
                    let what = seen.map_or_else(
                        || format!("nothing more happened ({})", self.waiting()),
                        |s| s.describe(),
                    );
                    return Err(format!(
                        "expected the dialogue to end {kind} `{arg}`, but {what}"
                    ));
                }
                self.settled("the end")?;
            }
            _ => {
                return Err(format!(
                    "`end:` takes `closed STATUS`, `queued QUEUE` or `waiting`, not `{value}`"
                ));
            }
        }
        Ok(())
    }

    fn waiting(&self) -> String {
        let at = self.state.at.as_deref().unwrap_or("?");
        match self.state.phase {
            Phase::New => "the flow has not started".to_owned(),
            Phase::Reply => format!("it waits for the customer at step `{at}`"),
            Phase::Fetch => format!("it waits for a fetch at step `{at}`"),
            Phase::Wait => format!("it waits for time to pass at step `{at}`"),
            Phase::Ended => format!("it ended at step `{at}`"),
        }
    }

    fn finish(self, line: usize) -> Result<DialogueReport, Failed> {
        if !self.ended {
            let failure = ScriptFailure {
                line: line.saturating_sub(1).max(1),
                dialogue: Some(self.name),
                message: "the dialogue has no `end:` line saying how it ends".to_owned(),
            };
            return Err((failure, self.transcript));
        }
        Ok(DialogueReport {
            name: self.name,
            steps: self.steps,
            bot_messages: self.bot_messages,
            max_state_bytes: self.max_state_bytes,
            inputs: self.inputs,
            contact: self.contact,
            settings: self.settings,
            transcript: self.transcript,
        })
    }
}
