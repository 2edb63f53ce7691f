//! `config_initialize`: creates the deployment config and its fee treasury.
//!
//! Checks:
//! - `payer` signs and pays, and is the program's upgrade authority: `program_data` is
//!   the canonical ProgramData account of this program (the `[program_id]` address of the
//!   upgradeable loader, which only the loader can create, at deploy) and names `payer` as
//!   its upgrade authority. So only the deployer can initialize a fresh deployment; a
//!   front-runner cannot become its governance (audit finding 1).
//! - `authority` is recorded, it need not sign (it may be a multisig vault that cannot
//!   sign here).
//! - `config` is the canonical `["config"]` PDA and does not exist yet (a second call
//!   fails: no re-initialization).
//! - `treasury` is the canonical `["treasury", mint]` PDA, created through CPIs into the
//!   System program and the mint's token program (SPL Token or Token-2022), owned by the
//!   config PDA.
//! - Both are created after the fee and the mint are checked, with `create::pda` and
//!   `create::token_account` (audit finding 9: the addresses are predictable, and lamports
//!   sent there first must not block the deployment's initialization).
//! - The fee is at most `MAX_PROTOCOL_FEE_BPS`.
//! - The mint meets the token policy (`token_policy`, audit finding 2): no Token-2022
//!   extension outside the allowlist (`MintExtensionNotAllowed`), and no freeze authority
//!   unless `accept_freeze_authority` (`MintHasFreezeAuthority`).

use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;
use anchor_spl::token_interface::{Mint, TokenInterface};

use crate::constants::{ACCOUNT_VERSION, CONFIG_SEED, MAX_PROTOCOL_FEE_BPS, TREASURY_SEED};
use crate::error::RekamError;
use crate::events::{self, ConfigInitialized};
use crate::state::Config;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInitializeArgs {
    /// Governance authority to record.
    pub authority: Pubkey,
    /// Protocol fee on research payouts, in basis points.
    pub protocol_fee_bps: u16,
    /// Accept a mint with a freeze authority (a regulated stablecoin's issuer can then
    /// freeze escrows and the treasury).
    pub accept_freeze_authority: bool,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigInitialize<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,

    /// This program's ProgramData: its upgrade authority must be `payer`.
    #[account(
        seeds = [crate::ID.as_ref()],
        bump,
        seeds::program = bpf_loader_upgradeable::ID,
        constraint = program_data.upgrade_authority_address == Some(payer.key())
            @ RekamError::NotUpgradeAuthority,
    )]
    pub program_data: Account<'info, ProgramData>,

    /// CHECK: the canonical `["config"]` PDA (seeds); created in the handler with
    /// `create::pda` (audit finding 9: one predictable address per deployment, which a
    /// pre-funding stranger must not be able to block), refusing an address in use.
    #[account(mut, seeds = [CONFIG_SEED], bump)]
    pub config: UncheckedAccount<'info>,

    #[account(mint::token_program = token_program)]
    pub treasury_mint: InterfaceAccount<'info, Mint>,

    /// CHECK: the canonical `["treasury", mint]` token account (seeds), created with
    /// `create::token_account` (prefund-safe), owned by the config PDA.
    #[account(mut, seeds = [TREASURY_SEED, treasury_mint.key().as_ref()], bump)]
    pub treasury: UncheckedAccount<'info>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl ConfigInitialize<'_> {
    pub fn handle(
        &mut self,
        args: ConfigInitializeArgs,
        bumps: &ConfigInitializeBumps,
    ) -> Result<()> {
        require!(
            args.protocol_fee_bps <= MAX_PROTOCOL_FEE_BPS,
            RekamError::FeeTooHigh
        );
        crate::token_policy::check_mint(
            &self.treasury_mint.to_account_info(),
            args.accept_freeze_authority,
        )?;
        crate::create::pda(
            &self.payer.to_account_info(),
            &self.config.to_account_info(),
            &self.system_program.to_account_info(),
            Config::SIZE,
            &[CONFIG_SEED, &[bumps.config]],
        )?;
        let mint = self.treasury_mint.key();
        crate::create::token_account(
            &self.payer.to_account_info(),
            &self.treasury.to_account_info(),
            &self.system_program.to_account_info(),
            &self.token_program.to_account_info(),
            &self.treasury_mint.to_account_info(),
            &self.config.to_account_info(),
            &[TREASURY_SEED, mint.as_ref(), &[bumps.treasury]],
        )?;
        let config = Config {
            version: ACCOUNT_VERSION,
            bump: bumps.config,
            authority: args.authority,
            pending_authority: Pubkey::default(),
            treasury_mint: self.treasury_mint.key(),
            treasury: self.treasury.key(),
            treasury_bump: bumps.treasury,
            protocol_fee_bps: args.protocol_fee_bps,
        };
        crate::create::write(&self.config.to_account_info(), &config)?;
        events::emit(
            &self.event_authority,
            &ConfigInitialized {
                config: self.config.key(),
                authority: args.authority,
                treasury: self.treasury.key(),
                treasury_mint: self.treasury_mint.key(),
                protocol_fee_bps: args.protocol_fee_bps,
                freeze_authority_accepted: args.accept_freeze_authority,
            },
        )
    }
}
