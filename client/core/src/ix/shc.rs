//! Builders for the SMART Health Card key instructions: the secp256r1 precompile
//! instruction that proves possession of the key, `shc_key_anchor` (which must come right
//! after it) and `shc_key_retire`.

use anchor_lang::prelude::Pubkey;
use anchor_lang::system_program;
use rekam::key_proof::{INSTRUCTIONS_SYSVAR, SECP256R1_PROGRAM};
use rekam::ShcKeyAnchorArgs;
use solana_instruction::Instruction;

use super::build;
use crate::pda;

/// The secp256r1 precompile instruction verifying one signature `r ‖ s` (low-S) of
/// `message` under the compressed P-256 key, everything in its own data: the count and a
/// padding byte, the offsets, then the key, the signature and the message.
pub fn secp256r1_verify(
    compressed_key: &[u8; 33],
    signature: &[u8; 64],
    message: &[u8],
) -> Instruction {
    const OWN: u16 = u16::MAX;
    let key_at: u16 = 2 + 14;
    let signature_at = key_at + 33;
    let message_at = signature_at + 64;
    let mut data = vec![1u8, 0];
    for field in [
        signature_at,
        OWN,
        key_at,
        OWN,
        message_at,
        u16::try_from(message.len()).expect("a short message"),
        OWN,
    ] {
        data.extend_from_slice(&field.to_le_bytes());
    }
    data.extend_from_slice(compressed_key);
    data.extend_from_slice(signature);
    data.extend_from_slice(message);
    Instruction {
        program_id: SECP256R1_PROGRAM,
        accounts: vec![],
        data,
    }
}

/// `shc_key_anchor`: the issuer's authority signs and pays; place the proof right before.
pub fn shc_key_anchor(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    args: ShcKeyAnchorArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ShcKeyAnchor {
            authority: *authority,
            issuer: *issuer,
            shc_key: pda::shc_key(program_id, &args.thumbprint),
            instructions: INSTRUCTIONS_SYSVAR,
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ShcKeyAnchor { args },
    )
}

/// `shc_key_retire`: the issuer's authority signs.
pub fn shc_key_retire(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    shc_key: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ShcKeyRetire {
            authority: *authority,
            issuer: *issuer,
            shc_key: *shc_key,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ShcKeyRetire {},
    )
}
