//! Builders for the instructions that close a patient's ended consents and their access
//! receipts for their rent.

use anchor_lang::prelude::Pubkey;
use solana_instruction::Instruction;

use super::build;
use crate::pda;

/// `consent_close`: the patient's wallet signs and receives the rent.
pub fn consent_close(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ConsentClose {
            authority: *authority,
            patient: *patient,
            consent: *consent,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ConsentClose {},
    )
}

/// `receipt_close`: the patient's wallet signs; the rent goes to `accessor`, the
/// receipt's reader. `consent_index` is the consent's seed index.
pub fn receipt_close(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    consent_index: u64,
    receipt_index: u64,
    accessor: &Pubkey,
) -> Instruction {
    let consent = pda::consent(program_id, patient, consent_index);
    build(
        program_id,
        rekam::accounts::ReceiptClose {
            authority: *authority,
            patient: *patient,
            consent,
            receipt: pda::access_receipt(program_id, &consent, receipt_index),
            accessor: *accessor,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ReceiptClose { consent_index },
    )
}
