//! The command line: every command, its flags and its help text.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use parley_domain::{OrgId, Role};

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
    Admin(AdminCommand),
    /// Import a contact file (.csv, .xls, .xlsx) into an organization, in this process.
    Import(ImportArgs),
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

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file.
    pub file: PathBuf,
    /// The organization the contacts go into.
    #[arg(long, value_name = "ORG")]
    pub org: OrgId,
    /// COLUMN=FIELD, repeatable; `COLUMN=` ignores the column.
    #[arg(long, value_name = "COLUMN=FIELD")]
    pub mapping: Vec<String>,
    /// The worksheet (the first one otherwise).
    #[arg(long)]
    pub sheet: Option<String>,
    /// The channel-address column (detected from its name otherwise).
    #[arg(long, value_name = "COLUMN")]
    pub address_column: Option<String>,
    /// Drop unknown columns instead of creating text fields for them.
    #[arg(long)]
    pub ignore_unknown: bool,
    /// Country of local phone numbers (the organization's otherwise).
    #[arg(long, value_name = "CC")]
    pub country: Option<parley_domain::CountryCode>,
    /// Channel of the addresses (sms by default).
    #[arg(long)]
    pub channel: Option<parley_domain::ChannelKind>,
    /// Where to write the rejects report (default: <file>.rejects.csv beside the file).
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Import a generated contacts CSV into a fresh SQLite store through the real import
    /// path, time `sqlite3 .import` of the same file in the same run, and import an XLSX.
    Import(crate::bench::ImportBench),
    /// Replay the example flows' dialogues through the engine: steps per second on one
    /// core, and the largest serialised conversation state.
    Flow(crate::bench_flow::FlowBench),
    /// The flow editor's check of a generated flow (validation, layout, the drawing and
    /// findings as HTML) through the router with a signed-in session: median and p95.
    FlowEditor(crate::bench_flow_editor::FlowEditorBench),
    /// Deliver events to an in-process receiver through the webhook engine on SQLite:
    /// deliveries per second, CPU per delivery, end-to-end lag, lost and repeated ids.
    Webhooks(crate::bench_webhooks::WebhooksBench),
    /// Simulated customers on the sim channel each running the arrears example flow to
    /// its end on SQLite: inbound messages per second, inbound-to-reply latency.
    Conversations(crate::bench_conversations::ConversationsBench),
    /// A campaign's send-window check per recipient: the zones of each number and the
    /// window's next opening, afresh and through a campaign's zone book.
    Zones(crate::bench_zones::ZonesBench),
    /// A campaign from an imported file on SQLite, through the dispatcher and the send
    /// path, on the simulator or the Twilio stand-in: first messages a second, time to
    /// finish, peak RSS.
    Campaign(crate::bench_campaign::CampaignBench),
    /// Hostile uploads (60 MiB of JSON rows, an .xlsx whose cell unpacks to 2 GiB, one
    /// with 60 million shared strings) against `parley serve` in a child process: each
    /// import's outcome and the server's peak RSS, alone and all at once.
    #[command(name = "hostile-uploads")]
    HostileUploads(crate::bench_hostile::HostileBench),
    /// The agent desk at scale on SQLite (100,000 conversations, a million messages):
    /// each view's first page, a search by phone number and a 500-message conversation,
    /// through the web application's router; median and p95, and a cold load's bytes.
    Desk(crate::bench_desk::DeskBench),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the documented default configuration file.
    Example,
    /// Load the configuration and report the first problem, naming the key.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// API keys.
    #[command(name = "api-key", subcommand)]
    ApiKey(ApiKeyCommand),
    /// Background jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// The master key that seals stored secrets.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-seal every stored secret under a new master key, in one transaction, and put the
    /// new key in place (the key file), or say where to set it (a configured key). Stop
    /// Parley first. API tokens and web chat visitor tokens signed with the old key end;
    /// credentials, webhook secrets and the opt-out list are kept.
    Rotate {
        /// A file holding the new key (32 bytes, base64); a new key is generated otherwise.
        #[arg(long, value_name = "FILE")]
        new_key: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization (a root one unless --parent is given).
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Parent organization, to create a sub-organization.
        #[arg(long, value_name = "ORG")]
        parent: Option<OrgId>,
    },
    /// List every organization, each root followed by its sub-organizations.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Invite a person to an organization with a role and print the one-time link (shown
    /// once) to pass on: they choose their own name and password there (or, when they
    /// have an account already, confirm it with its password).
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    /// The organization.
    #[arg(long, value_name = "ORG")]
    pub org: OrgId,
    /// Sign-in email.
    #[arg(long)]
    pub email: String,
    /// owner, admin, supervisor, agent or viewer.
    #[arg(long, default_value = "admin")]
    pub role: Role,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print its id and secret (shown once).
    Create {
        /// The organization it acts for.
        #[arg(long, value_name = "ORG")]
        org: OrgId,
        /// A label.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Give the key this role's permissions.
        #[arg(long, default_value = "admin")]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Enqueue canary jobs, which prove the workers run jobs (see `jobs stats`).
    Canary {
        /// How many.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Simulated work per canary, in milliseconds.
        #[arg(long, default_value_t = 0)]
        work_ms: u64,
        /// Canary names are <prefix>-<n>; defaults to the current time.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Jobs per queue and state, and canary executions.
    Stats,
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
        Command::Bench(BenchCommand::Flow(args)) => return crate::bench_flow::run(&args),
        Command::Bench(BenchCommand::FlowEditor(args)) => {
            return crate::bench_flow_editor::run(args).await;
        }
        Command::Bench(BenchCommand::Zones(args)) => return crate::bench_zones::run(&args),
        Command::Bench(BenchCommand::Campaign(args)) => {
            return crate::bench_campaign::run(args).await;
        }
        Command::Bench(BenchCommand::HostileUploads(args)) => {
            return crate::bench_hostile::run(args).await;
        }
        Command::Bench(BenchCommand::Desk(args)) => return crate::bench_desk::run(args).await,
        Command::Bench(BenchCommand::Conversations(args)) => {
            return crate::bench_conversations::run(args).await;
        }
        Command::Bench(BenchCommand::Webhooks(args)) => {
            return crate::bench_webhooks::run(args).await;
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
