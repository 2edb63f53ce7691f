//! `issuer_rotate_keys`: an issuer moves to a new signing wallet and/or encryption key.
//!
//! Checks:
//! - The current `authority` signs and is `issuer.authority` (`NotIssuerAuthority`).
//! - The `new_authority` signs too, proving the issuer controls it.
//! - The encryption key is not zero.
//!
//! Suspended issuers may rotate (a compromise is a reason to be suspended).

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, IssuerKeysRotated};
use crate::state::Issuer;

#[event_cpi]
#[derive(Accounts)]
pub struct IssuerRotateKeys<'info> {
    pub authority: Signer<'info>,

    pub new_authority: Signer<'info>,

    #[account(
        mut,
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
        has_one = authority @ RekamError::NotIssuerAuthority,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,
}

impl IssuerRotateKeys<'_> {
    pub fn handle(&mut self, encryption_key: [u8; 32]) -> Result<()> {
        require!(encryption_key != [0; 32], RekamError::InvalidEncryptionKey);
        self.issuer.authority = self.new_authority.key();
        self.issuer.encryption_key = encryption_key;
        events::emit(
            &self.event_authority,
            &IssuerKeysRotated {
                issuer: self.issuer.key(),
                authority: self.new_authority.key(),
            },
        )
    }
}
