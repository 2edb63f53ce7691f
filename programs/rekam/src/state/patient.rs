//! A patient profile. It holds no identifying data: a random pseudonym (the seed), the
//! wallet that controls it, and an X25519 key records are wrapped to.
//!
//! Seeds: `["patient", pseudonym]`. The pseudonym is 32 random bytes chosen by the
//! patient's client; the address is what attestations and consents point at, and it stays
//! the same when the controlling wallet changes (key recovery).

use anchor_lang::prelude::*;

use crate::constants::PATIENT_SEED;

#[account(discriminator = [3])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Patient {
    pub version: u8,
    pub bump: u8,
    /// Wallet that signs consents for this patient.
    pub authority: Pubkey,
    /// X25519 public key the patient's record keys are wrapped to.
    pub encryption_key: [u8; 32],
    /// Random pseudonym (the PDA seed). Never derived from a real-world identifier.
    pub pseudonym: [u8; 32],
    /// Consents created so far; the next consent's index (its seed).
    pub consents_created: u64,
    /// Access receipts recorded against this patient's records.
    pub accesses: u64,
}

impl Patient {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, pseudonym: &[u8; 32]) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[PATIENT_SEED, pseudonym], program_id)
    }
}
