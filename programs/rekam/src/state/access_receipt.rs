//! An access receipt: the on-chain record that a grantee read a record under a consent.
//! Receipts are accounts (not only events) so a patient's audit trail can be rebuilt from
//! current chain state alone, even where RPC nodes have pruned transaction history.
//!
//! Seeds: `["access", consent, index]` with `index` the consent's `access_count` (u64 LE)
//! before the read.

use anchor_lang::prelude::*;

use crate::constants::ACCESS_SEED;
use crate::state::Purpose;

#[account(discriminator = [6])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct AccessReceipt {
    pub version: u8,
    pub bump: u8,
    pub consent: Pubkey,
    /// The attestation of the record that was read.
    pub attestation: Pubkey,
    /// The grantee wallet that read it.
    pub accessor: Pubkey,
    pub purpose: Purpose,
    pub index: u64,
    pub accessed_at: i64,
}

impl AccessReceipt {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, consent: &Pubkey, index: u64) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[ACCESS_SEED, consent.as_ref(), &index.to_le_bytes()],
            program_id,
        )
    }
}
