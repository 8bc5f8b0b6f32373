//! `parley bench desk`: the agent desk at scale. A fresh SQLite store gets `--conversations`
//! contacts (the import benchmark's file, through the real import), one conversation each
//! on a simulator channel and `--messages` messages each, one conversation holding 500;
//! a fifth of them wait in a queue, a fifth are assigned to the person measuring, a fifth
//! are closed and the rest are with the bot. The conversations and messages are written
//! by the sqlite3 shell in one statement per table (the desk reads what is stored; how it
//! came does not change that), so a million messages take seconds.
//!
//! Then, through the HTTP router `parley serve` runs (in process, signed in with a
//! browser session, so every page goes through the session, permission and rendering
//! code), it times each page `--rounds` times and prints the median and p95: the first
//! page of every view the person has, a search by an exact phone number, a search by
//! part of a name (a pass over the contacts; no goal), and opening the conversation with
//! 500 messages. It also prints what a cold load of the desk transfers
//! (the page, stylesheet, module and icon, uncompressed). Goals (issue 25): each view and
//! the search ≤ 50 ms p95 with 100,000 conversations and 1,000,000 messages; the long
//! conversation ≤ 80 ms p95; a cold load ≤ 150 KB.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use parley_app::channels::NewChannel;
use parley_domain::Role;

/// Options of `parley bench desk`.
#[derive(Debug, Args)]
pub struct DeskBench {
    /// Conversations (one per imported contact).
    #[arg(long, default_value_t = 100_000)]
    pub conversations: u64,
    /// Messages in each conversation (the long one has 500).
    #[arg(long, default_value_t = 10)]
    pub messages: u64,
    /// Times each page is read.
    #[arg(long, default_value_t = 30)]
    pub rounds: usize,
    /// The sqlite3 shell that writes the conversations.
    #[arg(long, default_value = "sqlite3")]
    pub sqlite3: String,
    /// Working directory (a fresh temporary one by default; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Measure the live goal instead: `parley serve`'s router on a local port, a person
    /// watching one conversation in headless chromium while customers write `--rate`
    /// messages a second over `--live-conversations` conversations for `--seconds`.
    #[arg(long)]
    pub live: bool,
    /// Inbound messages a second (with `--live`).
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
    /// Conversations the messages are spread over (with `--live`).
    #[arg(long, default_value_t = 20)]
    pub live_conversations: u32,
    /// How long customers write (with `--live`).
    #[arg(long, default_value_t = 20)]
    pub seconds: u32,
}

const EMAIL: &str = "desk@example.test";
const PASSWORD: &str = "desk benchmark password";
/// Messages in the long conversation.
const LONG: u64 = 500;

