#![doc = include_str!("../README.md")]

mod backoff;
mod job;
mod runner;

pub use backoff::backoff;
pub use job::{Job, JobError, enqueue, new_job};
pub use runner::{QueueConfig, Runner};
