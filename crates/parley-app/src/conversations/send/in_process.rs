//! The in-process sender: the turns hand it their replies right after they commit, so a
//! reply does not wait for a job claim; each reply's send job stays the durable fallback
//! (due [`IN_PROCESS_GRACE`](super::IN_PROCESS_GRACE) later). A recorder writes the sends'
//! changes in batches (one commit for many sends and reports).
//!
//! Order: a conversation's replies are sent one after another, in the order they were
//! written (their jobs' order), each only once the one before it was handed to the
//! provider and recorded; different conversations send at once (up to
//! [`IN_PROCESS_CONCURRENCY`] of them). So this process keeps one **lane** of waiting
//! replies per conversation, worked by one task while it has any. Before each send the
//! lane asks the job queue whether the reply's job is the first live job of the
//! conversation's send lane (see `parley_store::JobQueue`): when an earlier reply is
//! still unsent (its in-process send failed and waits for its job's retry, another
//! process holds it, or its turn's hand-over has not reached this lane yet), this reply is
//! not sent here but left to its job, which the queue runs after the earlier one. The
//! lane need not ask for the first reply of a conversation the turn opened, nor for a
//! reply whose turn's previous reply the lane has just sent ([`Follows`]). The
//! simulator's reports of a conversation are recorded in the same order.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use parley_domain::{ConversationId, JobId, Message, MessageId};
use parley_jobs::Job;
use parley_store::{DecideMessage, MessageKey, StoreError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::JoinSet;

use crate::App;
use crate::conversations::turn::{Follows, Outgoing, SendJob, send_lane};

/// Conversations sending at once in-process.
const IN_PROCESS_CONCURRENCY: usize = 256;
/// Changes the recorder writes in one transaction at most.
const RECORD_BATCH: usize = 256;

/// A change waiting for the recorder, with where its result goes.
pub(crate) struct Recording {
    /// The message to change.
    key: MessageKey,
    /// The change, decided on the message as stored.
    decide: DecideMessage,
    /// Where the changed message (or the store's refusal) goes.
    reply: oneshot::Sender<Result<Option<Message>, StoreError>>,
}

/// The replies waiting in this process, per conversation, in their jobs' order. A
/// conversation is here while its lane's task runs.
type Lanes = Arc<Mutex<HashMap<ConversationId, BTreeMap<Option<JobId>, Outgoing>>>>;

/// The simulator's report waiting to be recorded last for each conversation: which
/// message, and what says it was.
pub(crate) type ReportTails = Mutex<HashMap<ConversationId, (MessageId, oneshot::Receiver<()>)>>;

impl App {
    /// Starts the in-process sender (see the module's documentation). Stops taking
    /// replies when `cancel` fires; replies already handed over, sends in flight and the
    /// simulator's waiting reports finish.
    pub fn start_sends(
        &self,
        cancel: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Outgoing>();
        let (recorder, recordings) = tokio::sync::mpsc::unbounded_channel::<Recording>();
        *self
            .sender
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(sender);
        *self
            .sender
            .recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(recorder);
        let recording = tokio::spawn(record(self.clone(), recordings));
        let app = self.clone();
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(IN_PROCESS_CONCURRENCY));
            let lanes = Lanes::default();
            let mut running = JoinSet::new();
            loop {
                let out = tokio::select! {
                    () = cancel.cancelled() => break,
                    out = receiver.recv() => out,
                };
                let Some(out) = out else { break };
                if !app.join_lane(&mut running, &slots, &lanes, out).await {
                    break;
                }
                while running.try_join_next().is_some() {}
            }
            // No new replies from here on; those already handed over are still sent.
            *app.sender
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            while let Ok(out) = receiver.try_recv() {
                if !app.join_lane(&mut running, &slots, &lanes, out).await {
                    break;
                }
            }
            while running.join_next().await.is_some() {}
            // Simulated reports still waiting are recorded before the recorder stops.
            loop {
                let mut waiting = std::mem::take(
                    &mut *app
                        .sender
                        .reports
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                );
                if waiting.is_empty() {
                    break;
                }
                while waiting.join_next().await.is_some() {}
            }
            // The sends have recorded; the recorder ends once its queue is empty.
            *app.sender
                .recorder
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            let _ = recording.await;
        })
    }

    /// Puts `out` in its conversation's lane, starting the lane's task (when a slot is
    /// free) if the lane had none; `false` when the sender is closing.
    async fn join_lane(
        &self,
        running: &mut JoinSet<()>,
        slots: &Arc<Semaphore>,
        lanes: &Lanes,
        out: Outgoing,
    ) -> bool {
        let conversation = out.conversation.id;
        {
            let mut lanes = lanes.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(lane) = lanes.get_mut(&conversation) {
                lane.insert(out.job, out);
                return true;
            }
            lanes.insert(conversation, BTreeMap::from([(out.job, out)]));
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return false;
        };
        let (app, lanes) = (self.clone(), lanes.clone());
        running.spawn(async move { app.work_lane(conversation, &lanes, slot).await });
        true
    }

    /// Sends a conversation's waiting replies one after another until none is left.
    async fn work_lane(
        &self,
        conversation: ConversationId,
        lanes: &Lanes,
        _slot: OwnedSemaphorePermit,
    ) {
        // The job of the reply this lane sent last.
        let mut sent = None;
        loop {
            let next = {
                let mut lanes = lanes.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(lane) = lanes.get_mut(&conversation) else {
                    return;
                };
                match lane.pop_first() {
                    Some((_, out)) => out,
                    None => {
                        lanes.remove(&conversation);
                        return;
                    }
                }
            };
            let job = next.job;
            let follows_sent = sent.is_some_and(|s| next.follows == Follows::Job(s));
            sent = if self.send_in_turn(next, follows_sent).await {
                job
            } else {
                None
            };
        }
    }

    /// Sends `out` when it is next in its conversation's send lane (the lane just sent
    /// the one before it, or the job queue says its job is the lane's first live one);
    /// otherwise, or when the send is to be retried, leaves it to its job. Whether it was
    /// sent (and recorded).
    async fn send_in_turn(&self, out: Outgoing, follows_sent: bool) -> bool {
        let id = out.message.id;
        let Some(job) = out.job else { return false };
        if !(follows_sent || out.follows == Follows::Nothing) {
            let lane = send_lane(out.conversation.id);
            match self.store.first_in_lane(SendJob::QUEUE, &lane).await {
                Ok(Some(first)) if first == job => {}
                Ok(_) => {
                    tracing::debug!(message = %id, "an earlier reply of the conversation is unsent: this one is left to its job");
                    return false;
                }
                Err(e) => {
                    tracing::info!(message = %id, error = %e, "an in-process send is left to its job");
                    return false;
                }
            }
        }
        match self.send_outgoing(out).await {
            Ok(()) => true,
            Err(e) => {
                tracing::info!(message = %id, error = %e, "an in-process send is left to its job");
                false
            }
        }
    }

    /// Takes the place after the conversation's last waiting simulated report: what to
    /// drop once this one is recorded, and what says the one before it was.
    pub(super) fn report_after(
        &self,
        conversation: ConversationId,
        message: MessageId,
    ) -> (oneshot::Sender<()>, Option<oneshot::Receiver<()>>) {
        let (done, recorded) = oneshot::channel();
        let before = self
            .sender
            .report_tails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(conversation, (message, recorded));
        (done, before.map(|(_, recorded)| recorded))
    }

    /// Forgets the conversation's last report when it is `message`'s (now recorded).
    pub(super) fn report_recorded(&self, conversation: ConversationId, message: MessageId) {
        let mut tails = self
            .sender
            .report_tails
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if tails.get(&conversation).is_some_and(|(m, _)| *m == message) {
            tails.remove(&conversation);
        }
    }

    /// Writes a message change: through the recorder, batched with others, while the
    /// in-process sender runs; else on its own.
    pub(super) async fn record_change(
        &self,
        key: MessageKey,
        decide: DecideMessage,
    ) -> Result<Option<Message>, StoreError> {
        let recorder = self
            .sender
            .recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(recorder) = recorder else {
            return self.store.change_message(key, decide).await;
        };
        let (reply, answer) = oneshot::channel();
        if let Err(tokio::sync::mpsc::error::SendError(Recording { key, decide, .. })) =
            recorder.send(Recording { key, decide, reply })
        {
            return self.store.change_message(key, decide).await;
        }
        answer
            .await
            .map_err(|_| StoreError::Other("the recorder stopped".into()))?
    }
}

/// The recorder: takes the changes queued since its last write, up to [`RECORD_BATCH`],
/// and writes them in one transaction (one commit for many sends and reports); ends when
/// every way to it is gone.
async fn record(app: App, mut recordings: tokio::sync::mpsc::UnboundedReceiver<Recording>) {
    while let Some(first) = recordings.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match recordings.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (changes, replies): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|r| ((r.key, r.decide), r.reply))
            .unzip();
        match app.store.change_messages(changes).await {
            Ok(written) => {
                for (reply, message) in replies.into_iter().zip(written) {
                    let _ = reply.send(Ok(message));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Other(why.clone().into())));
                }
            }
        }
    }
}
