//! `parley bench webhooks`: the delivery engine on a fresh SQLite store against an
//! in-process receiver that answers `200` at once.
//!
//! For each endpoint count: `--events` events are written to the outbox, then the engine
//! starts and the clock runs until every delivery is recorded (fan-out, claims, signing,
//! HTTP over keep-alive connections, batched recording: the whole path). Then a paced
//! phase emits events at `--lag-rate` deliveries per second, well under saturation, and
//! measures end-to-end lag from the outbox commit to the receiver. CPU is the process's
//! minus the receiver's own threads. Lost ids are those never received; duplicates are
//! repeats.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use parley_app::Settings;
use parley_app::webhooks::{NewWebhook, WebhookSettings};
use parley_domain::{EventId, EventType, NewEvent, OrgId};
use tokio_util::sync::CancellationToken;

/// Options of `parley bench webhooks`.
#[derive(Debug, Args)]
pub struct WebhooksBench {
    /// Events per run.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Endpoint counts to run with, comma-separated (every event goes to each).
    #[arg(long, value_delimiter = ',', default_value = "1,10")]
    pub endpoints: Vec<u32>,
    /// Deliveries per second in the paced (lag) phase.
    #[arg(long, default_value_t = 1000)]
    pub lag_rate: u64,
    /// Seconds of the paced phase.
    #[arg(long, default_value_t = 5)]
    pub lag_seconds: u64,
    /// Requests in flight at once (the engine's `webhooks.concurrency`; its default when
    /// not given).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Working directory (a fresh temporary one by default; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// What the receiver saw: per `webhook-id`, how many times and when first.
#[derive(Default)]
struct Seen {
    by_id: HashMap<String, (u32, Instant)>,
    total: u64,
}

type Shared = Arc<Mutex<Seen>>;

/// Starts the receiver on a runtime of its own (one thread named `receiver`, so its CPU
/// can be told apart); returns its base URL.
fn start_receiver(seen: Shared) -> anyhow::Result<(String, tokio::runtime::Runtime)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("receiver")
        .enable_all()
        .build()?;
    // Bound here, served there: this function runs inside the benchmark's own runtime.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let router = axum::Router::new()
        .fallback(
            |axum::extract::State(seen): axum::extract::State<Shared>,
             headers: axum::http::HeaderMap| async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                // The endpoint is part of the id: `/<n>` paths tell endpoints apart.
                let now = Instant::now();
                let mut seen = seen
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                seen.total += 1;
                seen.by_id.entry(id).or_insert((0, now)).0 += 1;
                "ok"
            },
        )
        .with_state(seen);
    runtime.spawn(async move {
        if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
            let _ = axum::serve(listener, router).await;
        }
    });
    Ok((format!("http://{address}"), runtime))
}

/// CPU seconds used by this process so far, and by its threads named `receiver`.
fn cpu_seconds() -> (f64, f64) {
    fn ticks(stat: &str) -> f64 {
        // Fields after the `(comm)`: state is 3rd, utime 14th, stime 15th overall.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        num(11) + num(12)
    }
    const TICKS_PER_SECOND: f64 = 100.0;
    let total = std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| ticks(&s));
    let mut receiver = 0.0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() == "receiver" {
                receiver +=
                    std::fs::read_to_string(task.path().join("stat")).map_or(0.0, |s| ticks(&s));
            }
        }
    }
    (total / TICKS_PER_SECOND, receiver / TICKS_PER_SECOND)
}

fn event(org: OrgId, n: u64) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type: EventType::DeliveryReport,
        timestamp: chrono::Utc::now(),
        data: serde_json::json!({
            "conversation_id": format!("conv_{n:08}"),
            "message": {"id": format!("msg_{n:08}"), "channel": "sms", "status": "delivered",
                        "previous_status": "sent", "to": "+447700900123"},
            "contact": {"customer_id": format!("C-{n:08}")},
        }),
    }
}

/// One endpoint count's figures.
struct Figures {
    deliveries: u64,
    seconds: f64,
    cpu_ms_per_delivery: f64,
    lost: u64,
    duplicated: u64,
    lag_p50: Duration,
    lag_p99: Duration,
    lag_deliveries: usize,
}

