//! `parley chat --channel CHANNEL [--from NUMBER]`: talk to the organization as a customer
//! through one of its `sim` channels, in this process, on the configured store. Each line
//! typed is the customer's message, taken exactly as a provider's would be (keywords,
//! the inbound flow, queues); the bot's and people's replies print as they are written.
//!
//! While it runs, this process also works the job queues and sends replies, so timers,
//! fetches and delivery reports happen without a `parley serve`; with one running on the
//! same store, the two share the work. An empty line or end of input ends the chat.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, ensure};
use clap::Args;
use parley_app::conversations::turn::Inbound;
use parley_domain::{ChannelId, ConversationId, ConversationState, Direction, Message, Provider};
use parley_store::{PageRequest, Store};
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::wiring;

/// Options of `parley chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The `sim` channel to write to (`chn_…`).
    #[arg(long)]
    pub channel: ChannelId,
    /// The customer's number.
    #[arg(long, default_value = "+447400123456")]
    pub from: String,
}

/// Whether a typed line ends the session instead of being sent: an empty line, or
/// `/quit` (or `/exit`), as in `parley flow chat`. Never sent, so a command is not read
/// as a keyword such as QUIT, which would opt the customer out.
fn ends_chat(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.eq_ignore_ascii_case("/quit") || line.eq_ignore_ascii_case("/exit")
}

/// How a message reads in the terminal.
fn line_of(m: &Message) -> String {
    let who = match m.sender.as_str() {
        "bot" => "bot".to_owned(),
        "system" => "parley".to_owned(),
        other => other
            .strip_prefix("agent:")
            .map_or_else(|| other.to_owned(), |id| format!("agent {id}")),
    };
    format!("{who}: {}", m.body)
}

/// Prints the conversation's replies not shown yet; whether it has closed.
async fn show_new(
    store: &dyn Store,
    conversation: ConversationId,
    organization: parley_domain::OrgId,
    shown: &mut HashSet<parley_domain::MessageId>,
) -> anyhow::Result<bool> {
    let mut after = None;
    loop {
        let page = store
            .list_messages(
                organization,
                conversation,
                PageRequest {
                    after: after.clone(),
                    limit: PageRequest::MAX_LIMIT,
                },
            )
            .await?;
        for m in &page.items {
            if m.direction == Direction::Outbound && shown.insert(m.id) {
                println!("{}", line_of(m));
            }
        }
        match page.next_cursor {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let c = store.get_conversation(organization, conversation).await?;
    Ok(c.is_some_and(|c| c.state == ConversationState::Closed))
}

/// Runs the chat.
pub async fn run(config: &Config, args: ChatArgs) -> anyhow::Result<()> {
    let store = wiring::open_store(config, true).await?;
    let app = wiring::app(config, store.clone()).await?;
    let channel = app
        .channel_for_callback(args.channel)
        .await?
        .with_context(|| format!("there is no channel {}", args.channel))?;
    ensure!(
        channel.provider == Provider::Sim,
        "{} is a {} channel; parley chat talks through sim channels",
        channel.id,
        channel.provider
    );
    let organization = channel.organization_id;
    let cancel = CancellationToken::new();
    let workers = tokio::spawn(
        app.job_runner(2, Duration::from_secs(30))
            .start(cancel.clone()),
    );
    let sends = app.start_sends(cancel.clone());
    println!(
        "Writing as {} to \"{}\" ({}). An empty line or /quit ends the chat.",
        args.from, channel.name, channel.id
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut conversation = None;
    let mut shown = HashSet::new();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(text) = line? else { break };
                if ends_chat(&text) {
                    break;
                }
                let handled = app
                    .receive(Inbound {
                        channel: channel.clone(),
                        from: args.from.clone(),
                        text,
                        provider_message_id: None,
                        from_provider: false,
                    })
                    .await?;
                if let Some(h) = handled {
                    conversation = Some(h.conversation.id);
                    if show_new(&*store, h.conversation.id, organization, &mut shown).await? {
                        println!("(the conversation is closed; the next message starts a new one)");
                    }
                }
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Some(c) = conversation {
                    show_new(&*store, c, organization, &mut shown).await?;
                }
            }
        }
    }
    cancel.cancel();
    let _ = workers.await;
    let _ = sends.await;
    store.close().await;
    Ok(())
}
