//! The campaign dispatcher (ADR 0008): one per process, started by `parley serve`.
//!
//! A supervisor looks for campaigns with work (running, due to start, or cancelled with
//! recipients still pending) every second, or at once when a person moves one, and runs
//! each in a task of its own. A campaign's task works in **passes**; each pass reads the
//! campaign again (so a pause or cancel is seen within one pass: at most a tenth of a
//! second of sends, and never more than a second), writes the next slice of the audience
//! when the due recipients run short, and takes the due recipients in order:
//!
//! * a recipient whose contact is gone, or who has no address, is skipped
//!   `invalid_address`; one whose address opted out is skipped `opted_out`;
//! * its zones (`parley_campaign::ZoneBook`: the contact's `timezone` field, else its
//!   number's prefix when every candidate zone can be trusted, else the organization's
//!   zone) decide whether the window is open **now** in every one of them; if not, the
//!   recipient waits until the next opening (`next_at`, reason `outside_window`), or is
//!   skipped `window_expired` when none comes before the campaign's `end_at`;
//! * otherwise its first message is one conversation turn that claims it
//!   (`App::start_recipient`), paced by the campaign's token bucket. A contact already in
//!   an open conversation on the channel waits ten minutes (reason `open_conversation`)
//!   and is tried again: a campaign never interrupts a conversation in progress.
//!
//! Nothing lives only in memory: a restarted process finds its running campaigns and
//! carries on from the rows. A crash before a turn commits leaves the recipient pending
//! (sent later, once); after, the send path delivers the message it wrote.
//!
//! Several processes may share one PostgreSQL database (ADR 0008 §4). Each marks itself
//! as a **holder** of the campaign (renewed every few seconds, forgotten ten seconds
//! after its process dies, removed at once when it stops); the live holders split the
//! due recipients by `seq` modulo their number, so no two write the same recipient (and
//! were they to, the claim in the turn keeps it to one), and only the first writes the
//! audience. They take their sends from the campaign's **one pace**, stored with the
//! campaign and taken a tenth of a second's worth at a time, so together they keep the
//! campaign's rate. Holders' marks and the pace are measured in wall-clock time (also
//! under a test's clock: they are about processes, not about the campaign's window).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_campaign::{SendWindow, ZoneBook};
use parley_domain::{
    AuditAction, Campaign, CampaignId, CampaignStatus, ChannelKind, Contact, OrgId, Pace,
    Recipient, SkipReason, WaitReason,
};
use parley_store::{AudienceSlice, PageRequest, Settle, Share};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::stored_window;
use crate::conversations::runtime::{CampaignStart, Started};
use crate::{App, AppError};

/// Contacts written per audience slice.
const SLICE: u32 = 5_000;
/// How long a contact in a conversation waits before it is tried again.
const BUSY_WAIT: chrono::Duration = chrono::Duration::minutes(10);
/// How long a recipient whose turn failed waits before it is tried again.
const FAULT_WAIT: chrono::Duration = chrono::Duration::seconds(30);
/// Turns of one campaign in flight at once.
const IN_FLIGHT: usize = 64;
/// Pending recipients skipped per transaction when a campaign is cancelled.
const SKIP_BATCH: u32 = 10_000;
/// How long a pass with nothing due waits before looking again.
const IDLE: Duration = Duration::from_millis(500);
/// How often a process renews its mark on a campaign it works on…
const HOLD_RENEW: Duration = Duration::from_secs(3);
/// …and how long a mark lasts when it is not renewed (its process died).
const HOLD_FOR: chrono::Duration = chrono::Duration::seconds(10);
/// How long sends taken from the shared pace may wait to be used (longer, and a
/// process back from a pause would add its old grant to the pace's burst).
const GRANT_KEPT: Duration = Duration::from_secs(1);

/// The dispatcher's per-process state.
pub(crate) struct Dispatch {
    wake: Notify,
    /// This process's name among a campaign's holders.
    holder: String,
}

