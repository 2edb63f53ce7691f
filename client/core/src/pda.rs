//! Program-derived addresses. Seeds live in the program crate (`rekam::constants`, used
//! through the state types' `find_address`); nothing here repeats a seed literal.

use anchor_lang::prelude::Pubkey;
use rekam::state::Config;

/// The deployment config: `["config"]`.
pub fn config(program_id: &Pubkey) -> Pubkey {
    Config::find_address(program_id).0
}

/// The protocol-fee treasury token account for `mint`: `["treasury", mint]`.
pub fn treasury(program_id: &Pubkey, mint: &Pubkey) -> Pubkey {
    Config::find_treasury_address(program_id, mint).0
}

/// Anchor's event authority, the signer of `emit_cpi` self-invocations.
pub fn event_authority(program_id: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[rekam::constants::EVENT_AUTHORITY_SEED], program_id).0
}
