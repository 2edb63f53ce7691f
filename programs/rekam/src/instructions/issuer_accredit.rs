//! `issuer_accredit`: governance accredits an issuer with roles and keys.
//!
//! Checks:
//! - `authority` signs and is the governance authority.
//! - `issuer` is the canonical `["issuer", registry_id_hash]` PDA and new (`init`).
//! - Roles are a non-empty subset of the defined roles; the encryption key is not zero.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, CONFIG_SEED, ISSUER_SEED};
use crate::error::RekamError;
use crate::events::{self, IssuerAccredited};
use crate::state::{roles, Config, Issuer, IssuerStatus};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct IssuerAccreditArgs {
    pub registry_id_hash: [u8; 32],
    pub issuer_authority: Pubkey,
    pub encryption_key: [u8; 32],
    pub roles: u8,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: IssuerAccreditArgs)]
pub struct IssuerAccredit<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,

    pub authority: Signer<'info>,

    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ RekamError::NotGovernanceAuthority,
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Account<'info, Config>,

    /// CHECK: the issuer PDA of the registry id (seeds; the id is public, so the address
    /// is predictable); created in the handler with `create::pda` (audit finding 9: a
    /// pre-funded address cannot block an accreditation), which refuses an address in use.
    #[account(
        mut,
        seeds = [ISSUER_SEED, args.registry_id_hash.as_ref()],
        bump,
    )]
    pub issuer: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl IssuerAccredit<'_> {
    pub fn handle(&mut self, args: IssuerAccreditArgs, bump: u8) -> Result<()> {
        crate::create::pda(
            &self.payer.to_account_info(),
            &self.issuer.to_account_info(),
            &self.system_program.to_account_info(),
            Issuer::SIZE,
            &[ISSUER_SEED, args.registry_id_hash.as_ref(), &[bump]],
        )?;
        require!(
            args.roles != 0 && args.roles & !roles::ALL == 0,
            RekamError::InvalidRoles
        );
        require!(
            args.encryption_key != [0; 32],
            RekamError::InvalidEncryptionKey
        );
        let now = Clock::get()?.unix_timestamp;
        let issuer = Issuer {
            version: ACCOUNT_VERSION,
            bump,
            authority: args.issuer_authority,
            encryption_key: args.encryption_key,
            registry_id_hash: args.registry_id_hash,
            roles: args.roles,
            status: IssuerStatus::Active,
            accredited_at: now,
            status_changed_at: now,
            attestations_issued: 0,
            void_from: 0,
            void_until: 0,
        };
        crate::create::write(&self.issuer.to_account_info(), &issuer)?;
        events::emit(
            &self.event_authority,
            &IssuerAccredited {
                issuer: self.issuer.key(),
                authority: args.issuer_authority,
                roles: args.roles,
            },
        )
    }
}
