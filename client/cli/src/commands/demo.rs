//! `rekam demo`: the Rekam story on an embedded local validator, narrated.
//!
//! Today it covers what the program implements: starting the validator with the native
//! program, creating a fee mint, initializing the deployment (config PDA + treasury via
//! CPI), and reading it all back over JSON-RPC. Later stages of the story (attest, consent,
//! access, study payouts) join as the program gains them.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anyhow::{bail, Context};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::Chain;
use crate::commands::init::{initialize, Initialized};
use crate::localnet::{Localnet, LocalnetOptions};
use crate::output::{self, OutputFormat, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Keep the validator's ledger here instead of in memory.
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Where the hosted program's own log lines go (default: the ledger directory, or
    /// the system temp directory).
    #[arg(long)]
    pub program_log: Option<PathBuf>,
}

#[derive(Serialize)]
struct DemoSummary {
    validator_url: String,
    steps: Vec<Step>,
    deployment: Initialized,
}

#[derive(Serialize)]
struct Step {
    step: String,
    result: String,
}

impl Render for DemoSummary {
    fn text(&self) -> String {
        let width = self.steps.iter().map(|s| s.step.len()).max().unwrap_or(0);
        let mut out = String::from("\nSummary\n");
        for step in &self.steps {
            out.push_str(&format!("  {:width$}  {}\n", step.step, step.result));
        }
        out.push_str(&format!("\n{}", self.deployment.text()));
        out
    }
}

fn narrate(format: OutputFormat, line: &str) {
    if format == OutputFormat::Text {
        output::out(line);
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let program_log = args
        .program_log
        .clone()
        .unwrap_or_else(|| match &args.ledger {
            Some(dir) => dir.join("program.log"),
            None => std::env::temp_dir().join(format!("rekam-demo-{}.log", std::process::id())),
        });
    if let Some(dir) = &args.ledger {
        std::fs::create_dir_all(dir)?;
    }
    output::isolate_stdout(&program_log)?;
    let say = |line: &str| narrate(settings.output, line);
    let mut steps = Vec::new();

    say("Starting an embedded local validator (offline, loopback only) with the Rekam program...");
    let started = Instant::now();
    let localnet = Localnet::start(&LocalnetOptions {
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        rpc_port: 0,
        ledger: args.ledger,
        slot_time_ms: 100,
    })?;
    say(&format!(
        "  JSON-RPC at {} (ready in {:.1?})",
        localnet.url,
        started.elapsed()
    ));
    say(&format!("  program log lines: {}", program_log.display()));
    steps.push(Step {
        step: "local validator".into(),
        result: localnet.url.clone(),
    });

    let chain = Chain::new(&localnet.url, settings.commitment);
    let governance = Keypair::new();
    say("Funding a governance wallet from the local faucet...");
    airdrop(&chain, &governance.pubkey(), 10_000_000_000)?;
    steps.push(Step {
        step: "governance wallet".into(),
        result: governance.pubkey().to_string(),
    });

    say("Creating the protocol-fee mint (SPL Token)...");
    let mint = create_mint(&chain, &governance, 6)?;
    steps.push(Step {
        step: "fee mint".into(),
        result: mint.to_string(),
    });

    say("Initializing the deployment: config PDA, and the treasury token account via CPI...");
    let deployment = initialize(
        &chain,
        &settings.program_id,
        &governance,
        &mint,
        governance.pubkey(),
        250,
    )?;
    say(&format!(
        "  config {} / treasury {}",
        deployment.config, deployment.treasury
    ));
    steps.push(Step {
        step: "deployment initialized".into(),
        result: deployment.signature.clone(),
    });

    let treasury: Pubkey = deployment.treasury.parse()?;
    let treasury_account = chain
        .rpc
        .get_account(&treasury)
        .context("treasury missing")?;
    if treasury_account.owner != anchor_spl::token::ID {
        bail!("treasury {treasury} is not owned by the token program");
    }
    steps.push(Step {
        step: "treasury owner".into(),
        result: format!("{} (token program), balance 0", treasury_account.owner),
    });

    let summary = DemoSummary {
        validator_url: localnet.url.clone(),
        steps,
        deployment,
    };
    output::print(settings.output, &summary)?;
    localnet.shutdown()
}

/// Requests an airdrop and waits until the balance shows it.
pub fn airdrop(chain: &Chain, to: &Pubkey, lamports: u64) -> anyhow::Result<()> {
    chain
        .rpc
        .request_airdrop(to, lamports)
        .context("airdrop request failed")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if chain.rpc.get_balance(to)? >= lamports {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("airdrop to {to} did not land within 30 s")
}

/// Creates an SPL Token mint with `authority` as mint authority.
pub fn create_mint(chain: &Chain, authority: &Keypair, decimals: u8) -> anyhow::Result<Pubkey> {
    let mint = Keypair::new();
    let space = 82;
    let lamports = chain.rpc.get_minimum_balance_for_rent_exemption(space)?;
    let create = anchor_lang::solana_program::system_instruction::create_account(
        &authority.pubkey(),
        &mint.pubkey(),
        lamports,
        space as u64,
        &anchor_spl::token::ID,
    );
    let init = token_ix::initialize_mint2(
        &anchor_spl::token::ID,
        &mint.pubkey(),
        &authority.pubkey(),
        None,
        decimals,
    )?;
    chain.send(&[create, init], authority, &[&mint])?;
    Ok(mint.pubkey())
}
