#![doc = include_str!("../README.md")]

pub mod client;
pub mod retry;
mod secret;
pub mod sign;
pub mod target;

pub use reqwest::Url;
pub use secret::{
    GENERATED_SECRET_BYTES, MAX_SECRET_BYTES, MIN_SECRET_BYTES, SECRET_PREFIX, Secret, SecretError,
};
