//! The command line: every command and its help text, and the flags of those without a
//! module of their own (`admin` and `import` keep theirs beside their code).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::{admin, config, serve};

/// The first line of `parley --help`.
const ABOUT: &str = "Parley: bot and agent conversations with thousands of customers at once, over SMS, \
WhatsApp and web chat, connected to your systems by signed webhooks and SFTP. \
Start with `parley serve`.";

/// Parley talks to thousands of customers at once: import a contact file, run bot
/// conversations over SMS, WhatsApp and web chat, hand over to people when needed, and
/// connect every conversation to your own systems with signed webhooks, a live data lookup
/// and SFTP files. One binary; SQLite by default, PostgreSQL when one machine is not enough.
///
/// Start with `parley serve`: on an empty store it creates the first organization and
/// prints how to sign in.
#[derive(Debug, Parser)]
#[command(name = "parley", version, about = ABOUT, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./parley.toml when it exists).
    #[arg(long, global = true, env = "PARLEY_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything: API, workers. On an empty store, create the first organization and
    /// owner and print how to sign in.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Administer the installation directly through the store.
    #[command(subcommand)]
    Admin(crate::admin::AdminCommand),
    /// Import a contact file (.csv, .xls, .xlsx) into an organization, in this process.
    Import(crate::import_cmd::ImportArgs),
    /// Talk to the organization as a customer through a sim channel, in this process.
    Chat(crate::chat_cmd::ChatArgs),
    /// Measure Parley against reference tools on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Bot flows: check, test with dialogue scripts, or chat with one in the terminal.
    #[command(subcommand)]
    Flow(FlowCommand),
    /// Development helpers.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Run a local stand-in for a provider (Twilio, WhatsApp) for demos.
    #[command(subcommand, name = "stand-in")]
    StandIn(crate::standin_cmd::StandIn),
    /// Print the API's OpenAPI 3.1 document (as served at `/api/v1/openapi.json`), for
    /// client generators and validators that work offline.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// Validate a flow file: every problem with its step and position; exit 1 on errors.
    Check(crate::flow_cmd::CheckArgs),
    /// Run dialogue scripts against a flow; exit 1 when an expectation is not met.
    Test(crate::flow_cmd::TestArgs),
    /// Talk to a flow as the customer (fetch steps ask you for values).
    Chat(crate::flow_cmd::ChatArgs),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Import a generated contacts CSV into a fresh SQLite store through the real import
    /// path, time `sqlite3 .import` of the same file in the same run, and import an XLSX.
    Import(crate::bench::ImportBench),
    /// Replay the example flows' dialogues through the engine: steps per second on one
    /// core, and the largest serialised conversation state.
    Flow(crate::bench::flow::FlowBench),
    /// The flow editor's check of a generated flow (validation, layout, the drawing and
    /// findings as HTML) through the router with a signed-in session: median and p95.
    FlowEditor(crate::bench::flow_editor::FlowEditorBench),
    /// Deliver events to an in-process receiver through the webhook engine on SQLite:
    /// deliveries per second, CPU per delivery, end-to-end lag, lost and repeated ids.
    Webhooks(crate::bench::webhooks::WebhooksBench),
    /// Simulated customers on the sim channel each running the arrears example flow to
    /// its end on SQLite: inbound messages per second, inbound-to-reply latency.
    Conversations(crate::bench::conversations::ConversationsBench),
    /// A campaign's send-window check per recipient: the zones of each number and the
    /// window's next opening, afresh and through a campaign's zone book.
    Zones(crate::bench::zones::ZonesBench),
    /// A campaign from an imported file on SQLite, through the dispatcher and the send
    /// path, on the simulator or the Twilio stand-in: first messages a second, time to
    /// finish, peak RSS.
    Campaign(crate::bench::campaign::CampaignBench),
    /// Hostile uploads (60 MiB of JSON rows, an .xlsx whose cell unpacks to 2 GiB, one
    /// with 60 million shared strings) against `parley serve` in a child process: each
    /// import's outcome and the server's peak RSS, alone and all at once.
    #[command(name = "hostile-uploads")]
    HostileUploads(crate::bench::hostile::HostileBench),
    /// The agent desk at scale on SQLite (100,000 conversations, a million messages):
    /// each view's first page, a search by phone number and a 500-message conversation,
    /// through the web application's router; median and p95, and a cold load's bytes.
    Desk(crate::bench::desk::DeskBench),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the documented default configuration file.
    Example,
    /// Load the configuration and report the first problem, naming the key.
    Check,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(ConfigCommand::Example) = cli.command {
        print!("{}", config::DEFAULT_FILE);
        return Ok(());
    }
    // The benchmarks build what they measure, the flow tools read only their files, and
    // the stand-ins are providers: none of them needs configuration.
    let command = match cli.command {
        Command::Bench(BenchCommand::Import(args)) => return crate::bench::import(args).await,
        Command::Bench(BenchCommand::Flow(args)) => return crate::bench::flow::run(&args),
        Command::Bench(BenchCommand::FlowEditor(args)) => {
            return crate::bench::flow_editor::run(args).await;
        }
        Command::Bench(BenchCommand::Zones(args)) => return crate::bench::zones::run(&args),
        Command::Bench(BenchCommand::Campaign(args)) => {
            return crate::bench::campaign::run(args).await;
        }
        Command::Bench(BenchCommand::HostileUploads(args)) => {
            return crate::bench::hostile::run(args).await;
        }
        Command::Bench(BenchCommand::Desk(args)) => return crate::bench::desk::run(args).await,
        Command::Bench(BenchCommand::Conversations(args)) => {
            return crate::bench::conversations::run(args).await;
        }
        Command::Bench(BenchCommand::Webhooks(args)) => {
            return crate::bench::webhooks::run(args).await;
        }
        Command::Flow(FlowCommand::Check(args)) => return crate::flow_cmd::check(&args),
        Command::Flow(FlowCommand::Test(args)) => return crate::flow_cmd::test(&args),
        Command::Flow(FlowCommand::Chat(args)) => return crate::flow_cmd::chat(&args),
        Command::Dev(DevCommand::StandIn(which)) => return crate::standin_cmd::run(which).await,
        Command::Dev(DevCommand::Openapi) => {
            println!("{}", parley_http::openapi().to_pretty_json()?);
            return Ok(());
        }
        other => other,
    };
    let config = config::load(cli.config.as_deref(), std::env::vars()).context("configuration")?;
    match command {
        Command::Config(ConfigCommand::Example)
        | Command::Bench(_)
        | Command::Flow(_)
        | Command::Dev(_) => Ok(()),
        Command::Config(ConfigCommand::Check) => {
            println!(
                "configuration is valid (store: {})",
                config.store_url.as_str()
            );
            Ok(())
        }
        Command::Serve => serve::run(config).await,
        Command::Migrate => admin::migrate(&config).await,
        Command::Admin(command) => admin::run(&config, command).await,
        Command::Import(args) => crate::import_cmd::run(&config, args).await,
        Command::Chat(args) => crate::chat_cmd::run(&config, args).await,
    }
}
