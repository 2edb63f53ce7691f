//! Global options, resolved once into [`Settings`]. Precedence: flag > environment >
//! default. (Reading the Solana CLI config file comes with the full CLI.)

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use clap::{Args, ValueEnum};
use solana_commitment_config::CommitmentConfig;

use crate::output::OutputFormat;

/// The default cluster: the local validator started by `rekam localnet`.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8899";

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Cluster: a URL or a moniker (localhost, devnet, testnet, mainnet-beta).
    #[arg(short = 'u', long = "url", global = true, env = "REKAM_URL")]
    pub url: Option<String>,
    /// Keypair file of the signer (a JSON array of 64 bytes, as solana-keygen writes).
    #[arg(short = 'k', long = "keypair", global = true, env = "REKAM_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Commitment level for reads and confirmations.
    #[arg(long, global = true, value_enum, default_value_t = Commitment::Confirmed)]
    pub commitment: Commitment,
    /// Program id of the Rekam deployment to talk to.
    #[arg(long = "program-id", global = true, env = "REKAM_PROGRAM_ID")]
    pub program_id: Option<Pubkey>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub keypair_path: PathBuf,
    pub commitment: CommitmentConfig,
    pub program_id: Pubkey,
    pub output: OutputFormat,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Self> {
        let url = args
            .url
            .as_deref()
            .map(resolve_moniker)
            .unwrap_or(DEFAULT_URL)
            .to_string();
        let keypair_path = match &args.keypair {
            Some(path) => path.clone(),
            None => default_keypair_path()
                .context("cannot locate the home directory; pass --keypair")?,
        };
        let commitment = match args.commitment {
            Commitment::Processed => CommitmentConfig::processed(),
            Commitment::Confirmed => CommitmentConfig::confirmed(),
            Commitment::Finalized => CommitmentConfig::finalized(),
        };
        Ok(Self {
            url,
            keypair_path,
            commitment,
            program_id: args.program_id.unwrap_or(rekam::ID),
            output: args.output,
        })
    }
}

/// Solana CLI monikers, as `solana -u` accepts them.
pub fn resolve_moniker(url: &str) -> &str {
    match url {
        "l" | "localhost" => DEFAULT_URL,
        "d" | "devnet" => "https://api.devnet.solana.com",
        "t" | "testnet" => "https://api.testnet.solana.com",
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com",
        other => other,
    }
}

fn default_keypair_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/solana/id.json"))
}
