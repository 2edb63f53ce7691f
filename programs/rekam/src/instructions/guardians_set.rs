//! `guardians_set` (first time) and `guardians_change` (later): the patient names up to
//! seven guardians, an M-of-N threshold, the emergency scope and its longest consent,
//! the recovery time lock, and the guardians' key grant (the emergency scope's record
//! keys wrapped to each guardian).
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `guardianship` is the canonical `["guardians", patient]` PDA; new for `set`
//!   (created with `create::pda`: the address is predictable from the public profile, so
//!   a pre-funded one must not block a patient from ever naming guardians, audit finding
//!   9), existing for `change`.
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

    /// CHECK: the canonical `["guardians", patient]` PDA (seeds); created in the handler
    /// with `create::pda`, which refuses an address in use (guardians already set).
    #[account(mut, seeds = [GUARDIANS_SEED, patient.key().as_ref()], bump)]
    pub guardianship: UncheckedAccount<'info>,

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

/// The guardianship `args` describe (validated), keeping the request counter.
fn settings(
    patient: &Account<'_, Patient>,
    args: GuardiansArgs,
    bump: u8,
    emergencies_requested: u64,
) -> Result<Guardianship> {
    args.validate(&patient.authority)?;
    Ok(Guardianship {
        version: ACCOUNT_VERSION,
        bump,
        patient: patient.key(),
        guardians: args.guardians,
        threshold: args.threshold,
        emergency_scope: args.emergency_scope,
        emergency_max_seconds: args.emergency_max_seconds,
        recovery_timelock_seconds: args.recovery_timelock_seconds,
        key_grant: args.key_grant,
        emergencies_requested,
        updated_at: Clock::get()?.unix_timestamp,
    })
}

fn announce(event_authority: &AccountInfo<'_>, key: Pubkey, g: &Guardianship) -> Result<()> {
    events::emit(
        event_authority,
        &GuardiansSet {
            guardianship: key,
            patient: g.patient,
            guardians: g.guardians.len() as u8,
            threshold: g.threshold,
        },
    )
}

impl GuardiansInit<'_> {
    pub fn handle(&mut self, args: GuardiansArgs, bump: u8) -> Result<()> {
        let patient = self.patient.key();
        crate::create::pda(
            &self.authority.to_account_info(),
            &self.guardianship.to_account_info(),
            &self.system_program.to_account_info(),
            Guardianship::SIZE,
            &[GUARDIANS_SEED, patient.as_ref(), &[bump]],
        )?;
        let guardianship = settings(&self.patient, args, bump, 0)?;
        crate::create::write(&self.guardianship.to_account_info(), &guardianship)?;
        announce(
            &self.event_authority,
            self.guardianship.key(),
            &guardianship,
        )
    }
}

impl GuardiansChange<'_> {
    pub fn handle(&mut self, args: GuardiansArgs) -> Result<()> {
        let g = &self.guardianship;
        let next = settings(&self.patient, args, g.bump, g.emergencies_requested)?;
        self.guardianship.set_inner(next);
        announce(
            &self.event_authority,
            self.guardianship.key(),
            &self.guardianship,
        )
    }
}
