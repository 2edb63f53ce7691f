//! `batch_revoke_fact`: the issuer withdraws one fact of a batch by setting its bit in
//! the batch's revocation bitmap; the other facts stay valid.
//!
//! Checks:
//! - `authority` signs and is `issuer.authority` (`NotIssuerAuthority`); `issuer` at its
//!   canonical PDA; `batch.issuer` is this issuer (`IssuerMismatch`).
//! - `index < count` (`ClaimIndexOutOfRange`, as for a proof past the end of a tree).
//! - The fact is not already revoked (`FactAlreadyRevoked`).
//!
//! The bitmap was sized at anchoring, so this never reallocates. Revoking a fact of a
//! revoked batch is allowed: it records the issuer's finer intent and changes no verdict.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, BatchFactRevoked};
use crate::state::{Batch, Issuer};

#[event_cpi]
#[derive(Accounts)]
pub struct BatchRevokeFact<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
        has_one = authority @ RekamError::NotIssuerAuthority,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,

    #[account(
        mut,
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = batch.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub batch: Account<'info, Batch>,
}

impl BatchRevokeFact<'_> {
    pub fn handle(&mut self, index: u32) -> Result<()> {
        let revoked = self
            .batch
            .fact_revoked(index)
            .ok_or(RekamError::ClaimIndexOutOfRange)?;
        require!(!revoked, RekamError::FactAlreadyRevoked);
        self.batch
            .revoke_fact(index)
            .ok_or(RekamError::ClaimIndexOutOfRange)?;
        let now = Clock::get()?.unix_timestamp;
        events::emit(
            &self.event_authority,
            &BatchFactRevoked {
                batch: self.batch.key(),
                issuer: self.issuer.key(),
                index,
                at: now,
            },
        )
    }
}
