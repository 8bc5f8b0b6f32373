//! `parley bench flow`: the engine benchmark of issue 4, as a command.
//!
//! The example flows and their dialogue scripts are compiled in. Each script is run once to
//! record the inputs its dialogues give the engine; then those dialogues are replayed on
//! one thread for `--seconds`, from a fresh state each time, counting engine steps. A
//! second pass stores the state as JSON and reads it back between inputs, as a runtime
//! that persists conversations does. It prints steps/s and inputs/s for both, and the
//! largest serialised state seen (goals: ≥ 1,000,000 steps/s on one core; ≤ 2 KiB of state).

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use chrono::NaiveDate;
use clap::Args;
use parley_flow::{DialogueReport, Flow, FlowDocument, State, run_script, step, validate};

/// Options of `parley bench flow`.
#[derive(Debug, Args)]
pub struct FlowBench {
    /// Seconds to replay for, per pass.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}

const EXAMPLES: [(&str, &str, &str); 3] = [
    (
        "arrears_reminder",
        include_str!("../../../../examples/flows/arrears_reminder.json"),
        include_str!("../../../../examples/flows/arrears_reminder.test"),
    ),
    (
        "inbound_triage",
        include_str!("../../../../examples/flows/inbound_triage.yaml"),
        include_str!("../../../../examples/flows/inbound_triage.test"),
    ),
    (
        "promise_to_pay",
        include_str!("../../../../examples/flows/promise_to_pay.json"),
        include_str!("../../../../examples/flows/promise_to_pay.test"),
    ),
];

struct Pass {
    steps: u64,
    inputs: u64,
    elapsed: Duration,
}

fn replay(
    workload: &[(&Flow, DialogueReport)],
    seconds: f64,
    persist: bool,
) -> anyhow::Result<Pass> {
    let budget = Duration::from_secs_f64(seconds);
    let mut pass = Pass {
        steps: 0,
        inputs: 0,
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    while started.elapsed() < budget {
        for (flow, dialogue) in workload {
            let ctx = dialogue.settings.context(&dialogue.contact);
            let mut state = State::default();
            for input in &dialogue.inputs {
                if persist {
                    let stored = serde_json::to_vec(&state)?;
                    state = serde_json::from_slice(&stored)?;
                }
                let outcome = step(flow, &ctx, state, input.clone());
                pass.steps += u64::from(outcome.steps_run);
                pass.inputs += 1;
                state = std::hint::black_box(outcome).state;
            }
        }
    }
    pass.elapsed = started.elapsed();
    Ok(pass)
}

/// Runs the benchmark and prints its figures.
pub fn run(args: &FlowBench) -> anyhow::Result<()> {
    let mut flows = Vec::new();
    for (name, flow_text, _) in EXAMPLES {
        let doc = FlowDocument::parse(flow_text).map_err(|e| anyhow!("{name}: {e}"))?;
        let flow = validate(&doc, None)
            .into_publishable()
            .with_context(|| format!("{name} does not validate"))?;
        flows.push(flow);
    }
    let defaults = parley_flow::Settings::new(NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?);
    let mut workload = Vec::new();
    let mut max_state = 0;
    for ((name, _, script), flow) in EXAMPLES.iter().zip(&flows) {
        let reports =
            run_script(flow, script, &defaults).map_err(|e| anyhow!("{name}.test: {e}"))?;
        for r in reports {
            max_state = max_state.max(r.max_state_bytes);
            workload.push((flow, r));
        }
    }
    let per_round: u64 = workload.iter().map(|(_, d)| d.inputs.len() as u64).sum();
    println!(
        "workload: {} dialogues over {} example flows, {per_round} inputs per round",
        workload.len(),
        flows.len()
    );
    replay(&workload, 0.2, false)?; // warm caches and the allocator
    for (label, persist) in [
        ("engine only", false),
        ("state stored as JSON between inputs", true),
    ] {
        let pass = replay(&workload, args.seconds, persist)?;
        let secs = pass.elapsed.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let (steps_per_s, inputs_per_s) = (pass.steps as f64 / secs, pass.inputs as f64 / secs);
        println!(
            "{label}: {:>12.0} steps/s  {:>12.0} inputs/s  ({} steps in {secs:.2} s, one thread)",
            steps_per_s, inputs_per_s, pass.steps
        );
        if !persist {
            let verdict = if cfg!(debug_assertions) {
                "not judged (a debug build; measure with --release)"
            } else if steps_per_s >= 1_000_000.0 {
                "met"
            } else {
                "NOT met"
            };
            println!("goal ≥ 1,000,000 steps/s on one core: {verdict}");
        }
    }
    let verdict = if max_state <= 2048 { "met" } else { "NOT met" };
    println!("largest serialised state: {max_state} bytes (goal ≤ 2048: {verdict})");
    Ok(())
}
