//! A campaign's counters as pages follow it: two reads of the store kept apart.
//!
//! The state counters (pending and why some wait, sent, failed, skipped) are a range read
//! of the campaign's recipients (`campaign_state_counts`), cheap enough to take again
//! whenever they are older than [`STATE_TTL`]; the rest (delivered, undelivered, replied,
//! opted out, finished by outcome) need every recipient's message and conversation
//! (`campaign_counts`), so they are read again at most every [`WHOLE_TTL`], in the
//! background while the page is answered with the ones it has. A campaign read for the
//! first time, or changed since (started, paused, completed…), is counted whole before it
//! is answered, so a campaign that has just completed never shows 39 of 40 done.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use parley_domain::{Campaign, CampaignId};
use parley_store::{CampaignCounts, Store};

use crate::AppError;

/// How long the state counters are shown again.
const STATE_TTL: Duration = Duration::from_millis(100);
/// How long the message and conversation counters are shown again.
const WHOLE_TTL: Duration = Duration::from_secs(2);
/// Campaigns remembered before the old ones are dropped.
const REMEMBERED: usize = 1_000;

struct Recent {
    revision: u64,
    /// When the whole count was taken (or asked for, while `counting`).
    whole_at: Instant,
    states_at: Instant,
    counting: bool,
    shown: CampaignCounts,
}

/// Counters read recently, per campaign.
#[derive(Default)]
pub(crate) struct RecentCounts(Mutex<HashMap<CampaignId, Recent>>);

/// `states`' state counters with `whole`'s others.
fn merged(whole: &CampaignCounts, states: CampaignCounts) -> CampaignCounts {
    CampaignCounts {
        pending: states.pending,
        waiting: states.waiting,
        sent: states.sent,
        failed: states.failed,
        skipped: states.skipped,
        ..whole.clone()
    }
}

impl RecentCounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CampaignId, Recent>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `campaign`'s counters, the state ones at most [`STATE_TTL`] old and the others at
    /// most [`WHOLE_TTL`] (plus one count) old.
    pub(crate) async fn of(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        campaign: &Campaign,
    ) -> Result<CampaignCounts, AppError> {
        let (org, id) = (campaign.organization_id, campaign.id);
        let (states_due, whole_due) = match self.lock().get_mut(&id) {
            Some(r) if r.revision == campaign.revision => {
                let whole_due = !r.counting && r.whole_at.elapsed() >= WHOLE_TTL;
                if whole_due {
                    r.counting = true;
                    r.whole_at = Instant::now();
                }
                if r.states_at.elapsed() < STATE_TTL && !whole_due {
                    return Ok(r.shown.clone());
                }
                (r.states_at.elapsed() >= STATE_TTL, whole_due)
            }
            _ => (false, false),
        };
        if whole_due {
            // The slow count runs beside the page's answer; its result is merged when it
            // comes (if the campaign has not changed meanwhile).
            let (recent, store, revision) =
                (Arc::clone(self), Arc::clone(store), campaign.revision);
            tokio::spawn(async move {
                let whole = store.campaign_counts(org, id).await;
                let mut map = recent.lock();
                if let Some(r) = map.get_mut(&id).filter(|r| r.revision == revision) {
                    r.counting = false;
                    if let Ok(whole) = whole {
                        r.whole_at = Instant::now();
                        let states = r.shown.clone();
                        r.shown = merged(&whole, states);
                    }
                }
            });
        }
        if states_due || whole_due {
            let states = store.campaign_state_counts(org, id).await?;
            let mut map = self.lock();
            if let Some(r) = map.get_mut(&id).filter(|r| r.revision == campaign.revision) {
                r.states_at = Instant::now();
                r.shown = merged(&r.shown, states);
                return Ok(r.shown.clone());
            }
        }
        // First read, or the campaign changed: counted whole before answering.
        let whole = store.campaign_counts(org, id).await?;
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() > REMEMBERED {
            map.retain(|_, r| r.whole_at.elapsed() < WHOLE_TTL);
        }
        // A request that read the campaign later may have counted it already.
        if map.get(&id).is_none_or(|r| r.revision <= campaign.revision) {
            map.insert(
                id,
                Recent {
                    revision: campaign.revision,
                    whole_at: now,
                    states_at: now,
                    counting: false,
                    shown: whole.clone(),
                },
            );
        }
        Ok(whole)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn fresh_state_counters_keep_the_message_and_conversation_ones() {
        let whole = CampaignCounts {
            pending: 10,
            sent: 5,
            delivered: 4,
            undelivered: 1,
            replied: 2,
            opted_out: 1,
            completed: BTreeMap::from([("done".to_owned(), 2)]),
            ..CampaignCounts::default()
        };
        let states = CampaignCounts {
            pending: 3,
            sent: 11,
            failed: 1,
            waiting: BTreeMap::from([("outside_window".to_owned(), 2)]),
            skipped: BTreeMap::from([("opted_out".to_owned(), 1)]),
            ..CampaignCounts::default()
        };
        let shown = merged(&whole, states.clone());
        assert_eq!(
            (
                shown.pending,
                shown.sent,
                shown.failed,
                &shown.waiting,
                &shown.skipped
            ),
            (3, 11, 1, &states.waiting, &states.skipped)
        );
        assert_eq!(
            (
                shown.delivered,
                shown.undelivered,
                shown.replied,
                shown.opted_out,
                &shown.completed
            ),
            (4, 1, 2, 1, &whole.completed)
        );
    }
}
