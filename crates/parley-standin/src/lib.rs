#![doc = include_str!("../README.md")]

mod server;
mod twilio;
mod whatsapp;

pub use twilio::{SentSms, TwilioOutcome, TwilioStandIn};
pub use whatsapp::{SentWhatsapp, WhatsappStandIn};
