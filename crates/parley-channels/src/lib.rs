#![doc = include_str!("../README.md")]

mod keywords;
mod rate;
mod segments;
mod send;
pub mod twilio;
pub mod webchat;
pub mod whatsapp;

pub use keywords::{Keyword, classify as classify_keyword};
pub use rate::TokenBucket;
pub use segments::{
    GSM7_PART, GSM7_SINGLE, Segmented, UCS2_PART, UCS2_SINGLE, gsm7_septets, segment,
};
pub use send::{Accepted, MAX_ERROR_CHARS, ProviderHttp, Retry, SendError, bounded_text};