async fn run_one(
    args: &WebhooksBench,
    dir: &std::path::Path,
    endpoints: u32,
) -> anyhow::Result<Figures> {
    let mut webhooks = WebhookSettings::default();
    if let Some(concurrency) = args.concurrency {
        webhooks.engine.concurrency = concurrency;
    }
    let settings = Settings {
        webhooks,
        allow_private_targets: true,
        ..Settings::default()
    };
    let (app, store, org) =
        crate::bench::fresh_store(dir, &format!("webhooks-{endpoints}.db"), settings).await?;
    let seen: Shared = Arc::default();
    let (base, receiver_runtime) = start_receiver(seen.clone())?;
    let access = crate::bench::admin_access(&app, org).await?;
    for n in 0..endpoints {
        app.create_webhook(
            &access,
            NewWebhook {
                url: format!("{base}/{n}"),
                enabled: true,
                ..NewWebhook::default()
            },
        )
        .await?;
    }

    // Throughput: everything queued first, then the clock runs until all is recorded.
    let mut ids = Vec::with_capacity(usize::try_from(args.events)?);
    let mut batch = Vec::with_capacity(1000);
    for n in 0..args.events {
        let e = event(org, n);
        ids.push(e.id.to_string());
        batch.push(e);
        if batch.len() == 1000 {
            store.append_events(&batch).await?;
            batch.clear();
        }
    }
    store.append_events(&batch).await?;
    let expected = args.events * u64::from(endpoints);
    let (cpu0, receiver0) = cpu_seconds();
    let started = Instant::now();
    let cancel = CancellationToken::new();
    let engine = app.start_webhook_delivery(cancel.clone());
    let counters = engine.counters.clone();
    let deadline = started + Duration::from_secs(1800);
    while counters.attempts.load(std::sync::atomic::Ordering::Relaxed) < expected {
        anyhow::ensure!(Instant::now() < deadline, "deliveries stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (cpu1, receiver1) = cpu_seconds();
    let delivered = counters
        .delivered
        .load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(
        delivered == expected,
        "{delivered} of {expected} deliveries succeeded"
    );
    let (lost, duplicated) = {
        let seen = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let lost = ids
            .iter()
            .filter(|id| {
                seen.by_id
                    .get(*id)
                    .is_none_or(|(count, _)| *count < endpoints)
            })
            .count() as u64;
        (lost, seen.total.saturating_sub(expected))
    };
    #[allow(clippy::cast_precision_loss)]
    let cpu_ms_per_delivery =
        ((cpu1 - cpu0) - (receiver1 - receiver0)).max(0.0) * 1000.0 / expected as f64;

    // Lag: a paced stream well under saturation, timed from commit to receipt.
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .by_id
        .clear();
    let per_tick = (args.lag_rate / 100 / u64::from(endpoints)).max(1);
    let mut committed: Vec<(String, Instant)> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut n = args.events;
    for _ in 0..args.lag_seconds * 100 {
        tick.tick().await;
        let events: Vec<NewEvent> = (0..per_tick).map(|i| event(org, n + i)).collect();
        n += per_tick;
        store.append_events(&events).await?;
        let at = Instant::now();
        committed.extend(events.iter().map(|e| (e.id.to_string(), at)));
    }
    let total = expected + committed.len() as u64 * u64::from(endpoints);
    let deadline = Instant::now() + Duration::from_secs(60);
    while counters.attempts.load(std::sync::atomic::Ordering::Relaxed) < total {
        anyhow::ensure!(Instant::now() < deadline, "paced deliveries stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    engine.stopped().await;
    let mut lags: Vec<Duration> = {
        let seen = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        committed
            .iter()
            .filter_map(|(id, at)| {
                seen.by_id
                    .get(id)
                    .map(|(_, first)| first.saturating_duration_since(*at))
            })
            .collect()
    };
    lags.sort();
    receiver_runtime.shutdown_background();
    Ok(Figures {
        deliveries: expected,
        seconds,
        cpu_ms_per_delivery,
        lost,
        duplicated,
        lag_p50: crate::bench::percentile(&lags, 0.50),
        lag_p99: crate::bench::percentile(&lags, 0.99),
        lag_deliveries: lags.len(),
    })
}

/// An administrator's access to `org`, as an API key would have it.
/// Runs the benchmark and prints its figures.
pub async fn run(args: WebhooksBench) -> anyhow::Result<()> {
    let dir = crate::bench::work_dir(args.dir.as_ref(), "parley-bench-webhooks")?;
    println!(
        "parley bench webhooks: {} events per run, SQLite, in-process receiver answering 200",
        args.events
    );
    println!(
        "reference (issue 5): Svix 1.100 on this class of machine ~324 deliveries/s (1 endpoint), ~1,590/s (10), ~2.2 ms CPU per message"
    );
    for &endpoints in &args.endpoints {
        let f = run_one(&args, &dir, endpoints).await?;
        #[allow(clippy::cast_precision_loss)]
        let rate = f.deliveries as f64 / f.seconds;
        let svix = if endpoints == 1 { 324.0 } else { 1590.0 };
        println!(
            "endpoints={endpoints:<3} deliveries={:<8} {:.1} s  {:>8.0} deliveries/s ({:.1}x Svix)  CPU {:.3} ms/delivery  lost={} duplicated={}  lag p50={:.1} ms p99={:.1} ms over {} paced deliveries",
            f.deliveries,
            f.seconds,
            rate,
            rate / svix,
            f.cpu_ms_per_delivery,
            f.lost,
            f.duplicated,
            f.lag_p50.as_secs_f64() * 1000.0,
            f.lag_p99.as_secs_f64() * 1000.0,
            f.lag_deliveries,
        );
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
