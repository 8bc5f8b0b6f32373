//! `parley migrate` and `parley admin …`: installation administration through the store.

use crate::cli::{AdminCommand, ApiKeyCommand, JobsCommand, KeyCommand, OrgCommand, UserCommand};
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
