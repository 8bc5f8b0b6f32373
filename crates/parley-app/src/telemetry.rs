//! What Parley reports on `/metrics`: every metric family's name, help text and labels
//! (this module is the one list), the recordings made where work happens, and the sampler
//! of what is waiting.
//!
//! Label sets are bounded by design: channel providers, statuses, outcomes and job queue
//! names come from closed lists in the code; no label carries an id, an organization or
//! anything a request chooses. Gauges of waiting work are sampled from the store every
//! [`SAMPLE_EVERY`] by [`App::sample_metrics`], so a scrape never queries the store.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use parley_domain::{DeliveryStatus, Provider};
use parley_store::{AttemptRecord, EndpointEffect};

use crate::{App, AppError};

/// How often [`App::sample_metrics`] should run.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// Registers the help text and unit of every family (call once, after installing the
/// recorder). `parley_http_*` are recorded by the HTTP layer and `parley_jobs_total` by
/// the job runner; they are described here so every family has its help in one place.
pub fn describe() {
    describe_counter!(
        "parley_http_requests_total",
        "HTTP requests answered, by route template, method and status."
    );
    describe_histogram!(
        "parley_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route template, method and status."
    );
    describe_counter!(
        "parley_jobs_total",
        "Background jobs finished, by job kind and outcome (done, retry, failed)."
    );
    describe_gauge!(
        "parley_jobs_queued",
        "Background jobs waiting to run, by queue (`sends` is the send queue)."
    );
    describe_gauge!(
        "parley_jobs_running",
        "Background jobs running now, by queue."
    );
    describe_gauge!(
        "parley_jobs_oldest_waiting_seconds",
        Unit::Seconds,
        "How long the longest-waiting due job of each queue has waited (0 when none is due)."
    );
    describe_gauge!(
        "parley_send_queue_depth",
        "Outbound messages waiting to be handed to their provider."
    );
    describe_counter!(
        "parley_webhook_deliveries_total",
        "Webhook and SFTP delivery attempts, by outcome (delivered, retry, failed, not_sent) and what it meant for the endpoint (healthy, failing, disabled, unchanged)."
    );
    describe_histogram!(
        "parley_webhook_delivery_lag_seconds",
        Unit::Seconds,
        "Time from an event to its successful delivery to an endpoint."
    );
    describe_gauge!(
        "parley_webhook_deliveries_pending",
        "Webhook and SFTP deliveries waiting for their first or next attempt."
    );
    describe_counter!(
        "parley_inbound_turns_total",
        "Customer messages handled (one turn each), by channel provider and outcome (ok, error)."
    );
    describe_histogram!(
        "parley_inbound_turn_duration_seconds",
        Unit::Seconds,
        "Time to handle a customer message: keywords, the flow, and the replies queued, committed."
    );
    describe_counter!(
        "parley_message_reports_total",
        "Message statuses reported by providers, by channel provider and the message's resulting status."
    );
    describe_gauge!(
        "parley_campaign_recipients",
        "Campaign recipients across every campaign, by state (pending, sent, failed, skipped)."
    );
    describe_counter!(
        "parley_import_rows_total",
        "Rows of completed imports, by outcome (imported, rejected)."
    );
    describe_gauge!(
        "parley_store_up",
        "1 when the store answered the last health query, else 0."
    );
    describe_gauge!(
        "parley_store_ping_seconds",
        Unit::Seconds,
        "How long the store took to answer the last health query."
    );
    describe_gauge!(
        "process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of the Parley process."
    );
    describe_counter!(
        "process_cpu_seconds_total",
        Unit::Seconds,
        "CPU time the Parley process has used (user and system)."
    );
    describe_gauge!(
        "process_open_fds",
        "File descriptors the Parley process holds open."
    );
    describe_gauge!(
        "process_start_time_seconds",
        Unit::Seconds,
        "When the Parley process started, in seconds since the Unix epoch."
    );
}

/// Records one delivery attempt: its outcome, what it meant for the endpoint and, for a
/// success, the lag since the event.
pub(crate) fn delivery_attempt(record: &AttemptRecord, event_at: DateTime<Utc>) {
    let outcome = match (record.status, &record.endpoint) {
        (_, EndpointEffect::Unchanged) => "not_sent",
        (DeliveryStatus::Delivered, _) => "delivered",
        (DeliveryStatus::Pending, _) => "retry",
        (DeliveryStatus::Failed, _) => "failed",
    };
    let endpoint = match record.endpoint {
        EndpointEffect::Succeeded => "healthy",
        EndpointEffect::Failed => "failing",
        EndpointEffect::Disable(..) => "disabled",
        EndpointEffect::Unchanged => "unchanged",
    };
    metrics::counter!("parley_webhook_deliveries_total", "outcome" => outcome, "endpoint_state" => endpoint)
        .increment(1);
    if record.status == DeliveryStatus::Delivered {
        let lag = (record.attempt.at - event_at).num_milliseconds().max(0);
        #[allow(clippy::cast_precision_loss)]
        metrics::histogram!("parley_webhook_delivery_lag_seconds").record(lag as f64 / 1000.0);
    }
}

