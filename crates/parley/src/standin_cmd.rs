//! `parley dev stand-in twilio|whatsapp`: runs a provider stand-in (`parley-standin`) on a
//! loopback port for demos, printing what to configure the channel with, until Ctrl-C.

use std::time::Duration;

use clap::{Args, Subcommand};

/// Which provider.
#[derive(Debug, Subcommand)]
pub enum StandIn {
    /// Twilio's Messages API: sends, signed status callbacks.
    Twilio(TwilioArgs),
    /// The WhatsApp Cloud API: sends with the 24-hour window, signed status webhooks.
    Whatsapp(WhatsappArgs),
}

/// Options of the Twilio stand-in.
#[derive(Debug, Args)]
pub struct TwilioArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The account sid the channel uses.
    #[arg(long, default_value = "AC00000000000000000000000000000001")]
    pub account_sid: String,
    /// The auth token: authenticates sends, signs callbacks.
    #[arg(long, default_value = "stand-in-auth-token")]
    pub auth_token: String,
    /// Milliseconds between a message's status callbacks.
    #[arg(long, default_value_t = 500)]
    pub report_delay_ms: u64,
}

/// Options of the WhatsApp stand-in.
#[derive(Debug, Args)]
pub struct WhatsappArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The phone number id the channel uses.
    #[arg(long, default_value = "106540352242922")]
    pub phone_number_id: String,
    /// The access token sends must carry.
    #[arg(long, default_value = "stand-in-access-token")]
    pub access_token: String,
    /// The app secret webhooks are signed with.
    #[arg(long, default_value = "stand-in-app-secret")]
    pub app_secret: String,
    /// Parley's webhook URL for this channel.
    #[arg(long)]
    pub webhook: String,
    /// Milliseconds between a message's status webhooks.
    #[arg(long, default_value_t = 500)]
    pub report_delay_ms: u64,
}

/// Runs the stand-in until Ctrl-C.
pub async fn run(which: StandIn) -> anyhow::Result<()> {
    // Held until Ctrl-C: dropping a stand-in stops its server.
    let _running: Box<dyn std::any::Any> = match which {
        StandIn::Twilio(a) => {
            let s = parley_standin::TwilioStandIn::start(
                &a.account_sid,
                &a.auth_token,
                Duration::from_millis(a.report_delay_ms),
                a.port,
            )
            .await?;
            println!("Twilio stand-in on {}", s.base_url);
            println!(
                "  channel settings: base_url={} account_sid={} auth_token={}",
                s.base_url, a.account_sid, a.auth_token
            );
            Box::new(s)
        }
        StandIn::Whatsapp(a) => {
            let s = parley_standin::WhatsappStandIn::start(
                &a.phone_number_id,
                &a.access_token,
                &a.app_secret,
                &a.webhook,
                Duration::from_millis(a.report_delay_ms),
                a.port,
            )
            .await?;
            println!("WhatsApp stand-in on {}", s.base_url);
            println!(
                "  channel settings: base_url={} phone_number_id={} access_token={} app_secret={}",
                s.base_url, a.phone_number_id, a.access_token, a.app_secret
            );
            Box::new(s)
        }
    };
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
