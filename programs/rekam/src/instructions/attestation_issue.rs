//! `attestation_issue`: an accredited issuer attests a care event of a patient.
//! Several of these fit in one transaction (batch issue); each is independent.
//!
//! Checks:
//! - `authority` signs and is `issuer.authority` (`NotIssuerAuthority`).
//! - `issuer` is an Issuer at its canonical PDA, active (`IssuerSuspended`), holding a
//!   role allowed for the kind (`RoleNotAllowedForKind`).
//! - `patient` is a registered Patient profile (owner + discriminator), present exactly
//!   when the kind is about a patient: an ethics approval has none (`SubjectMismatch`).
//! - `attestation` is the canonical `["attestation", issuer, evidence_commitment]` PDA and
//!   new: the same record cannot be attested twice by one issuer.
//! - The treatment day is not in the future; an expiry day is after today.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ATTESTATION_SEED, ISSUER_SEED, SECONDS_PER_DAY};
use crate::error::RekamError;
use crate::events::{self, AttestationIssued};
use crate::state::{Attestation, AttestationKind, Issuer, Patient};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AttestationIssueArgs {
    /// Salted commitment to the plaintext record (the PDA seed).
    pub evidence_commitment: [u8; 32],
    pub kind: AttestationKind,
    pub diagnosis_commitment: [u8; 32],
    pub claims_root: [u8; 32],
    /// Days since 1970-01-01.
    pub treatment_day: u16,
    /// 0 = never expires.
    pub expires_on_day: u16,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: AttestationIssueArgs)]
pub struct AttestationIssue<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,

    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
        has_one = authority @ RekamError::NotIssuerAuthority,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,

    /// The patient the record is about; absent (the program id) for an ethics approval.
    #[account(constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub patient: Option<Account<'info, Patient>>,

    #[account(
        init,
        payer = payer,
        space = Attestation::SIZE,
        seeds = [ATTESTATION_SEED, issuer.key().as_ref(), args.evidence_commitment.as_ref()],
        bump,
    )]
    pub attestation: Account<'info, Attestation>,

    pub system_program: Program<'info, System>,
}

impl AttestationIssue<'_> {
    pub fn handle(&mut self, args: AttestationIssueArgs, bump: u8) -> Result<()> {
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        require!(
            self.issuer.may_issue(args.kind),
            RekamError::RoleNotAllowedForKind
        );
        require!(
            args.kind.has_patient() == self.patient.is_some(),
            RekamError::SubjectMismatch
        );
        let patient = self.patient.as_ref().map(|p| p.key()).unwrap_or_default();
        let now = Clock::get()?.unix_timestamp;
        let today = now
            .checked_div(SECONDS_PER_DAY)
            .ok_or(RekamError::ArithmeticOverflow)?;
        require!(
            i64::from(args.treatment_day) <= today,
            RekamError::TreatmentDateInFuture
        );
        require!(
            args.expires_on_day == 0 || i64::from(args.expires_on_day) > today,
            RekamError::ExpiryNotInFuture
        );
        self.issuer.attestations_issued = self
            .issuer
            .attestations_issued
            .checked_add(1)
            .ok_or(RekamError::ArithmeticOverflow)?;
        self.attestation.set_inner(Attestation {
            version: ACCOUNT_VERSION,
            bump,
            kind: args.kind,
            issuer: self.issuer.key(),
            patient,
            diagnosis_commitment: args.diagnosis_commitment,
            claims_root: args.claims_root,
            treatment_day: args.treatment_day,
            expires_on_day: args.expires_on_day,
            issued_at: now,
            revoked_at: 0,
        });
        events::emit(
            &self.event_authority,
            &AttestationIssued {
                attestation: self.attestation.key(),
                issuer: self.issuer.key(),
                patient,
                kind: args.kind,
            },
        )
    }
}
