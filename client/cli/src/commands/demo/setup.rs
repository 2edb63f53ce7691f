//! The demo's set-up helpers: faucet airdrops, a test mint, patient registration.

use anchor_lang::prelude::Pubkey;
use rekam_client::chain::ChainClient;
use rekam_client::flows::setup;
use rekam_client::ix;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::app::App;
use crate::settings::Settings;

/// Requests an airdrop and waits until it is confirmed (the flow `flows::setup::airdrop`).
pub fn airdrop(chain: &ChainClient, to: &Pubkey, lamports: u64) -> anyhow::Result<()> {
    setup::airdrop(chain, to, lamports)?;
    Ok(())
}

/// Creates an SPL Token mint with `authority` as mint authority.
pub fn create_mint(
    chain: &ChainClient,
    authority: &Keypair,
    decimals: u8,
) -> anyhow::Result<Pubkey> {
    Ok(setup::create_mint(chain, authority, decimals)?)
}

/// Registers `wallet` as a patient with a random pseudonym and a new in-memory identity.
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
