//! `batch_verify_fact`: succeeds only when the batch is active now and the fact with the
//! given disclosure digest is leaf `index` of the batch's `count` facts under its root,
//! and that fact is not revoked. Returns `VerifiedFact { kind, index, digest, first_at,
//! last_at }` (Borsh) as return data. Read-only, no signer; meant for CPI, like
//! `attestation_verify_claim`. The caller hashes the disclosure itself (SHA-256 of its
//! base64url text), so it knows what the digest says, and reads `batch.patient` from the
//! account when it gates on whose fact it is.
//!
//! Checks:
//! - `batch` is a program-owned Batch; `issuer` is the one it names (`IssuerMismatch`).
//! - batch not revoked (`BatchRevoked`); issuer active (`IssuerSuspended`) and not
//!   voiding the batch's `anchored_at` (`AttestationVoided`).
//! - the fact's bit is clear (`FactRevoked`); `index < count`, the proof length implied
//!   by `(index, count)`, root match (`ClaimIndexOutOfRange`, `ClaimProofLength`,
//!   `ClaimNotInRoot`).

use anchor_lang::prelude::*;

use crate::claim_tree::{self, ProofError};
use crate::constants::ACCOUNT_VERSION;
use crate::error::RekamError;
use crate::platform;
use crate::state::{Batch, Issuer, VerifiedFact};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BatchVerifyFactArgs {
    /// SHA-256 of the fact's SD-JWT disclosure (its base64url text).
    pub digest: [u8; 32],
    pub index: u32,
    /// Siblings from the leaf up.
    pub proof: Vec<[u8; 32]>,
}

#[derive(Accounts)]
pub struct BatchVerifyFact<'info> {
    #[account(
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = batch.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub batch: Account<'info, Batch>,
    #[account(constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub issuer: Account<'info, Issuer>,
}

impl BatchVerifyFact<'_> {
    pub fn handle(&self, args: BatchVerifyFactArgs) -> Result<()> {
        let batch = &self.batch;
        require!(!batch.is_revoked(), RekamError::BatchRevoked);
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        require!(
            !self.issuer.voids(batch.anchored_at),
            RekamError::AttestationVoided
        );
        let revoked = batch
            .fact_revoked(args.index)
            .ok_or(RekamError::ClaimIndexOutOfRange)?;
        require!(!revoked, RekamError::FactRevoked);
        claim_tree::verify(
            &batch.root,
            args.index,
            batch.count,
            &args.digest,
            &args.proof,
        )
        .map_err(|e| match e {
            ProofError::IndexOutOfRange => RekamError::ClaimIndexOutOfRange,
            ProofError::WrongLength { .. } => RekamError::ClaimProofLength,
            ProofError::NotInRoot => RekamError::ClaimNotInRoot,
        })?;
        let verified = VerifiedFact {
            kind: batch.kind,
            index: args.index,
            digest: args.digest,
            first_at: batch.first_at,
            last_at: batch.last_at,
        };
        let mut data = Vec::with_capacity(53);
        verified.serialize(&mut data)?;
        platform::set_return_data(&data);
        Ok(())
    }
}
