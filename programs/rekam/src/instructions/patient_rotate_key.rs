//! `patient_rotate_key`: a patient moves to a new encryption key (key rotation, issue 14).
//! The client re-keys every record first, so the old key opens nothing that exists
//! afterwards; this instruction then points the profile at the new key.
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - The new key is not zero (`InvalidEncryptionKey`) and differs from the current one
//!   (`EncryptionKeyUnchanged`: a rotation that changes nothing must not look done).
//!
//! The event names the profile only: a key is not identifying, but nothing else is needed.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, PatientKeyRotated};
use crate::state::Patient;

#[event_cpi]
#[derive(Accounts)]
pub struct PatientRotateKey<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,
}

impl PatientRotateKey<'_> {
    pub fn handle(&mut self, encryption_key: [u8; 32]) -> Result<()> {
        require!(encryption_key != [0; 32], RekamError::InvalidEncryptionKey);
        require!(
            encryption_key != self.patient.encryption_key,
            RekamError::EncryptionKeyUnchanged
        );
        self.patient.encryption_key = encryption_key;
        events::emit(
            &self.event_authority,
            &PatientKeyRotated {
                patient: self.patient.key(),
            },
        )
    }
}
