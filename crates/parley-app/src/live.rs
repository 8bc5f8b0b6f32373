//! The live stream of an organization's events (`/api/v1/stream`, SSE): what the agent
//! pages update from. Every event the outbox holds is announced, whichever process wrote
//! it, as the webhook envelope.
//!
//! How: one feed per process reads the outbox every 250 ms while anyone listens (and at
//! once when woken: the sender wakes it after recording a web-chat reply) and
//! broadcasts what is new to the process's subscribers, each of which keeps its own
//! organization's events. The read looks back 2 seconds (event ids are time-ordered,
//! but a transaction may commit an id a little older than one already seen) and skips
//! ids it has announced.
//!
//! Decisions:
//! * it needs `conversations:read`: the events are conversations' content; a person's
//!   desk subscribes through [`App::subscribe_desk`] instead, which says only which
//!   conversation changed, and only for those the person may see;
//! * a subscriber that falls more than 4,096 events behind skips what it missed (the
//!   stream is for live views; the API reads are the record) and carries on;
//! * events of sub-organizations are not included: a view subscribes to the organization
//!   it shows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parley_domain::{ConversationId, EventId, NewEvent, OrgId, Permission};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::auth::Access;
use crate::{App, AppError};

/// How often the feed reads the outbox.
const EVERY: Duration = Duration::from_millis(250);
/// How far back each read looks.
const LOOK_BACK: Duration = Duration::from_secs(2);
/// Events a subscriber may fall behind before it skips.
const CAPACITY: usize = 4_096;
/// Events read at once.
const BATCH: u32 = 1_000;

/// The process's feed: where subscribers listen.
#[derive(Debug)]
pub struct Live {
    sender: broadcast::Sender<Arc<NewEvent>>,
    /// Makes the feed read now rather than at its next tick.
    wake: tokio::sync::Notify,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            wake: tokio::sync::Notify::new(),
        }
    }
}

impl Live {
    /// Every organization's events, for a router that hands them on itself (the web
    /// chat's hub); the feed reads the outbox while such a receiver lives.
    pub(crate) fn subscribe_all(&self) -> broadcast::Receiver<Arc<NewEvent>> {
        self.sender.subscribe()
    }

    /// Asks the feed to read the outbox now (something a listener waits for was just
    /// committed), when anyone listens.
    pub(crate) fn wake(&self) {
        if self.sender.receiver_count() > 0 {
            self.wake.notify_one();
        }
    }
}

/// One subscriber: its organization's events as they come.
pub struct LiveEvents {
    organization: OrgId,
    receiver: broadcast::Receiver<Arc<NewEvent>>,
}

impl LiveEvents {
    /// The next event of the organization; `None` once the feed has stopped.
    pub async fn next(&mut self) -> Option<Arc<NewEvent>> {
        loop {
            match self.receiver.recv().await {
                Ok(e) if e.organization_id == self.organization => return Some(e),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// A person's desk feed: which of the conversations they may see just changed.
pub struct DeskEvents {
    events: LiveEvents,
    access: Access,
}

fn now_millis() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

impl App {
    /// Subscribes to the acting organization's events.
    pub fn subscribe_live(&self, access: &Access) -> Result<LiveEvents, AppError> {
        access.require(Permission::ConversationsRead)?;
        Ok(LiveEvents {
            organization: access.org_id(),
            receiver: self.live.sender.subscribe(),
        })
    }

    /// Subscribes a person's desk to the acting organization's changes. Unlike the raw
    /// stream it needs only `conversations:read_own_queues`: what it yields is filtered
    /// by [`App::next_desk_change`] to the conversations the person may see, and says
    /// only which one changed (the page reads the rest through its own checks).
    pub fn subscribe_desk(&self, access: &Access) -> Result<DeskEvents, AppError> {
        access.require(Permission::ConversationsReadOwnQueues)?;
        Ok(DeskEvents {
            events: LiveEvents {
                organization: access.org_id(),
                receiver: self.live.sender.subscribe(),
            },
            access: access.clone(),
        })
    }

    /// The next conversation of `feed` that changed and that its person may see; `None`
    /// once the feed has stopped.
    pub async fn next_desk_change(&self, feed: &mut DeskEvents) -> Option<ConversationId> {
        loop {
            let event = feed.events.next().await?;
            let Some(id) = event
                .data
                .get("conversation_id")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<ConversationId>().ok())
            else {
                continue;
            };
            if self.get_conversation(&feed.access, id).await.is_ok() {
                return Some(id);
            }
        }
    }

    /// Starts the process's feed (see the module's documentation); it stops with `cancel`.
    pub fn start_live_feed(&self, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut announced: HashMap<EventId, Instant> = HashMap::new();
            let look_back = u64::try_from(LOOK_BACK.as_millis()).unwrap_or(2_000);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(EVERY) => {}
                    () = app.live.wake.notified() => {}
                }
                if app.live.sender.receiver_count() == 0 {
                    announced.clear();
                    continue;
                }
                let mut after = EventId::floor_at_millis(now_millis().saturating_sub(look_back));
                loop {
                    let events = match app.store.events_after(after, BATCH).await {
                        Ok(events) => events,
                        Err(e) => {
                            tracing::warn!(error = %e, "reading the outbox for the live stream failed");
                            break;
                        }
                    };
                    let full = events.len() == BATCH as usize;
                    for stored in events {
                        after = stored.event.id;
                        if announced.insert(stored.event.id, Instant::now()).is_none() {
                            let _ = app.live.sender.send(Arc::new(stored.event));
                        }
                    }
                    if !full {
                        break;
                    }
                }
                announced.retain(|_, at| at.elapsed() < LOOK_BACK * 2);
            }
        })
    }
}
