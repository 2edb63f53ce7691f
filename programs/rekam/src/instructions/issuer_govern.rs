//! `issuer_suspend` and `issuer_reinstate`: governance changes an issuer's status.
//! Attestations of a suspended issuer fail verification from the suspension on.
//! Reinstatement says what happens to them (audit finding 8: it used to revalidate
//! everything silently): `void_from: None` restores every attestation made before the
//! suspension; `Some(t)` voids for good those issued from `t` up to the suspension
//! (from when a stolen key was first used, say), so the clinic must re-attest them.
//!
//! Checks:
//! - `authority` signs and is the governance authority.
//! - `issuer` is a program-owned Issuer at its canonical PDA (stored bump).
//! - The transition is real: suspend an active issuer, reinstate a suspended one.
//! - `void_from` is in `0..=suspended_at` (`InvalidVoidWindow`). A second window is
//!   merged with the first into the smallest window covering both, which can only void
//!   more, never revalidate.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONFIG_SEED, ISSUER_SEED};
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
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Account<'info, Config>,

    #[account(
        mut,
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct IssuerReinstateArgs {
    /// `None`: restore every attestation made before the suspension. `Some(t)`: void for
    /// good those issued from Unix time `t` up to the suspension.
    pub void_from: Option<i64>,
}

impl IssuerGovern<'_> {
    pub fn suspend(&mut self) -> Result<()> {
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        self.set_status(IssuerStatus::Suspended)
    }

    pub fn reinstate(&mut self, args: IssuerReinstateArgs) -> Result<()> {
        require!(!self.issuer.is_active(), RekamError::IssuerNotSuspended);
        let suspended_at = self.issuer.status_changed_at;
        if let Some(from) = args.void_from {
            require!(
                (0..=suspended_at).contains(&from),
                RekamError::InvalidVoidWindow
            );
            let issuer = &mut self.issuer;
            if issuer.void_from < issuer.void_until {
                issuer.void_from = issuer.void_from.min(from);
                issuer.void_until = issuer.void_until.max(suspended_at);
            } else {
                issuer.void_from = from;
                issuer.void_until = suspended_at;
            }
        }
        self.set_status(IssuerStatus::Active)
    }

    fn set_status(&mut self, status: IssuerStatus) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.issuer.status = status;
        self.issuer.status_changed_at = now;
        events::emit(
            &self.event_authority,
            &IssuerStatusChanged {
                issuer: self.issuer.key(),
                status,
                at: now,
                void_from: self.issuer.void_from,
                void_until: self.issuer.void_until,
            },
        )
    }
}
