//! The runtime's decisions, pure: given what a turn needs to know ([`Facts`]) and the
//! conversation as it stands, the [`Turn`] to write — messages, events, jobs and any
//! suppression change — or why nothing is written. They run inside the store's
//! transaction, under the conversation's lock (ADR 0006), so they read no clock and do
//! no I/O. The rules they follow are the runtime's (see `super`).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_channels::{Keyword, classify_keyword};
use parley_domain::{
    Channel, ChannelKind, Contact, Conversation, ConversationState, Direction, FlowId, Message,
    MessageId, MessageStatus, NewEvent, Note, NoteId, Organization, OutcomeStatus,
};
use parley_flow::{Context, Effect, Flow, Input, Lookup, Phase, Reply, State};
use parley_jobs::{Job, new_job};
use parley_store::{NewJob, RecipientClaim, StoreError, Suppression, SuppressionChange, Turn};
use serde_json::Value;

use super::{FetchJob, OPTED_OUT, TimerJob};
use crate::conversations::agents::MAX_NOTE_CHARS;
use crate::conversations::events::{self, Actor};
use crate::conversations::turn::AgentAction;
use crate::conversations::turn::{SendJob, send_lane};

/// The contact's fields as the flow reads them (text, numbers and booleans as written).
pub(crate) struct ContactFields<'a>(pub(crate) &'a Contact);

impl Lookup for ContactFields<'_> {
    fn lookup(&self, name: &str) -> Option<Cow<'_, str>> {
        if name == "customer_id" {
            return self.0.customer_id.as_deref().map(Cow::Borrowed);
        }
        match self.0.fields.get(name)? {
            Value::String(s) => Some(Cow::Borrowed(s)),
            Value::Null => None,
            other => Some(Cow::Owned(other.to_string())),
        }
    }
}

/// Everything a decision reads besides the conversation.
pub(super) struct Facts {
    pub(super) now: DateTime<Utc>,
    pub(super) organization: Organization,
    pub(super) channel: Channel,
    pub(super) contact: Contact,
    /// The customer's address on the channel's kind.
    pub(super) address: String,
    pub(super) statuses: Vec<OutcomeStatus>,
    /// The flow for this turn: the conversation's version, or the channel's latest for a
    /// new conversation.
    pub(super) flow: Option<(FlowId, u32, Arc<Flow>)>,
    /// How long a reply's send job waits before the job runner takes it.
    pub(super) send_after: chrono::Duration,
}

/// The turn under construction: the conversation and what it adds.
pub(super) struct Plan<'a> {
    facts: &'a Facts,
    conversation: Conversation,
    messages: Vec<Message>,
    events: Vec<NewEvent>,
    jobs: Vec<NewJob>,
    suppression: Option<SuppressionChange>,
    /// The campaign recipient whose first message this turn sends.
    recipient: Option<RecipientClaim>,
    /// The id the next outbound message takes (a campaign recipient's first message
    /// is named by the recipient: `MessageId::for_recipient`).
    next_outbound: Option<MessageId>,
    /// Jobs that cannot be built (serialisation) fail the turn, not the process.
    failed: Option<StoreError>,
    /// Notes from Parley the turn adds (why it was handed to a queue).
    notes: Vec<Note>,
}

/// The author of the notes Parley writes itself.
pub(crate) const SYSTEM_AUTHOR: &str = "system";

fn default_text(kind: Keyword, organization: &str) -> String {
    match kind {
        Keyword::OptOut => format!(
            "{organization}: you will receive no more messages from us. Reply START to subscribe again."
        ),
        Keyword::OptIn => {
            format!("{organization}: you are subscribed again. Reply HELP for help, STOP to stop.")
        }
        Keyword::Help => format!(
            "{organization}: reply STOP to stop messages, START to receive them again. Message and data rates may apply."
        ),
    }
}

fn keyword_setting(kind: Keyword) -> &'static str {
    match kind {
        Keyword::OptOut => "opt_out_text",
        Keyword::OptIn => "opt_in_text",
        Keyword::Help => "help_text",
    }
}

