//! `consent_update_key_grant`, `consent_extend`, `consent_revoke`: the patient changes a
//! consent. Revocation takes effect at once: the next access in the same slot fails.
//!
//! Checks (all three):
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `patient` is the profile at its canonical PDA; `consent.patient` is that profile
//!   (`PatientMismatch`); `consent` is at its canonical PDA (stored bump).
//! - The consent is not revoked (`ConsentRevoked`); a revoked consent is final.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONSENT_SEED, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, ConsentExtended, ConsentKeyGrantUpdated, ConsentRevoked};
use crate::state::{Consent, KeyGrant, Patient};

#[event_cpi]
#[derive(Accounts)]
pub struct ConsentChange<'info> {
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
        seeds = [CONSENT_SEED, patient.key().as_ref(), &consent.index.to_le_bytes()],
        bump = consent.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = consent.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub consent: Account<'info, Consent>,
}

impl ConsentChange<'_> {
    fn open(&self) -> Result<i64> {
        require!(self.consent.revoked_at == 0, RekamError::ConsentRevoked);
        Ok(Clock::get()?.unix_timestamp)
    }

    pub fn update_key_grant(&mut self, key_grant: KeyGrant) -> Result<()> {
        key_grant.validate()?;
        let now = self.open()?;
        let hash = key_grant.hash;
        self.consent.key_grant = key_grant;
        self.consent.updated_at = now;
        events::emit(
            &self.event_authority,
            &ConsentKeyGrantUpdated {
                consent: self.consent.key(),
                key_grant_hash: hash,
            },
        )
    }

    pub fn extend(&mut self, expires_at: i64) -> Result<()> {
        let now = self.open()?;
        require!(
            expires_at > self.consent.expires_at,
            RekamError::ExtensionNotLater
        );
        self.consent.expires_at = expires_at;
        self.consent.updated_at = now;
        events::emit(
            &self.event_authority,
            &ConsentExtended {
                consent: self.consent.key(),
                expires_at,
            },
        )
    }

    pub fn revoke(&mut self) -> Result<()> {
        let now = self.open()?;
        self.consent.revoked_at = now;
        self.consent.updated_at = now;
        events::emit(
            &self.event_authority,
            &ConsentRevoked {
                consent: self.consent.key(),
                at: now,
            },
        )
    }
}
