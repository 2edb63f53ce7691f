//! Rekam: patient-controlled medical record attestations and consent on Solana.
//!
//! The program never sees plaintext health data. It stores salted commitments, consent
//! grants and access receipts; records themselves are encrypted off-chain by the client.
//!
//! Layout: one instruction per file under `instructions/`, account types under `state/`,
//! seeds in `constants.rs`, the error ABI in `error.rs`, events in `events.rs`.

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod platform;
pub mod state;

pub use constants::*;
pub use error::RekamError;
pub use instructions::*;
pub use state::*;

declare_id!("6c6JLhPn2cgcyBvbxFk8dYuAWqJEraZA5mTZaEYzbENn");

#[program]
pub mod rekam {
    use super::*;

    /// Creates the deployment's config PDA and its protocol-fee treasury token account.
    pub fn config_initialize(
        ctx: Context<ConfigInitialize>,
        args: ConfigInitializeArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args, &ctx.bumps)
    }

    /// Moves protocol fees out of the treasury; governance authority only.
    pub fn treasury_withdraw(ctx: Context<TreasuryWithdraw>, amount: u64) -> Result<()> {
        ctx.accounts.handle(amount)
    }
}