impl<'a> Plan<'a> {
    fn new(facts: &'a Facts, conversation: Conversation) -> Self {
        Self {
            facts,
            conversation,
            messages: Vec::new(),
            events: Vec::new(),
            jobs: Vec::new(),
            suppression: None,
            recipient: None,
            next_outbound: None,
            failed: None,
            notes: Vec::new(),
        }
    }

    fn new_conversation(facts: &'a Facts) -> Self {
        let now = facts.now;
        Self::new(
            facts,
            Conversation::open(
                facts.organization.id,
                facts.contact.id,
                facts.channel.id,
                Direction::Inbound,
                now,
            ),
        )
    }

    fn message(&mut self, direction: Direction, sender: &str, body: &str) -> Message {
        let now = self.facts.now;
        let sms = self.facts.channel.provider.address_kind() == ChannelKind::Sms;
        let (segments, encoding) = if sms && direction == Direction::Outbound {
            let s = parley_channels::segment(body);
            (s.segments(), Some(s.encoding))
        } else {
            (1, None)
        };
        let status = match direction {
            Direction::Inbound => MessageStatus::Received,
            Direction::Outbound => MessageStatus::Pending,
        };
        let id = match direction {
            Direction::Outbound => self.next_outbound.take(),
            Direction::Inbound => None,
        };
        Message {
            id: id.unwrap_or_else(MessageId::generate),
            organization_id: self.conversation.organization_id,
            conversation_id: self.conversation.id,
            channel_id: self.conversation.channel_id,
            direction,
            sender: sender.to_owned(),
            body: body.to_owned(),
            status,
            provider_message_id: None,
            error_code: None,
            error_message: None,
            segments,
            encoding,
            status_times: [(status.as_str().to_owned(), now)].into_iter().collect(),
            created_at: now,
            updated_at: now,
        }
    }

    fn record_inbound(&mut self, text: &str, provider_message_id: Option<String>) {
        let mut m = self.message(Direction::Inbound, "contact", text);
        m.provider_message_id = provider_message_id;
        self.conversation.last_inbound_at = Some(self.facts.now);
        self.events.push(events::inbound_message(
            &self.conversation,
            &self.facts.channel,
            &m,
            &self.facts.contact,
            &self.facts.address,
        ));
        self.messages.push(m);
    }

    /// Queues `text` to the customer; `exempt` lets it reach a suppressed address (the
    /// opt-out confirmation only).
    fn send(&mut self, sender: &str, text: &str, exempt: bool) {
        let m = self.message(Direction::Outbound, sender, text);
        let job = SendJob {
            organization: m.organization_id,
            message: m.id,
            exempt,
        };
        // Taken in-process at once when the runtime sends in-process; the job runs only
        // if that did not happen by `send_after` (a crash, a provider to retry). Either
        // way in the conversation's lane: one send at a time, in the order written.
        let run_at = self.facts.now + self.facts.send_after;
        match new_job(&job, self.facts.now, run_at, Some(m.id.to_string())) {
            Ok(j) => self.jobs.push(NewJob {
                lane: Some(send_lane(self.conversation.id)),
                ..j
            }),
            Err(e) => self.failed = Some(e),
        }
        self.messages.push(m);
    }

    fn schedule<J: Job>(&mut self, job: &J, after: Duration) {
        let run_at = self.facts.now + chrono::Duration::from_std(after).unwrap_or_default();
        match new_job(job, self.facts.now, run_at, None) {
            Ok(j) => self.jobs.push(j),
            Err(e) => self.failed = Some(e),
        }
    }

    fn label(&self, key: &str) -> (String, bool) {
        self.facts
            .statuses
            .iter()
            .find(|s| s.key == key)
            .map_or_else(|| (key.to_owned(), false), |s| (s.label.clone(), s.closes))
    }

    fn set_status(&mut self, key: &str, by: Actor) -> bool {
        let (label, closes) = self.label(key);
        self.conversation.status = Some(key.to_owned());
        self.events.push(events::set_status(
            &self.conversation,
            &self.facts.contact,
            key,
            &label,
            by,
            self.facts.now,
        ));
        closes
    }

    fn close(&mut self, by: Actor) {
        if self.conversation.state == ConversationState::Closed {
            return;
        }
        self.conversation.state = ConversationState::Closed;
        self.conversation.closed_at = Some(self.facts.now);
        self.events.push(events::conversation_closed(
            &self.conversation,
            &self.facts.contact,
            by,
            self.facts.now,
        ));
    }

