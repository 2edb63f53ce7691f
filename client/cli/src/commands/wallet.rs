//! `rekam wallet new`: a keypair file the Solana CLI reads (flow `flows::wallet`).

use std::path::PathBuf;

use rekam_client::flows::wallet;
use serde::Serialize;
use solana_signer::Signer;

use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write a new keypair file (mode 0600), readable by `solana` and `solana-keygen`.
    #[command(after_help = "Example:\n  rekam wallet new -o clinic.json")]
    New {
        /// Where to write it [default: the --keypair path, ~/.config/solana/id.json].
        #[arg(short = 'o', long = "outfile")]
        outfile: Option<PathBuf>,
        /// Replace an existing file (its wallet is lost unless backed up).
        #[arg(long)]
        force: bool,
    },
    /// Print the address of the signer's wallet (or of --keypair).
    #[command(after_help = "Example:\n  rekam -k clinic.json wallet address")]
    Address,
}

#[derive(Serialize)]
struct Created {
    address: String,
    path: PathBuf,
}

impl Render for Created {
    fn text(&self) -> String {
        format!(
            "Wrote a new wallet to {} (mode 0600)\n  Address: {}\nBack this file up: whoever holds it controls the wallet.",
            self.path.display(),
            self.address
        )
    }
}

#[derive(Serialize)]
struct Address {
    address: String,
}

impl Render for Address {
    fn text(&self) -> String {
        self.address.clone()
    }
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    match command {
        Command::New { outfile, force } => {
            let path = outfile.unwrap_or_else(|| settings.keypair_path.clone());
            let keypair = wallet::new_keypair_file(&path, force)?;
            output::print(
                settings.output,
                &Created {
                    address: keypair.pubkey().to_string(),
                    path,
                },
            )
        }
        Command::Address => {
            let keypair = crate::keypair::read_signer(&settings.keypair_path)?;
            output::print(
                settings.output,
                &Address {
                    address: keypair.pubkey().to_string(),
                },
            )
        }
    }
}