impl Default for Dispatch {
    fn default() -> Self {
        let mut random = [0u8; 6];
        // Without randomness the name is still unique enough with the process id and time.
        if getrandom::fill(&mut random).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            random[..4].copy_from_slice(&nanos.to_be_bytes());
        }
        let tail = hex::encode(random);
        Self {
            wake: Notify::new(),
            holder: format!("{}-{tail}", std::process::id()),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// First messages begun (their turns may still be running).
    pub started: u32,
    /// First messages whose turns are still running when the pass ends.
    pub in_flight: usize,
    /// Recipients skipped or deferred.
    pub settled: u32,
    /// Whether the campaign has nothing more for this process to do (finished, paused,
    /// cancelled and cleared, or not started yet).
    pub done: bool,
}

/// What a first message's task gives back: the recipient and what became of it.
/// A recipient's start as its task ends: which recipient, and what became of it.
struct Finished {
    seq: u64,
    started: Result<Started, AppError>,
}

/// A campaign's run in this process: its pace, its zone decisions, and the first
/// messages being written. Turns run across passes (a pass does not wait for the last
/// one's turns), so reading and deciding the next recipients overlaps with writing.
pub struct CampaignRun {
    /// Sends taken from the campaign's pace and not used yet, and when.
    granted: (u32, tokio::time::Instant),
    /// This process's share of the due recipients, and when its mark was renewed.
    share: (Share, Option<tokio::time::Instant>),
    book: Option<(SendWindow, ZoneBook, DateTime<Utc>)>,
    running: tokio::task::JoinSet<Finished>,
    in_flight: HashMap<tokio::task::Id, u64>,
}

impl Default for CampaignRun {
    fn default() -> Self {
        Self {
            granted: (0, tokio::time::Instant::now()),
            share: (Share::ALL, None),
            book: None,
            running: tokio::task::JoinSet::new(),
            in_flight: HashMap::new(),
        }
    }
}

impl CampaignRun {
    /// Waits for one send of the campaign's pace, shared by every process (see the
    /// module's documentation).
    async fn pace(&mut self, app: &App, campaign: CampaignId, rate: u32) -> Result<(), AppError> {
        let (left, at) = &mut self.granted;
        if *left > 0 && at.elapsed() < GRANT_KEPT {
            *left -= 1;
            return Ok(());
        }
        let pace = Pace::per_second(rate);
        loop {
            let grant = app
                .store
                .take_pace(campaign, pace, pace.burst, Utc::now())
                .await?;
            if grant.granted > 0 {
                self.granted = (grant.granted - 1, tokio::time::Instant::now());
                return Ok(());
            }
            tokio::time::sleep(grant.wait).await;
        }
    }

    /// This process's share of the campaign's due recipients, its mark renewed when due.
    async fn share(&mut self, app: &App, campaign: CampaignId) -> Result<Share, AppError> {
        if self.share.1.is_none_or(|at| at.elapsed() >= HOLD_RENEW) {
            let now = Utc::now();
            let share = app
                .store
                .hold_campaign(campaign, app.dispatch.holder.clone(), now, now + HOLD_FOR)
                .await?;
            self.share = (share, Some(tokio::time::Instant::now()));
        }
        Ok(self.share.0)
    }

    /// Whether recipient `seq`'s first message is being written.
    fn is_in_flight(&self, seq: u64) -> bool {
        self.in_flight.values().any(|s| *s == seq)
    }

    /// Takes one finished task's outcome into `pass` and `settle`.
    fn take(
        &mut self,
        joined: Result<(tokio::task::Id, Finished), tokio::task::JoinError>,
        pass: &mut Pass,
        settle: &mut Vec<(u64, Settle)>,
        now: DateTime<Utc>,
    ) {
        match joined {
            Ok((id, Finished { seq, started })) => {
                self.in_flight.remove(&id);
                pass.record(seq, started, settle, now);
            }
            Err(e) => {
                // The recipient stays pending and is tried again on a later run.
                self.in_flight.remove(&e.id());
                tracing::error!(error = %e, "a campaign's first message panicked");
            }
        }
    }

    /// The zone book for `window`, made afresh every hour (a number's zones are judged
    /// from the time the book is made).
    fn book(&mut self, window: SendWindow, timezone: &str, now: DateTime<Utc>) -> &mut ZoneBook {
        let stale = self.book.as_ref().is_none_or(|(w, _, made)| {
            *w != window
                || now.signed_duration_since(*made) > chrono::Duration::hours(1)
                || now < *made
        });
        if stale {
            self.book = None;
        }
        &mut self
            .book
            .get_or_insert_with(|| (window, ZoneBook::new(window, timezone, now), now))
            .1
    }
}

/// The contact's `timezone` field, when it holds text.
fn timezone_field(contact: &Contact) -> Option<&str> {
    contact.fields.get("timezone").and_then(|v| v.as_str())
}

/// What to do with one due recipient.
enum Step {
    Settle(Settle),
    Start(Box<CampaignStart>),
}

impl App {
    /// Wakes the dispatcher (a campaign moved).
    pub(crate) fn wake_dispatcher(&self) {
        self.dispatch.wake.notify_one();
    }

