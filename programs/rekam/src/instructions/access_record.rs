//! `access_record`: before decrypting a record, the grantee's client records the read.
//! The receipt is an account, so the patient's audit trail is rebuilt from chain state.
//!
//! Checks:
//! - `accessor` signs, pays for the receipt, and is `consent.grantee` (`NotGrantee`).
//! - `consent` is at its canonical PDA and names `patient` (`PatientMismatch`).
//! - The consent is active now: not revoked (`ConsentRevoked`), started
//!   (`ConsentNotYetActive`), not expired (`ConsentExpired`).
//! - The purpose matches the consent's (`PurposeMismatch`).
//! - The attestation is the patient's (`PatientMismatch`) and in scope (`OutOfScope`);
//!   `issuer` is the one it names (`IssuerMismatch`).
//! - For every purpose but emergency treatment, the attestation is active now: not revoked
//!   (`AttestationRevoked`), not expired (`AttestationExpired`), its issuer not suspended
//!   (`IssuerSuspended`), the rule of `attestation_verify`. A break-glass read is never
//!   blocked by the issuing clinic's administrative status: the clinician at the bedside
//!   must see the allergy even if its issuer was suspended since; the receipt still
//!   records the read.
//! - `receipt` is the canonical `["access", consent, consent.access_count]` PDA, new.
//! - Counters use checked math (`ArithmeticOverflow`).

use anchor_lang::prelude::*;

use crate::constants::{ACCESS_SEED, ACCOUNT_VERSION, CONSENT_SEED, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, AccessRecorded};
use crate::instructions::attestation_verify::check_active;
use crate::state::{AccessReceipt, Attestation, Consent, ConsentState, Issuer, Patient, Purpose};

#[event_cpi]
#[derive(Accounts)]
pub struct AccessRecord<'info> {
    #[account(mut)]
    pub accessor: Signer<'info>,

    #[account(
        mut,
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        mut,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &consent.index.to_le_bytes()],
        bump = consent.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = consent.grantee == accessor.key() @ RekamError::NotGrantee,
        constraint = consent.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub consent: Account<'info, Consent>,

    #[account(
        constraint = attestation.patient == patient.key() @ RekamError::PatientMismatch,
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = attestation.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub attestation: Account<'info, Attestation>,

    /// The issuer of the attestation (its status decides non-emergency reads).
    #[account(constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub issuer: Account<'info, Issuer>,

    /// CHECK: the canonical `["access", consent, access_count]` PDA (seeds); created and
    /// written in the handler (`create::pda`: lamports sent there first cannot block the
    /// consent's next read, audit finding 9).
    #[account(
        mut,
        seeds = [ACCESS_SEED, consent.key().as_ref(), &consent.access_count.to_le_bytes()],
        bump,
    )]
    pub receipt: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl AccessRecord<'_> {
    pub fn handle(&mut self, purpose: Purpose, bump: u8) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        match self.consent.state(now) {
            ConsentState::Active => {}
            ConsentState::Revoked => return err!(RekamError::ConsentRevoked),
            ConsentState::NotYetActive => return err!(RekamError::ConsentNotYetActive),
            ConsentState::Expired => return err!(RekamError::ConsentExpired),
        }
        require!(purpose == self.consent.purpose, RekamError::PurposeMismatch);
        if purpose != Purpose::EmergencyTreatment {
            check_active(&self.attestation, &self.issuer, now)?;
        }
        require!(
            self.consent
                .scope
                .covers(&self.attestation.key(), &self.attestation),
            RekamError::OutOfScope
        );

        let index = self.consent.access_count;
        self.consent.access_count = index.checked_add(1).ok_or(RekamError::ArithmeticOverflow)?;
        self.consent.last_access_at = now;
        self.patient.accesses = self
            .patient
            .accesses
            .checked_add(1)
            .ok_or(RekamError::ArithmeticOverflow)?;
        let consent_key = self.consent.key();
        let index_bytes = index.to_le_bytes();
        crate::create::pda(
            &self.accessor.to_account_info(),
            &self.receipt.to_account_info(),
            &self.system_program.to_account_info(),
            AccessReceipt::SIZE,
            &[ACCESS_SEED, consent_key.as_ref(), &index_bytes, &[bump]],
        )?;
        let receipt = AccessReceipt {
            version: ACCOUNT_VERSION,
            bump,
            consent: self.consent.key(),
            attestation: self.attestation.key(),
            accessor: self.accessor.key(),
            purpose,
            index,
            accessed_at: now,
        };
        crate::create::write(&self.receipt.to_account_info(), &receipt)?;
        events::emit(
            &self.event_authority,
            &AccessRecorded {
                receipt: self.receipt.key(),
                consent: self.consent.key(),
                attestation: self.attestation.key(),
                accessor: self.accessor.key(),
                purpose,
                at: now,
            },
        )
    }
}
