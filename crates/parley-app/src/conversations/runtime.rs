//! The conversation runtime: every input to a conversation — a customer's message, a flow
//! timer, a fetch answer — is one turn (ADR 0006). The runtime gathers what the turn needs
//! (the contact, the channel, the compiled flow, the outcome statuses), then hands the store
//! a pure decision that runs under the conversation's lock and returns the conversation,
//! its messages, events, jobs and any suppression change, all written in one transaction.
//!
//! Decisions (SPEC §5 where it speaks):
//! * **Routing.** A message from an address finds (or creates) the contact holding it, then
//!   that contact's open conversation on the channel. Without one, a new inbound
//!   conversation starts the channel's inbound flow (its latest published version, kept
//!   for the conversation's life), or waits in the channel's inbound queue.
//! * **Keywords** are read before anything else, whatever the conversation's state:
//!   an opt-out suppresses the address (for the organization and channel kind), sends one
//!   confirmation (the only message that may reach a suppressed address) and closes the
//!   conversation with `opted_out`; an opt-in lifts the suppression and confirms; help
//!   answers with the help text. Neither moves the flow. A keyword with no open
//!   conversation is kept in a conversation of its own, closed at once, so the next
//!   message starts afresh. Texts come from the channel's settings `opt_out_text`,
//!   `opt_in_text` and `help_text`, else (for help) the organization's help text, else
//!   short defaults naming the organization.
//! * **People's conversations.** A message to a queued or assigned conversation is only
//!   recorded (and announced): the flow is stopped while people have it.
//! * **Flows.** A conversation runs the flow version it started with; compiled versions
//!   are cached per process (versions never change). "Today" (`<<today>>`, `today()`) is
//!   the organization's local date, in its time zone.
//! * **Replies** are written `pending` with a send job each (queue `sends`, see
//!   [`super::send`]), in the same transaction as the input.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use parley_domain::{
    Channel, ChannelAddress, Contact, Conversation, ConversationId, CountryCode, DateOrder, FlowId,
    OrgId, Organization, OutcomeStatus,
};
use parley_flow::{Flow, FlowDocument, Input};
use parley_import::values::ValueContext;
use parley_jobs::{Job, JobError};
use parley_store::{JobEffects, StoreError, Turn, TurnTarget, TurnWritten};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::{App, AppError, Conflict};

mod fetch;
mod plan;
pub(crate) use plan::ContactFields;

use plan::{
    DecisionSlot, Declined, Facts, Keywords, decide_agent, decide_agent_start, decide_auto_assign,
    decide_campaign_start, decide_flow_input, decide_inbound,
};

use super::turn::Follows;
use super::turn::Outgoing;
use super::turn::{Handled, Inbound, address_of, job_error};

/// The outcome status an opt-out closes with (Parley's own, SPEC §5).
pub const OPTED_OUT: &str = super::outcomes::OPTED_OUT;

/// How long a turn may use what it read of an organization's settings, outcome statuses
/// and flows' published versions before reading them again: a change reaches running
/// conversations within this time, and busy organizations are not read on every message.
pub const SETTINGS_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Values read recently, each kept for [`SETTINGS_TTL`].
struct Recent<K, V>(Mutex<HashMap<K, (std::time::Instant, V)>>);

impl<K, V> Default for Recent<K, V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K: std::hash::Hash + Eq + Copy, V: Clone> Recent<K, V> {
    fn get(&self, key: K) -> Option<V> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&key)
            .filter(|(at, _)| at.elapsed() < SETTINGS_TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) -> V {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < SETTINGS_TTL);
        }
        map.insert(key, (std::time::Instant::now(), value.clone()));
        value
    }
}

/// Per-process runtime state: compiled flows, settings read recently, and the job
/// workers' wake-up (the sender's state is `send::Sender`'s).
#[derive(Default)]
pub struct Runtime {
    flows: Mutex<HashMap<(FlowId, u32), Arc<Flow>>>,
    /// Address parsers per country and date order (compiling phone patterns is costly).
    parsers: Mutex<HashMap<(CountryCode, DateOrder), ValueContext>>,
    wake: Mutex<Option<Arc<Notify>>>,
    /// Organizations, their outcome statuses and flows' latest versions as turns read
    /// them, kept for [`SETTINGS_TTL`].
    organizations: Recent<OrgId, Organization>,
    statuses: Recent<OrgId, Vec<OutcomeStatus>>,
    latest_versions: Recent<FlowId, Option<u32>>,
    /// One automatic assignment pass at a time in this process.
    pub(crate) assigning: tokio::sync::Mutex<()>,
}

