//! `rekam attestation revoke`: the issuing clinic withdraws an attestation.

use anchor_lang::prelude::Pubkey;
use rekam::Attestation;
use rekam_client::ix;
use solana_signer::Signer;

use crate::app::{pubkey_arg, App};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Revoke an attestation you issued; it stops verifying at once.
    #[command(after_help = "Example:\n  rekam -k clinic.json attestation revoke <ATTESTATION>")]
    Revoke {
        /// The attestation's address (as `rekam attest` printed it).
        #[arg(value_parser = pubkey_arg)]
        attestation: Pubkey,
    },
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let Command::Revoke { attestation } = command;
    let mut app = App::new(settings);
    let a: Attestation = app.fetch(&attestation, "attestation")?;
    let (issuer_key, _) = app.own_issuer()?;
    if a.issuer != issuer_key {
        anyhow::bail!(
            "attestation {attestation} was issued by {}, not by your issuer {issuer_key}",
            a.issuer
        );
    }
    let signer = app.signer()?;
    let ix = ix::attestation_revoke(
        &app.program_id(),
        &signer.pubkey(),
        &issuer_key,
        &attestation,
    );
    app.chain.send(&[ix], &signer, &[])?;
    crate::commands::verify::run(settings, crate::commands::verify::Args { attestation })
}