    /// Hands the conversation to `queue`. `why` is added as a note from Parley, so the
    /// person who picks it up reads why it came to them; the `moveToQueue` event carries
    /// `note` (the reason a person gave, else the same words).
    fn queue(&mut self, queue: &str, note: &str, why: &str, by: Actor) {
        self.conversation.state = ConversationState::Queued;
        self.conversation.queue = Some(queue.to_owned());
        self.events.push(events::move_to_queue(
            &self.conversation,
            &self.facts.contact,
            queue,
            Some(note),
            by,
            self.facts.now,
        ));
        self.note_from_parley(why);
    }

    /// Adds a note from Parley itself to the conversation (what happened and why).
    fn note_from_parley(&mut self, why: &str) {
        self.notes.push(Note {
            id: NoteId::generate(),
            organization_id: self.conversation.organization_id,
            conversation_id: self.conversation.id,
            author: SYSTEM_AUTHOR.to_owned(),
            body: why.chars().take(MAX_NOTE_CHARS).collect(),
            created_at: self.facts.now,
        });
    }

    fn keyword(&mut self, kind: Keyword, is_new: bool, address_hash: &str) {
        let text = self
            .facts
            .channel
            .settings
            .get(keyword_setting(kind))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| match kind {
                Keyword::Help => self.facts.organization.help_text.clone(),
                Keyword::OptOut | Keyword::OptIn => None,
            })
            .unwrap_or_else(|| default_text(kind, &self.facts.organization.name));
        let kind_of_address = self.facts.channel.provider.address_kind();
        let organization = self.facts.organization.id;
        match kind {
            Keyword::OptOut => {
                self.suppression = Some(SuppressionChange::Add(Suppression {
                    organization_id: organization,
                    channel_kind: kind_of_address,
                    address_hash: address_hash.to_owned(),
                    reason: "stop_keyword".to_owned(),
                    created_at: self.facts.now,
                }));
                self.send("system", &text, true);
                self.set_status(OPTED_OUT, Actor::System);
                self.close(Actor::System);
            }
            Keyword::OptIn => {
                self.suppression = Some(SuppressionChange::Remove {
                    organization,
                    channel_kind: kind_of_address,
                    address_hash: address_hash.to_owned(),
                });
                self.send("system", &text, false);
            }
            Keyword::Help => self.send("system", &text, false),
        }
        if is_new {
            self.close(Actor::System);
        }
    }

    /// Runs one input through the flow and carries out its effects.
    fn run_flow(&mut self, flow: &Flow, input: Input) {
        let state: State = serde_json::from_str(&self.conversation.flow_state).unwrap_or_default();
        let fields = ContactFields(&self.facts.contact);
        let ctx = Context {
            contact: &fields,
            organization_name: &self.facts.organization.name,
            portal_url: "",
            today: self.facts.organization.timezone.today(self.facts.now),
            date_order: self.facts.organization.locale,
            country: self.facts.organization.default_country,
            step_budget: parley_flow::DEFAULT_STEP_BUDGET,
        };
        let outcome = parley_flow::step(flow, &ctx, state, input);
        self.conversation.flow_state =
            serde_json::to_string(&outcome.state).unwrap_or_else(|_| "{}".to_owned());
        for effect in outcome.effects {
            self.effect(effect);
        }
    }

    fn effect(&mut self, effect: Effect) {
        let (org, id) = (self.conversation.organization_id, self.conversation.id);
        match effect {
            Effect::Send { text } => self.send("bot", &text, false),
            Effect::Fetch { fields } => self.schedule(
                &FetchJob {
                    organization: org,
                    conversation: id,
                    fields,
                },
                Duration::ZERO,
            ),
            Effect::SetStatus { status } => {
                if self.set_status(&status, Actor::Bot) {
                    self.close(Actor::Bot);
                }
            }
            Effect::Queue { queue, note } => {
                // A note comes with a failure (Parley moved it); none with a hand-over step.
                let (by, why) = match note {
                    Some(note) => (Actor::System, note),
                    None => (
                        Actor::Bot,
                        format!(
                            "The bot flow “{}” handed the conversation over to {queue}.",
                            self.facts.flow.as_ref().map_or("", |(_, _, f)| f.name())
                        ),
                    ),
                };
                self.queue(&queue, &why, &why, by);
            }
            Effect::Close { status } => {
                self.set_status(&status, Actor::Bot);
                self.close(Actor::Bot);
            }
            Effect::StartTimer { id: timer, after } => self.schedule(
                &TimerJob {
                    organization: org,
                    conversation: id,
                    timer,
                },
                after,
            ),
        }
    }

    fn finish(mut self) -> Result<Turn, StoreError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.conversation.updated_at = self.facts.now;
        Ok(Turn {
            conversation: self.conversation,
            messages: self.messages,
            events: self.events,
            jobs: self.jobs,
            suppression: self.suppression,
            recipient: self.recipient,
            notes: self.notes,
        })
    }
}

