//! `parley bench campaign`: a campaign from an imported file, on a fresh SQLite store,
//! through the whole path `parley serve` runs: the dispatcher writes the audience,
//! decides each recipient's window and sends each first message as one turn; the
//! in-process sender hands it to the channel. On the `sim` channel the simulator records
//! and reports each message; with `--channel twilio` the messages go over loopback HTTP
//! to the Twilio stand-in (`parley dev stand-in twilio`, a process of its own), whose
//! signed status callbacks come back to Parley's own HTTP server.
//!
//! It prints the time to import the file (not counted), the time until every recipient
//! had its first message written (first messages a second), the time until the provider
//! had them all, and Parley's peak RSS from the campaign's start (`VmHWM`). The window is
//! the whole day, so the clock does not decide the figures.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use parley_app::campaigns::{AudienceInput, Move, NewCampaign, WindowInput};
use parley_app::channels::NewChannel;
use parley_app::imports::RunOutcome;
use parley_app::{App, Settings};
use parley_domain::CampaignStatus;
use tokio_util::sync::CancellationToken;

/// The flow every recipient starts: a personalised question.
const FLOW: &str = r#"{"schema": 1, "name": "December arrears", "start": "ask", "steps": {
  "ask": {"type": "ask", "text": "Hello <<first_name>>, your balance is <<balance>>. Can you pay it this week? Reply YES or NO.",
          "save_as": "answer", "next": "bye"},
  "bye": {"type": "close", "status": "done", "text": "Thank you."}}}"#;

/// Which channel the campaign sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchChannel {
    /// The built-in simulator.
    Sim,
    /// The Twilio stand-in over loopback HTTP.
    Twilio,
}

/// Options of `parley bench campaign`.
#[derive(Debug, Args)]
pub struct CampaignBench {
    /// Recipients (rows of the generated file).
    #[arg(long, default_value_t = 100_000)]
    pub recipients: u64,
    /// The channel.
    #[arg(long, value_enum, default_value = "sim")]
    pub channel: BenchChannel,
    /// The campaign's rate, first messages a second.
    #[arg(long, default_value_t = parley_app::campaigns::MAX_RATE_PER_SECOND)]
    pub rate: u32,
    /// Working directory (a fresh temporary one by default; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// A person in headless chromium presses Start on the campaign's page and watches its
    /// counters; prints how far the screen is behind the store (needs node and the
    /// browser tests' packages).
    #[arg(long)]
    pub page: bool,
}

const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "bench-auth-token";

/// The Twilio stand-in, in a process of its own (`parley dev stand-in twilio`), so the
/// peak RSS is Parley's alone; killed when dropped.
struct TwilioProcess {
    child: std::process::Child,
    base_url: String,
}