/// Times one inbound turn; records it when dropped (so every return path counts), as an
/// error unless [`Turn::succeeded`] was called.
pub(crate) struct Turn {
    provider: Provider,
    started: Instant,
    ok: bool,
}

impl Turn {
    pub(crate) fn start(provider: Provider) -> Self {
        Self {
            provider,
            started: Instant::now(),
            ok: false,
        }
    }

    pub(crate) fn succeeded(&mut self) {
        self.ok = true;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let provider = self.provider.as_str();
        let outcome = if self.ok { "ok" } else { "error" };
        metrics::counter!("parley_inbound_turns_total", "provider" => provider, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("parley_inbound_turn_duration_seconds", "provider" => provider)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Records a provider's status report that changed a message.
pub(crate) fn message_report(provider: Provider, status: &'static str) {
    metrics::counter!("parley_message_reports_total", "provider" => provider.as_str(), "status" => status)
        .increment(1);
}

/// Records a completed import's rows.
pub(crate) fn import_rows(imported: u64, rejected: u64) {
    metrics::counter!("parley_import_rows_total", "outcome" => "imported").increment(imported);
    metrics::counter!("parley_import_rows_total", "outcome" => "rejected").increment(rejected);
}

impl App {
    /// Samples what is waiting (job queues, deliveries, campaign recipients), the store's
    /// health and the process into the gauges. A store that does not answer sets
    /// `parley_store_up` to 0 and leaves the other gauges as they were.
    pub async fn sample_metrics(&self) {
        let started = Instant::now();
        let up = self.store.ping().await.is_ok();
        metrics::gauge!("parley_store_up").set(if up { 1.0 } else { 0.0 });
        metrics::gauge!("parley_store_ping_seconds").set(started.elapsed().as_secs_f64());
        process();
        if !up {
            return;
        }
        let now = self.clock.now();
        if let Ok(queues) = self.store.job_stats().await {
            let mut sends = 0;
            for q in &queues {
                let queue = q.queue.clone();
                #[allow(clippy::cast_precision_loss)]
                {
                    metrics::gauge!("parley_jobs_queued", "queue" => queue.clone())
                        .set(q.pending as f64);
                    metrics::gauge!("parley_jobs_running", "queue" => queue.clone())
                        .set(q.running as f64);
                }
                let waited = q
                    .oldest_pending_at
                    .map_or(0, |at| (now - at).num_milliseconds().max(0));
                #[allow(clippy::cast_precision_loss)]
                metrics::gauge!("parley_jobs_oldest_waiting_seconds", "queue" => queue)
                    .set(waited as f64 / 1000.0);
                if q.queue == <crate::conversations::turn::SendJob as parley_jobs::Job>::QUEUE {
                    sends = q.pending + q.running;
                }
            }
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("parley_send_queue_depth").set(sends as f64);
        }
        if let Ok(counts) = self.store.work_counts().await {
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("parley_webhook_deliveries_pending")
                .set(counts.pending_deliveries as f64);
            for state in parley_domain::RecipientState::ALL {
                let n = counts
                    .recipients
                    .iter()
                    .find(|(s, _)| s == state.as_str())
                    .map_or(0, |(_, n)| *n);
                #[allow(clippy::cast_precision_loss)]
                metrics::gauge!("parley_campaign_recipients", "state" => state.as_str())
                    .set(n as f64);
            }
        }
    }
}

/// The process's memory, CPU, descriptors and start time, from `/proc` (Linux; elsewhere
/// these families are not reported).
fn process() {
    #[cfg(target_os = "linux")]
    {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
            return;
        };
        // Fields after the command name (which is in parentheses and may hold spaces).
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        // In `rest`, field 0 is the state (stat field 3): utime is stat field 14, stime 15,
        // starttime 22, rss 24.
        let ticks = 100.0; // USER_HZ on every Linux architecture Parley builds for
        if let (Some(user), Some(system)) = (number(11), number(12)) {
            metrics::counter!("process_cpu_seconds_total")
                .absolute(((user + system) / ticks) as u64);
        }
        if let Some(pages) = number(21) {
            metrics::gauge!("process_resident_memory_bytes").set(pages * 4096.0);
        }
        if let (Some(start), Some(boot)) = (number(19), boot_time()) {
            metrics::gauge!("process_start_time_seconds").set(boot + start / ticks);
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("process_open_fds").set(fds.count() as f64);
        }
    }
}

/// When the machine booted, in seconds since the Unix epoch (`btime` of `/proc/stat`).
#[cfg(target_os = "linux")]
fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

impl App {
    /// Whether the store answers, for `/readyz`: the engine's name (`sqlite`, `postgres`)
    /// when it does.
    pub async fn ready(&self) -> Result<&'static str, AppError> {
        self.store.ping().await?;
        Ok(self.store.engine_name())
    }
}