impl Runtime {
    /// Wakes the job workers after a turn queued sends, so they do not wait for a poll.
    pub(crate) fn set_waker(&self, wake: Arc<Notify>) {
        *self.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(wake);
    }

    /// Wakes idle job workers of this process after something was queued in it.
    pub(crate) fn wake(&self) {
        if let Some(w) = &*self.wake.lock().unwrap_or_else(PoisonError::into_inner) {
            w.notify_waiters();
        }
    }
}

/// What became of a campaign recipient's first message.
#[derive(Debug)]
pub(crate) enum Started {
    /// The conversation started and the recipient is `sent`.
    Sent,
    /// The contact is in an open conversation on the channel: nothing was written.
    Busy,
    /// The recipient was no longer pending (another process took it): nothing written.
    Taken,
}

/// A campaign recipient to start, with what its turn reads.
pub(crate) struct CampaignStart {
    /// The campaign.
    pub(crate) campaign: parley_domain::CampaignId,
    /// The recipient's place in it.
    pub(crate) seq: u64,
    /// The flow and version the campaign runs.
    pub(crate) flow: (FlowId, u32),
    /// The channel.
    pub(crate) channel: Channel,
    /// The contact.
    pub(crate) contact: Contact,
    /// Their address on the channel.
    pub(crate) address: String,
}

/// The longest sender kept as given.
const MAX_VERBATIM_ADDRESS: usize = 64;

/// A flow timer fired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimerJob {
    /// The organization.
    pub organization: OrgId,
    /// The conversation.
    pub conversation: ConversationId,
    /// The engine's timer id (only the latest counts).
    pub timer: u32,
}

impl Job for TimerJob {
    const NAME: &'static str = "conversation_timer";
    const QUEUE: &'static str = "conversations";
    type Context = App;

    async fn run(&self, app: &App, _job: parley_domain::JobId) -> Result<JobEffects, JobError> {
        app.continue_flow(
            self.organization,
            self.conversation,
            Input::Timer { id: self.timer },
        )
        .await
        .map_err(job_error)?;
        Ok(JobEffects::default())
    }
}

/// A `fetch` step asks the organization's custom value endpoint (SPEC §7.3).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchJob {
    /// The organization.
    pub organization: OrgId,
    /// The conversation.
    pub conversation: ConversationId,
    /// The fields asked for.
    pub fields: Vec<String>,
}

impl Job for FetchJob {
    const NAME: &'static str = "conversation_fetch";
    const QUEUE: &'static str = "conversations";
    type Context = App;

    async fn run(&self, app: &App, _job: parley_domain::JobId) -> Result<JobEffects, JobError> {
        let result = app.fetch_for(self).await.map_err(job_error)?;
        app.continue_flow(self.organization, self.conversation, Input::Fetched(result))
            .await
            .map_err(job_error)?;
        Ok(JobEffects::default())
    }
}

