//! Builders for batch-root attestations: anchoring a batch of a patient's facts, revoking
//! it or one fact of it, and verifying one fact (read-only, CPI-able).

use anchor_lang::prelude::Pubkey;
use anchor_lang::system_program;
use rekam::{BatchAnchorArgs, BatchVerifyFactArgs};
use solana_instruction::Instruction;

use super::build;
use crate::pda;

/// `batch_anchor`: the issuer's authority signs and pays for the batch account.
pub fn batch_anchor(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    patient: &Pubkey,
    args: BatchAnchorArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::BatchAnchor {
            authority: *authority,
            issuer: *issuer,
            patient: *patient,
            batch: pda::batch(program_id, issuer, &args.root),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::BatchAnchor { args },
    )
}

/// `batch_revoke`: the issuer's authority revokes the whole batch.
pub fn batch_revoke(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    batch: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::BatchRevoke {
            authority: *authority,
            issuer: *issuer,
            batch: *batch,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::BatchRevoke {},
    )
}

/// `batch_revoke_fact`: the issuer's authority revokes fact `index` of the batch.
pub fn batch_revoke_fact(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    batch: &Pubkey,
    index: u32,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::BatchRevokeFact {
            authority: *authority,
            issuer: *issuer,
            batch: *batch,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::BatchRevokeFact { index },
    )
}

/// `batch_verify_fact`: read-only; returns `VerifiedFact` as return data.
pub fn batch_verify_fact(
    program_id: &Pubkey,
    batch: &Pubkey,
    issuer: &Pubkey,
    args: BatchVerifyFactArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::BatchVerifyFact {
            batch: *batch,
            issuer: *issuer,
        },
        rekam::instruction::BatchVerifyFact { args },
    )
}
