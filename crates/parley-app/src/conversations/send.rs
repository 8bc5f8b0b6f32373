//! The send queue: one job per outbound message (queue `sends`), written by the turn that
//! wrote the message. A job paces its channel (a token bucket per channel and process,
//! costing the message's segments), refuses suppressed addresses without calling the
//! provider, sends through the channel's adapter and records the answer as a message
//! change with its `messageSend` event; refusals are classified by the adapter (retry
//! now, after a while, or never: the message fails with the provider's code).
//!
//! Decisions:
//! * a message that already has a provider id, or is no longer `pending`, is never sent
//!   again: a job repeated after a crash does nothing. A crash between the provider's
//!   answer and the change is the one window in which a message can go twice (providers'
//!   send APIs take no idempotency key);
//! * `sim` accepts at once with the id `SIM<message id>` and reports `delivered` (or
//!   `undelivered` for the share `failure_rate` of messages, chosen by the message id so
//!   a run can be repeated) after `delivery_delay_ms`;
//! * `twilio` asks for status callbacks at `server.public_url` +
//!   `/hooks/twilio/{channel}/status`;
//! * `whatsapp` sends text inside the 24 hours after the customer's last message, and
//!   outside them the channel's `template_name` (in `template_language`, default `en`) with
//!   the text as its one parameter; without a template the message fails with
//!   `outside_window` rather than being refused by Meta (131047);
//! * `webchat` messages are the visitor's to read: the send marks them `sent`;
//! * a conversation's messages are sent one at a time, in the order they were written:
//!   each send job is in the conversation's job lane ([`send_lane`]), so the job queue
//!   runs it only after the jobs before it are done (a send waiting for a retry holds
//!   back the ones after it), and the in-process sender keeps that order too
//!   ([`in_process`]). The simulator's reports keep it as well (their jobs have a lane
//!   of their own, [`report_lane`], so a report never holds back a send). Different
//!   conversations never wait for each other.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use parley_channels::twilio::client::{TwilioClient, TwilioConfig, TwilioMessage};
use parley_channels::whatsapp::client::{WhatsappClient, WhatsappConfig, WhatsappMessage};
use parley_channels::{Accepted, ProviderHttp, Retry, SendError, TokenBucket};
use parley_domain::{
    Channel, ChannelId, Conversation, ConversationId, JobId, Message, MessageId, MessageStatus,
    OrgId, Provider, StatusReport,
};
use parley_jobs::{Job, JobError, new_job};
use parley_store::{DecideMessage, JobEffects, MessageChange, MessageKey, NewJob};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::events;
use super::turn::{Follows, Outgoing, SendJob, address_of, job_error};
use crate::{App, AppError};

pub(crate) mod in_process;

/// How long a reply's send job waits, when the runtime sends in-process, before the job
/// runner takes it: longer than any provider exchange, so the two never race.
pub(crate) const IN_PROCESS_GRACE: chrono::Duration = chrono::Duration::seconds(60);

/// How long a provider exchange may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);
/// WhatsApp's customer service window.
const WHATSAPP_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// How `text` goes as SMS: its encoding and the parts it takes, counted as the sender
/// sends it (for a page's reply counter).
#[must_use]
pub fn sms_parts(text: &str) -> (parley_domain::Encoding, u32) {
    let segmented = parley_channels::segment(text);
    (segmented.encoding, segmented.segments())
}

/// Whether a WhatsApp conversation whose customer last wrote at `last_inbound` may still
/// be answered with free text at `now` (within 24 hours), rather than only with the
/// channel's approved template.
#[must_use]
pub fn within_whatsapp_window(
    last_inbound: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    last_inbound.is_some_and(|at| now - at < WHATSAPP_WINDOW)
}

/// The job lane of the simulator's reports on a conversation's messages.
fn report_lane(conversation: ConversationId) -> String {
    format!("{conversation}/reports")
}

impl Job for SendJob {
    const NAME: &'static str = "message_send";
    const QUEUE: &'static str = "sends";
    const MAX_ATTEMPTS: u32 = 8;
    type Context = App;

    async fn run(&self, app: &App, _job: JobId) -> Result<JobEffects, JobError> {
        app.send_message(self).await
    }
}