impl Plan<'_> {
    /// A person's reply: queued to the customer; the person takes the conversation.
    fn agent_reply(&mut self, sender: &str, text: &str, by: Actor) {
        self.send(sender, text, false);
        if self.conversation.first_agent_reply_at.is_none() {
            self.conversation.first_agent_reply_at = Some(self.facts.now);
        }
        if let (None, Actor::Agent(user)) = (self.conversation.assignee, by) {
            self.assign(Some(user), by);
        }
        self.conversation.state = ConversationState::Assigned;
    }

    /// Gives the conversation to `user`, or back to its queue.
    fn assign(&mut self, user: Option<parley_domain::UserId>, by: Actor) {
        self.conversation.assignee = user;
        if user.is_some() {
            self.conversation.state = ConversationState::Assigned;
        } else {
            self.conversation.state = ConversationState::Queued;
            if self.conversation.queue.is_none() {
                self.conversation.queue =
                    Some(crate::conversations::queues::DEFAULT_QUEUE.to_owned());
            }
        }
        self.events.push(events::conversation_assignment(
            &self.conversation,
            &self.facts.contact,
            user,
            by,
            self.facts.now,
        ));
    }

    /// Carries out a person's action (checked by the caller against the organization).
    fn agent_action(&mut self, action: &AgentAction, sender: &str, by: Actor) {
        match action {
            AgentAction::Reply { text } => self.agent_reply(sender, text, by),
            AgentAction::Assign { user } => self.assign(*user, by),
            AgentAction::Move { queue, note } => {
                self.conversation.assignee = None;
                let who = match by {
                    Actor::Agent(user) => user.to_string(),
                    Actor::ApiKey(key) => key.to_string(),
                    Actor::Bot | Actor::System => "Parley".to_owned(),
                };
                match note.as_deref().map(str::trim) {
                    Some(note) if !note.is_empty() => {
                        let why = format!("Moved to {queue} by {who}: {note}");
                        self.queue(queue, note, &why, by);
                    }
                    _ => {
                        let why = format!("Moved to {queue} by {who}.");
                        self.queue(queue, &why, &why, by);
                    }
                }
            }
            AgentAction::HandBack { step } => {
                self.conversation.state = ConversationState::Bot;
                self.conversation.assignee = None;
                let bot = self
                    .facts
                    .flow
                    .as_ref()
                    .map_or_else(String::new, |(_, _, f)| format!(" “{}”", f.name()));
                self.note_from_parley(&format!(
                    "Handed back to the bot{bot} at the step “{step}”."
                ));
                if let Some((_, _, flow)) = self.facts.flow.clone() {
                    self.run_flow(&flow, Input::Resume { step: step.clone() });
                }
            }
            AgentAction::SetStatus { status } => {
                if self.set_status(status, by) {
                    self.close(by);
                }
            }
            AgentAction::Close { status } => {
                if let Some(status) = status {
                    self.set_status(status, by);
                }
                self.close(by);
            }
        }
    }
}

