//! A consent: the patient lets a grantee read records in a scope, for a purpose, in a
//! period. The record keys themselves travel off-chain in a *key grant* (the data keys
//! wrapped to the grantee); the consent pins its hash and locator.
//!
//! Seeds: `["consent", patient, index]` with `index` the patient's `consents_created`
//! (u64 little-endian) at grant time, so a patient can hold several consents for the same
//! grantee (different purposes or scopes).

use anchor_lang::prelude::*;

use crate::constants::{CONSENT_SEED, MAX_CONSENT_ATTESTATIONS, MAX_LOCATOR_LEN};
use crate::state::Attestation;

/// Why data is used: the FHIR/v3 PurposeOfUse value set, the subset Rekam supports.
/// Append only: the discriminant is stored on-chain.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// TREAT
    Treatment,
    /// ETREAT
    EmergencyTreatment,
    /// HRESCH
    Research,
    /// HPAYMT
    Payment,
    /// HOPERAT
    Operations,
    /// PUBHLTH
    PublicHealth,
    /// PATRQT
    PatientRequested,
    /// COVERAGE
    Coverage,
}

impl Purpose {
    /// The v3 ActReason code.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Treatment => "TREAT",
            Purpose::EmergencyTreatment => "ETREAT",
            Purpose::Research => "HRESCH",
            Purpose::Payment => "HPAYMT",
            Purpose::Operations => "HOPERAT",
            Purpose::PublicHealth => "PUBHLTH",
            Purpose::PatientRequested => "PATRQT",
            Purpose::Coverage => "COVERAGE",
        }
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct ConsentScope {
    /// `AttestationKind::bit()` mask: every attestation of these kinds.
    pub kinds: u8,
    /// And these specific attestations, whatever their kind.
    #[max_len(MAX_CONSENT_ATTESTATIONS)]
    pub attestations: Vec<Pubkey>,
}

impl ConsentScope {
    pub fn is_empty(&self) -> bool {
        self.kinds == 0 && self.attestations.is_empty()
    }

    pub fn covers(&self, attestation_key: &Pubkey, attestation: &Attestation) -> bool {
        self.kinds & attestation.kind.bit() != 0 || self.attestations.contains(attestation_key)
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct KeyGrant {
    /// Content address of the key-grant object (its BLAKE3 digest, as in its locator).
    pub hash: [u8; 32],
    /// Where it is stored (a content address: CID, S3 key, or local name).
    #[max_len(MAX_LOCATOR_LEN)]
    pub locator: String,
}

#[account(discriminator = [5])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Consent {
    pub version: u8,
    pub bump: u8,
    /// Patient profile PDA.
    pub patient: Pubkey,
    /// Who may read: an issuer's authority or any wallet.
    pub grantee: Pubkey,
    /// The seed index.
    pub index: u64,
    pub purpose: Purpose,
    pub scope: ConsentScope,
    pub starts_at: i64,
    pub expires_at: i64,
    /// 0 = not revoked.
    pub revoked_at: i64,
    pub key_grant: KeyGrant,
    pub created_at: i64,
    pub updated_at: i64,
    pub access_count: u64,
    pub last_access_at: i64,
}

/// Why a consent does not allow a read right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentState {
    Active,
    Revoked,
    NotYetActive,
    Expired,
}

impl Consent {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, patient: &Pubkey, index: u64) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[CONSENT_SEED, patient.as_ref(), &index.to_le_bytes()],
            program_id,
        )
    }

    pub fn state(&self, now: i64) -> ConsentState {
        if self.revoked_at != 0 {
            ConsentState::Revoked
        } else if now < self.starts_at {
            ConsentState::NotYetActive
        } else if now >= self.expires_at {
            ConsentState::Expired
        } else {
            ConsentState::Active
        }
    }
}

impl ConsentScope {
    pub fn validate(&self) -> Result<()> {
        use crate::error::RekamError;
        require!(!self.is_empty(), RekamError::EmptyScope);
        require!(
            self.kinds & !crate::state::ALL_KIND_BITS == 0,
            RekamError::InvalidKinds
        );
        require!(
            self.attestations.len() <= MAX_CONSENT_ATTESTATIONS,
            RekamError::TooManyAttestations
        );
        for (i, key) in self.attestations.iter().enumerate() {
            require!(
                !self.attestations[..i].contains(key),
                RekamError::DuplicateAttestationInScope
            );
        }
        Ok(())
    }
}

impl KeyGrant {
    pub fn validate(&self) -> Result<()> {
        use crate::error::RekamError;
        require!(self.hash != [0; 32], RekamError::InvalidKeyGrant);
        require!(
            !self.locator.is_empty() && self.locator.len() <= MAX_LOCATOR_LEN,
            RekamError::LocatorTooLong
        );
        Ok(())
    }
}
