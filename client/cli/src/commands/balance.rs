//! `rekam airdrop` and `rekam balance`: SOL from the cluster's faucet, and a wallet's SOL
//! and deployment-token balances (flows in `flows::setup`).

use anchor_lang::prelude::Pubkey;
use anyhow::bail;
use rekam_client::flows::setup::{self, Balance, LAMPORTS_PER_SOL};
use serde::Serialize;
use solana_signer::Signer;

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  rekam airdrop 2\n  rekam airdrop 1.5 clinic.json")]
pub struct AirdropArgs {
    /// Amount in SOL (for example 2 or 0.5).
    pub sol: f64,
    /// Recipient: an address or a keypair file [default: the signer's wallet].
    #[arg(value_parser = pubkey_arg)]
    pub to: Option<Pubkey>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  rekam balance\n  rekam balance clinic.json")]
pub struct BalanceArgs {
    /// Wallet: an address or a keypair file [default: the signer's wallet].
    #[arg(value_parser = pubkey_arg)]
    pub address: Option<Pubkey>,
}

#[derive(Serialize)]
struct Airdropped {
    signature: String,
    #[serde(flatten)]
    balance: BalanceOut,
}

impl Render for Airdropped {
    fn text(&self) -> String {
        format!(
            "Airdrop confirmed: {}\n{}",
            self.signature,
            self.balance.text()
        )
    }
}

#[derive(Serialize)]
struct BalanceOut(Balance);

impl Render for BalanceOut {
    fn text(&self) -> String {
        let b = &self.0;
        let mut out = format!(
            "{}\n  SOL:   {} SOL",
            b.address,
            setup::ui_amount(b.lamports, 9)
        );
        match &b.token {
            Some(t) => out.push_str(&format!(
                "\n  Token: {} (mint {}, account {})",
                t.ui_amount, t.mint, t.account
            )),
            None => out.push_str("\n  Token: no Rekam deployment on this cluster yet (rekam init)"),
        }
        out
    }
}

fn target(app: &mut App, given: Option<Pubkey>) -> anyhow::Result<Pubkey> {
    match given {
        Some(key) => Ok(key),
        None => Ok(app.signer()?.pubkey()),
    }
}

pub fn airdrop(settings: &Settings, args: AirdropArgs) -> anyhow::Result<()> {
    if !(args.sol.is_finite() && args.sol > 0.0) {
        bail!(
            "the airdrop amount must be a positive number of SOL, not {}",
            args.sol
        );
    }
    let lamports = (args.sol * LAMPORTS_PER_SOL as f64).round() as u64;
    let mut app = App::new(settings);
    let to = target(&mut app, args.to)?;
    let signature = setup::airdrop(&app.chain, &to, lamports)?;
    let balance = setup::balance(&app.chain, &to)?;
    output::print(
        settings.output,
        &Airdropped {
            signature,
            balance: BalanceOut(balance),
        },
    )
}

pub fn balance(settings: &Settings, args: BalanceArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let owner = target(&mut app, args.address)?;
    output::print(
        settings.output,
        &BalanceOut(setup::balance(&app.chain, &owner)?),
    )
}