/// The decision on a person's action: nothing on a closed conversation.
pub(super) fn decide_agent(
    facts: &Facts,
    current: Option<&Conversation>,
    action: &AgentAction,
    sender: &str,
    by: Actor,
    out: &DecisionSlot,
) -> Option<Turn> {
    let c = current?;
    if c.state == ConversationState::Closed {
        return None;
    }
    if matches!(action, AgentAction::HandBack { .. })
        && let Some((id, version)) = c.flow_id.zip(c.flow_version)
        && facts
            .flow
            .as_ref()
            .is_none_or(|(f, v, _)| *f != id || *v != version)
    {
        return decline(out, Declined::NeedsFlow(id, version));
    }
    let mut plan = Plan::new(facts, c.clone());
    plan.agent_action(action, sender, by);
    finish(plan, out)
}

/// The decision to give a waiting conversation to `user`: only while it still waits in
/// `queue` with no one.
pub(super) fn decide_auto_assign(
    facts: &Facts,
    current: Option<&Conversation>,
    queue: &str,
    user: parley_domain::UserId,
    out: &DecisionSlot,
) -> Option<Turn> {
    let c = current?;
    if c.state != ConversationState::Queued
        || c.assignee.is_some()
        || c.queue.as_deref() != Some(queue)
    {
        return None;
    }
    let mut plan = Plan::new(facts, c.clone());
    plan.assign(Some(user), Actor::System);
    finish(plan, out)
}

/// The decision to send a campaign recipient its first message: a new outbound
/// conversation running the campaign's flow from its start, which claims the recipient
/// (`Turn::recipient`) in the same transaction. A contact already in an open conversation
/// on the channel is not interrupted: the turn is declined as `Busy`.
pub(super) fn decide_campaign_start(
    facts: &Facts,
    current: Option<&Conversation>,
    campaign: parley_domain::CampaignId,
    seq: u64,
    out: &DecisionSlot,
) -> Option<Turn> {
    if current.is_some() {
        return decline(out, Declined::Busy);
    }
    let (id, version, flow) = facts.flow.as_ref()?;
    let mut plan = Plan::new_conversation(facts);
    plan.conversation.direction = Direction::Outbound;
    plan.conversation.campaign_id = Some(campaign);
    plan.conversation.flow_id = Some(*id);
    plan.conversation.flow_version = Some(*version);
    plan.next_outbound = Some(MessageId::for_recipient(campaign, seq));
    plan.run_flow(flow, Input::Start { opening: None });
    let message = plan
        .messages
        .iter()
        .find(|m| m.direction == Direction::Outbound)
        .map(|m| m.id);
    plan.recipient = Some(RecipientClaim {
        campaign,
        seq,
        message,
    });
    finish(plan, out)
}

/// The decision to open an outbound conversation with a person's first message: none
/// while the contact has an open conversation on the channel.
pub(super) fn decide_agent_start(
    facts: &Facts,
    current: Option<&Conversation>,
    text: &str,
    sender: &str,
    by: Actor,
    out: &DecisionSlot,
) -> Option<Turn> {
    if current.is_some() {
        return decline(out, Declined::Busy);
    }
    let mut plan = Plan::new_conversation(facts);
    plan.conversation.direction = Direction::Outbound;
    plan.agent_reply(sender, text, by);
    finish(plan, out)
}

/// Why a decision wrote nothing.
#[derive(Debug, Default)]
pub(super) enum Declined {
    /// Nothing to do.
    #[default]
    Nothing,
    /// The contact is in an open conversation on the channel.
    Busy,
    /// The conversation runs another flow version than the one prepared: load it, retry.
    NeedsFlow(FlowId, u32),
    /// Building the turn failed.
    Failed(String),
}

/// What a decision tells the runtime besides its turn.
#[derive(Debug, Default)]
pub(super) struct Decision {
    /// Why nothing was written, when nothing was.
    pub(super) declined: Declined,
    /// The turn's sends: each message's send job.
    pub(super) sends: Vec<(MessageId, parley_domain::JobId, SendJob)>,
    /// Whether the turn queued other jobs due now (a fetch) for the job workers, which are
    /// then woken; a timer due later is found by their next poll.
    pub(super) other_jobs: bool,
}

/// Where a decision run inside the store's transaction leaves what the runtime does after
/// the commit (its sends, whether it queued other jobs, why it declined).
pub(super) type DecisionSlot = Arc<Mutex<Decision>>;

