//! `parley flow check|test|chat`: reading flow files and scripts and printing what
//! `parley-flow` finds. No flow rule lives here; this is the terminal around the engine.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use clap::Args;
use parley_flow::{
    Effect, FieldMap, Flow, FlowDocument, Input, Phase, Reply, Settings, State, Validation,
    format_duration, run_script, step, validate,
};

/// `parley flow check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The flow document (.json, .yaml or .yml).
    pub file: PathBuf,
    /// The organization's contact fields, comma-separated, to check `<<placeholders>>`
    /// against (not checked when neither this nor --contact is given).
    #[arg(long, value_delimiter = ',', value_name = "FIELD,…")]
    pub fields: Vec<String>,
    /// A contact row (JSON object) whose keys are the organization's fields.
    #[arg(long, value_name = "ROW.json")]
    pub contact: Option<PathBuf>,
    /// The organization's queues, comma-separated: the flow's queues are checked against
    /// them (and `default`) when given, as publishing does.
    #[arg(long, value_delimiter = ',', value_name = "QUEUE,…")]
    pub queues: Vec<String>,
    /// The organization's outcome statuses, comma-separated: the flow's statuses are
    /// checked against them (and `opted_out`) when given, as publishing does.
    #[arg(long, value_delimiter = ',', value_name = "STATUS,…")]
    pub statuses: Vec<String>,
}

/// `parley flow test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The flow document.
    pub file: PathBuf,
    /// Dialogue scripts (format in the README).
    #[arg(required = true)]
    pub scripts: Vec<PathBuf>,
}

/// `parley flow chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The flow document.
    pub file: PathBuf,
    /// The contact row (JSON object).
    #[arg(long, value_name = "ROW.json")]
    pub contact: Option<PathBuf>,
    /// The date the flow sees as today (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// Read dates month first (US).
    #[arg(long)]
    pub mdy: bool,
}

/// Reads and validates a flow file, printing every diagnostic as `FILE: …`.
fn load(path: &Path, fields: Option<&BTreeSet<String>>) -> anyhow::Result<Validation> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc = FlowDocument::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let validation = validate(&doc, fields);
    for d in &validation.diagnostics {
        println!("{}: {d}", path.display());
    }
    Ok(validation)
}

fn runnable(path: &Path, validation: &Validation) -> anyhow::Result<Flow> {
    let errors = validation.errors().count();
    match validation.flow() {
        Some(flow) if errors == 0 => Ok(flow.clone()),
        _ => bail!(
            "{}: {errors} error(s); fix them first (`parley flow check`)",
            path.display()
        ),
    }
}

