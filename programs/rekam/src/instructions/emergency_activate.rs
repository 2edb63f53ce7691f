//! `emergency_activate`: once M guardians approved, a guardian creates the emergency
//! consent, attaching the key grant they re-wrapped for the clinic. Sent right after the
//! last approval, in the same transaction.
//!
//! Checks:
//! - `guardian` signs and is a current guardian (`NotGuardian`); pays the consent's rent.
//! - `patient`, `guardianship` and `request` belong together (canonical PDAs,
//!   `PatientMismatch`).
//! - Not granted yet (`EmergencyAlreadyGranted`), window open (`RequestExpired`),
//!   approvals of current guardians ≥ threshold (`ThresholdNotMet`), key grant set.
//! - The activating guardian is not the requesting clinic (`RequesterCannotApprove`).
//! - The requesting clinic is still active (`IssuerSuspended`) and the requesting wallet is
//!   still its issuer's authority (`RequesterNotIssuerAuthority`: after a key rotation the
//!   consent would go to the old wallet); the duration is capped by the patient's current
//!   limit (it may have been lowered since the request).
//! - The consent is the canonical `["consent", patient, consents_created]` PDA, new:
//!   grantee = the clinic's wallet, purpose ETREAT, scope = the emergency scope, from now
//!   for the requested duration (≤ 72 h). It is audited like any consent.

use anchor_lang::prelude::*;

use crate::constants::{
    ACCOUNT_VERSION, CONSENT_SEED, EMERGENCY_SEED, GUARDIANS_SEED, PATIENT_SEED,
};
use crate::error::RekamError;
use crate::events::{self, ConsentGranted, EmergencyGranted};
use crate::state::{Consent, EmergencyRequest, Guardianship, Issuer, KeyGrant, Patient, Purpose};

#[event_cpi]
#[derive(Accounts)]
pub struct EmergencyActivate<'info> {
    #[account(mut)]
    pub guardian: Signer<'info>,

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
        seeds = [EMERGENCY_SEED, patient.key().as_ref(), &request.index.to_le_bytes()],
        bump = request.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = request.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub request: Account<'info, EmergencyRequest>,

    /// The requesting clinic, which must still be accredited and active.
    #[account(
        address = request.issuer @ RekamError::IssuerMismatch,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,

    /// CHECK: the patient's next consent PDA (seeds); created first thing in the handler
    /// with `create::pda` (audit finding 9: lamports sent to this predictable address
    /// cannot block an emergency, when it matters most), which refuses an address in use.
    #[account(
        mut,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &patient.consents_created.to_le_bytes()],
        bump,
    )]
    pub consent: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl EmergencyActivate<'_> {
    pub fn handle(&mut self, key_grant: KeyGrant, bump: u8) -> Result<()> {
        let patient = self.patient.key();
        let index_bytes = self.patient.consents_created.to_le_bytes();
        crate::create::pda(
            &self.guardian.to_account_info(),
            &self.consent.to_account_info(),
            &self.system_program.to_account_info(),
            Consent::SIZE,
            &[CONSENT_SEED, patient.as_ref(), &index_bytes, &[bump]],
        )?;
        let now = Clock::get()?.unix_timestamp;
        require!(
            self.guardianship.is_guardian(&self.guardian.key()),
            RekamError::NotGuardian
        );
        require!(
            !self.request.is_granted(),
            RekamError::EmergencyAlreadyGranted
        );
        require!(now < self.request.approve_by, RekamError::RequestExpired);
        require!(
            self.guardianship.approved(&self.request.approvals),
            RekamError::ThresholdNotMet
        );
        require!(
            self.guardian.key() != self.request.requester,
            RekamError::RequesterCannotApprove
        );
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        // After a key rotation the consent must not go to the clinic's old wallet.
        require!(
            self.request.requester == self.issuer.authority,
            RekamError::RequesterNotIssuerAuthority
        );
        key_grant.validate()?;
        // The patient may have lowered their limit since the request was made.
        let duration = self
            .request
            .duration_seconds
            .min(self.guardianship.emergency_max_seconds);
        let expires_at = now
            .checked_add(duration)
            .ok_or(RekamError::ArithmeticOverflow)?;
        let index = self.patient.consents_created;
        self.patient.consents_created =
            index.checked_add(1).ok_or(RekamError::ArithmeticOverflow)?;
        let grantee = self.request.requester;
        let consent = Consent {
            version: ACCOUNT_VERSION,
            bump,
            patient: self.patient.key(),
            grantee,
            index,
            purpose: Purpose::EmergencyTreatment,
            scope: self.guardianship.emergency_scope.clone(),
            starts_at: now,
            expires_at,
            revoked_at: 0,
            key_grant,
            created_at: now,
            updated_at: now,
            access_count: 0,
            last_access_at: 0,
        };
        crate::create::write(&self.consent.to_account_info(), &consent)?;
        self.request.consent = self.consent.key();
        self.request.granted_at = now;
        events::emit(
            &self.event_authority,
            &ConsentGranted {
                consent: self.consent.key(),
                patient: self.patient.key(),
                grantee,
                purpose: Purpose::EmergencyTreatment,
                starts_at: now,
                expires_at,
            },
        )?;
        events::emit(
            &self.event_authority,
            &EmergencyGranted {
                request: self.request.key(),
                consent: self.consent.key(),
                grantee,
                expires_at,
            },
        )
    }
}
