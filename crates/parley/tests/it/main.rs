//! Tests of the `parley` binary as a process (one binary, HOUSE_STYLE B.9). Test names
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! start with `process_` so nextest runs them one at a time (see .config/nextest.toml).

// SIGKILL during job execution, restart, every job finishes exactly once.
mod durability;
// SIGKILL during webhook delivery, restart, every event id arrives.
mod webhook_crash;
// The README's commands and configuration errors, as a user meets them.
mod commands;
// `parley flow check|test` on the example flows and on broken flows and scripts.
mod flows;
// `parley chat` through a sim channel.
mod chat;
// SIGKILL three times during a 100,000-recipient campaign: each recipient gets one
// first message at the Twilio stand-in.
mod campaign_crash;
// SIGKILL during an import, restart: the job goes on after its last committed row and
// the counters are true and never move back.
mod import_crash;
// `parley admin key rotate`: the key file replaced, a crash midway finished at start, a
// configured key's new value named, a server left running stopped.
mod key_rotate;
