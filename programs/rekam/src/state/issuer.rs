//! An accredited issuer: a clinic, lab, pharmacy, ethics board or device operator.
//!
//! Seeds: `["issuer", registry_id_hash]`. The address follows the issuer's registry
//! identity (a hash of e.g. its national facility id), not its signing key, so key
//! rotation keeps the address and every attestation that points at it.

use anchor_lang::prelude::*;

use crate::constants::ISSUER_SEED;
use crate::state::AttestationKind;

/// Role bits. An issuer may hold several.
pub mod roles {
    pub const CLINIC: u8 = 1 << 0;
    pub const LAB: u8 = 1 << 1;
    pub const PHARMACY: u8 = 1 << 2;
    pub const ETHICS_BOARD: u8 = 1 << 3;
    pub const DEVICE_OPERATOR: u8 = 1 << 4;
    /// Every defined role; other bits are invalid.
    pub const ALL: u8 = CLINIC | LAB | PHARMACY | ETHICS_BOARD | DEVICE_OPERATOR;
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuerStatus {
    Active,
    Suspended,
}

#[account(discriminator = [2])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Issuer {
    pub version: u8,
    pub bump: u8,
    /// Wallet that signs attestations for this issuer; rotatable.
    pub authority: Pubkey,
    /// X25519 public key records for this issuer are wrapped to; rotatable.
    pub encryption_key: [u8; 32],
    /// Hash of the issuer's registry identifier (the PDA seed).
    pub registry_id_hash: [u8; 32],
    /// `roles::*` bits.
    pub roles: u8,
    pub status: IssuerStatus,
    pub accredited_at: i64,
    /// When the status last changed (suspension or reinstatement).
    pub status_changed_at: i64,
    pub attestations_issued: u64,
    /// Attestations issued in `[void_from, void_until)` are void for good: governance
    /// set this window when it reinstated the issuer after a suspension (for example
    /// from when a stolen key was first used to the suspension). Empty (0, 0) otherwise.
    pub void_from: i64,
    pub void_until: i64,
}

impl Issuer {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, registry_id_hash: &[u8; 32]) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[ISSUER_SEED, registry_id_hash], program_id)
    }

    pub fn is_active(&self) -> bool {
        self.status == IssuerStatus::Active
    }

    /// Whether governance voided what this issuer attested at `issued_at`.
    pub fn voids(&self, issued_at: i64) -> bool {
        self.void_from <= issued_at && issued_at < self.void_until
    }

    /// Whether this issuer's roles allow attesting `kind`.
    pub fn may_issue(&self, kind: AttestationKind) -> bool {
        self.roles & kind.allowed_roles() != 0
    }

    pub fn invariant(&self) -> bool {
        self.roles != 0 && self.roles & !roles::ALL == 0
    }
}
