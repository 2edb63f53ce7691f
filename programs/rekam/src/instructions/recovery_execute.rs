//! `recovery_execute`: after the time lock, the new wallet takes over the patient
//! profile and sets its encryption key. Only authority moves: no consent is created and
//! nothing can be read through a recovery. The profile's address (its pseudonym) stays,
//! so every attestation, consent and receipt keeps pointing at it.
//!
//! Checks:
//! - `new_authority` signs and is the recovery's new wallet (`NotNewAuthority`).
//! - The threshold was met (`ThresholdNotMet` while it was not); the lock still holds
//!   (`RecoveryLockVoid`: the guardians changed after it started, or approvals of current
//!   guardians no longer meet the threshold); the time lock has passed (`TimelockActive`)
//!   and the execution window has not (`RecoveryExpired`, 7 days after the lock).
//! - The encryption key is set (`InvalidEncryptionKey`).
//! - The recovery account is closed, its rent returned to its proposer.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, GUARDIANS_SEED, PATIENT_SEED, RECOVERY_SEED};
use crate::error::RekamError;
use crate::events::{self, PatientRecovered};
use crate::state::{Guardianship, Patient, Recovery};

#[event_cpi]
#[derive(Accounts)]
pub struct RecoveryExecute<'info> {
    pub new_authority: Signer<'info>,

    #[account(
        mut,
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
        has_one = new_authority @ RekamError::NotNewAuthority,
        close = proposer,
        constraint = recovery.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub recovery: Account<'info, Recovery>,

    /// CHECK: the guardian who paid the recovery's rent (`has_one` above).
    #[account(mut)]
    pub proposer: UncheckedAccount<'info>,
}

impl RecoveryExecute<'_> {
    pub fn handle(&mut self, encryption_key: [u8; 32]) -> Result<()> {
        require!(encryption_key != [0; 32], RekamError::InvalidEncryptionKey);
        let now = Clock::get()?.unix_timestamp;
        require!(self.recovery.unlocks_at != 0, RekamError::ThresholdNotMet);
        require!(
            self.recovery.lock_holds(&self.guardianship),
            RekamError::RecoveryLockVoid
        );
        require!(now >= self.recovery.unlocks_at, RekamError::TimelockActive);
        require!(
            now <= self.recovery.execute_until(),
            RekamError::RecoveryExpired
        );
        let previous = self.patient.authority;
        self.patient.authority = self.new_authority.key();
        self.patient.encryption_key = encryption_key;
        events::emit(
            &self.event_authority,
            &PatientRecovered {
                patient: self.patient.key(),
                previous,
                current: self.new_authority.key(),
            },
        )
    }
}