/// The simulator's delivery report on one of its messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimReportJob {
    /// The organization.
    pub organization: OrgId,
    /// The message.
    pub message: MessageId,
    /// Delivered, or not.
    pub delivered: bool,
}

impl Job for SimReportJob {
    const NAME: &'static str = "sim_report";
    const QUEUE: &'static str = "sends";
    type Context = App;

    async fn run(&self, app: &App, _job: JobId) -> Result<JobEffects, JobError> {
        let key = MessageKey::Id {
            organization: self.organization,
            id: self.message,
        };
        let report = Simulated {
            after: Duration::ZERO,
            delivered: self.delivered,
        }
        .report(app.clock.now());
        app.apply_report(key, report).await.map_err(job_error)?;
        Ok(JobEffects::default())
    }
}

/// Where a send stands after the provider.
enum Sent {
    /// Accepted, with the simulator's coming report when it is the simulator.
    Accepted(Accepted, Option<Simulated>),
    /// Refused for good: the message fails with the provider's code and text.
    Failed {
        /// The provider's (or our) error code.
        code: String,
        /// What it said.
        text: String,
    },
}

/// The simulator's report on a message it took: when, and which.
struct Simulated {
    after: Duration,
    delivered: bool,
}

impl Simulated {
    fn report(&self, at: chrono::DateTime<chrono::Utc>) -> StatusReport {
        StatusReport {
            status: if self.delivered {
                MessageStatus::Delivered
            } else {
                MessageStatus::Undelivered
            },
            at,
            error_code: (!self.delivered).then(|| "sim_undelivered".to_owned()),
            error_message: (!self.delivered)
                .then(|| "the simulator did not deliver this message".to_owned()),
        }
    }
}

impl Sent {
    /// The status report the answer makes, the provider's id for the message, and the
    /// simulator's coming report.
    fn into_report(
        self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> (StatusReport, Option<String>, Option<Simulated>) {
        match self {
            Sent::Accepted(accepted, simulated) => (
                StatusReport {
                    status: accepted.status,
                    at: now,
                    error_code: None,
                    error_message: None,
                },
                Some(accepted.provider_message_id),
                simulated,
            ),
            Sent::Failed { code, text } => (
                StatusReport {
                    status: MessageStatus::Failed,
                    at: now,
                    error_code: Some(code),
                    error_message: Some(text),
                },
                None,
                None,
            ),
        }
    }
}

/// The job that records the simulator's report on `out`'s message when it falls due, in
/// the conversation's report lane.
fn sim_report_job(
    out: &Outgoing,
    sim: &Simulated,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<NewJob, JobError> {
    let report = SimReportJob {
        organization: out.message.organization_id,
        message: out.message.id,
        delivered: sim.delivered,
    };
    let at = now + chrono::Duration::from_std(sim.after).unwrap_or_default();
    Ok(NewJob {
        lane: Some(report_lane(out.conversation.id)),
        ..new_job(&report, now, at, None)?
    })
}

/// The message change that records a send's answer: the provider's id and status (once:
/// a message already handed over or changed is left as it is), its event when the status
/// moved, the simulator's report job, and the send's job done.
fn send_change(
    out: &Outgoing,
    report: StatusReport,
    provider_id: Option<String>,
    report_job: Option<NewJob>,
    now: chrono::DateTime<chrono::Utc>,
) -> DecideMessage {
    let (ch, ct, dest, job) = (
        out.channel.clone(),
        out.contact.clone(),
        out.to.clone(),
        out.job,
    );
    Box::new(move |m: &Message, c: &Conversation| {
        if m.provider_message_id.is_some() || m.status != MessageStatus::Pending {
            return None;
        }
        let mut changed = m.clone();
        changed.provider_message_id = provider_id;
        changed.record(&report);
        changed.updated_at = now;
        let events = if changed.status == m.status {
            Vec::new()
        } else {
            vec![events::status_change(
                c, &ch, &changed, &ct, &dest, m.status, now,
            )]
        };
        Some(MessageChange {
            message: changed,
            events,
            jobs: report_job.into_iter().collect(),
            finish_job: job,
        })
    })
}

/// The simulator's answer: accepted at once as `SIM<message id>`, its report coming after
/// the channel's `delivery_delay_ms`, undelivered for the share `failure_rate` of messages
/// (chosen by the message id, so a run can be repeated).
fn simulated_send(channel: &Channel, message: &Message) -> Sent {
    let delay = channel
        .settings
        .get("delivery_delay_ms")
        .and_then(Value::as_u64)
        .unwrap_or(200);
    let failure_rate = channel
        .settings
        .get("failure_rate")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    Sent::Accepted(
        Accepted {
            provider_message_id: format!("SIM{}", message.id),
            status: MessageStatus::Sent,
        },
        Some(Simulated {
            after: Duration::from_millis(delay),
            delivered: share_of(message.id) >= failure_rate,
        }),
    )
}

/// A channel whose settings cannot be read (its sealed credentials): refused for good.
fn settings_refused(e: &AppError) -> SendError {
    SendError::Refused {
        code: "channel_settings".to_owned(),
        message: e.to_string(),
        retry: Retry::Never,
    }
}

/// A share in [0, 1) chosen by `id`, the same on every run.
fn share_of(id: MessageId) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    #[allow(clippy::cast_precision_loss)]
    let share = (h % 1_000_000) as f64 / 1_000_000.0;
    share
}

fn setting<'a>(channel: &'a Channel, key: &str) -> Option<&'a str> {
    channel.settings.get(key).and_then(Value::as_str)
}

