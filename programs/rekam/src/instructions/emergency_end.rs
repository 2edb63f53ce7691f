//! `emergency_end`: the patient, or any current guardian, ends emergency access early.
//! The emergency consent is revoked at once (the next read fails).
//!
//! Checks:
//! - `signer` is `patient.authority` or a current guardian (`NotPatientOrGuardian`).
//! - `guardianship`, `request` and `consent` belong to the patient (canonical PDAs,
//!   `PatientMismatch`); `consent` is the one the request granted.
//! - The access is active: granted, not ended or revoked, not expired
//!   (`EmergencyNotActive`).

use anchor_lang::prelude::*;

use crate::constants::{
    ACCOUNT_VERSION, CONSENT_SEED, EMERGENCY_SEED, GUARDIANS_SEED, PATIENT_SEED,
};
use crate::error::RekamError;
use crate::events::{self, ConsentRevoked, EmergencyEnded};
use crate::state::{Consent, ConsentState, EmergencyRequest, Guardianship, Patient};

#[event_cpi]
#[derive(Accounts)]
pub struct EmergencyEnd<'info> {
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
        seeds = [EMERGENCY_SEED, patient.key().as_ref(), &request.index.to_le_bytes()],
        bump = request.bump,
        has_one = patient @ RekamError::PatientMismatch,
        has_one = consent @ RekamError::EmergencyNotActive,
        constraint = request.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub request: Account<'info, EmergencyRequest>,

    #[account(
        mut,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &consent.index.to_le_bytes()],
        bump = consent.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = consent.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub consent: Account<'info, Consent>,
}

impl EmergencyEnd<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let who = self.signer.key();
        require!(
            who == self.patient.authority || self.guardianship.is_guardian(&who),
            RekamError::NotPatientOrGuardian
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            self.request.is_granted()
                && self.request.ended_at == 0
                && self.consent.state(now) == ConsentState::Active,
            RekamError::EmergencyNotActive
        );
        self.consent.revoked_at = now;
        self.consent.updated_at = now;
        self.request.ended_at = now;
        events::emit(
            &self.event_authority,
            &ConsentRevoked {
                consent: self.consent.key(),
                at: now,
            },
        )?;
        events::emit(
            &self.event_authority,
            &EmergencyEnded {
                request: self.request.key(),
                consent: self.consent.key(),
                ended_by: who,
                at: now,
            },
        )
    }
}
