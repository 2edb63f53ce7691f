//! A paid contribution: a patient's attestation accepted into a study.
//!
//! Seeds: `["contribution", study, attestation]`. Created in the paying instruction, so
//! an attestation can be paid at most once per study, whoever submits it.

use anchor_lang::prelude::*;

use crate::constants::CONTRIBUTION_SEED;

#[account(discriminator = [8])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Contribution {
    pub version: u8,
    pub bump: u8,
    pub study: Pubkey,
    pub attestation: Pubkey,
    /// The patient profile PDA (a pseudonym).
    pub patient: Pubkey,
    /// The research consent granted with it; its key grant locates the de-identified copy.
    pub consent: Pubkey,
    /// Tokens the patient received.
    pub payout: u64,
    /// Protocol fee taken from the price.
    pub fee: u64,
    pub contributed_at: i64,
    /// Content address (BLAKE3) of the de-identified copy that was paid for (the research
    /// consent's key grant hash at payment); the researcher refuses a copy that differs.
    pub copy_hash: [u8; 32],
}

impl Contribution {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, study: &Pubkey, attestation: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[CONTRIBUTION_SEED, study.as_ref(), attestation.as_ref()],
            program_id,
        )
    }
}
