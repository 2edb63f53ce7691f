//! A SMART Health Card signing key an issuer anchored: its P-256 public key, the RFC 7638
//! thumbprint that cards name as `kid`, and the `iss` URL cards carry.
//!
//! Seeds: `["shc_key", thumbprint]`. The address follows the key alone, so a verifier
//! holding a card finds the key's account from the card's `kid` in one read, and a key
//! can be anchored once, by one issuer, for good: no other issuer can claim it later
//! (and `shc_key_anchor` demands a proof of possession, so none can claim it first).

use anchor_lang::prelude::*;

use crate::constants::{MAX_ISS_LEN, SHC_KEY_SEED};

#[account(discriminator = [13])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct ShcKey {
    pub version: u8,
    pub bump: u8,
    /// The Issuer PDA that anchored the key.
    pub issuer: Pubkey,
    /// RFC 7638 thumbprint of the JWK (the 32 bytes a card's `kid` encodes).
    pub thumbprint: [u8; 32],
    /// The affine coordinates of the P-256 public key, big-endian.
    pub x: [u8; 32],
    pub y: [u8; 32],
    /// The issuer URL (`iss`) of the cards this key signs.
    #[max_len(MAX_ISS_LEN)]
    pub iss: String,
    pub anchored_at: i64,
    /// When the issuer retired the key; 0 = in use. Cards it signed stop verifying.
    pub retired_at: i64,
}

impl ShcKey {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Where `issuer` sits in the account data (for a `memcmp` listing of its keys).
    pub const ISSUER_OFFSET: usize = Self::DISCRIMINATOR.len() + 2;

    pub fn find_address(program_id: &Pubkey, thumbprint: &[u8; 32]) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[SHC_KEY_SEED, thumbprint], program_id)
    }

    pub fn is_retired(&self) -> bool {
        self.retired_at != 0
    }
}