pub(super) fn decline(out: &DecisionSlot, why: Declined) -> Option<Turn> {
    out.lock().unwrap_or_else(PoisonError::into_inner).declined = why;
    None
}

pub(super) fn finish(plan: Plan<'_>, out: &DecisionSlot) -> Option<Turn> {
    let now = plan.facts.now;
    match plan.finish() {
        Ok(turn) => {
            let sends = turn
                .jobs
                .iter()
                .filter(|j| j.kind == SendJob::NAME)
                .filter_map(|j| {
                    let send: SendJob = serde_json::from_value(j.payload.clone()).ok()?;
                    Some((send.message, j.id, send))
                })
                .collect();
            let mut decision = out.lock().unwrap_or_else(PoisonError::into_inner);
            decision.sends = sends;
            decision.other_jobs = turn
                .jobs
                .iter()
                .any(|j| j.kind != SendJob::NAME && j.run_at <= now);
            Some(turn)
        }
        Err(e) => decline(out, Declined::Failed(e.to_string())),
    }
}

/// The flow a conversation needs, when it is not the one prepared.
pub(super) fn flow_mismatch(facts: &Facts, c: &Conversation) -> Option<(FlowId, u32)> {
    if c.state != ConversationState::Bot {
        return None;
    }
    let (id, version) = (c.flow_id?, c.flow_version?);
    match &facts.flow {
        Some((f, v, _)) if *f == id && *v == version => None,
        _ => Some((id, version)),
    }
}

/// The decision on a customer's message (pure: runs under the conversation's lock).
/// What keyword handling needs to know of the customer's address.
pub(super) struct Keywords<'a> {
    /// The address's suppression hash.
    pub(super) address_hash: &'a str,
    /// Whether it is opted out now: only then is an opt-in word a keyword.
    pub(super) opted_out: bool,
}

pub(super) fn decide_inbound(
    facts: &Facts,
    current: Option<&Conversation>,
    text: &str,
    provider_message_id: Option<String>,
    keywords: &Keywords<'_>,
    out: &DecisionSlot,
) -> Option<Turn> {
    if let Some(c) = current
        && let Some((id, version)) = flow_mismatch(facts, c)
    {
        return decline(out, Declined::NeedsFlow(id, version));
    }
    let is_new = current.is_none();
    let mut plan = match current {
        Some(c) => Plan::new(facts, c.clone()),
        None => Plan::new_conversation(facts),
    };
    plan.record_inbound(text, provider_message_id);
    if let Some(kind) = classify_keyword(text)
        && (kind != Keyword::OptIn || keywords.opted_out)
    {
        plan.keyword(kind, is_new, keywords.address_hash);
        return finish(plan, out);
    }
    let reply = Reply::text(text);
    if is_new {
        match &facts.flow {
            Some((id, version, flow)) => {
                plan.conversation.flow_id = Some(*id);
                plan.conversation.flow_version = Some(*version);
                plan.run_flow(
                    flow,
                    Input::Start {
                        opening: Some(reply),
                    },
                );
            }
            None => {
                let queue = facts.channel.inbound_queue.clone();
                let why = format!(
                    "The channel “{}” has no inbound flow, so new conversations go to {queue}.",
                    facts.channel.name
                );
                plan.queue(&queue, &why, &why, Actor::System);
            }
        }
    } else if plan.conversation.state == ConversationState::Bot
        && let Some((_, _, flow)) = &facts.flow
    {
        plan.run_flow(flow, Input::Reply(reply));
    }
    finish(plan, out)
}

/// The decision on a timer or a fetch answer.
pub(super) fn decide_flow_input(
    facts: &Facts,
    current: Option<&Conversation>,
    input: Input,
    out: &DecisionSlot,
) -> Option<Turn> {
    let c = current?;
    if c.state != ConversationState::Bot {
        return None;
    }
    if let Some((id, version)) = flow_mismatch(facts, c) {
        return decline(out, Declined::NeedsFlow(id, version));
    }
    let state: State = serde_json::from_str(&c.flow_state).unwrap_or_default();
    if state.phase == Phase::Ended {
        return None;
    }
    let (_, _, flow) = facts.flow.as_ref()?;
    let mut plan = Plan::new(facts, c.clone());
    plan.run_flow(flow, input);
    finish(plan, out)
}
