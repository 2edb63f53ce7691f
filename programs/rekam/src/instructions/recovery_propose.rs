//! `recovery_propose`: a guardian proposes moving the patient's authority to a new
//! wallet (the patient lost theirs). The proposal counts as the proposer's approval;
//! once M guardians approve, a time lock starts, during which the current wallet can
//! cancel.
//!
//! Checks:
//! - `guardian` signs, pays, and is a current guardian (`NotGuardian`).
//! - `recovery` is the canonical `["recovery", patient]` PDA, new: one recovery at a time.
//!   It is created with `create::pda`, so lamports sent there first cannot block every
//!   recovery of the patient (audit finding 9).
//! - The new wallet is set and is not the current one (`SameWallet`).

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, GUARDIANS_SEED, PATIENT_SEED, RECOVERY_SEED};
use crate::error::RekamError;
use crate::events::{self, RecoveryApproved, RecoveryProposed};
use crate::state::{add_approval, Guardianship, Patient, Recovery};

#[event_cpi]
#[derive(Accounts)]
pub struct RecoveryPropose<'info> {
    #[account(mut)]
    pub guardian: Signer<'info>,

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

    /// CHECK: the canonical PDA (seeds); created and written in the handler
    /// (`create::pda`, which refuses an address already in use).
    #[account(mut, seeds = [RECOVERY_SEED, patient.key().as_ref()], bump)]
    pub recovery: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl RecoveryPropose<'_> {
    pub fn handle(&mut self, new_authority: Pubkey, bump: u8) -> Result<()> {
        require!(
            new_authority != Pubkey::default() && new_authority != self.patient.authority,
            RekamError::SameWallet
        );
        let now = Clock::get()?.unix_timestamp;
        let mut approvals = Vec::new();
        add_approval(
            &mut approvals,
            &self.guardianship.guardians,
            self.guardian.key(),
            now,
        )?;
        let mut recovery = Recovery {
            version: ACCOUNT_VERSION,
            bump,
            patient: self.patient.key(),
            proposer: self.guardian.key(),
            new_authority,
            proposed_at: now,
            approvals,
            unlocks_at: 0,
            locked_at: 0,
        };
        recovery.relock(&self.guardianship, now)?;
        let unlocks_at = recovery.unlocks_at;
        let patient = self.patient.key();
        crate::create::pda(
            &self.guardian.to_account_info(),
            &self.recovery.to_account_info(),
            &self.system_program.to_account_info(),
            Recovery::SIZE,
            &[RECOVERY_SEED, patient.as_ref(), &[bump]],
        )?;
        crate::create::write(&self.recovery.to_account_info(), &recovery)?;
        events::emit(
            &self.event_authority,
            &RecoveryProposed {
                recovery: self.recovery.key(),
                patient: self.patient.key(),
                proposer: self.guardian.key(),
                new_authority,
            },
        )?;
        events::emit(
            &self.event_authority,
            &RecoveryApproved {
                recovery: self.recovery.key(),
                guardian: self.guardian.key(),
                unlocks_at,
            },
        )
    }
}
