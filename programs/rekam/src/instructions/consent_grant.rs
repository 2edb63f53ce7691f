//! `consent_grant`: a patient lets a grantee read records in a scope, for a purpose, in a
//! period, and pins the off-chain key grant that carries the record keys.
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`); only the
//!   patient's signature creates a consent.
//! - `consent` is the canonical `["consent", patient, patient.consents_created]` PDA, new;
//!   created with `create::pda`, so lamports sent there first cannot block it (audit
//!   finding 9: the index is predictable, and a blocked index would block every later
//!   consent of the patient).
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
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    /// CHECK: the canonical PDA (seeds); created and written in the handler
    /// (`create::pda`), which refuses an address already in use.
    #[account(
        mut,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &patient.consents_created.to_le_bytes()],
        bump,
    )]
    pub consent: UncheckedAccount<'info>,

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
        let patient = self.patient.key();
        let index_bytes = index.to_le_bytes();
        crate::create::pda(
            &self.authority.to_account_info(),
            &self.consent.to_account_info(),
            &self.system_program.to_account_info(),
            Consent::SIZE,
            &[CONSENT_SEED, patient.as_ref(), &index_bytes, &[bump]],
        )?;
        let consent = Consent {
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
        };
        crate::create::write(&self.consent.to_account_info(), &consent)?;
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
