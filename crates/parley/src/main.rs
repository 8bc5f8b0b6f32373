//! The `parley` binary: parses the command line, loads configuration and hands over to
//! the command. Wiring only; every rule lives in the library crates.

mod admin;
mod bench;
mod bench_campaign;
mod bench_conversations;
mod bench_flow;
mod bench_hostile;
mod bench_webhooks;
mod bench_zones;
mod chat_cmd;
mod cli;
mod config;
mod flow_cmd;
mod import_cmd;
mod serve;
mod standin_cmd;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
