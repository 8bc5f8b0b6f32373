//! `parley bench campaign --page`: the campaign page's goal (issue 26). A person in
//! headless chromium (`tests/browser/bench_campaign_page.mjs`) opens the benchmark's
//! campaign page, presses Start and watches it run at full speed; the page records each
//! change of "Sent" on screen while this process reads the store's own count every 50 ms
//! (one clock for both, the machine's). How far the screen is behind the store at a
//! moment is how long ago the store last held the number shown; the figures are that
//! staleness just before each change on screen (its worst points) and at completion.
//! Goal: at most one second.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parley_app::App;
use parley_domain::{CampaignId, OrgId, Role};

const EMAIL: &str = "campaigns@example.test";
/// How often the store's own count is read (a count of the recipients by state).
const SAMPLE_MS: u64 = 50;
const PASSWORD: &str = "campaign page benchmark password";

/// The browser script, beside the web application's browser tests.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../parley-http/tests/browser/bench_campaign_page.mjs"
);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A person watching the campaign's page from Start to completion.
pub(crate) struct PageWatch {
    browser: tokio::task::JoinHandle<anyhow::Result<serde_json::Value>>,
    sampler: tokio::task::JoinHandle<anyhow::Result<Vec<(u64, u64)>>>,
}

impl PageWatch {
    /// Makes the person, then starts the browser (which presses Start) and the store
    /// sampler.
    pub(crate) async fn start(
        app: &App,
        store: std::sync::Arc<dyn parley_store::Store>,
        access: &parley_app::auth::Access,
        base: &str,
        org: OrgId,
        campaign: CampaignId,
    ) -> anyhow::Result<Self> {
        crate::bench::serve::person(app, access, EMAIL, PASSWORD, Role::Supervisor).await?;
        let browser = tokio::spawn(crate::bench::serve::browser_script(
            SCRIPT,
            vec![
                ("BASE", base.to_owned()),
                ("EMAIL", EMAIL.to_owned()),
                ("PASSWORD", PASSWORD.to_owned()),
                ("CAMPAIGN", format!("/app/{org}/campaigns/{campaign}")),
            ],
        ));
        let sampler = tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                // The store's own count of recipients per state: this store holds the one
                // campaign, and the count reads no messages or conversations, so sampling
                // often does not slow what it measures.
                let counts = store.work_counts().await?;
                let at = now_ms();
                let of = |state: &str| {
                    counts
                        .recipients
                        .iter()
                        .find(|(s, _)| s == state)
                        .map_or(0, |(_, n)| *n)
                };
                samples.push((at, of("sent")));
                let c = store.get_campaign(org, campaign).await?;
                if c.is_some_and(|c| c.status == parley_domain::CampaignStatus::Completed)
                    && of("pending") == 0
                {
                    return Ok(samples);
                }
                tokio::time::sleep(Duration::from_millis(SAMPLE_MS)).await;
            }
        });
        Ok(Self { browser, sampler })
    }

    /// Waits for both and prints the figures.
    pub(crate) async fn report(self) -> anyhow::Result<()> {
        let samples = self.sampler.await??;
        let summary = self.browser.await??;
        let changes: Vec<(u64, u64)> = summary["changes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| Some((p[0].as_u64()?, p[1].as_u64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let completed = summary["completed"].as_u64().unwrap_or(0);
        // When the store last held at most `shown` (the number on screen was true then).
        let last_true = |shown: u64| {
            samples
                .iter()
                .rev()
                .find(|(_, sent)| *sent <= shown)
                .map_or(0, |(at, _)| *at)
        };
        let mut stale: Vec<u64> = changes
            .windows(2)
            .map(|w| w[1].0.saturating_sub(last_true(w[0].1)))
            .collect();
        let finished_in_store = samples.last().map_or(0, |(at, _)| *at);
        stale.sort_unstable();
        let pick = |p: f64| {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((stale.len().saturating_sub(1)) as f64 * p).round() as usize;
            stale.get(i).copied().unwrap_or(0)
        };
        println!(
            "  campaign page in headless chromium (Start pressed there, counters followed on screen):"
        );
        println!(
            "    {} changes of Sent on screen; screen behind the store just before each change: median {} ms, p95 {} ms, max {} ms (goal <= 1000 ms)",
            changes.len(),
            pick(0.5),
            pick(0.95),
            stale.last().copied().unwrap_or(0)
        );
        println!(
            "    completed shown {} ms after the store's last count (sampled every {SAMPLE_MS} ms)",
            completed.saturating_sub(finished_in_store)
        );
        if summary["errors"].as_array().is_some_and(|e| !e.is_empty()) {
            println!("    page errors: {}", summary["errors"]);
        }
        Ok(())
    }
}
