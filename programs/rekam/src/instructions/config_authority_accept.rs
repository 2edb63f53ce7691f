//! `config_authority_accept`: step two; the proposed authority takes over by signing.
//!
//! Checks:
//! - A proposal is pending (`NoPendingAuthority`).
//! - `new_authority` signs and equals `config.pending_authority` (`NotPendingAuthority`).

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONFIG_SEED};
use crate::error::RekamError;
use crate::events::{self, GovernanceRotated};
use crate::state::Config;

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigAuthorityAccept<'info> {
    pub new_authority: Signer<'info>,

    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Account<'info, Config>,
}

impl ConfigAuthorityAccept<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let pending = self.config.pending_authority;
        require_keys_neq!(pending, Pubkey::default(), RekamError::NoPendingAuthority);
        require_keys_eq!(
            self.new_authority.key(),
            pending,
            RekamError::NotPendingAuthority
        );
        let previous = self.config.authority;
        self.config.authority = pending;
        self.config.pending_authority = Pubkey::default();
        events::emit(
            &self.event_authority,
            &GovernanceRotated {
                config: self.config.key(),
                previous,
                current: pending,
            },
        )
    }
}
