//! `issuer_suspend` and `issuer_reinstate`: governance changes an issuer's status.
//! Attestations of a suspended issuer fail verification from the suspension on.
//!
//! Checks:
//! - `authority` signs and is the governance authority.
//! - `issuer` is a program-owned Issuer at its canonical PDA (stored bump).
//! - The transition is real: suspend an active issuer, reinstate a suspended one.

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, IssuerStatusChanged};
use crate::state::{Config, Issuer, IssuerStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct IssuerGovern<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ RekamError::NotGovernanceAuthority,
    )]
    pub config: Account<'info, Config>,

    #[account(
        mut,
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
    )]
    pub issuer: Account<'info, Issuer>,
}

impl IssuerGovern<'_> {
    pub fn set_status(&mut self, status: IssuerStatus) -> Result<()> {
        match status {
            IssuerStatus::Suspended => {
                require!(self.issuer.is_active(), RekamError::IssuerSuspended)
            }
            IssuerStatus::Active => {
                require!(!self.issuer.is_active(), RekamError::IssuerNotSuspended)
            }
        }
        let now = Clock::get()?.unix_timestamp;
        self.issuer.status = status;
        self.issuer.status_changed_at = now;
        events::emit(
            &self.event_authority,
            &IssuerStatusChanged {
                issuer: self.issuer.key(),
                status,
                at: now,
            },
        )
    }
}
