//! `parley bench conversations`: simulated customers on the `sim` channel, each running
//! the arrears example flow (`examples/flows/arrears_reminder.json`) to its end on a fresh
//! SQLite store: the whole runtime path (routing, keywords, the flow engine, one turn
//! per message, the send queue, the simulator's delivery reports, the flow's fetch
//! through the custom value endpoint).
//!
//! The contacts are imported first (the import benchmark's generated file), so each
//! customer can pass identification with their own date of birth and postcode. Customers
//! write `hi`, their date of birth, their postcode, wait for the balance (the fetch runs
//! as a job against an in-process endpoint), then `PAY`; `--concurrency` of them at once.
//! Reply latency is from handing the message to the runtime to the turn holding the
//! bot's reply committed (the reply is then `pending` in the send queue); the drain time
//! is until every reply has been sent and reported delivered.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use clap::Args;
use parley_app::channels::NewChannel;
use parley_app::imports::RunOutcome;
use parley_app::webhooks::custom_values::PutCustomValueEndpoint;
use parley_app::{App, Settings};
use parley_domain::{ChannelId, ConversationId, ConversationState};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The flow every customer runs.
const ARREARS_FLOW: &str = include_str!("../../../../examples/flows/arrears_reminder.json");

/// Options of `parley bench conversations`.
#[derive(Debug, Args)]
pub struct ConversationsBench {
    /// Simulated customers, each running the flow to its end.
    #[arg(long, default_value_t = 1000)]
    pub customers: u64,
    /// Customers writing at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Messages a second all customers together may write (0: as fast as replies come).
    /// With a rate, customers still wait for each reply, but the messages are spread
    /// evenly at this pace, so the latency is measured at a known load rather than at
    /// whatever rate saturation gives.
    #[arg(long, default_value_t = 0)]
    pub rate: u32,
    /// Job workers on the `sends` and `conversations` queues (the configured defaults
    /// when not given).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Working directory (a fresh temporary one by default; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Starts the custom value endpoint on a runtime of its own: every GET gets a balance.
fn start_endpoint() -> anyhow::Result<(String, crate::bench::Background)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("endpoint")
        .enable_all()
        .build()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let router = axum::Router::new().fallback(|| async {
        axum::Json(serde_json::json!({"balance": "120.50", "next_payment_date": "2026-12-01"}))
    });
    runtime.spawn(async move {
        if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
            let _ = axum::serve(listener, router).await;
        }
    });
    Ok((
        format!("http://{address}/values"),
        crate::bench::Background(Some(runtime)),
    ))
}

/// What one customer's conversation measured.
struct Ran {
    /// Reply latencies of the messages that got a reply in their own turn.
    latencies: Vec<Duration>,
    /// Messages the customer wrote.
    messages: u64,
    /// Whether it ended closed with `payment_link_sent`.
    finished: bool,
}

struct Setup {
    app: App,
    store: Arc<dyn parley_store::Store>,
    access: parley_app::auth::Access,
    channel: ChannelId,
    /// The pace of all messages: the next free slot, and the gap between slots.
    pace: Option<(tokio::sync::Mutex<tokio::time::Instant>, Duration)>,
}

