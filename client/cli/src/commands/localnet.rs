//! `rekam localnet`: serve the Solana JSON-RPC API on loopback with Rekam preloaded, and
//! (unless `--bare`) make it ready for work: the wallet deploys the program, is funded,
//! gets a test mint and initializes the deployment (flow `flows::setup::prepare`).

use std::net::IpAddr;
use std::path::PathBuf;

use rekam_client::chain::{ChainClient, FeeOptions};
use rekam_client::flows::{setup, wallet};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::keypair::read_keypair;
use crate::localnet::{Localnet, LocalnetOptions};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  rekam localnet\n  rekam localnet --reset\n  rekam localnet --bare --rpc-port 0 --ledger /tmp/ledger"
)]
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
    /// Only serve the chain: no wallet is created, funded or given a mint, and the
    /// deployment is not initialized (the wallet, when it exists, still deploys).
    #[arg(long)]
    pub bare: bool,
}

#[derive(Serialize)]
struct Started {
    url: String,
    websocket_url: String,
    ledger: PathBuf,
    program_id: String,
    /// The upgrade authority of the preloaded program (`None`: no wallet, immutable).
    deployer: Option<String>,
    wallet_path: PathBuf,
    /// Set when this start created the wallet file.
    wallet_created: bool,
    ready: Option<setup::Ready>,
    next: Vec<String>,
}

impl Render for Started {
    fn text(&self) -> String {
        let mut out = format!(
            "Rekam local validator\n  JSON RPC URL:  {}\n  WebSocket URL: {}\n  Ledger:        {}\n  Program:       {} (its log lines: <ledger>/program.log)",
            self.url,
            self.websocket_url,
            self.ledger.display(),
            self.program_id
        );
        match &self.deployer {
            Some(d) => out.push_str(&format!(
                "\n  Deployer:      {d} ({}{}), the program's upgrade authority",
                self.wallet_path.display(),
                if self.wallet_created {
                    ", created now"
                } else {
                    ""
                }
            )),
            None => out.push_str(&format!(
                "\n  Deployer:      none (no wallet at {}): nobody can initialize this deployment",
                self.wallet_path.display()
            )),
        }
        if let Some(r) = &self.ready {
            out.push_str(&format!(
                "\n  Wallet funded: {} SOL\n  Test mint:     {} (1,000,000 tokens in {})\n  Deployment:    config {} ({})",
                setup::ui_amount(r.lamports, 9),
                r.mint,
                r.token_account,
                r.config,
                if r.initialized_now { "initialized now, governance = the wallet" } else { "already initialized" }
            ));
        }
        if !self.next.is_empty() {
            out.push_str("\nNext, in another terminal:");
            for command in &self.next {
                out.push_str(&format!("\n  {command}"));
            }
        }
        out.push_str("\nPress Ctrl-C to stop.");
        out
    }
}

/// The wallet the validator runs with: read, or (unless bare) created at the path.
fn deployer_wallet(settings: &Settings, bare: bool) -> anyhow::Result<(Option<Keypair>, bool)> {
    let path = &settings.keypair_path;
    // A hardware wallet cannot be a faucet: refused by `read_keypair`, never created.
    if path.exists() || crate::keypair::is_remote(path) {
        return Ok((Some(read_keypair(path)?), false));
    }
    if bare {
        return Ok((None, false));
    }
    Ok((Some(wallet::new_keypair_file(path, false)?), true))
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    if !args.bind.is_loopback() {
        anyhow::bail!(
            "the local validator binds loopback addresses only, not {}",
            args.bind
        );
    }
    if args.reset && args.ledger.exists() {
        std::fs::remove_dir_all(&args.ledger)?;
    }
    let (wallet, wallet_created) = deployer_wallet(settings, args.bare)?;
    std::fs::create_dir_all(&args.ledger)?;
    output::isolate_stdout(&args.ledger.join("program.log"))?;
    let localnet = Localnet::start(&LocalnetOptions {
        bind: args.bind,
        rpc_port: args.rpc_port,
        ledger: Some(args.ledger.clone()),
        slot_time_ms: args.slot_time_ms,
        deployer: wallet.as_ref().map(|w| w.pubkey()),
    })?;
    let ready = match (&wallet, args.bare) {
        (Some(wallet), false) => {
            let chain = ChainClient::new(
                &localnet.url,
                settings.commitment,
                settings.program_id,
                FeeOptions::default(),
            );
            Some(setup::prepare(&chain, wallet)?)
        }
        _ => None,
    };
    let url_flag = if args.rpc_port == 8899 && args.bind.to_string() == "127.0.0.1" {
        String::new()
    } else {
        format!(" -u {}", localnet.url)
    };
    let next = match &ready {
        Some(_) => vec![
            format!("rekam{url_flag} balance"),
            format!("rekam{url_flag} wallet new -o clinic.json && rekam{url_flag} airdrop 2 clinic.json"),
            format!("rekam{url_flag} demo   # or the guided path in README.md"),
        ],
        None => vec![],
    };
    output::print(
        settings.output,
        &Started {
            url: localnet.url.clone(),
            websocket_url: localnet.ws_url.clone(),
            ledger: args.ledger,
            program_id: rekam::ID.to_string(),
            deployer: wallet.as_ref().map(|w| w.pubkey().to_string()),
            wallet_path: settings.keypair_path.clone(),
            wallet_created,
            ready,
            next,
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
