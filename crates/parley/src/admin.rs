//! `parley migrate` and `parley admin …`: installation administration through the store.

use crate::cli::{AdminCommand, ApiKeyCommand, JobsCommand, OrgCommand, UserCommand};
use crate::config::Config;
use crate::wiring;
use anyhow::Context;

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = wiring::open_store(config, true).await?;
    store.close().await;
    println!("migrations applied to {}", config.store_url.as_str());
    Ok(())
}

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let store = wiring::open_store(config, true).await?;
    let app = wiring::app(config, store.clone())?;
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
            let (password, generated) = match u.password {
                Some(p) => (p, false),
                None => (parley_app::auth::new_password()?, true),
            };
            let user = app
                .admin_create_user(u.org, &u.email, &u.name, password.clone(), u.role)
                .await
                .context("creating the user")?;
            println!("{}\t{}\t{}", user.id, user.email, u.role);
            if generated {
                println!("password: {password}  (shown once)");
            }
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
