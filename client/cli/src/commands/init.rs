//! `rekam init`: create a deployment's config and protocol-fee treasury (the program's
//! upgrade authority signs).

use anchor_lang::prelude::Pubkey;
use rekam_client::flows::setup;
use serde::Serialize;
use solana_signer::Signer;

use crate::app::App;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example (as the wallet that deployed the program):\n  rekam init --treasury-mint <MINT> --fee-bps 100"
)]
pub struct Args {
    /// Mint in which protocol fees are collected (SPL Token or Token-2022).
    #[arg(long)]
    pub treasury_mint: Pubkey,
    /// Governance authority (defaults to the signer). May be a multisig vault.
    #[arg(long)]
    pub authority: Option<Pubkey>,
    /// Protocol fee on research payouts, in basis points (max 1000).
    #[arg(long, default_value_t = 0)]
    pub fee_bps: u16,
    /// Accept a mint with a freeze authority (for example a regulated stablecoin): its
    /// issuer can then freeze study escrows and the treasury.
    #[arg(long)]
    pub accept_freeze_authority: bool,
}

/// The deployment as initialized (the flow `flows::setup::initialize`).
#[derive(Serialize)]
pub struct Initialized(pub setup::Initialized);

impl Render for Initialized {
    fn text(&self) -> String {
        let d = &self.0;
        format!(
            "Initialized Rekam deployment {}\n  Config:        {}\n  Authority:     {}\n  Treasury:      {} (mint {}, {})\n  Protocol fee:  {} bps\n  Signature:     {}",
            d.program_id,
            d.config,
            d.authority,
            d.treasury,
            d.treasury_mint,
            d.token_program,
            d.protocol_fee_bps,
            d.signature
        )
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let payer = app.signer()?;
    let report = setup::initialize(
        &app.chain,
        &payer,
        &args.treasury_mint,
        args.authority.unwrap_or(payer.pubkey()),
        args.fee_bps,
        args.accept_freeze_authority,
    )?;
    output::print(settings.output, &Initialized(report))
}