impl App {
    /// A flow version, compiled once per process.
    async fn compiled_flow(
        &self,
        organization: OrgId,
        id: FlowId,
        version: u32,
    ) -> Result<Arc<Flow>, AppError> {
        if let Some(f) = self
            .runtime
            .flows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(id, version))
        {
            return Ok(f.clone());
        }
        let stored = self
            .store
            .find_flow_version(organization, id, version)
            .await?
            .ok_or_else(|| AppError::Internal("a conversation's flow version is gone".into()))?;
        let doc =
            FlowDocument::parse(&stored.document).map_err(|e| AppError::Internal(Box::new(e)))?;
        let flow = parley_flow::validate(&doc, None)
            .into_publishable()
            .ok_or_else(|| {
                AppError::Internal("a published flow version does not compile".into())
            })?;
        let flow = Arc::new(flow);
        self.runtime
            .flows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((id, version), flow.clone());
        Ok(flow)
    }

    /// The channel's inbound flow at its latest version, compiled.
    async fn inbound_flow(
        &self,
        channel: &Channel,
    ) -> Result<Option<(FlowId, u32, Arc<Flow>)>, AppError> {
        let Some(id) = channel.inbound_flow else {
            return Ok(None);
        };
        let latest = match self.runtime.latest_versions.get(id) {
            Some(latest) => latest,
            None => {
                let latest = self
                    .store
                    .find_flow(channel.organization_id, id)
                    .await?
                    .and_then(|f| f.latest_version);
                self.runtime.latest_versions.put(id, latest)
            }
        };
        let Some(version) = latest else {
            return Ok(None);
        };
        let flow = self
            .compiled_flow(channel.organization_id, id, version)
            .await?;
        Ok(Some((id, version, flow)))
    }

    /// Runs a turn, loading another flow version and trying again when the conversation
    /// turned out to run one.
    async fn run_turn(
        &self,
        target: TurnTarget,
        mut facts: Facts,
        decide: impl Fn(&Facts, Option<&Conversation>, &DecisionSlot) -> Option<Turn>
        + Clone
        + Send
        + Sync
        + 'static,
    ) -> Result<Option<TurnWritten>, AppError> {
        for _ in 0..3 {
            let out: DecisionSlot = Arc::default();
            let shared = Arc::new(facts);
            let (f, o, d) = (shared.clone(), out.clone(), decide.clone());
            let written = match self
                .store
                .take_turn(target, Box::new(move |current| d(&f, current, &o)))
                .await
            {
                // A provider delivering the same message twice: the first one counted.
                Err(StoreError::Conflict {
                    constraint: "messages_provider_key",
                }) => return Ok(None),
                other => other?,
            };
            let decision = std::mem::take(&mut *out.lock().unwrap_or_else(PoisonError::into_inner));
            facts = Arc::try_unwrap(shared)
                .map_err(|_| AppError::Internal("a turn kept its facts".into()))?;
            if let Some(w) = &written {
                if decision.other_jobs {
                    self.runtime.wake();
                }
                // Pages watching the live feed (the agent desk) hear of it now, not at
                // the feed's next tick.
                self.live.wake();
                let c = &w.conversation;
                if c.state == parley_domain::ConversationState::Queued
                    && c.assignee.is_none()
                    && let Some(queue) = &c.queue
                {
                    self.auto_assign_later(c.organization_id, queue.clone());
                }
                self.hand_over_sends(w, &facts, decision.sends);
            }
            match decision.declined {
                Declined::NeedsFlow(id, version) if written.is_none() => {
                    let flow = self
                        .compiled_flow(facts.organization.id, id, version)
                        .await?;
                    facts.flow = Some((id, version, flow));
                }
                Declined::Failed(why) => return Err(AppError::Internal(why.into())),
                Declined::Busy => return Err(AppError::Conflict(Conflict::OPEN_CONVERSATION)),
                _ => return Ok(written),
            }
        }
        Err(AppError::Internal(
            "a conversation's flow kept changing under its turn".into(),
        ))
    }

    /// Hands a turn's replies to the in-process sender, or wakes the job workers.
    fn hand_over_sends(
        &self,
        written: &TurnWritten,
        facts: &Facts,
        sends: Vec<(
            parley_domain::MessageId,
            parley_domain::JobId,
            super::turn::SendJob,
        )>,
    ) {
        if sends.is_empty() {
            return;
        }
        let Some(sender) = self.sender.in_process() else {
            self.runtime.wake();
            return;
        };
        // The turn's replies follow each other in their lane; a conversation this turn
        // opened had no send before its first reply.
        let mut before = (written.conversation.revision == 1).then_some(Follows::Nothing);
        for (message, job, send) in sends {
            let follows = before
                .replace(Follows::Job(job))
                .unwrap_or(Follows::Unknown);
            let Some(m) = written.messages.iter().find(|m| m.id == message) else {
                continue;
            };
            let out = Outgoing {
                message: m.clone(),
                conversation: written.conversation.clone(),
                channel: facts.channel.clone(),
                contact: facts.contact.clone(),
                to: facts.address.clone(),
                exempt: send.exempt,
                job: Some(job),
                follows,
            };
            if sender.send(out).is_err() {
                // The sender stopped: the job runs when it falls due.
                return;
            }
        }
    }

    /// Handles a customer's message on a channel (SPEC §5): routes it to the contact's
    /// open conversation or a new one, reads keywords, runs the flow, and queues the
    /// replies, in one transaction. A message whose provider id was seen before on the
    /// channel is a provider's repeat: nothing is written and `None` is returned.
    pub async fn receive(&self, inbound: Inbound) -> Result<Option<Handled>, AppError> {
        let mut turn = crate::telemetry::Turn::start(inbound.channel.provider);
        let handled = self.receive_turn(inbound).await;
        if handled.is_ok() {
            turn.succeeded();
        }
        handled
    }

    /// [`App::receive`] without its timing.
    async fn receive_turn(&self, inbound: Inbound) -> Result<Option<Handled>, AppError> {
        let channel = inbound.channel;
        if !channel.enabled {
            return Err(AppError::Conflict(Conflict::CHANNEL_DISABLED));
        }
        let organization = self.organization_of(channel.organization_id).await?;
        let kind = channel.provider.address_kind();
        let address = {
            let mut parsers = self
                .runtime
                .parsers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let ctx = parsers
                .entry((organization.default_country, organization.locale))
                .or_insert_with(|| crate::contacts::value_context(&organization));
            match crate::contacts::normalise_with(ctx, kind, &inbound.from) {
                Ok(address) => address,
                Err(e) => {
                    let given = inbound.from.trim();
                    let keepable = !given.is_empty()
                        && given.chars().count() <= MAX_VERBATIM_ADDRESS
                        && !given.chars().any(char::is_control);
                    if !(inbound.from_provider && keepable) {
                        return Err(AppError::invalid("from", e));
                    }
                    tracing::info!(channel = %channel.id, reason = %e, "a provider's sender is kept as given");
                    given.to_owned()
                }
            }
        };
        let now = self.clock.now();
        let (contact, _) = self
            .store
            .contact_for_address(
                organization.id,
                &ChannelAddress {
                    kind,
                    address: address.clone(),
                },
                now,
            )
            .await?;
        let hash = self.suppression_hash(organization.id, kind, &address);
        // START, UNSTOP and YES re-subscribe an address that opted out; from anyone
        // else they are ordinary answers (a flow asking yes or no gets them).
        let opted_out = parley_channels::classify_keyword(&inbound.text)
            == Some(parley_channels::Keyword::OptIn)
            && self
                .store
                .find_suppression(organization.id, kind, &hash)
                .await?
                .is_some();
        let statuses = self.outcome_statuses_of(organization.id).await?;
        let flow = self.inbound_flow(&channel).await?;
        let target = TurnTarget::Open {
            organization: organization.id,
            contact: contact.id,
            channel: channel.id,
        };
        let facts = Facts {
            now,
            organization,
            channel,
            contact,
            address,
            statuses,
            flow,
            send_after: self.sender.send_after(),
        };
        let text = inbound.text;
        let provider_id = inbound.provider_message_id;
        let decide = move |facts: &Facts, current: Option<&Conversation>, out: &DecisionSlot| {
            let keywords = Keywords {
                address_hash: &hash,
                opted_out,
            };
            decide_inbound(facts, current, &text, provider_id.clone(), &keywords, out)
        };
        Ok(self
            .run_turn(target, facts, decide)
            .await?
            .map(Handled::from))
    }

    /// Sends a campaign recipient its first message (ADR 0008): one turn that starts the
    /// conversation, writes the flow's first messages with their send jobs and claims the
    /// recipient, so the message is written once or not at all.
    pub(crate) async fn start_recipient(&self, start: CampaignStart) -> Result<Started, AppError> {
        let organization = self.organization_of(start.channel.organization_id).await?;
        let (id, version) = start.flow;
        let flow = self.compiled_flow(organization.id, id, version).await?;
        let target = TurnTarget::Open {
            organization: organization.id,
            contact: start.contact.id,
            channel: start.channel.id,
        };
        let facts = Facts {
            now: self.clock.now(),
            statuses: self.outcome_statuses_of(organization.id).await?,
            organization,
            channel: start.channel,
            contact: start.contact,
            address: start.address,
            flow: Some((id, version, flow)),
            send_after: self.sender.send_after(),
        };
        let (campaign, seq) = (start.campaign, start.seq);
        let decide = move |facts: &Facts, current: Option<&Conversation>, out: &DecisionSlot| {
            decide_campaign_start(facts, current, campaign, seq, out)
        };
        match self.run_turn(target, facts, decide).await {
            Ok(Some(_)) => Ok(Started::Sent),
            Ok(None) => Err(AppError::Internal(
                "a campaign's first turn wrote nothing".into(),
            )),
            Err(AppError::Conflict(Conflict::OPEN_CONVERSATION)) => Ok(Started::Busy),
            Err(AppError::Conflict(Conflict::RECIPIENT_TAKEN)) => Ok(Started::Taken),
            Err(e) => Err(e),
        }
    }

    /// Opens an outbound conversation with `contact` on `channel` whose first message is a
    /// person's (checked by the caller); `Conflict("open conversation")` while the contact
    /// has one open there.
    pub(crate) async fn agent_start_turn(
        &self,
        channel: Channel,
        contact: Contact,
        text: String,
        sender: String,
        by: super::events::Actor,
    ) -> Result<Handled, AppError> {
        let organization = self.organization_of(channel.organization_id).await?;
        let target = TurnTarget::Open {
            organization: organization.id,
            contact: contact.id,
            channel: channel.id,
        };
        let address = address_of(&contact, channel.provider.address_kind());
        let facts = Facts {
            now: self.clock.now(),
            statuses: self.outcome_statuses_of(organization.id).await?,
            organization,
            channel,
            contact,
            address,
            flow: None,
            send_after: self.sender.send_after(),
        };
        let decide = move |facts: &Facts, current: Option<&Conversation>, out: &DecisionSlot| {
            decide_agent_start(facts, current, &text, &sender, by, out)
        };
        self.run_turn(target, facts, decide)
            .await?
            .map(Handled::from)
            .ok_or(AppError::Conflict(Conflict::OPEN_CONVERSATION))
    }

    /// What a turn on an existing conversation reads: its channel, contact and address,
    /// the organization, and its flow version when it has one.
    async fn facts_of(&self, c: &Conversation) -> Result<Facts, AppError> {
        let organization = c.organization_id;
        let channel = self
            .store
            .find_channel(organization, c.channel_id)
            .await?
            .ok_or_else(|| AppError::Internal("a conversation's channel is gone".into()))?;
        let contact = self.event_contact(c).await?;
        let address = address_of(&contact, channel.provider.address_kind());
        let flow = match (c.flow_id, c.flow_version) {
            (Some(id), Some(version)) => Some((
                id,
                version,
                self.compiled_flow(organization, id, version).await?,
            )),
            _ => None,
        };
        Ok(Facts {
            now: self.clock.now(),
            organization: self.organization_of(organization).await?,
            channel,
            contact,
            address,
            statuses: self.outcome_statuses_of(organization).await?,
            flow,
            send_after: self.sender.send_after(),
        })
    }

    /// Feeds a timer or a fetch answer to a conversation's flow.
    pub(crate) async fn continue_flow(
        &self,
        organization: OrgId,
        conversation: ConversationId,
        input: Input,
    ) -> Result<Option<Handled>, AppError> {
        let Some(c) = self
            .store
            .get_conversation(organization, conversation)
            .await?
        else {
            return Ok(None);
        };
        if c.flow_id.is_none() {
            return Ok(None);
        }
        let facts = self.facts_of(&c).await?;
        let target = TurnTarget::Conversation {
            organization,
            id: conversation,
        };
        let decide = move |facts: &Facts, current: Option<&Conversation>, out: &DecisionSlot| {
            decide_flow_input(facts, current, input.clone(), out)
        };
        Ok(self
            .run_turn(target, facts, decide)
            .await?
            .map(Handled::from))
    }

    /// Gives the waiting conversation `id` to `user` if it still waits in `queue` with no
    /// one; whether it did.
    pub(crate) async fn auto_assign_turn(
        &self,
        organization: OrgId,
        id: ConversationId,
        queue: String,
        user: parley_domain::UserId,
    ) -> Result<bool, AppError> {
        let Some(current) = self.store.get_conversation(organization, id).await? else {
            return Ok(false);
        };
        let facts = self.facts_of(&current).await?;
        let target = TurnTarget::Conversation { organization, id };
        let decide = move |facts: &Facts, c: Option<&Conversation>, out: &DecisionSlot| {
            decide_auto_assign(facts, c, &queue, user, out)
        };
        Ok(self.run_turn(target, facts, decide).await?.is_some())
    }

    /// A person's action on a conversation (checked by the caller), as one turn; `None`
    /// when the conversation closed before it.
    pub(crate) async fn agent_turn(
        &self,
        current: Conversation,
        action: super::turn::AgentAction,
        sender: String,
        by: super::events::Actor,
    ) -> Result<Option<Handled>, AppError> {
        let facts = self.facts_of(&current).await?;
        let target = TurnTarget::Conversation {
            organization: current.organization_id,
            id: current.id,
        };
        let decide = move |facts: &Facts, c: Option<&Conversation>, out: &DecisionSlot| {
            decide_agent(facts, c, &action, &sender, by, out)
        };
        Ok(self
            .run_turn(target, facts, decide)
            .await?
            .map(Handled::from))
    }

    async fn outcome_statuses_of(
        &self,
        organization: OrgId,
    ) -> Result<Vec<OutcomeStatus>, AppError> {
        if let Some(statuses) = self.runtime.statuses.get(organization) {
            return Ok(statuses);
        }
        let statuses = super::outcomes::with_opted_out(
            organization,
            self.store.list_outcome_statuses(organization).await?,
        );
        Ok(self.runtime.statuses.put(organization, statuses))
    }

    pub(crate) async fn organization_of(&self, id: OrgId) -> Result<Organization, AppError> {
        if let Some(organization) = self.runtime.organizations.get(id) {
            return Ok(organization);
        }
        let organization = self.store.get_organization(id).await?;
        Ok(self.runtime.organizations.put(id, organization))
    }
}
