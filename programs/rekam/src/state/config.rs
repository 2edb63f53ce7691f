//! The deployment config: governance authority and protocol-fee treasury.
//!
//! Seeds: `["config"]`. One per deployment.

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, MAX_PROTOCOL_FEE_BPS, TREASURY_SEED};

#[account(discriminator = [1])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Config {
    /// Layout version (`ACCOUNT_VERSION` at creation).
    pub version: u8,
    /// Canonical bump of this PDA, stored so later checks never re-derive it.
    pub bump: u8,
    /// Governance authority: accredits issuers, sets fees. May be a multisig vault.
    pub authority: Pubkey,
    /// Proposed next authority (two-step rotation); `Pubkey::default()` when none.
    pub pending_authority: Pubkey,
    /// Mint in which protocol fees are collected.
    pub treasury_mint: Pubkey,
    /// Token account (PDA `["treasury", mint]`) that receives protocol fees.
    pub treasury: Pubkey,
    /// Canonical bump of the treasury PDA.
    pub treasury_bump: u8,
    /// Protocol fee on research payouts, in basis points.
    pub protocol_fee_bps: u16,
}

impl Config {
    /// Account size including the discriminator.
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[CONFIG_SEED], program_id)
    }

    pub fn find_treasury_address(program_id: &Pubkey, mint: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[TREASURY_SEED, mint.as_ref()], program_id)
    }

    /// Rules every stored config satisfies.
    pub fn invariant(&self) -> bool {
        self.protocol_fee_bps <= MAX_PROTOCOL_FEE_BPS
    }
}
