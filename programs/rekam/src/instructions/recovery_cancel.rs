//! `recovery_cancel`: ends a pending recovery. The recovery account is closed and its
//! rent returned to the guardian who paid it.
//!
//! - The patient's current wallet may cancel at any time before execution, in particular
//!   during the time lock.
//! - A current guardian may clear a *stale* proposal: one that did not reach the threshold
//!   within one time lock of being proposed, whose lock no longer holds (the guardians
//!   changed or approvals fell below the threshold), or that was not executed within 7
//!   days of its lock (a mistyped or lost new wallet: audit finding 5). Without this, one dishonest guardian could
//!   block recovery of a lost wallet forever by proposing a wrong wallet first (only one
//!   recovery exists at a time); with it, such a proposal lapses and honest guardians
//!   propose again.
//!
//! Checks:
//! - `signer` is `patient.authority`, or a current guardian (`NotPatientOrGuardian`) and
//!   the proposal is stale (`RecoveryStillPending`).
//! - `recovery` is the patient's (canonical PDA); `proposer` is its proposer.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, GUARDIANS_SEED, PATIENT_SEED, RECOVERY_SEED};
use crate::error::RekamError;
use crate::events::{self, RecoveryCancelled};
use crate::state::{Guardianship, Patient, Recovery};

#[event_cpi]
#[derive(Accounts)]
pub struct RecoveryCancel<'info> {
    pub signer: Signer<'info>,

    #[account(
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        seeds = [GUARDIANS_SEED, patient.key().as_ref()],
        bump = guardianship.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = guardianship.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub guardianship: Account<'info, Guardianship>,

    #[account(
        mut,
        seeds = [RECOVERY_SEED, patient.key().as_ref()],
        bump = recovery.bump,
        has_one = proposer,
        close = proposer,
        constraint = recovery.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub recovery: Account<'info, Recovery>,

    /// CHECK: the guardian who paid the recovery's rent (`has_one` above).
    #[account(mut)]
    pub proposer: UncheckedAccount<'info>,
}

impl RecoveryCancel<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let who = self.signer.key();
        if who != self.patient.authority {
            require!(
                self.guardianship.is_guardian(&who),
                RekamError::NotPatientOrGuardian
            );
            let now = Clock::get()?.unix_timestamp;
            require!(
                self.recovery.is_stale(&self.guardianship, now),
                RekamError::RecoveryStillPending
            );
        }
        events::emit(
            &self.event_authority,
            &RecoveryCancelled {
                recovery: self.recovery.key(),
                patient: self.patient.key(),
            },
        )
    }
}
