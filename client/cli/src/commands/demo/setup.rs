//! The demo's set-up helpers: faucet airdrops, a test mint, patient registration.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anyhow::{bail, Context};
use rekam_client::chain::ChainClient;
use rekam_client::ix;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::app::App;
use crate::settings::Settings;

/// Requests an airdrop and waits until the balance shows it.
pub fn airdrop(chain: &ChainClient, to: &Pubkey, lamports: u64) -> anyhow::Result<()> {
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
pub fn create_mint(
    chain: &ChainClient,
    authority: &Keypair,
    decimals: u8,
) -> anyhow::Result<Pubkey> {
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

/// Registers `wallet` as a patient with a random pseudonym and its wallet-derived key.
pub fn register_patient(
    chain: &ChainClient,
    settings: &Settings,
    wallet: &Keypair,
) -> anyhow::Result<(App, Pubkey)> {
    let mut app = App::with_keypair(settings, wallet.insecure_clone());
    let mut pseudonym = [0u8; 32];
    aws_lc_rs::rand::fill(&mut pseudonym).map_err(|_| anyhow::anyhow!("system RNG failed"))?;
    let register = ix::patient_register(
        &settings.program_id,
        &wallet.pubkey(),
        rekam::PatientRegisterArgs {
            pseudonym,
            encryption_key: app.identity()?.public_key(),
        },
    );
    chain.send(&[register], wallet, &[])?;
    let (profile, _) = app.own_patient()?;
    Ok((app, profile))
}
