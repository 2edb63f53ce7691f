//! `rekam localnet`: serve the Solana JSON-RPC API on loopback with Rekam preloaded.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::localnet::{Localnet, LocalnetOptions};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ledger directory; state persists across restarts.
    #[arg(long, default_value = "rekam-ledger")]
    pub ledger: PathBuf,
    /// Wipe the ledger directory before starting.
    #[arg(long)]
    pub reset: bool,
    /// RPC port (0 picks a free one).
    #[arg(long, default_value_t = 8899)]
    pub rpc_port: u16,
    /// Loopback address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Slot time in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub slot_time_ms: u64,
}

#[derive(Serialize)]
struct Started {
    url: String,
    websocket_url: String,
    ledger: PathBuf,
    program_id: String,
}

impl Render for Started {
    fn text(&self) -> String {
        format!(
            "Rekam local validator\n  JSON RPC URL: {}\n  WebSocket URL: {}\n  Ledger: {}\n  Program: {} (its log lines: <ledger>/program.log)\nPress Ctrl-C to stop.",
            self.url,
            self.websocket_url,
            self.ledger.display(),
            self.program_id
        )
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    if args.reset && args.ledger.exists() {
        std::fs::remove_dir_all(&args.ledger)?;
    }
    std::fs::create_dir_all(&args.ledger)?;
    output::isolate_stdout(&args.ledger.join("program.log"))?;
    let localnet = Localnet::start(&LocalnetOptions {
        bind: args.bind,
        rpc_port: args.rpc_port,
        ledger: Some(args.ledger.clone()),
        slot_time_ms: args.slot_time_ms,
    })?;
    output::print(
        settings.output,
        &Started {
            url: localnet.url.clone(),
            websocket_url: localnet.ws_url.clone(),
            ledger: args.ledger,
            program_id: rekam::ID.to_string(),
        },
    )?;
    wait_for_shutdown_signal()?;
    eprintln!("stopping local validator");
    localnet.shutdown()
}

fn wait_for_shutdown_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    })?;
    Ok(())
}