impl Drop for TwilioProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TwilioProcess {
    fn start() -> anyhow::Result<Self> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args([
                "dev",
                "stand-in",
                "twilio",
                "--account-sid",
                SID,
                "--auth-token",
                TOKEN,
                "--report-delay-ms",
                "50",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting the Twilio stand-in")?;
        let stdout = child.stdout.take().context("the stand-in's output")?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base_url = loop {
            let line = lines
                .next()
                .context("the stand-in ended before saying where it listens")??;
            if let Some(url) = line.strip_prefix("Twilio stand-in on ") {
                break url.trim().to_owned();
            }
        };
        // The stand-in goes on printing: its output is read to the end, so a closed pipe
        // never stops it.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, base_url })
    }

    /// Messages the stand-in accepted (one plain HTTP/1.1 GET on loopback).
    async fn sent(&self) -> anyhow::Result<u64> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self
            .base_url
            .strip_prefix("http://")
            .context("the stand-in's URL")?;
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(
                format!(
                    "GET /_standin/ledger HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        let text = String::from_utf8_lossy(&answer);
        let body = text
            .split("\r\n\r\n")
            .nth(1)
            .context("the stand-in's answer")?;
        let ledger: serde_json::Value = serde_json::from_str(body)?;
        ledger["sent"].as_u64().context("the stand-in's ledger")
    }
}

/// Serves Parley's HTTP API on a loopback port (for the provider's callbacks); its URL.
async fn serve(app: &App) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = parley_http::service(parley_http::AppState {
        app: app.clone(),
        metrics: None,
        secure_cookies: false,
        trusted_proxies: Vec::new().into(),
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{address}"))
}

async fn channel(
    app: &App,
    access: &parley_app::auth::Access,
    which: BenchChannel,
    standin: Option<&TwilioProcess>,
) -> anyhow::Result<parley_domain::ChannelId> {
    let mut settings = serde_json::Map::new();
    let mut credentials = serde_json::Map::new();
    let (provider, sender) = match (which, standin) {
        (BenchChannel::Twilio, Some(s)) => {
            settings.insert("account_sid".into(), SID.into());
            settings.insert("base_url".into(), s.base_url.clone().into());
            credentials.insert("auth_token".into(), TOKEN.into());
            ("twilio", "+447700900001")
        }
        _ => {
            settings.insert("delivery_delay_ms".into(), 0.into());
            ("sim", "bench")
        }
    };
    Ok(app
        .create_channel(
            access,
            NewChannel {
                provider: provider.into(),
                name: "Campaign benchmark".into(),
                sender: sender.into(),
                rate_per_second: Some(parley_app::channels::MAX_RATE_PER_SECOND),
                settings,
                credentials,
                ..NewChannel::default()
            },
        )
        .await?
        .channel
        .id)
}

/// Messages the provider has: the stand-in's ledger, or the simulator's sends (each
/// send's job is done when the message is handed over).
async fn at_provider(
    store: &dyn parley_store::Store,
    standin: Option<&TwilioProcess>,
) -> anyhow::Result<u64> {
    if let Some(s) = standin {
        return s.sent().await;
    }
    Ok(store
        .job_stats()
        .await?
        .iter()
        .filter(|q| q.queue == "sends")
        .map(|q| q.done)
        .sum::<u64>())
}

#[allow(clippy::cast_precision_loss)]
fn per_second(n: u64, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(1e-9)
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: CampaignBench) -> anyhow::Result<()> {
    let dir = crate::bench::work_dir(args.dir.as_ref(), "parley-bench-campaign")?;
    let n = args.recipients;
    println!(
        "parley bench campaign: {n} recipients from an imported file on the {:?} channel, rate {}/s, SQLite",
        args.channel, args.rate
    );
    let standin = match args.channel {
        BenchChannel::Twilio => Some(TwilioProcess::start()?),
        BenchChannel::Sim => None,
    };
    // The Twilio stand-in listens on loopback, which the SSRF guard refuses by default.
    let settings = Settings {
        allow_private_targets: true,
        ..Settings::default()
    };
    let (app, store, org) = crate::bench::fresh_store(&dir, "campaign.db", settings).await?;
    let url = serve(&app).await?;
    let mut app = app;
    app.settings.public_url = url;
    let file = dir.join("contacts.csv");
    crate::bench::write_csv(&file, n)?;
    let started = Instant::now();
    let (finished, outcome) =
        crate::import_cmd::import_file(&app, org, &file, crate::bench::options(), false).await?;
    if let RunOutcome::Failed(message) = outcome {
        bail!("the file failed to import: {message}");
    }
    println!(
        "  import: {} rows in {:.1} s (not counted)",
        finished.record.counters.rows_imported,
        started.elapsed().as_secs_f64()
    );
    let access = crate::bench::admin_access(&app, org).await?;
    crate::bench::define_flow_names(&app, &access, FLOW).await?;
    let flow = app.create_flow(&access, FLOW).await?.flow.id;
    app.publish_flow(&access, flow).await?;
    let channel = channel(&app, &access, args.channel, standin.as_ref()).await?;
    let campaign = app
        .create_campaign(
            &access,
            NewCampaign {
                name: "Benchmark".into(),
                audience: AudienceInput::Import(finished.record.id),
                flow_id: flow,
                flow_version: None,
                channel_id: channel,
                start_at: None,
                end_at: None,
                window: WindowInput {
                    days: None,
                    opens: Some("00:00".into()),
                    closes: Some("24:00".into()),
                },
                rate_per_second: Some(args.rate),
            },
        )
        .await?
        .campaign
        .id;

    let cancel = CancellationToken::new();
    let runner = app.job_runner(8, Duration::from_secs(30));
    let workers = tokio::spawn(runner.start(cancel.clone()));
    let sends = app.start_sends(cancel.clone());
    let dispatcher = app.start_campaigns(cancel.clone());
    crate::bench::reset_peak_rss();
    let watch = if args.page {
        let watch = crate::bench::campaign_page::PageWatch::start(
            &app,
            store.clone(),
            &access,
            &app.settings.public_url,
            org,
            campaign,
        )
        .await?;
        // The person presses Start: the figures count from the campaign's first move.
        while app.get_campaign(&access, campaign).await?.campaign.status == CampaignStatus::Draft {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Some(watch)
    } else {
        app.move_campaign(&access, campaign, Move::Start).await?;
        None
    };
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(1800);
    let written = loop {
        let c = store
            .get_campaign(org, campaign)
            .await?
            .context("the campaign vanished")?;
        if c.status == CampaignStatus::Completed {
            break started.elapsed();
        }
        if Instant::now() > deadline {
            bail!("the campaign did not complete in 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let delivered = loop {
        if at_provider(&*store, standin.as_ref()).await? >= n {
            break started.elapsed();
        }
        if Instant::now() > deadline {
            bail!("the provider did not get every message in 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let peak = crate::bench::status_mb("VmHWM:").unwrap_or(0.0);
    let counts = store.campaign_counts(org, campaign).await?;
    let watched = match watch {
        Some(w) => w.report().await,
        None => Ok(()),
    };
    cancel.cancel();
    let _ = dispatcher.await;
    let _ = sends.await;
    let _ = workers.await;
    store.close().await;
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "  first messages written: {} in {:.2} s = {:.0}/s",
        counts.sent,
        written.as_secs_f64(),
        per_second(counts.sent, written)
    );
    println!(
        "  at the provider: {n} in {:.2} s = {:.0}/s",
        delivered.as_secs_f64(),
        per_second(n, delivered)
    );
    println!("  peak RSS from the campaign's start: {peak:.0} MB");
    if counts.sent != n {
        bail!("{} of {n} recipients were sent to: {counts:?}", counts.sent);
    }
    watched
}