/// The sender's state in this process: the provider client (one keep-alive pool, built
/// when the application is and handed in like the webhook client), each channel's pace,
/// the simulator's reports waiting for their delay, and the in-process sender and its
/// recorder while they run (`App::start_sends`).
pub(crate) struct Sender {
    provider: ProviderHttp,
    /// The pacing clock's zero.
    started: Instant,
    pacing: Mutex<HashMap<ChannelId, TokenBucket>>,
    /// The simulator's reports waiting for their delay (awaited when sending stops).
    pub(crate) reports: Mutex<tokio::task::JoinSet<()>>,
    /// The last of each conversation's simulated reports waiting, which the next waits for.
    pub(crate) report_tails: in_process::ReportTails,
    /// The in-process sender's recorder, while it runs.
    pub(crate) recorder: Mutex<Option<tokio::sync::mpsc::UnboundedSender<in_process::Recording>>>,
    /// The in-process sender, while it runs.
    pub(crate) queue: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Outgoing>>>,
}

impl Sender {
    /// A sender whose provider client refuses private addresses unless
    /// `allow_private_targets` (the SSRF guard, as for webhooks).
    pub(crate) fn new(allow_private_targets: bool) -> Result<Self, AppError> {
        Ok(Self {
            provider: ProviderHttp::new(PROVIDER_TIMEOUT, allow_private_targets)
                .map_err(|e| AppError::Internal(e.to_string().into()))?,
            started: Instant::now(),
            pacing: Mutex::default(),
            reports: Mutex::default(),
            report_tails: in_process::ReportTails::default(),
            recorder: Mutex::default(),
            queue: Mutex::default(),
        })
    }

