//! `config_authority_propose`: step one of rotating the governance authority.
//!
//! Checks:
//! - `authority` signs and is `config.authority`.
//! - Proposing `Pubkey::default()` cancels a pending proposal.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONFIG_SEED};
use crate::error::RekamError;
use crate::events::{self, GovernanceProposed};
use crate::state::Config;

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigAuthorityPropose<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ RekamError::NotGovernanceAuthority,
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Account<'info, Config>,
}

impl ConfigAuthorityPropose<'_> {
    pub fn handle(&mut self, new_authority: Pubkey) -> Result<()> {
        require_keys_neq!(
            new_authority,
            self.config.authority,
            RekamError::SameAuthority
        );
        self.config.pending_authority = new_authority;
        events::emit(
            &self.event_authority,
            &GovernanceProposed {
                config: self.config.key(),
                proposed: new_authority,
            },
        )
    }
}
