//! `shc_key_anchor`: an issuer anchors the P-256 key that signs its SMART Health Cards.
//!
//! Checks:
//! - `authority` signs and is `issuer.authority` (`NotIssuerAuthority`); the issuer is
//!   active (`IssuerSuspended`).
//! - `thumbprint` is the RFC 7638 thumbprint of `(x, y)` (`ShcKeyThumbprintMismatch`), so
//!   the `["shc_key", thumbprint]` address is the key's own; a key already anchored, by
//!   this issuer or another, cannot be anchored again (the address is in use).
//! - `iss` is an `https://` URL without a trailing slash (`InvalidIssuerUrl`).
//! - The instruction before this one is the secp256r1 precompile verifying the key over
//!   `"rekam-shc-key-v1" ‖ program id ‖ issuer` (`ShcKeyProofMissing`,
//!   `ShcKeyProofMismatch`): proof of possession, see `key_proof`.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, ISSUER_SEED, SHC_KEY_SEED};
use crate::error::RekamError;
use crate::events::{self, ShcKeyAnchored};
use crate::key_proof;
use crate::state::{Issuer, ShcKey};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ShcKeyAnchorArgs {
    /// RFC 7638 thumbprint of the key (the card's `kid`, decoded).
    pub thumbprint: [u8; 32],
    /// The P-256 point, big-endian affine coordinates.
    pub x: [u8; 32],
    pub y: [u8; 32],
    /// The `iss` URL of the issuer's cards.
    pub iss: String,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: ShcKeyAnchorArgs)]
pub struct ShcKeyAnchor<'info> {
    /// The issuer's authority; pays the key account's rent.
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
        has_one = authority @ RekamError::NotIssuerAuthority,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,

    /// CHECK: the key's PDA (seeds); created in the handler with `create::pda`, which
    /// refuses an address in use and cannot be blocked by pre-funding it.
    #[account(mut, seeds = [SHC_KEY_SEED, args.thumbprint.as_ref()], bump)]
    pub shc_key: UncheckedAccount<'info>,

    /// CHECK: the instructions sysvar (address checked), read for the proof.
    #[account(address = key_proof::INSTRUCTIONS_SYSVAR @ RekamError::ShcKeyProofMissing)]
    pub instructions: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl ShcKeyAnchor<'_> {
    pub fn handle(&mut self, args: ShcKeyAnchorArgs, bump: u8) -> Result<()> {
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        require!(
            key_proof::thumbprint(&args.x, &args.y) == args.thumbprint,
            RekamError::ShcKeyThumbprintMismatch
        );
        key_proof::check_iss(&args.iss)?;
        key_proof::check_possession(&self.instructions, &args.x, &args.y, &self.issuer.key())?;
        crate::create::pda(
            &self.authority.to_account_info(),
            &self.shc_key.to_account_info(),
            &self.system_program.to_account_info(),
            ShcKey::SIZE,
            &[SHC_KEY_SEED, args.thumbprint.as_ref(), &[bump]],
        )?;
        let key = ShcKey {
            version: ACCOUNT_VERSION,
            bump,
            issuer: self.issuer.key(),
            thumbprint: args.thumbprint,
            x: args.x,
            y: args.y,
            iss: args.iss,
            anchored_at: Clock::get()?.unix_timestamp,
            retired_at: 0,
        };
        crate::create::write(&self.shc_key.to_account_info(), &key)?;
        events::emit(
            &self.event_authority,
            &ShcKeyAnchored {
                issuer: self.issuer.key(),
                shc_key: self.shc_key.key(),
            },
        )
    }
}
