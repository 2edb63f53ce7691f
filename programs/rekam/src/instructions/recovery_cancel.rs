//! `recovery_cancel`: the patient's current wallet cancels a recovery (at any time
//! before it executes, in particular during the time lock). The recovery account is
//! closed and its rent returned to the guardian who paid it.
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `recovery` is the patient's (canonical PDA); `proposer` is its proposer.

use anchor_lang::prelude::*;

use crate::constants::{PATIENT_SEED, RECOVERY_SEED};
use crate::error::RekamError;
use crate::events::{self, RecoveryCancelled};
use crate::state::{Patient, Recovery};

#[event_cpi]
#[derive(Accounts)]
pub struct RecoveryCancel<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        mut,
        seeds = [RECOVERY_SEED, patient.key().as_ref()],
        bump = recovery.bump,
        has_one = proposer,
        close = proposer,
    )]
    pub recovery: Account<'info, Recovery>,

    /// CHECK: the guardian who paid the recovery's rent (`has_one` above).
    #[account(mut)]
    pub proposer: UncheckedAccount<'info>,
}

impl RecoveryCancel<'_> {
    pub fn handle(&mut self) -> Result<()> {
        events::emit(
            &self.event_authority,
            &RecoveryCancelled {
                recovery: self.recovery.key(),
                patient: self.patient.key(),
            },
        )
    }
}