/// Runs the benchmark and prints its figures.
pub async fn run(args: DeskBench) -> anyhow::Result<()> {
    if args.live {
        return live(args).await;
    }
    let dir = crate::bench::work_dir(args.dir.as_ref(), "parley-bench-desk")?;
    let n = args.conversations.max(10);
    let (app, _store, org) =
        crate::bench::fresh_store(&dir, "desk.db", parley_app::Settings::default()).await?;
    let file = dir.join("contacts.csv");
    crate::bench::write_csv(&file, n)?;
    let started = Instant::now();
    crate::import_cmd::import_file(&app, org, &file, crate::bench::options(), false).await?;
    let imported = started.elapsed();
    let access = crate::bench::admin_access(&app, org).await?;
    let (channel, person) = channel_and_person(&app, &access).await?;

    let base = app.clock.now().timestamp_millis() - 86_400_000;
    let m = args.messages.max(1);
    let script = format!(
        "BEGIN;
INSERT INTO conversations (id, organization_id, contact_id, channel_id, direction, state,
  queue, assignee, flow_state, revision, last_inbound_at, opened_at, closed_at, updated_at)
SELECT printf('conv_%026d', ct.seq), '{org}', ct.id, '{channel}', 'inbound',
  CASE ct.seq % 5 WHEN 0 THEN 'queued' WHEN 1 THEN 'assigned' WHEN 2 THEN 'closed' ELSE 'bot' END,
  CASE WHEN ct.seq % 5 IN (0, 1, 2) THEN 'collections' END,
  CASE WHEN ct.seq % 5 = 1 THEN '{person}' END,
  '{{}}', 1, {base} + ct.seq * 100, {base} + ct.seq * 100,
  CASE WHEN ct.seq % 5 = 2 THEN {base} + ct.seq * 100 + 50 END, {base} + ct.seq * 100
FROM contacts ct JOIN organizations o ON o.seq = ct.organization_seq WHERE o.id = '{org}';
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < {m})
INSERT INTO messages (id, organization_id, conversation_id, channel_id, direction, sender,
  body, status, segments, encoding, status_times, created_at, updated_at)
SELECT printf('msg_%016d%010d', ct.seq, k.j), '{org}', printf('conv_%026d', ct.seq), '{channel}',
  CASE k.j % 2 WHEN 1 THEN 'inbound' ELSE 'outbound' END,
  CASE k.j % 2 WHEN 1 THEN 'customer' ELSE 'bot' END,
  printf('Message %d about account %d: can I pay the balance on Friday, or next week?', k.j, ct.seq),
  CASE k.j % 2 WHEN 1 THEN 'received' ELSE 'delivered' END, 1,
  CASE k.j % 2 WHEN 1 THEN NULL ELSE 'gsm7' END, '{{}}',
  {base} + ct.seq * 100 + k.j, {base} + ct.seq * 100 + k.j
FROM contacts ct JOIN organizations o ON o.seq = ct.organization_seq, k WHERE o.id = '{org}';
WITH RECURSIVE k(j) AS (SELECT {first} UNION ALL SELECT j + 1 FROM k WHERE j < {LONG})
INSERT INTO messages (id, organization_id, conversation_id, channel_id, direction, sender,
  body, status, segments, encoding, status_times, created_at, updated_at)
SELECT printf('msg_%016d%010d', s.seq, k.j), '{org}', printf('conv_%026d', s.seq), '{channel}',
  CASE k.j % 2 WHEN 1 THEN 'inbound' ELSE 'outbound' END,
  CASE k.j % 2 WHEN 1 THEN 'customer' ELSE 'bot' END,
  printf('Message %d of the long conversation.', k.j),
  CASE k.j % 2 WHEN 1 THEN 'received' ELSE 'delivered' END, 1, NULL, '{{}}',
  {base} + s.seq * 100 + k.j, {base} + s.seq * 100 + k.j
FROM (SELECT MAX(ct.seq) AS seq FROM contacts ct) s, k;
COMMIT;
SELECT (SELECT COUNT(*) FROM conversations) || ' ' || (SELECT COUNT(*) FROM messages);
SELECT printf('conv_%026d', MAX(seq)) FROM contacts;
SELECT a.address FROM contact_addresses a ORDER BY a.contact_seq LIMIT 1 OFFSET {middle};
SELECT json_extract(fields, '$.last_name') FROM contacts ORDER BY seq LIMIT 1 OFFSET {middle};
",
        first = m + 1,
        middle = n / 2,
    );
    let (out, wrote) = crate::bench::sqlite3_script(&args.sqlite3, &dir.join("desk.db"), &script)?;
    let mut lines = out.lines();
    let counts = lines
        .next()
        .context("sqlite3 printed no counts")?
        .to_owned();
    let long = lines.next().context("no long conversation")?.to_owned();
    let address = lines.next().context("no address to search")?.to_owned();
    let name = lines.next().context("no name to search")?.to_owned();
    println!(
        "parley bench desk: {n} contacts imported in {:.1} s; conversations and messages \
         ({counts}) written by sqlite3 in {:.1} s",
        imported.as_secs_f64(),
        wrote.as_secs_f64()
    );

    let signed = crate::bench::serve::SignedIn::new(&app, EMAIL, PASSWORD).await?;
    let get = |path: String| {
        let signed = &signed;
        async move { signed.get(&path).await }
    };

    let desk = format!("/app/{org}/conversations");
    let mut pages: Vec<(String, String)> =
        ["mine", "unassigned", "all", "queue:collections", "closed"]
            .iter()
            .map(|v| (format!("view {v}"), format!("{desk}?view={v}")))
            .collect();
    pages.push((
        format!("search {address}"),
        format!("{desk}?view=mine&q={}", address.replace('+', "%2B")),
    ));
    pages.push((
        format!("search name {name}"),
        format!("{desk}?view=mine&q={}", name.replace(' ', "+")),
    ));
    pages.push((
        format!("open {LONG} messages"),
        format!("{desk}/{long}?view=all"),
    ));
    println!("{:<28} {:>9} {:>9} {:>9}", "page", "median", "p95", "bytes");
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(args.rounds);
        let mut size = 0;
        for _ in 0..args.rounds.max(1) {
            let started = Instant::now();
            size = get(path.clone()).await?.len();
            times.push(started.elapsed());
        }
        times.sort_unstable();
        println!(
            "{name:<28} {:>6.1} ms {:>6.1} ms {size:>9}",
            ms(crate::bench::percentile(&times, 0.5)),
            ms(crate::bench::percentile(&times, 0.95)),
        );
    }
    // A cold load: the page, then what it links (stylesheet, module, icon).
    let page = get(format!("{desk}?view=unassigned")).await?;
    let text = String::from_utf8_lossy(&page);
    let mut total = page.len();
    for asset in text
        .split("\"/app/assets/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        total += get(format!("/app/assets/{asset}")).await?.len();
    }
    println!(
        "cold load of the desk: {:.1} KB (page {:.1} KB and its assets, uncompressed; goal 150 KB)",
        kb(total),
        kb(page.len())
    );
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The simulator channel the customers write on and the person who reads the desk (a
/// supervisor, `EMAIL` with `PASSWORD`), as an administrator makes them.
async fn channel_and_person(
    app: &parley_app::App,
    access: &parley_app::auth::Access,
) -> anyhow::Result<(parley_domain::ChannelId, parley_domain::UserId)> {
    let channel = app
        .create_channel(
            access,
            NewChannel {
                provider: "sim".into(),
                name: "Collections".into(),
                sender: "bench".into(),
                rate_per_second: Some(parley_app::channels::MAX_RATE_PER_SECOND),
                ..NewChannel::default()
            },
        )
        .await?
        .channel
        .id;
    let person =
        crate::bench::serve::person(app, access, EMAIL, PASSWORD, Role::Supervisor).await?;
    Ok((channel, person))
}

/// The browser script of `--live`, beside the desk's browser tests (their chromium and
/// playwright-core).
const LIVE_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../parley-http/tests/browser/bench_desk_live.mjs"
);

