//! `batch_revoke`: the issuer withdraws a whole batch. It stays on-chain with
//! `revoked_at` set, and every fact of it fails verification from then on.
//!
//! Checks:
//! - `authority` signs and is `issuer.authority` (`NotIssuerAuthority`); `issuer` at its
//!   canonical PDA; `batch.issuer` is this issuer (`IssuerMismatch`).
//! - Not already revoked (`BatchAlreadyRevoked`).
//!
//! A suspended issuer may still revoke (as with `attestation_revoke`): withdrawing a
//! claim must never wait for governance.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, BatchRevoked};
use crate::state::{Batch, Issuer};

#[event_cpi]
#[derive(Accounts)]
pub struct BatchRevoke<'info> {
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

impl BatchRevoke<'_> {
    pub fn handle(&mut self) -> Result<()> {
        require!(!self.batch.is_revoked(), RekamError::BatchAlreadyRevoked);
        let now = Clock::get()?.unix_timestamp;
        self.batch.revoked_at = now;
        events::emit(
            &self.event_authority,
            &BatchRevoked {
                batch: self.batch.key(),
                issuer: self.issuer.key(),
                at: now,
            },
        )
    }
}
