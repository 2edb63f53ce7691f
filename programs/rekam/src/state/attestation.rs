//! An attestation: an accredited issuer vouches for a care event of a pseudonymous patient.
//!
//! Seeds: `["attestation", issuer, evidence_commitment]`. The evidence commitment (a
//! salted hash of the plaintext record) is the address seed rather than a stored field:
//! anyone holding the record and its salt recomputes the commitment and the address, and
//! the address binds the record exactly as a stored hash would. Re-encrypting or moving
//! the record changes neither. It makes a second attestation of the same commitment by the
//! same issuer impossible; the same record under a new salt, or by another issuer, is a
//! new attestation (studies bound what that can draw: `StudyTerms::max_per_patient`).
//!
//! Size: 1-byte discriminator + 151 bytes = 152 bytes (target: 156, half of what the
//! Solana Attestation Service needs for the same payload). Days are u16 days since
//! 1970-01-01 (enough until 2149); instants are i64 Unix seconds.

use anchor_lang::prelude::*;

use crate::constants::{ATTESTATION_SEED, SECONDS_PER_DAY};
use crate::state::issuer::roles;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AttestationKind {
    Diagnosis,
    LabResult,
    Prescription,
    Vaccination,
    Imaging,
    Other,
    /// An ethics board approves a study: the evidence commitment is the study's terms
    /// hash and there is no patient (`patient` is the zero key).
    EthicsApproval,
}

impl AttestationKind {
    /// Every kind of patient record (what consents and study criteria may name).
    pub const ALL: [AttestationKind; 6] = [
        AttestationKind::Diagnosis,
        AttestationKind::LabResult,
        AttestationKind::Prescription,
        AttestationKind::Vaccination,
        AttestationKind::Imaging,
        AttestationKind::Other,
    ];

    /// This kind's bit in a consent's `kinds` mask.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Issuer roles allowed to attest this kind.
    pub fn allowed_roles(self) -> u8 {
        match self {
            AttestationKind::Diagnosis => roles::CLINIC,
            AttestationKind::LabResult => roles::CLINIC | roles::LAB | roles::DEVICE_OPERATOR,
            AttestationKind::Prescription => roles::CLINIC | roles::PHARMACY,
            AttestationKind::Vaccination => roles::CLINIC | roles::PHARMACY,
            AttestationKind::Imaging => roles::CLINIC | roles::LAB,
            AttestationKind::Other => roles::ALL,
            AttestationKind::EthicsApproval => roles::ETHICS_BOARD,
        }
    }

    /// Whether attestations of this kind are about a patient.
    pub fn has_patient(self) -> bool {
        self != AttestationKind::EthicsApproval
    }
}

/// Every patient-record kind bit; consent scopes and study criteria may use no others.
pub const ALL_KIND_BITS: u8 = (1 << AttestationKind::ALL.len()) - 1;

#[account(discriminator = [4])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Attestation {
    pub version: u8,
    pub bump: u8,
    pub kind: AttestationKind,
    /// The issuer PDA.
    pub issuer: Pubkey,
    /// The patient profile PDA (a pseudonym); the zero key for an ethics approval.
    pub patient: Pubkey,
    /// Salted commitment to the diagnosis code; the salt travels in the encrypted record.
    pub diagnosis_commitment: [u8; 32],
    /// Salted Merkle root over the record's disclosable claims.
    pub claims_root: [u8; 32],
    /// Date of treatment, in days since 1970-01-01.
    pub treatment_day: u16,
    /// Day from whose start (00:00 UTC) the attestation is expired; 0 = never.
    pub expires_on_day: u16,
    pub issued_at: i64,
    /// When the issuer revoked it; 0 = not revoked.
    pub revoked_at: i64,
}

impl Attestation {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(
        program_id: &Pubkey,
        issuer: &Pubkey,
        evidence_commitment: &[u8; 32],
    ) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[ATTESTATION_SEED, issuer.as_ref(), evidence_commitment],
            program_id,
        )
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at != 0
    }

    /// Expired at `now` (Unix seconds)?
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_on_day != 0 && now >= i64::from(self.expires_on_day) * SECONDS_PER_DAY
    }
}

/// What `attestation_verify` returns (Borsh) to its caller.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedAttestation {
    pub kind: AttestationKind,
    pub treatment_day: u16,
}

/// What `attestation_verify_claim` returns (Borsh) to its caller.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedClaim {
    pub kind: AttestationKind,
    pub treatment_day: u16,
    /// The disclosure digest that was proven under the claims root.
    pub digest: [u8; 32],
}
