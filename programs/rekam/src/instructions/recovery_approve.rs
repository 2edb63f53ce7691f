//! `recovery_approve`: a guardian approves a pending recovery. When the approvals of
//! current guardians reach the threshold, the time lock starts; a lock that no longer
//! holds (the guardians changed, or approvals fell below the threshold) is voided first,
//! so a new lock always runs in full on the current guardians' approvals.
//!
//! Checks:
//! - `guardian` signs and is a current guardian (`NotGuardian`), once (`AlreadyApproved`).
//! - `guardianship` and `recovery` belong to the same patient (`PatientMismatch`).

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, GUARDIANS_SEED, RECOVERY_SEED};
use crate::error::RekamError;
use crate::events::{self, RecoveryApproved};
use crate::state::{add_approval, Guardianship, Recovery};

#[event_cpi]
#[derive(Accounts)]
pub struct RecoveryApprove<'info> {
    pub guardian: Signer<'info>,

    #[account(
        seeds = [GUARDIANS_SEED, guardianship.patient.as_ref()],
        bump = guardianship.bump,
        constraint = guardianship.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub guardianship: Account<'info, Guardianship>,

    #[account(
        mut,
        seeds = [RECOVERY_SEED, recovery.patient.as_ref()],
        bump = recovery.bump,
        constraint = recovery.patient == guardianship.patient @ RekamError::PatientMismatch,
        constraint = recovery.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub recovery: Account<'info, Recovery>,
}

impl RecoveryApprove<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        add_approval(
            &mut self.recovery.approvals,
            &self.guardianship.guardians,
            self.guardian.key(),
            now,
        )?;
        self.recovery.relock(&self.guardianship, now)?;
        events::emit(
            &self.event_authority,
            &RecoveryApproved {
                recovery: self.recovery.key(),
                guardian: self.guardian.key(),
                unlocks_at: self.recovery.unlocks_at,
            },
        )
    }
}
