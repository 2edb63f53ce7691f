//! `rekam`: the wallet-signed command line of Rekam, and its embedded local validator.

mod chain;
mod commands;
mod localnet;
mod output;
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::{GlobalArgs, Settings};

#[derive(Parser, Debug)]
#[command(
    name = "rekam",
    version,
    about = "Patient-controlled medical records on Solana"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a local validator (Solana JSON-RPC on 127.0.0.1) with Rekam preloaded.
    Localnet(commands::localnet::Args),
    /// Initialize a deployment: config PDA and protocol-fee treasury.
    Init(commands::init::Args),
    /// Run the end-to-end story on an embedded validator and print what happened.
    Demo(commands::demo::Args),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global)?;
    match cli.command {
        Command::Localnet(args) => commands::localnet::run(&settings, args),
        Command::Init(args) => commands::init::run(&settings, args),
        Command::Demo(args) => commands::demo::run(&settings, args),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
