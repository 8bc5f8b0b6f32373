//! `parley bench flow-editor`: the flow editor's goal (issue 26). A flow of `--steps`
//! steps (asks, branches with two rules, fetches, messages, each leading on and some back)
//! is made in a fresh SQLite store; then, through the router `parley serve` runs and a
//! signed-in session, its document is sent `--rounds` times to the editor's check (what
//! the page asks for as the person types): validation against the organization's fields,
//! queues and statuses, the layout, and the drawing and findings rendered as HTML. It
//! prints the median and p95 (goal: p95 ≤ 100 ms for 200 steps).

use std::time::Instant;

use anyhow::ensure;
use clap::Args;
use parley_domain::Role;
use serde_json::{Map, Value, json};

/// Options of `parley bench flow-editor`.
#[derive(Debug, Args)]
pub struct FlowEditorBench {
    /// Steps of the flow.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Checks timed.
    #[arg(long, default_value_t = 100)]
    pub rounds: usize,
}

const EMAIL: &str = "editor@example.test";
const PASSWORD: &str = "flow editor benchmark password";

/// A flow of `n` steps in groups of four: ask → branch (two rules, one back to the ask)
/// → fetch (its failure to a queue step) → message → the next group; the last closes.
fn document(n: usize) -> Value {
    let mut steps = Map::new();
    let name = |i: usize| {
        if i >= n {
            "end".to_owned()
        } else {
            format!("s{i}")
        }
    };
    for i in 0..n {
        let step = match i % 4 {
            0 => {
                json!({"type": "ask", "text": format!("Question {i} for <<first_name>>?"), "save_as": format!("a{i}"),
                        "expect": "yes_no", "timeout": "24h", "on_timeout": "agent", "next": name(i + 1)})
            }
            1 => json!({"type": "branch", "rules": [
                            {"when": format!("<<a{}>> == \"yes\"", i - 1), "next": name(i + 1)},
                            {"when": format!("<<a{}>> == \"no\" and <<balance>> > 100", i - 1), "next": name(i - 1)}],
                        "otherwise": name(i + 1)}),
            2 => {
                json!({"type": "fetch", "fields": ["balance"], "next": name(i + 1), "on_failure": "agent"})
            }
            _ => {
                json!({"type": "message", "text": format!("Thanks <<first_name>>, your balance is <<balance>> ({i})."), "next": name(i + 1)})
            }
        };
        steps.insert(name(i), step);
    }
    steps.insert(
        "agent".to_owned(),
        json!({"type": "queue", "queue": "collections", "text": "A colleague will help."}),
    );
    steps.insert(
        "end".to_owned(),
        json!({"type": "close", "status": "done", "text": "Goodbye."}),
    );
    json!({"schema": 1, "name": format!("{n} steps"), "start": "s0", "steps": steps})
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: FlowEditorBench) -> anyhow::Result<()> {
    let dir = crate::bench::work_dir(None, "parley-bench-flow-editor")?;
    let (app, store, org) =
        crate::bench::fresh_store(&dir, "editor.db", parley_app::Settings::default()).await?;
    let access = crate::bench::admin_access(&app, org).await?;
    let text = serde_json::to_string_pretty(&document(args.steps))?;
    crate::bench::define_flow_names(&app, &access, &text).await?;
    let flow = app.create_flow(&access, &text).await?;
    ensure!(
        flow.check.publishable,
        "the benchmark flow has findings: {:?}",
        flow.check.diagnostics
    );
    crate::bench::serve::person(&app, &access, EMAIL, PASSWORD, Role::Supervisor).await?;
    let signed = crate::bench::serve::SignedIn::new(&app, EMAIL, PASSWORD).await?;
    let editor = format!("/app/{org}/flows/{}", flow.flow.id);
    let page = signed.get(&editor).await?;
    let page = String::from_utf8_lossy(&page);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let check = format!("{editor}/check");
    let mut times = Vec::with_capacity(args.rounds);
    let mut size = 0;
    for _ in 0..args.rounds.max(1) {
        let started = Instant::now();
        let answer = signed
            .post(&check, &[("csrf", &csrf), ("document", &text)])
            .await?;
        times.push(started.elapsed());
        size = answer.len();
        ensure!(
            String::from_utf8_lossy(&answer).contains("No findings"),
            "the check did not draw and pass the flow"
        );
    }
    times.sort_unstable();
    println!(
        "parley bench flow-editor: a {}-step flow ({} KB of JSON) checked and drawn {} times through the editor's /check",
        args.steps,
        text.len() / 1024,
        times.len()
    );
    println!(
        "  validate + lay out + render: median {:.1} ms, p95 {:.1} ms (goal p95 <= 100 ms); answer {} KB",
        crate::bench::percentile(&times, 0.5).as_secs_f64() * 1000.0,
        crate::bench::percentile(&times, 0.95).as_secs_f64() * 1000.0,
        size / 1024
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
