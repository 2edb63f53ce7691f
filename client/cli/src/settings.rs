//! Global options, resolved once into [`Settings`]. Precedence, for every setting:
//! flag > environment (`REKAM_*`) > the Solana CLI config file
//! (`~/.config/solana/cli/config.yml`: `json_rpc_url`, `keypair_path`, `commitment`) >
//! default.

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
    /// The signer: a keypair file (a JSON array of 64 bytes, as solana-keygen writes) or a
    /// `usb://` hardware wallet.
    #[arg(short = 'k', long = "keypair", global = true, env = "REKAM_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Encryption identity file [default: beside the keypair file, NAME.identity.json].
    #[arg(long = "identity", global = true, env = "REKAM_IDENTITY")]
    pub identity: Option<PathBuf>,
    /// File holding the identity's passphrase (else REKAM_IDENTITY_PASSPHRASE, else a
    /// prompt when stdin is a terminal).
    #[arg(
        long = "identity-passphrase-file",
        global = true,
        env = "REKAM_IDENTITY_PASSPHRASE_FILE"
    )]
    pub identity_passphrase_file: Option<PathBuf>,
    /// Commitment level for reads and confirmations [default: confirmed].
    #[arg(long, global = true, value_enum)]
    pub commitment: Option<Commitment>,
    /// Program id of the Rekam deployment to talk to.
    #[arg(long = "program-id", global = true, env = "REKAM_PROGRAM_ID")]
    pub program_id: Option<Pubkey>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Solana CLI config file to read defaults from.
    #[arg(
        short = 'C',
        long = "config",
        global = true,
        env = "REKAM_SOLANA_CONFIG"
    )]
    pub config_file: Option<PathBuf>,
    /// Where encrypted records are stored: local, ipfs or s3 (see REKAM_* variables).
    #[arg(long, global = true)]
    pub store: Option<String>,
    /// Folder of the local store.
    #[arg(long, global = true)]
    pub store_dir: Option<PathBuf>,
    /// Compute-unit limit for each transaction.
    #[arg(long, global = true)]
    pub compute_unit_limit: Option<u32>,
    /// Priority fee in micro-lamports per compute unit.
    #[arg(long = "with-compute-unit-price", global = true)]
    pub compute_unit_price: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub keypair_path: PathBuf,
    /// The encryption identity's keystore file (`rekam-identity/1`).
    pub identity_path: PathBuf,
    pub identity_passphrase_file: Option<PathBuf>,
    pub commitment: CommitmentConfig,
    pub program_id: Pubkey,
    pub output: OutputFormat,
    pub store: rekam_client::storage::StoreConfig,
    pub fees: rekam_client::chain::FeeOptions,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Self> {
        let file = SolanaConfig::load(args.config_file.as_deref())?;
        let url = args
            .url
            .clone()
            .or(file.json_rpc_url)
            .map(|u| resolve_moniker(&u).to_string())
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        let keypair_path = match args.keypair.clone().or(file.keypair_path) {
            Some(path) => path,
            None => default_keypair_path()
                .context("cannot locate the home directory; pass --keypair")?,
        };
        let identity_path = match args.identity.clone() {
            Some(path) => path,
            None if crate::keypair::is_remote(&keypair_path) => remote_identity_path(&keypair_path)
                .context("cannot locate the home directory; pass --identity")?,
            None => rekam_client::crypto::keystore::default_path(&keypair_path),
        };
        let commitment = match args
            .commitment
            .or(file.commitment)
            .unwrap_or(Commitment::Confirmed)
        {
            Commitment::Processed => CommitmentConfig::processed(),
            Commitment::Confirmed => CommitmentConfig::confirmed(),
            Commitment::Finalized => CommitmentConfig::finalized(),
        };
        let store = rekam_client::storage::StoreConfig::resolve(
            args.store.as_deref(),
            args.store_dir.clone(),
        )?;
        Ok(Self {
            url,
            keypair_path,
            identity_path,
            identity_passphrase_file: args.identity_passphrase_file.clone(),
            commitment,
            program_id: args.program_id.unwrap_or(rekam::ID),
            output: args.output,
            store,
            fees: rekam_client::chain::FeeOptions {
                compute_unit_limit: args.compute_unit_limit,
                compute_unit_price: args.compute_unit_price,
            },
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

/// A hardware wallet has no file to keep its identity beside: the identity file goes to
/// `~/.config/rekam/<the locator, as a file name>.identity.json`
/// (`usb://ledger?key=1` → `usb-ledger-key-1.identity.json`).
fn remote_identity_path(locator: &std::path::Path) -> Option<PathBuf> {
    let name: String = locator
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    std::env::var_os("HOME").map(|home| {
        PathBuf::from(home)
            .join(".config/rekam")
            .join(format!("{name}.identity.json"))
    })
}

fn default_keypair_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/solana/id.json"))
}

/// The three settings Rekam takes from the Solana CLI config file.
#[derive(Debug, Default, PartialEq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub keypair_path: Option<PathBuf>,
    pub commitment: Option<Commitment>,
}

impl SolanaConfig {
    /// Reads `path`, or the default location when it exists. The file is flat YAML
    /// (`key: value` lines), as `solana config set` writes it.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let default = std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".config/solana/cli/config.yml"));
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default {
                Some(p) => (p, false),
                None => return Ok(Self::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if !required && err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default())
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot read config file {}", path.display()))
            }
        };
        Ok(Self::parse(&text))
    }

    pub fn parse(text: &str) -> Self {
        let mut config = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            if value.is_empty() {
                continue;
            }
            match key.trim() {
                "json_rpc_url" => config.json_rpc_url = Some(value.to_string()),
                "keypair_path" => config.keypair_path = Some(PathBuf::from(value)),
                "commitment" => {
                    config.commitment = match value {
                        "processed" => Some(Commitment::Processed),
                        "confirmed" => Some(Commitment::Confirmed),
                        "finalized" => Some(Commitment::Finalized),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hardware_wallet_keeps_its_identity_under_the_rekam_config_folder() {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
        let path = |locator: &str| {
            remote_identity_path(std::path::Path::new(locator))
                .unwrap()
                .strip_prefix(&home)
                .unwrap()
                .display()
                .to_string()
        };
        assert_eq!(
            path("usb://ledger"),
            ".config/rekam/usb-ledger.identity.json"
        );
        assert_eq!(
            path("usb://ledger?key=1/0"),
            ".config/rekam/usb-ledger-key-1-0.identity.json"
        );
        // Two devices, told apart by the public key in the locator.
        assert_ne!(
            path("usb://ledger/BsNsvfXqQTtJnagwFWdBS7FBXgnsK8VZ5CmuznN85swK"),
            path("usb://ledger/3Ft6R2qH9NXkLvFCK4tyeBz8N5NjhFk6m1ZUHXkbbcLz")
        );
    }

    #[test]
    fn reads_the_solana_cli_config_format() {
        let text = "---\njson_rpc_url: \"http://127.0.0.1:9999\"\nwebsocket_url: \"\"\nkeypair_path: /home/a/.config/solana/id.json\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: finalized\n";
        assert_eq!(
            SolanaConfig::parse(text),
            SolanaConfig {
                json_rpc_url: Some("http://127.0.0.1:9999".into()),
                keypair_path: Some(PathBuf::from("/home/a/.config/solana/id.json")),
                commitment: Some(Commitment::Finalized),
            }
        );
    }

    #[test]
    fn monikers_resolve_like_the_solana_cli() {
        assert_eq!(resolve_moniker("localhost"), DEFAULT_URL);
        assert_eq!(resolve_moniker("devnet"), "https://api.devnet.solana.com");
        assert_eq!(resolve_moniker("http://x:1"), "http://x:1");
    }
}
