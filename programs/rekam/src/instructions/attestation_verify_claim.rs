//! `attestation_verify_claim`: succeeds only when the attestation is active now (as
//! `attestation_verify` checks it) and the claim with the given disclosure digest is leaf
//! `index` of `count` under the attestation's claims root. Returns
//! `VerifiedClaim { kind, treatment_day, digest }` (Borsh) as return data. Read-only;
//! meant for CPI from programs that gate an action on one disclosed fact. The caller
//! hashes the disclosure itself (SHA-256 of its base64url text), so it knows what the
//! digest says.
//!
//! Checks:
//! - `attestation` is a program-owned Attestation; `issuer` is the one it names.
//! - not revoked, not expired, issuer active (`check_active`).
//! - `index < count`, proof length implied by `(index, count)`, root match
//!   (`ClaimIndexOutOfRange`, `ClaimProofLength`, `ClaimNotInRoot`).

use anchor_lang::prelude::*;

use crate::claim_tree::{self, ProofError};
use crate::constants::ACCOUNT_VERSION;
use crate::error::RekamError;
use crate::instructions::attestation_verify::check_active;
use crate::platform;
use crate::state::{Attestation, Issuer, VerifiedClaim};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AttestationVerifyClaimArgs {
    /// SHA-256 of the claim's SD-JWT disclosure (its base64url text).
    pub digest: [u8; 32],
    pub index: u32,
    pub count: u32,
    /// Siblings from the leaf up.
    pub proof: Vec<[u8; 32]>,
}

#[derive(Accounts)]
pub struct AttestationVerifyClaim<'info> {
    #[account(
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = attestation.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub attestation: Account<'info, Attestation>,
    #[account(constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub issuer: Account<'info, Issuer>,
}

impl AttestationVerifyClaim<'_> {
    pub fn handle(&self, args: AttestationVerifyClaimArgs) -> Result<()> {
        let active = check_active(
            &self.attestation,
            &self.issuer,
            Clock::get()?.unix_timestamp,
        )?;
        claim_tree::verify(
            &self.attestation.claims_root,
            args.index,
            args.count,
            &args.digest,
            &args.proof,
        )
        .map_err(|e| match e {
            ProofError::IndexOutOfRange => RekamError::ClaimIndexOutOfRange,
            ProofError::WrongLength { .. } => RekamError::ClaimProofLength,
            ProofError::NotInRoot => RekamError::ClaimNotInRoot,
        })?;
        let verified = VerifiedClaim {
            kind: active.kind,
            treatment_day: active.treatment_day,
            digest: args.digest,
        };
        let mut data = Vec::with_capacity(35);
        verified.serialize(&mut data)?;
        platform::set_return_data(&data);
        Ok(())
    }
}
