//! The example consumer program (`programs/claim-gate`) in the same native SVM, so tests
//! can CPI into Rekam from another program.

use anchor_lang::prelude::{AccountInfo, Pubkey};

use crate::Fixture;

/// Anchor's `entry` ties the slice lifetime to the `AccountInfo` lifetime; the infos the
/// host builds live exactly as long as the call (see `rekam_svm::builtin`).
fn claim_gate_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> u64 {
    // SAFETY: `accounts` outlives the call and the program does not retain it.
    let accounts: &[AccountInfo<'_>] = unsafe { std::mem::transmute(accounts) };
    match claim_gate::entry(program_id, accounts, data) {
        Ok(()) => 0,
        Err(err) => err.into(),
    }
}

impl Fixture {
    /// Adds the claim-gate example program at its declared id.
    pub fn add_claim_gate(&mut self) {
        rekam_svm::add_native(&mut self.svm, claim_gate::ID, claim_gate_entry);
    }
}
