//! `shc_key_retire`: an issuer retires a SMART Health Card key (lost, compromised or
//! replaced). The account stays, so the key can never be anchored again by anyone, and
//! every card it signed stops verifying.
//!
//! Checks:
//! - `authority` signs and is `issuer.authority` (`NotIssuerAuthority`);
//!   `shc_key.issuer` is this issuer (`IssuerMismatch`).
//! - Not already retired (`ShcKeyRetired`).
//!
//! A suspended issuer may retire its keys (a compromise is a reason to be suspended).

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, ShcKeyRetired};
use crate::state::{Issuer, ShcKey};

#[event_cpi]
#[derive(Accounts)]
pub struct ShcKeyRetire<'info> {
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
        constraint = shc_key.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub shc_key: Account<'info, ShcKey>,
}

impl ShcKeyRetire<'_> {
    pub fn handle(&mut self) -> Result<()> {
        require!(!self.shc_key.is_retired(), RekamError::ShcKeyRetired);
        let now = Clock::get()?.unix_timestamp;
        self.shc_key.retired_at = now;
        events::emit(
            &self.event_authority,
            &ShcKeyRetired {
                issuer: self.issuer.key(),
                shc_key: self.shc_key.key(),
                at: now,
            },
        )
    }
}
