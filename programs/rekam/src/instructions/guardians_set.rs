//! `guardians_set` (first time) and `guardians_change` (later): the patient names up to
//! seven guardians, an M-of-N threshold, the emergency scope and its longest consent,
//! the recovery time lock, and the guardians' key grant (the emergency scope's record
//! keys wrapped to each guardian).
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `guardianship` is the canonical `["guardians", patient]` PDA; new for `set`
//!   (`init`), existing for `change`.
//! - 1..=7 distinct guardians, none the patient's own wallet or the zero key, threshold
//!   1..=N (`InvalidGuardians`); the scope is valid; the emergency limit is at most 72 h
//!   (`InvalidEmergencyTerms`); the time lock is 24 h to 30 days (`InvalidTimelock`); the
//!   key grant is set.
//! - A change takes effect at once: approvals of removed guardians stop counting, in
//!   pending emergency requests and recoveries alike.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, GUARDIANS_SEED, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, GuardiansSet};
use crate::state::{GuardiansArgs, Guardianship, Patient};

#[event_cpi]
#[derive(Accounts)]
pub struct GuardiansInit<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        init,
        payer = authority,
        space = Guardianship::SIZE,
        seeds = [GUARDIANS_SEED, patient.key().as_ref()],
        bump,
    )]
    pub guardianship: Account<'info, Guardianship>,

    pub system_program: Program<'info, System>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct GuardiansChange<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        mut,
        seeds = [GUARDIANS_SEED, patient.key().as_ref()],
        bump = guardianship.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = guardianship.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub guardianship: Account<'info, Guardianship>,
}

/// Writes `args` into `guardianship` and emits the event.
fn apply<'info>(
    guardianship: &mut Account<'info, Guardianship>,
    patient: &Account<'info, Patient>,
    event_authority: &AccountInfo<'info>,
    args: GuardiansArgs,
    bump: u8,
) -> Result<()> {
    args.validate(&patient.authority)?;
    let now = Clock::get()?.unix_timestamp;
    let requested = guardianship.emergencies_requested;
    let (count, threshold) = (args.guardians.len() as u8, args.threshold);
    guardianship.set_inner(Guardianship {
        version: ACCOUNT_VERSION,
        bump,
        patient: patient.key(),
        guardians: args.guardians,
        threshold: args.threshold,
        emergency_scope: args.emergency_scope,
        emergency_max_seconds: args.emergency_max_seconds,
        recovery_timelock_seconds: args.recovery_timelock_seconds,
        key_grant: args.key_grant,
        emergencies_requested: requested,
        updated_at: now,
    });
    events::emit(
        event_authority,
        &GuardiansSet {
            guardianship: guardianship.key(),
            patient: patient.key(),
            guardians: count,
            threshold,
        },
    )
}

impl GuardiansInit<'_> {
    pub fn handle(&mut self, args: GuardiansArgs, bump: u8) -> Result<()> {
        apply(
            &mut self.guardianship,
            &self.patient,
            &self.event_authority,
            args,
            bump,
        )
    }
}

impl GuardiansChange<'_> {
    pub fn handle(&mut self, args: GuardiansArgs) -> Result<()> {
        let bump = self.guardianship.bump;
        apply(
            &mut self.guardianship,
            &self.patient,
            &self.event_authority,
            args,
            bump,
        )
    }
}