impl Setup {
    /// Waits for the next slot of the pace, when there is one.
    async fn wait_turn(&self) {
        let Some((next, gap)) = &self.pace else {
            return;
        };
        let at = {
            let mut next = next.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + *gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// A customer: their number and the answers that identify them.
struct Customer {
    phone: String,
    dob: String,
    postcode: String,
}

/// Hands one message to the runtime: how long the turn took, its conversation, and
/// whether the bot replied in it.
async fn say(
    s: &Setup,
    phone: &str,
    text: &str,
) -> anyhow::Result<(Duration, ConversationId, bool)> {
    s.wait_turn().await;
    let started = Instant::now();
    let handled = s
        .app
        .sim_inbound(&s.access, s.channel, phone, text)
        .await?
        .context("a simulated message was taken for a repeat")?;
    let replied = handled
        .messages
        .iter()
        .any(|m| m.direction == parley_domain::Direction::Outbound);
    Ok((started.elapsed(), handled.conversation.id, replied))
}

async fn customer(s: Arc<Setup>, c: Customer) -> anyhow::Result<Ran> {
    let mut ran = Ran {
        latencies: Vec::with_capacity(4),
        messages: 0,
        finished: false,
    };
    let mut conversation = None;
    for text in ["hi", c.dob.as_str(), c.postcode.as_str()] {
        let (took, id, replied) = say(&s, &c.phone, text).await?;
        conversation = Some(id);
        ran.messages += 1;
        if replied {
            ran.latencies.push(took);
        }
    }
    let id = conversation.context("no conversation")?;
    let org = s.access.org_id();
    // The postcode passed identification: the balance arrives after the fetch.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let conv = s
            .store
            .get_conversation(org, id)
            .await?
            .context("the conversation vanished")?;
        if conv.flow_state.contains("\"at\":\"offer\"") || conv.state != ConversationState::Bot {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "{}: no balance within 60 s",
            c.phone
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (took, _, replied) = say(&s, &c.phone, "PAY").await?;
    ran.messages += 1;
    if replied {
        ran.latencies.push(took);
    }
    let conv = s.store.get_conversation(org, id).await?;
    ran.finished = conv.is_some_and(|c| {
        c.state == ConversationState::Closed && c.status.as_deref() == Some("payment_link_sent")
    });
    Ok(ran)
}

/// Sends still queued or running (the flow's reply timers stay pending: they fall due
/// hours later and are then ignored, the conversations being closed).
async fn sends_left(store: &dyn parley_store::Store) -> anyhow::Result<u64> {
    Ok(store
        .job_stats()
        .await?
        .iter()
        .filter(|q| q.queue == "sends")
        .map(|q| q.pending + q.running)
        .sum())
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: ConversationsBench) -> anyhow::Result<()> {
    let dir = crate::bench::work_dir(args.dir.as_ref(), "parley-bench-conversations")?;
    let pace = if args.rate > 0 {
        format!(", messages paced at {}/s", args.rate)
    } else {
        String::new()
    };
    println!(
        "parley bench conversations: {} customers on the sim channel running the arrears flow, {} at once{pace}, SQLite",
        args.customers, args.concurrency
    );
    let settings = Settings {
        allow_private_targets: true,
        ..Settings::default()
    };
    let (app, store, org) = crate::bench::fresh_store(&dir, "conversations.db", settings).await?;
    let file = dir.join("contacts.csv");
    crate::bench::write_csv(&file, args.customers)?;
    let (_, outcome) =
        crate::import_cmd::import_file(&app, org, &file, crate::bench::options(), false).await?;
    if let RunOutcome::Failed(message) = outcome {
        bail!("the customers failed to import: {message}");
    }
    let access = crate::bench::admin_access(&app, org).await?;
    let (url, endpoint_runtime) = start_endpoint()?;
    app.put_custom_value_endpoint(
        &access,
        PutCustomValueEndpoint {
            url,
            ..PutCustomValueEndpoint::default()
        },
    )
    .await?;
    crate::bench::define_flow_names(&app, &access, ARREARS_FLOW).await?;
    let flow = app.create_flow(&access, ARREARS_FLOW).await?.flow.id;
    app.publish_flow(&access, flow).await?;
    let mut channel_settings = serde_json::Map::new();
    channel_settings.insert("delivery_delay_ms".into(), 0.into());
    let channel = app
        .create_channel(
            &access,
            NewChannel {
                provider: "sim".into(),
                name: "Benchmark".into(),
                sender: "bench".into(),
                inbound_flow: Some(flow),
                rate_per_second: Some(parley_app::channels::MAX_RATE_PER_SECOND),
                settings: channel_settings,
                ..NewChannel::default()
            },
        )
        .await?
        .channel
        .id;
    let cancel = CancellationToken::new();
    let runner = app.job_runner(args.workers.unwrap_or(8), Duration::from_secs(30));
    let workers = tokio::spawn(runner.start(cancel.clone()));
    let sends = app.start_sends(cancel.clone());

    let mut rng = crate::bench::Rng(42);
    let customers: Vec<Customer> = (0..args.customers)
        .map(|i| {
            let c = crate::bench::contact(&mut rng, i);
            Customer {
                phone: c.phone,
                dob: format!("{:02}/{:02}/{}", c.dob.2, c.dob.1, c.dob.0),
                postcode: c.postcode,
            }
        })
        .collect();
    let setup = Arc::new(Setup {
        app: app.clone(),
        store: store.clone(),
        access,
        channel,
        pace: (args.rate > 0).then(|| {
            (
                tokio::sync::Mutex::new(tokio::time::Instant::now()),
                Duration::from_secs(1) / args.rate,
            )
        }),
    });
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in customers {
        let (s, gate) = (setup.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            customer(s, c).await
        });
    }
    let mut latencies = Vec::new();
    let (mut messages, mut finished) = (0u64, 0u64);
    while let Some(joined) = tasks.join_next().await {
        let ran = joined??;
        latencies.extend(ran.latencies);
        messages += ran.messages;
        finished += u64::from(ran.finished);
    }
    let talking = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(120);
    while sends_left(&*store).await? > 0 {
        if Instant::now() > deadline {
            bail!(
                "the send queue did not drain in 120 s: {:?}",
                store.job_stats().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained = started.elapsed();
    cancel.cancel();
    workers.await?;
    sends.await?;
    drop(endpoint_runtime);

    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    #[allow(clippy::cast_precision_loss)]
    let rate = messages as f64 / talking.as_secs_f64();
    println!(
        "customers finished: {finished} of {} (closed as payment_link_sent)",
        args.customers
    );
    println!(
        "inbound messages: {messages} in {:.2} s = {rate:.0} inbound/s ({} customers writing at once)",
        talking.as_secs_f64(),
        args.concurrency
    );
    println!(
        "inbound-to-reply (turn committed with the bot's reply): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} replies",
        ms(crate::bench::percentile(&latencies, 0.50)),
        ms(crate::bench::percentile(&latencies, 0.90)),
        ms(crate::bench::percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len()
    );
    println!(
        "every reply sent and reported delivered after {:.2} s",
        drained.as_secs_f64()
    );
    println!("goal (issue 6): p99 <= 10 ms while handling >= 2,000 inbound/s on two cores");
    ensure!(
        finished == args.customers,
        "only {finished} of {} customers reached the end of the flow",
        args.customers
    );
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
