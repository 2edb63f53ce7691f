//! `rekam init`: create a deployment's config and protocol-fee treasury.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{Config, ConfigInitializeArgs};
use rekam_client::chain::ChainClient;
use rekam_client::{ix, pda};
use serde::Serialize;
use solana_signer::Signer;

use crate::app::App;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
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
}

#[derive(Serialize)]
pub struct Initialized {
    pub signature: String,
    pub program_id: String,
    pub config: String,
    pub authority: String,
    pub treasury: String,
    pub treasury_mint: String,
    pub token_program: String,
    pub protocol_fee_bps: u16,
}

impl Render for Initialized {
    fn text(&self) -> String {
        format!(
            "Initialized Rekam deployment {}\n  Config:        {}\n  Authority:     {}\n  Treasury:      {} (mint {}, {})\n  Protocol fee:  {} bps\n  Signature:     {}",
            self.program_id,
            self.config,
            self.authority,
            self.treasury,
            self.treasury_mint,
            self.token_program,
            self.protocol_fee_bps,
            self.signature
        )
    }
}

/// Sends `config_initialize` and reads the result back from the chain.
pub fn initialize(
    chain: &ChainClient,
    program_id: &Pubkey,
    payer: &solana_keypair::Keypair,
    treasury_mint: &Pubkey,
    authority: Pubkey,
    fee_bps: u16,
) -> anyhow::Result<Initialized> {
    let mint_account = chain.rpc.get_account(treasury_mint).with_context(|| {
        format!(
            "treasury mint {treasury_mint} not found on {}",
            chain.rpc.url()
        )
    })?;
    let token_program = mint_account.owner;
    if token_program != anchor_spl::token::ID && token_program != anchor_spl::token_2022::ID {
        bail!("{treasury_mint} is not a token mint (owner {token_program})");
    }
    let config_key = pda::config(program_id);
    if chain.fetch::<Config>(&config_key)?.is_some() {
        bail!("deployment {program_id} is already initialized (config {config_key})");
    }
    let instruction = ix::config_initialize(
        program_id,
        &payer.pubkey(),
        treasury_mint,
        &token_program,
        ConfigInitializeArgs {
            authority,
            protocol_fee_bps: fee_bps,
        },
    );
    let signature = chain.send(&[instruction], payer, &[])?;
    let config = chain
        .fetch::<Config>(&config_key)?
        .context("config missing after a confirmed initialize")?;
    Ok(Initialized {
        signature,
        program_id: program_id.to_string(),
        config: config_key.to_string(),
        authority: config.authority.to_string(),
        treasury: config.treasury.to_string(),
        treasury_mint: config.treasury_mint.to_string(),
        token_program: token_program.to_string(),
        protocol_fee_bps: config.protocol_fee_bps,
    })
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let payer = app.signer()?.insecure_clone();
    let chain = &app.chain;
    let report = initialize(
        chain,
        &settings.program_id,
        &payer,
        &args.treasury_mint,
        args.authority.unwrap_or(payer.pubkey()),
        args.fee_bps,
    )?;
    output::print(settings.output, &report)
}