    /// The in-process sender, while it runs.
    pub(crate) fn in_process(&self) -> Option<tokio::sync::mpsc::UnboundedSender<Outgoing>> {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How long a reply's send job waits for the in-process sender before the job runner
    /// takes it (zero when there is no in-process sender).
    pub(crate) fn send_after(&self) -> chrono::Duration {
        if self.in_process().is_some() {
            IN_PROCESS_GRACE
        } else {
            chrono::Duration::zero()
        }
    }

    /// Waits for `channel`'s pace to allow `segments` more.
    async fn pace(&self, channel: &Channel, segments: u32) {
        loop {
            let wait = {
                let mut buckets = self.pacing.lock().unwrap_or_else(PoisonError::into_inner);
                let now = self.started.elapsed();
                let rate = channel.rate_per_second;
                let bucket = buckets
                    .entry(channel.id)
                    .or_insert_with(|| TokenBucket::new(rate, rate, now));
                // The channel as read for this send: an edited rate applies from now on.
                bucket.retune(rate, rate, now);
                match bucket.take(now, segments) {
                    Ok(()) => return,
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

impl App {
    /// The send job's work (see the module's decisions): loads what the send needs.
    async fn send_message(&self, job: &SendJob) -> Result<JobEffects, JobError> {
        let key = MessageKey::Id {
            organization: job.organization,
            id: job.message,
        };
        let Some(message) = self.store.find_message(&key).await? else {
            return Ok(JobEffects::default());
        };
        if message.status != MessageStatus::Pending || message.provider_message_id.is_some() {
            return Ok(JobEffects::default());
        }
        let conversation = self
            .store
            .get_conversation(job.organization, message.conversation_id)
            .await?
            .ok_or_else(|| JobError::Permanent("the message's conversation is gone".into()))?;
        let channel = self
            .store
            .find_channel(job.organization, message.channel_id)
            .await?
            .ok_or_else(|| JobError::Permanent("the message's channel is gone".into()))?;
        let contact = self.event_contact(&conversation).await.map_err(job_error)?;
        let to = address_of(&contact, channel.provider.address_kind());
        self.send_outgoing(Outgoing {
            message,
            conversation,
            channel,
            contact,
            to,
            exempt: job.exempt,
            job: None,
            follows: Follows::Unknown,
        })
        .await?;
        Ok(JobEffects::default())
    }

    /// Sends one message and records the answer: a refusal to retry is an error (the
    /// job runner retries it; in-process, the job is left to do so when it falls due).
    pub(crate) async fn send_outgoing(&self, out: Outgoing) -> Result<(), JobError> {
        let sent = self.attempt(&out).await?;
        let now = self.clock.now();
        let (report, provider_id, simulated) = sent.into_report(now);
        // The job path queues the simulator's report as a job; in-process, a timer.
        let report_job = match (&simulated, out.job) {
            (Some(sim), None) => Some(sim_report_job(&out, sim, now)?),
            _ => None,
        };
        let key = MessageKey::Id {
            organization: out.message.organization_id,
            id: out.message.id,
        };
        let decide = send_change(&out, report, provider_id, report_job, now);
        let Some(stored) = self.record_change(key.clone(), decide).await? else {
            return Ok(());
        };
        // The visitor's page and the agent desk wait for it on the live feed.
        self.live.wake();
        if let (Some(sim), Some(_)) = (simulated, out.job) {
            self.report_simulated_later(out, key, stored.id, sim);
        }
        Ok(())
    }

    /// What became of the send: refused by us (no address, opted out) or handed to the
    /// provider after the channel's pace, whose refusal to retry is an error.
    async fn attempt(&self, out: &Outgoing) -> Result<Sent, JobError> {
        let organization = out.message.organization_id;
        let kind = out.channel.provider.address_kind();
        if out.to.is_empty() {
            return Ok(Sent::Failed {
                code: "no_address".to_owned(),
                text: "the contact has no address on this channel".to_owned(),
            });
        }
        let hash = self.suppression_hash(organization, kind, &out.to);
        if !out.exempt
            && self
                .store
                .find_suppression(organization, kind, &hash)
                .await?
                .is_some()
        {
            return Ok(Sent::Failed {
                code: "opted_out".to_owned(),
                text: "the address opted out; nothing was sent".to_owned(),
            });
        }
        self.sender.pace(&out.channel, out.message.segments).await;
        let handed = self
            .hand_to_provider(&out.channel, &out.conversation, &out.message, &out.to)
            .await;
        match handed {
            Ok(sent) => Ok(sent),
            Err(e) => match e.retry() {
                Retry::Now => Err(JobError::Retry {
                    message: e.stored_text(),
                    after: None,
                }),
                Retry::After(after) => Err(JobError::Retry {
                    message: e.stored_text(),
                    after: Some(after),
                }),
                Retry::Never => Ok(Sent::Failed {
                    code: e.code().to_owned(),
                    text: e.stored_text(),
                }),
            },
        }
    }

    /// In-process, the simulator's report on `message` is recorded after its delay, and
    /// after the conversation's earlier reports, so they are recorded in order.
    fn report_simulated_later(
        &self,
        out: Outgoing,
        key: MessageKey,
        message: MessageId,
        sim: Simulated,
    ) {
        let app = self.clone();
        let conversation = out.conversation.id;
        let (done, before) = self.report_after(conversation, message);
        let mut reports = self
            .sender
            .reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while reports.try_join_next().is_some() {}
        reports.spawn(async move {
            tokio::time::sleep(sim.after).await;
            if let Some(before) = before {
                let _ = before.await;
            }
            let report = sim.report(app.clock.now());
            let now = app.clock.now();
            let Outgoing {
                channel,
                contact,
                to,
                ..
            } = out;
            let decide = Box::new(move |m: &Message, c: &Conversation| {
                super::status::report_change(m, c, &channel, &contact, &to, &report, now)
            });
            if let Err(e) = app.record_change(key, decide).await {
                tracing::warn!(message = %message, error = %e, "recording a simulated report failed");
            }
            drop(done);
            app.report_recorded(conversation, message);
        });
    }

    /// Hands a message to the channel's provider.
    async fn hand_to_provider(
        &self,
        channel: &Channel,
        conversation: &Conversation,
        message: &Message,
        to: &str,
    ) -> Result<Sent, SendError> {
        match channel.provider {
            Provider::Sim => Ok(simulated_send(channel, message)),
            Provider::Webchat => Ok(Sent::Accepted(
                Accepted {
                    provider_message_id: super::turn::outbound_key(message),
                    status: MessageStatus::Sent,
                },
                None,
            )),
            Provider::Twilio => self.send_twilio(channel, message, to).await,
            Provider::Whatsapp => self.send_whatsapp(channel, conversation, message, to).await,
        }
    }

    /// The channel's sealed credential `key` (empty when it has none); a channel whose
    /// credentials cannot be opened is refused for good.
    fn channel_secret(&self, channel: &Channel, key: &str) -> Result<String, SendError> {
        let credentials = self
            .channel_credentials(channel)
            .map_err(|e| settings_refused(&e))?;
        Ok(credentials
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// Through Twilio's Messages API, asking for status callbacks at our public address.
    async fn send_twilio(
        &self,
        channel: &Channel,
        message: &Message,
        to: &str,
    ) -> Result<Sent, SendError> {
        let config = TwilioConfig {
            base_url: setting(channel, "base_url")
                .unwrap_or(parley_channels::twilio::client::DEFAULT_BASE_URL)
                .to_owned(),
            account_sid: setting(channel, "account_sid")
                .unwrap_or_default()
                .to_owned(),
            auth_token: self.channel_secret(channel, "auth_token")?,
            from: channel.sender.clone(),
        };
        let callback = format!(
            "{}/hooks/twilio/{}/status",
            self.settings.public_url, channel.id
        );
        let accepted = TwilioClient::new(self.sender.provider.clone(), config)
            .send(&TwilioMessage {
                to,
                body: &message.body,
                status_callback: Some(&callback),
                // One message, one key, on every attempt and in every process: a
                // campaign's first message is named by its recipient (ADR 0008).
                idempotency_key: Some(&message.id.to_string()),
            })
            .await?;
        Ok(Sent::Accepted(accepted, None))
    }

    /// Through the WhatsApp Cloud API: text inside the customer service window, else the
    /// channel's approved template with the text as its parameter.
    async fn send_whatsapp(
        &self,
        channel: &Channel,
        conversation: &Conversation,
        message: &Message,
        to: &str,
    ) -> Result<Sent, SendError> {
        let config = WhatsappConfig {
            base_url: setting(channel, "base_url")
                .unwrap_or(parley_channels::whatsapp::client::DEFAULT_BASE_URL)
                .to_owned(),
            phone_number_id: channel.sender.clone(),
            access_token: self.channel_secret(channel, "access_token")?,
        };
        let to = to.trim_start_matches('+');
        let in_window = within_whatsapp_window(conversation.last_inbound_at, self.clock.now());
        let parameters = [message.body.clone()];
        let outgoing = if in_window {
            WhatsappMessage::Text {
                to,
                body: &message.body,
            }
        } else {
            let Some(name) = setting(channel, "template_name") else {
                return Ok(Sent::Failed {
                    code: "outside_window".to_owned(),
                    text: "the customer has not written in 24 hours and the channel has no template_name".to_owned(),
                });
            };
            WhatsappMessage::Template {
                to,
                name,
                language: setting(channel, "template_language").unwrap_or("en"),
                parameters: &parameters,
            }
        };
        let accepted = WhatsappClient::new(self.sender.provider.clone(), config)
            .send(&outgoing)
            .await?;
        Ok(Sent::Accepted(accepted, None))
    }
}
