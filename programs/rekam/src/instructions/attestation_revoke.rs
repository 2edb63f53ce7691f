//! `attestation_revoke`: the issuer withdraws an attestation. It stays on-chain (the audit
//! trail needs it) with `revoked_at` set, and fails verification from then on.
//!
//! Checks:
//! - `authority` signs and is `issuer.authority`; `attestation.issuer` is this issuer.
//! - Not already revoked (`AttestationAlreadyRevoked`).

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, AttestationRevoked};
use crate::state::{Attestation, Issuer};

#[event_cpi]
#[derive(Accounts)]
pub struct AttestationRevoke<'info> {
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
        constraint = attestation.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub attestation: Account<'info, Attestation>,
}

impl AttestationRevoke<'_> {
    pub fn handle(&mut self) -> Result<()> {
        require!(
            !self.attestation.is_revoked(),
            RekamError::AttestationAlreadyRevoked
        );
        let now = Clock::get()?.unix_timestamp;
        self.attestation.revoked_at = now;
        events::emit(
            &self.event_authority,
            &AttestationRevoked {
                attestation: self.attestation.key(),
                issuer: self.issuer.key(),
                at: now,
            },
        )
    }
}
