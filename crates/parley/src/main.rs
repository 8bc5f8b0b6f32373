//! The `parley` binary: parses the command line, loads configuration and hands over to
//! the command. Wiring only; every rule lives in the library crates.

mod admin;
mod bench;
mod chat_cmd;
mod cli;
mod config;
mod flow_cmd;
mod import_cmd;
mod master_key;
mod serve;
mod standin_cmd;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

/// Exit status of a command whose reader went away, as a shell reports one a broken pipe
/// stopped (128 + SIGPIPE).
const CLOSED_PIPE: i32 = 141;

/// A command whose output is no longer read (`parley dev openapi | head`) stops quietly,
/// as command-line tools do, instead of reporting a panic: Rust's printing panics on a
/// closed pipe. (`serve` never prints that way; it ignores a closed standard output.)
fn stop_quietly_on_a_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.starts_with("failed printing to std") && text.contains("os error 32") {
            std::process::exit(CLOSED_PIPE);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    stop_quietly_on_a_closed_pipe();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
