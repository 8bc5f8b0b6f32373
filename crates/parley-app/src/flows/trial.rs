//! Trying a flow's draft as a customer (the editor's **Try it**): the same engine as
//! `parley flow chat`, run one input at a time with nothing stored — the page keeps the
//! engine's state between turns and sends it back. The organization's today, date order,
//! country and name are the context; the contact's fields are what the tester typed. A
//! `fetch` is answered by the tester (values, or a failure) and a timer passes when they
//! say so, so every branch can be tried without waiting or a custom value endpoint. A
//! dialogue script (the format `parley flow test` reads) is played against the draft the
//! same way, each dialogue with its transcript.

use std::collections::BTreeMap;

use parley_domain::Permission;
use parley_flow::{Effect, FieldMap, Flow, FlowDocument, Input, Phase, Reply, Settings, State};

/// A played script's dialogues, each with its transcript (re-exported for the pages).
pub use parley_flow::ScriptRun;

use crate::auth::Access;
use crate::{App, AppError};

/// The largest engine state a trial takes back (a real one is a few hundred bytes).
const MAX_STATE_BYTES: usize = 64 * 1024;

/// The largest dialogue script played in the page (the examples are a few kilobytes).
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// What the tester does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrialInput {
    /// Start the flow from its first step.
    Start,
    /// Write as the customer.
    Reply(String),
    /// Answer the pending fetch with values by field, or fail it.
    Fetched(Result<BTreeMap<String, String>, String>),
    /// Let the running timer pass.
    Timer,
}

/// What the flow waits for after a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waits {
    /// The customer's reply (a timer may be running).
    Reply,
    /// Values for these fields.
    Fetch(Vec<String>),
    /// Only its timer (a `wait` step).
    Timer,
    /// Nothing: handed over or closed.
    Ended,
}

/// One turn of a trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialTurn {
    /// What happened, in order: the bot's messages and what it did.
    pub lines: Vec<String>,
    /// The engine's state to send back with the next input.
    pub state: String,
    /// What the flow waits for.
    pub waits: Waits,
    /// Whether a timer is running (the tester may let it pass).
    pub timer: bool,
}

impl App {
    /// Runs `input` through the draft `text` from `state` (none: not started), for a
    /// contact with `contact`'s fields.
    pub fn try_flow(
        &self,
        access: &Access,
        text: &str,
        state: Option<&str>,
        contact: BTreeMap<String, String>,
        input: TrialInput,
    ) -> Result<TrialTurn, AppError> {
        access.require(Permission::CampaignsRead)?;
        let flow = runnable(text)?;
        let state: State = match state.filter(|s| !s.trim().is_empty()) {
            None => State::default(),
            Some(s) if s.len() > MAX_STATE_BYTES => {
                return Err(AppError::invalid(
                    "state",
                    "is larger than a trial's state can be",
                ));
            }
            Some(s) => serde_json::from_str(s)
                .map_err(|_| AppError::invalid("state", "is not a trial's state; start again"))?,
        };
        let input = match input {
            TrialInput::Start => Input::Start { opening: None },
            TrialInput::Reply(text) => Input::Reply(Reply::text(text)),
            TrialInput::Fetched(answer) => Input::Fetched(answer),
            TrialInput::Timer if state.timer == 0 => {
                return Err(AppError::invalid("timer", "no timer is running"));
            }
            TrialInput::Timer => Input::Timer { id: state.timer },
        };
        let settings = self.flow_settings(access);
        let contact = FieldMap(contact);
        let mut lines: Vec<String> = input.transcript_line().into_iter().collect();
        let outcome = parley_flow::step(&flow, &settings.context(&contact), state, input);
        let mut fetch = None;
        for effect in outcome.effects {
            lines.push(effect.to_string());
            if let Effect::Fetch { fields } = effect {
                fetch = Some(fields);
            }
        }
        let state = outcome.state;
        let waits = match (fetch, state.phase) {
            (_, Phase::Ended) => Waits::Ended,
            (Some(fields), _) => Waits::Fetch(fields),
            (None, Phase::Wait) => Waits::Timer,
            (None, _) => Waits::Reply,
        };
        Ok(TrialTurn {
            lines,
            timer: state.timer != 0 && waits != Waits::Ended,
            state: serde_json::to_string(&state).map_err(|e| AppError::Internal(Box::new(e)))?,
            waits,
        })
    }

    /// Plays a dialogue script (the format `parley flow test` reads) against the draft
    /// `text`, with the organization's today, date order, country and name as the
    /// settings the script may change. Nothing is sent or stored.
    pub fn play_flow_script(
        &self,
        access: &Access,
        text: &str,
        script: &str,
    ) -> Result<ScriptRun, AppError> {
        access.require(Permission::CampaignsRead)?;
        if script.len() > MAX_SCRIPT_BYTES {
            return Err(AppError::invalid(
                "script",
                format!(
                    "is {} bytes; at most {MAX_SCRIPT_BYTES} are played",
                    script.len()
                ),
            ));
        }
        if script.trim().is_empty() {
            return Err(AppError::invalid(
                "script",
                "is empty; paste or choose a dialogue script",
            ));
        }
        let flow = runnable(text)?;
        Ok(parley_flow::play_script(
            &flow,
            script,
            &self.flow_settings(access),
        ))
    }

    /// A flow's settings in this organization: its today, date order, country and name.
    fn flow_settings(&self, access: &Access) -> Settings {
        let organization = &access.organization;
        let mut settings = Settings::new(organization.timezone.today(self.clock.now()));
        settings.date_order = organization.locale;
        settings.country = organization.default_country;
        settings.organization_name.clone_from(&organization.name);
        settings
    }
}

/// The draft `text` as a flow the engine can run, or why not.
fn runnable(text: &str) -> Result<Flow, AppError> {
    let doc =
        FlowDocument::parse(text).map_err(|e| AppError::invalid("document", e.to_string()))?;
    parley_flow::validate(&doc, None)
        .into_publishable()
        .ok_or_else(|| {
            AppError::invalid(
                "document",
                "fix the errors the editor lists before trying the flow",
            )
        })
}