    /// Runs the dispatcher until `cancel` fires; the task ends once every campaign's
    /// task has stopped.
    pub fn start_campaigns(&self, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut running: HashMap<CampaignId, tokio::task::JoinHandle<()>> = HashMap::new();
            loop {
                running.retain(|_, task| !task.is_finished());
                match app
                    .store
                    .campaigns_to_dispatch(app.clock.now(), 1_000)
                    .await
                {
                    Ok(campaigns) => {
                        for c in campaigns {
                            running.entry(c.id).or_insert_with(|| {
                                let (app, cancel) = (app.clone(), cancel.clone());
                                tokio::spawn(async move {
                                    app.run_campaign(c.organization_id, c.id, cancel).await;
                                })
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "campaigns to dispatch could not be read"),
                }
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = app.dispatch.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            for (_, task) in running {
                let _ = task.await;
            }
        })
    }

    /// Runs one campaign's passes until it has nothing more to do here.
    async fn run_campaign(&self, organization: OrgId, id: CampaignId, cancel: CancellationToken) {
        let mut run = CampaignRun::default();
        while !cancel.is_cancelled() {
            match self.dispatch_pass(organization, id, &mut run).await {
                Ok(pass) if pass.done => break,
                Ok(pass) if pass.started == 0 && pass.settled == 0 && pass.in_flight == 0 => {
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = tokio::time::sleep(IDLE) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(campaign = %id, error = %e, "a campaign pass failed; trying again");
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        if let Err(e) = self.finish_in_flight(organization, id, &mut run).await {
            tracing::warn!(campaign = %id, error = %e, "a campaign's last outcomes were not recorded");
        }
        if let Err(e) = self
            .store
            .release_campaign(id, self.dispatch.holder.clone())
            .await
        {
            // The mark runs out by itself within seconds.
            tracing::warn!(campaign = %id, error = %e, "a campaign's holder mark was not removed");
        }
    }

    /// Waits for the first messages still being written and records what became of
    /// them (a pause, a cancel, the end, a shutdown).
    pub async fn finish_in_flight(
        &self,
        organization: OrgId,
        id: CampaignId,
        run: &mut CampaignRun,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let (mut pass, mut settle) = (Pass::default(), Vec::new());
        while let Some(joined) = run.running.join_next_with_id().await {
            run.take(joined, &mut pass, &mut settle, now);
        }
        if !settle.is_empty() {
            self.store
                .settle_recipients(organization, id, settle, now)
                .await?;
        }
        Ok(())
    }

    /// One pass over a campaign (see the module's documentation). Public for tests and
    /// benchmarks, which drive passes under their own clock.
    pub async fn dispatch_pass(
        &self,
        organization: OrgId,
        id: CampaignId,
        run: &mut CampaignRun,
    ) -> Result<Pass, AppError> {
        let now = self.clock.now();
        let Some(mut campaign) = self.store.get_campaign(organization, id).await? else {
            return Ok(Pass {
                done: true,
                ..Pass::default()
            });
        };
        match campaign.status {
            CampaignStatus::Scheduled if campaign.start_at.is_none_or(|s| s <= now) => {
                campaign = self.system_move(&campaign, CampaignStatus::Running).await?;
            }
            CampaignStatus::Running => {}
            CampaignStatus::Cancelled => {
                self.skip_cancelled(&campaign).await?;
                return Ok(Pass {
                    done: true,
                    ..Pass::default()
                });
            }
            _ => {
                return Ok(Pass {
                    done: true,
                    ..Pass::default()
                });
            }
        }
        let batch = (campaign.rate_per_second / 10).clamp(1, 500);
        // Those being written are still pending: read past them.
        let limit = batch + u32::try_from(run.in_flight.len()).unwrap_or(u32::MAX);
        let share = run.share(self, id).await?;
        let mut due = self
            .store
            .due_recipients(organization, id, now, share, limit)
            .await?;
        // The first holder writes the audience (others would only refuse each other's).
        if due.len() < limit as usize && !campaign.audience_done && share.index == 0 {
            campaign = self.write_slice(&campaign).await?;
            due = self
                .store
                .due_recipients(organization, id, now, share, limit)
                .await?;
        }
        if due.is_empty() {
            if campaign.audience_done {
                let entry = self.audit(
                    Some(organization),
                    "system",
                    AuditAction::CampaignStatusChanged,
                    &id.to_string(),
                    serde_json::json!({"from": "running", "to": "completed"}),
                );
                if self
                    .store
                    .complete_campaign(organization, id, now, entry)
                    .await?
                    .is_some()
                {
                    return Ok(Pass {
                        done: true,
                        ..Pass::default()
                    });
                }
            }
            return Ok(Pass::default());
        }
        self.send_due(&campaign, due, run, now).await
    }

    /// Decides each due recipient, settles those not sent to, and starts the others at
    /// the campaign's pace.
    async fn send_due(
        &self,
        campaign: &Campaign,
        mut due: Vec<(Recipient, Option<Contact>)>,
        run: &mut CampaignRun,
        now: DateTime<Utc>,
    ) -> Result<Pass, AppError> {
        let mut pass = Pass::default();
        let mut settle = Vec::new();
        while let Some(joined) = run.running.try_join_next_with_id() {
            run.take(joined, &mut pass, &mut settle, now);
        }
        due.retain(|(r, _)| !run.is_in_flight(r.seq));
        let organization = self.organization_of(campaign.organization_id).await?;
        let channel = self
            .store
            .find_channel(organization.id, campaign.channel_id)
            .await?
            .ok_or_else(|| AppError::Internal("a campaign's channel is gone".into()))?;
        let kind = channel.provider.address_kind();
        let window = stored_window(campaign)?;
        let book = run.book(window, organization.timezone.as_str(), now);
        let mut steps = Vec::with_capacity(due.len());
        for (recipient, contact) in due {
            let step = match (contact, recipient.address.clone()) {
                (Some(contact), Some(address)) => {
                    let number = matches!(kind, ChannelKind::Sms | ChannelKind::Whatsapp)
                        .then_some(address.as_str());
                    let (zones, _) = book.zones(timezone_field(&contact), number);
                    if zones.open_at(&window, now) {
                        Step::Start(Box::new(CampaignStart {
                            campaign: campaign.id,
                            seq: recipient.seq,
                            flow: (campaign.flow_id, campaign.flow_version),
                            channel: channel.clone(),
                            contact,
                            address,
                        }))
                    } else {
                        let until = campaign.end_at.unwrap_or(now + chrono::Duration::days(8));
                        match zones.next_opening(&window, now, until) {
                            Some(at) => Step::Settle(Settle::Defer {
                                until: at,
                                why: WaitReason::OutsideWindow,
                            }),
                            None => Step::Settle(Settle::Skip(SkipReason::WindowExpired)),
                        }
                    }
                }
                _ => Step::Settle(Settle::Skip(SkipReason::InvalidAddress)),
            };
            steps.push((recipient.seq, step));
        }
        // Opted-out addresses, checked last (one read for the batch) so only recipients
        // about to be sent to are looked up.
        let hashes: Vec<(usize, String)> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, (_, step))| match step {
                Step::Start(start) => Some((
                    i,
                    self.suppression_hash(organization.id, kind, &start.address),
                )),
                Step::Settle(_) => None,
            })
            .collect();
        if !hashes.is_empty() {
            let suppressed: std::collections::HashSet<String> = self
                .store
                .suppressed_among(
                    organization.id,
                    kind,
                    hashes.iter().map(|(_, h)| h.clone()).collect(),
                )
                .await?
                .into_iter()
                .collect();
            for (i, hash) in hashes {
                if suppressed.contains(&hash) {
                    steps[i].1 = Step::Settle(Settle::Skip(SkipReason::OptedOut));
                }
            }
        }
        let mut starts = Vec::new();
        for (seq, step) in steps {
            match step {
                Step::Settle(s) => settle.push((seq, s)),
                Step::Start(start) => starts.push(start),
            }
        }
        let nothing_new = starts.is_empty() && settle.is_empty();
        for start in starts {
            while run.running.len() >= IN_FLIGHT {
                if let Some(joined) = run.running.join_next_with_id().await {
                    run.take(joined, &mut pass, &mut settle, now);
                }
            }
            run.pace(self, campaign.id, campaign.rate_per_second)
                .await?;
            let app = self.clone();
            let seq = start.seq;
            let task = run.running.spawn(async move {
                Finished {
                    seq,
                    started: app.start_recipient(*start).await,
                }
            });
            run.in_flight.insert(task.id(), seq);
            pass.started += 1;
        }
        // Everything due is being written: wait for one to finish rather than spin.
        if nothing_new && let Some(joined) = run.running.join_next_with_id().await {
            run.take(joined, &mut pass, &mut settle, now);
        }
        pass.in_flight = run.running.len();
        if !settle.is_empty() {
            pass.settled += u32::try_from(settle.len()).unwrap_or(u32::MAX);
            self.store
                .settle_recipients(campaign.organization_id, campaign.id, settle, now)
                .await?;
        }
        Ok(pass)
    }

    /// Writes the next slice of a campaign's audience; the campaign as it then stands.
    async fn write_slice(&self, campaign: &Campaign) -> Result<Campaign, AppError> {
        let kind = self
            .store
            .find_channel(campaign.organization_id, campaign.channel_id)
            .await?
            .ok_or_else(|| AppError::Internal("a campaign's channel is gone".into()))?
            .provider
            .address_kind();
        let now = self.clock.now();
        let slice = if let Some(import) = campaign.audience["import_id"].as_str() {
            AudienceSlice::Import {
                import: import
                    .parse()
                    .map_err(|_| AppError::Internal("a campaign's import id".into()))?,
                limit: SLICE,
            }
        } else {
            let filter = super::audience_filter(&campaign.audience)?;
            let page = PageRequest {
                after: campaign.audience_cursor.clone(),
                limit: PageRequest::MAX_LIMIT,
            };
            let found = self
                .store
                .list_contacts(campaign.organization_id, &filter, page)
                .await?;
            let cursor = found
                .items
                .last()
                .map(|c| c.id.to_string())
                .or_else(|| campaign.audience_cursor.clone())
                .unwrap_or_default();
            AudienceSlice::Contacts {
                last: found.next_cursor.is_none(),
                contacts: found.items.into_iter().map(|c| c.id).collect(),
                after: campaign.audience_cursor.clone(),
                cursor,
            }
        };
        match self
            .store
            .add_recipients(campaign.organization_id, campaign.id, kind, slice, now)
            .await
        {
            // Another process wrote this page first.
            Err(parley_store::StoreError::Conflict {
                constraint: "campaign_audience_cursor",
            }) => Ok(campaign.clone()),
            other => other.map_err(Into::into),
        }
    }

    /// Skips a cancelled campaign's pending recipients, in batches.
    pub(crate) async fn skip_cancelled(&self, campaign: &Campaign) -> Result<(), AppError> {
        loop {
            let n = self
                .store
                .skip_pending(
                    campaign.organization_id,
                    campaign.id,
                    SkipReason::Cancelled,
                    SKIP_BATCH,
                    self.clock.now(),
                )
                .await?;
            if n < u64::from(SKIP_BATCH) {
                return Ok(());
            }
        }
    }

    /// Moves a campaign as the system (a scheduled campaign reaching its start).
    async fn system_move(
        &self,
        campaign: &Campaign,
        next: CampaignStatus,
    ) -> Result<Campaign, AppError> {
        let entry = self.audit(
            Some(campaign.organization_id),
            "system",
            AuditAction::CampaignStatusChanged,
            &campaign.id.to_string(),
            serde_json::json!({"from": campaign.status.as_str(), "to": next.as_str()}),
        );
        Ok(self
            .store
            .move_campaign(
                campaign.organization_id,
                campaign.id,
                next,
                self.clock.now(),
                entry,
            )
            .await?)
    }
}

impl Pass {
    /// Records what became of one first message: written or taken by another process
    /// (nothing to do), or to try again later.
    fn record(
        &mut self,
        seq: u64,
        outcome: Result<Started, AppError>,
        settle: &mut Vec<(u64, Settle)>,
        now: DateTime<Utc>,
    ) {
        match outcome {
            Ok(Started::Sent | Started::Taken) => {}
            Ok(Started::Busy) => settle.push((
                seq,
                Settle::Defer {
                    until: now + BUSY_WAIT,
                    why: WaitReason::OpenConversation,
                },
            )),
            Err(e) => {
                tracing::warn!(recipient = seq, error = %e, "a campaign's first message failed; trying again later");
                settle.push((
                    seq,
                    Settle::Defer {
                        until: now + FAULT_WAIT,
                        why: WaitReason::Retrying,
                    },
                ));
            }
        }
    }
}