/// `--live`: the latency from an inbound message accepted by the sim channel's API to its
/// text in the open thread of a watching browser.
async fn live(args: DeskBench) -> anyhow::Result<()> {
    let dir = crate::bench::work_dir(args.dir.as_ref(), "parley-bench-desk-live")?;
    let (app, _store, org) =
        crate::bench::fresh_store(&dir, "live.db", parley_app::Settings::default()).await?;
    let key = app.admin_create_api_key(org, "bench", Role::Admin).await?;
    let token = app.issue_token(key.key.id, &key.secret).await?.token;
    let access = app
        .access(app.authenticate_bearer(&token).await?, None)
        .await?;
    let (channel, _) = channel_and_person(&app, &access).await?;
    let served = crate::bench::serve::Served::start(&app).await?;
    let base = served.base.clone();
    println!(
        "parley bench desk --live: {} inbound messages a second over {} conversations for {} s, \
         one conversation open in headless chromium",
        args.rate, args.live_conversations, args.seconds
    );
    let summary = crate::bench::serve::browser_script(
        LIVE_SCRIPT,
        vec![
            ("BASE", base.clone()),
            ("TOKEN", token.clone()),
            ("CHANNEL", channel.to_string()),
            ("EMAIL", EMAIL.to_owned()),
            ("PASSWORD", PASSWORD.to_owned()),
            ("RATE", args.rate.to_string()),
            ("SECONDS", args.seconds.to_string()),
            ("CONVERSATIONS", args.live_conversations.to_string()),
        ],
    )
    .await;
    served.stop().await;
    let summary = summary?;
    let mut latencies: Vec<Duration> = summary["latencies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(serde_json::Value::as_u64)
                .map(Duration::from_millis)
                .collect()
        })
        .unwrap_or_default();
    latencies.sort_unstable();
    println!(
        "sent {} messages ({} failed); {} to the open conversation, {} of them never shown",
        summary["sent"], summary["failedRequests"], summary["watched"], summary["missing"]
    );
    println!(
        "inbound accepted to text in the open thread: median {:.0} ms, p95 {:.0} ms, max {:.0} ms (goal p95 <= 250 ms)",
        ms(crate::bench::percentile(&latencies, 0.5)),
        ms(crate::bench::percentile(&latencies, 0.95)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    if summary["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        println!("page errors: {}", summary["errors"]);
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[allow(clippy::cast_precision_loss)]
fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}
