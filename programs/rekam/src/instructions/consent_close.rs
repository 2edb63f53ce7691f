//! `consent_close`: the patient closes a consent that has ended (revoked, or expired) and
//! takes its rent back (audit finding 8: consent rent could never be reclaimed).
//!
//! The audit trail stays reconstructible: `ConsentClosed` carries everything the account
//! held that the trail needs (grantee, purpose, period, revocation, how many reads), on
//! top of the `ConsentGranted`, `ConsentRevoked` and `AccessRecorded` events already in
//! the ledger, and the consent's receipts are separate accounts (`receipt_close`). A
//! closed consent's address is never reused: consent indexes only grow.
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `consent` is at its canonical PDA and names `patient` (`PatientMismatch`).
//! - The consent has ended: revoked, or expired now (`ConsentStillActive`). A consent not
//!   yet started is not closable: revoke it first.
//! - The rent goes to `authority`.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONSENT_SEED, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, ConsentClosed};
use crate::state::{Consent, ConsentState, Patient};

#[event_cpi]
#[derive(Accounts)]
pub struct ConsentClose<'info> {
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
        mut,
        close = authority,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &consent.index.to_le_bytes()],
        bump = consent.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = consent.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub consent: Account<'info, Consent>,
}

impl ConsentClose<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let c = &self.consent;
        require!(
            matches!(c.state(now), ConsentState::Revoked | ConsentState::Expired),
            RekamError::ConsentStillActive
        );
        events::emit(
            &self.event_authority,
            &ConsentClosed {
                consent: c.key(),
                patient: c.patient,
                grantee: c.grantee,
                purpose: c.purpose,
                starts_at: c.starts_at,
                expires_at: c.expires_at,
                revoked_at: c.revoked_at,
                access_count: c.access_count,
                closed_at: now,
            },
        )
    }
}
