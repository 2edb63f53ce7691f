//! `consent_grant`: a patient lets a grantee read records in a scope, for a purpose, in a
//! period, and pins the off-chain key grant that carries the record keys.
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`); only the
//!   patient's signature creates a consent.
//! - `consent` is the canonical `["consent", patient, patient.consents_created]` PDA, new.
//! - The scope is not empty, lists at most `MAX_CONSENT_ATTESTATIONS` distinct
//!   attestations, and uses only defined kind bits; the period is non-empty and ends in
//!   the future; the locator fits.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONSENT_SEED, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, ConsentGranted};
use crate::state::{Consent, ConsentScope, KeyGrant, Patient, Purpose};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConsentGrantArgs {
    pub grantee: Pubkey,
    pub purpose: Purpose,
    pub scope: ConsentScope,
    pub starts_at: i64,
    pub expires_at: i64,
    pub key_grant: KeyGrant,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ConsentGrant<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        init,
        payer = authority,
        space = Consent::SIZE,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &patient.consents_created.to_le_bytes()],
        bump,
    )]
    pub consent: Account<'info, Consent>,

    pub system_program: Program<'info, System>,
}

impl ConsentGrant<'_> {
    pub fn handle(&mut self, args: ConsentGrantArgs, bump: u8) -> Result<()> {
        args.scope.validate()?;
        args.key_grant.validate()?;
        let now = Clock::get()?.unix_timestamp;
        require!(
            args.starts_at < args.expires_at && args.expires_at > now,
            RekamError::InvalidPeriod
        );
        let index = self.patient.consents_created;
        self.patient.consents_created =
            index.checked_add(1).ok_or(RekamError::ArithmeticOverflow)?;
        self.consent.set_inner(Consent {
            version: ACCOUNT_VERSION,
            bump,
            patient: self.patient.key(),
            grantee: args.grantee,
            index,
            purpose: args.purpose,
            scope: args.scope,
            starts_at: args.starts_at,
            expires_at: args.expires_at,
            revoked_at: 0,
            key_grant: args.key_grant,
            created_at: now,
            updated_at: now,
            access_count: 0,
            last_access_at: 0,
        });
        events::emit(
            &self.event_authority,
            &ConsentGranted {
                consent: self.consent.key(),
                patient: self.patient.key(),
                grantee: args.grantee,
                purpose: args.purpose,
                starts_at: args.starts_at,
                expires_at: args.expires_at,
            },
        )
    }
}
