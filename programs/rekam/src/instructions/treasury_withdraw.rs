//! `treasury_withdraw`: the governance authority moves protocol fees out of the treasury.
//!
//! Checks:
//! - `authority` signs and equals `config.authority` (`NotGovernanceAuthority`).
//! - `config` is the canonical PDA (stored bump); `treasury` is the account recorded in it.
//! - `destination` is not the treasury itself (Anchor's duplicate-mutable-account check).
//! - `mint` is the treasury mint; `token_program` is the mint's owner (SPL or Token-2022),
//!   so a fake token program cannot be substituted.
//! - The transfer is `transfer_checked`, signed by the config PDA; an overdraft fails in
//!   the token program and its error reaches the caller unchanged.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::{ACCOUNT_VERSION, CONFIG_SEED};
use crate::error::RekamError;
use crate::events::{self, TreasuryWithdrawn};
use crate::state::Config;

#[event_cpi]
#[derive(Accounts)]
pub struct TreasuryWithdraw<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ RekamError::NotGovernanceAuthority,
        has_one = treasury,
        has_one = treasury_mint @ RekamError::TreasuryMintMismatch,
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Account<'info, Config>,

    #[account(mut)]
    pub treasury: InterfaceAccount<'info, TokenAccount>,

    #[account(mint::token_program = token_program)]
    pub treasury_mint: InterfaceAccount<'info, Mint>,

    #[account(mut, token::mint = treasury_mint, token::token_program = token_program)]
    pub destination: InterfaceAccount<'info, TokenAccount>,

    pub token_program: Interface<'info, TokenInterface>,
}

impl TreasuryWithdraw<'_> {
    pub fn handle(&mut self, amount: u64) -> Result<()> {
        require!(amount > 0, RekamError::ZeroAmount);
        let signer_seeds: &[&[&[u8]]] = &[&[CONFIG_SEED, &[self.config.bump]]];
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: self.treasury.to_account_info(),
                    mint: self.treasury_mint.to_account_info(),
                    to: self.destination.to_account_info(),
                    authority: self.config.to_account_info(),
                },
                signer_seeds,
            ),
            amount,
            self.treasury_mint.decimals,
        )?;
        events::emit(
            &self.event_authority,
            &TreasuryWithdrawn {
                config: self.config.key(),
                destination: self.destination.key(),
                amount,
            },
        )
    }
}
