//! `parley migrate` and `parley admin …`: installation administration through the store,
//! with the `admin` commands' flags.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use parley_domain::{OrgId, Role};

use crate::config::Config;
use crate::wiring;

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = wiring::open_store(config, true).await?;
    store.close().await;
    println!("migrations applied to {}", config.store_url.as_str());
    Ok(())
}

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let store = wiring::open_store(config, true).await?;
    let app = wiring::app(config, store.clone()).await?;
    let result = match command {
        AdminCommand::Org(OrgCommand::Create { name, parent }) => {
            let org = app
                .admin_create_organization(&name, parent)
                .await
                .context("creating the organization")?;
            println!("{}\t{}", org.id, org.name);
            Ok(())
        }
        AdminCommand::Org(OrgCommand::List) => {
            for org in app.admin_list_organizations().await? {
                let depth = "  ".repeat(org.ancestors.len());
                println!("{}{}\t{}", depth, org.id, org.name);
            }
            Ok(())
        }
        AdminCommand::User(UserCommand::Create(u)) => {
            let created = app
                .admin_invite(u.org, &u.email, u.role)
                .await
                .context("inviting the user")?;
            let i = &created.invitation;
            println!("{}\t{}\t{}", i.id, i.email, i.role);
            println!(
                "invitation link (shown once; it works until {}): {}",
                i.expires_at.format("%Y-%m-%d %H:%M UTC"),
                created.accept_url
            );
            println!(
                "The person opens it to choose their name and password (or to confirm an account they have)."
            );
            Ok(())
        }
        AdminCommand::ApiKey(ApiKeyCommand::Create { org, name, role }) => {
            let created = app
                .admin_create_api_key(org, &name, role)
                .await
                .context("creating the API key")?;
            println!("id: {}", created.key.id);
            println!("secret: {}  (shown once)", created.secret);
            Ok(())
        }
        AdminCommand::Key(KeyCommand::Rotate { new_key }) => {
            crate::master_key::rotate(config, &app, new_key.as_deref()).await
        }
        AdminCommand::Jobs(JobsCommand::Canary {
            count,
            work_ms,
            prefix,
        }) => {
            let prefix = prefix.unwrap_or_else(|| {
                format!("canary-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"))
            });
            let ids = app
                .enqueue_canaries(&prefix, count, work_ms)
                .await
                .context("enqueueing canaries")?;
            println!(
                "enqueued {} canaries named {prefix}-0..{}",
                ids.len(),
                count.saturating_sub(1)
            );
            Ok(())
        }
        AdminCommand::Jobs(JobsCommand::Stats) => {
            println!("queue\tpending\trunning\tdone\tfailed");
            for s in store.job_stats().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.queue, s.pending, s.running, s.done, s.failed
                );
            }
            let canaries = store.list_canaries().await?;
            let reruns: u32 = canaries.iter().map(|c| c.runs.saturating_sub(1)).sum();
            println!(
                "canaries recorded: {} (re-executions: {reruns})",
                canaries.len()
            );
            Ok(())
        }
    };
    store.close().await;
    result
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