fn read_contact(path: Option<&Path>) -> anyhow::Result<FieldMap> {
    let Some(path) = path else {
        return Ok(FieldMap::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    FieldMap::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `parley flow check FILE`.
pub fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let mut fields: Option<BTreeSet<String>> = (!args.fields.is_empty())
        .then(|| args.fields.iter().map(|f| f.trim().to_owned()).collect());
    if let Some(contact) = &args.contact {
        let row = read_contact(Some(contact))?;
        fields
            .get_or_insert_with(BTreeSet::new)
            .extend(row.0.into_keys());
    }
    let validation = load(&args.file, fields.as_ref())?;
    let names_given = !args.queues.is_empty() || !args.statuses.is_empty();
    let mut name_errors = 0;
    if names_given {
        let text = std::fs::read_to_string(&args.file)?;
        let doc = FlowDocument::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
        let names = parley_flow::Names {
            queues: args.queues.iter().map(|q| q.trim().to_owned()).collect(),
            statuses: args.statuses.iter().map(|s| s.trim().to_owned()).collect(),
        };
        for d in parley_flow::check_names(&doc, &names) {
            println!("{}: {d}", args.file.display());
            name_errors += 1;
        }
    }
    let errors = validation.errors().count() + name_errors;
    let warnings = validation.diagnostics.len() + name_errors - errors;
    if errors > 0 {
        bail!(
            "{}: {errors} error(s), {warnings} warning(s)",
            args.file.display()
        );
    }
    let steps = validation.flow().map_or(0, Flow::len);
    let note = if fields.is_none() {
        "; placeholders not checked against fields (use --fields or --contact)"
    } else {
        ""
    };
    println!(
        "{}: ok, {steps} steps, {warnings} warning(s){note}",
        args.file.display()
    );
    Ok(())
}

/// `parley flow test FILE SCRIPT…`.
pub fn test(args: &TestArgs) -> anyhow::Result<()> {
    let validation = load(&args.file, None)?;
    let flow = runnable(&args.file, &validation)?;
    let defaults = Settings::new(chrono::Utc::now().date_naive());
    let mut failed = 0;
    for script_path in &args.scripts {
        let script = std::fs::read_to_string(script_path)
            .with_context(|| format!("reading {}", script_path.display()))?;
        match run_script(&flow, &script, &defaults) {
            Ok(reports) => {
                println!(
                    "{}: ok, {} dialogue(s)",
                    script_path.display(),
                    reports.len()
                );
                for r in reports {
                    println!(
                        "  ✓ {} ({} steps, {} bot messages)",
                        r.name, r.steps, r.bot_messages
                    );
                }
            }
            Err(failure) => {
                failed += 1;
                println!("{}: FAILED at {failure}", script_path.display());
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} script(s) failed", args.scripts.len());
    }
    Ok(())
}

/// `parley flow chat FILE`: the person types the customer's side.
pub fn chat(args: &ChatArgs) -> anyhow::Result<()> {
    let validation = load(&args.file, None)?;
    let flow = runnable(&args.file, &validation)?;
    let contact = read_contact(args.contact.as_deref())?;
    if args.contact.is_none() && !validation.contact_fields.is_empty() {
        let names: Vec<String> = validation
            .contact_fields
            .iter()
            .map(|f| format!("<<{f}>>"))
            .collect();
        println!(
            "warning: no --contact given, so these contact fields are empty in this chat: {}",
            names.join(", ")
        );
    }
    let mut settings = Settings::new(
        args.today
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
    );
    if args.mdy {
        settings.date_order = parley_domain::DateOrder::Mdy;
    }
    println!(
        "Talking to {:?}. Type as the customer; /timer lets the pending timer fire, /quit ends.",
        flow.name()
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> anyhow::Result<Option<String>> {
        print!("{prompt}");
        std::io::stdout().flush()?;
        Ok(lines.next().transpose()?)
    };
    let mut state = State::default();
    let mut timer: Option<u32> = None;
    let mut input = Input::Start { opening: None };
    loop {
        let ctx = settings.context(&contact);
        let outcome = step(&flow, &ctx, state, input);
        state = outcome.state;
        let mut fetch = None;
        for effect in outcome.effects {
            match effect {
                Effect::Send { text } => println!("bot> {text}"),
                Effect::SetStatus { status } => println!("  (status: {status})"),
                Effect::Queue { queue, note } => {
                    println!(
                        "  (handed over to queue {queue}{})",
                        note.map(|n| format!(": {n}")).unwrap_or_default()
                    );
                }
                Effect::Close { status } => println!("  (closed: {status})"),
                Effect::Fetch { fields } => fetch = Some(fields),
                Effect::StartTimer { id, after } => {
                    timer = Some(id);
                    println!(
                        "  (timer: {} — /timer to let it pass)",
                        format_duration(after)
                    );
                }
            }
        }
        if state.phase == Phase::Ended {
            return Ok(());
        }
        input = if let Some(fields) = fetch {
            println!(
                "  (the flow fetches {}; give each value, or /fail)",
                fields.join(", ")
            );
            let mut values = std::collections::BTreeMap::new();
            let mut failure = None;
            for field in fields {
                let Some(line) = ask(&format!("{field} = "))? else {
                    return Ok(());
                };
                if line.trim() == "/fail" {
                    failure = Some("failed from the terminal".to_owned());
                    break;
                }
                values.insert(field, line.trim().to_owned());
            }
            Input::Fetched(failure.map_or(Ok(values), Err))
        } else {
            loop {
                let Some(line) = ask("you> ")? else {
                    return Ok(());
                };
                match (line.trim(), timer) {
                    ("/quit", _) => return Ok(()),
                    ("/timer", Some(id)) => {
                        timer = None;
                        break Input::Timer { id };
                    }
                    ("/timer", None) => println!("  (no timer is running)"),
                    (text, _) => break Input::Reply(Reply::text(text)),
                }
            }
        };
    }
}
