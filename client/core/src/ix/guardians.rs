//! Builders for the guardian, emergency and recovery instructions.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::system_program;
use rekam::{EmergencyRequestArgs, GuardiansArgs, KeyGrant};

use super::build;
use crate::pda;

/// `guardians_set`: the patient names guardians for the first time.
pub fn guardians_set(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    args: GuardiansArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::GuardiansInit {
            authority: *authority,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::GuardiansSet { args },
    )
}

/// `guardians_change`: the patient replaces their guardian settings.
pub fn guardians_change(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    args: GuardiansArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::GuardiansChange {
            authority: *authority,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::GuardiansChange { args },
    )
}

/// `emergency_request`: the clinic's wallet signs and pays. `index` is the guardianship's
/// current `emergencies_requested`.
pub fn emergency_request(
    program_id: &Pubkey,
    requester: &Pubkey,
    issuer: &Pubkey,
    patient: &Pubkey,
    index: u64,
    args: EmergencyRequestArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::EmergencyRequestOpen {
            requester: *requester,
            issuer: *issuer,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            request: pda::emergency_request(program_id, patient, index),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::EmergencyRequest { args },
    )
}

/// `emergency_approve`: a guardian approves `request` (of `patient`).
pub fn emergency_approve(
    program_id: &Pubkey,
    guardian: &Pubkey,
    patient: &Pubkey,
    request: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::EmergencyApprove {
            guardian: *guardian,
            guardianship: pda::guardianship(program_id, patient),
            request: *request,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::EmergencyApprove {},
    )
}

/// `emergency_activate`: a guardian creates the emergency consent. `issuer` is the
/// request's clinic; `consent_index` is the patient's current `consents_created`.
pub fn emergency_activate(
    program_id: &Pubkey,
    guardian: &Pubkey,
    patient: &Pubkey,
    request: &Pubkey,
    issuer: &Pubkey,
    consent_index: u64,
    key_grant: KeyGrant,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::EmergencyActivate {
            guardian: *guardian,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            request: *request,
            issuer: *issuer,
            consent: pda::consent(program_id, patient, consent_index),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::EmergencyActivate { key_grant },
    )
}

/// `emergency_end`: the patient or a guardian ends the emergency consent early.
pub fn emergency_end(
    program_id: &Pubkey,
    signer: &Pubkey,
    patient: &Pubkey,
    request: &Pubkey,
    consent: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::EmergencyEnd {
            signer: *signer,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            request: *request,
            consent: *consent,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::EmergencyEnd {},
    )
}

/// `recovery_propose`: a guardian proposes `new_authority` for `patient`.
pub fn recovery_propose(
    program_id: &Pubkey,
    guardian: &Pubkey,
    patient: &Pubkey,
    new_authority: Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::RecoveryPropose {
            guardian: *guardian,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            recovery: pda::recovery(program_id, patient),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::RecoveryPropose { new_authority },
    )
}

/// `recovery_approve`: a guardian approves `patient`'s pending recovery.
pub fn recovery_approve(program_id: &Pubkey, guardian: &Pubkey, patient: &Pubkey) -> Instruction {
    build(
        program_id,
        rekam::accounts::RecoveryApprove {
            guardian: *guardian,
            guardianship: pda::guardianship(program_id, patient),
            recovery: pda::recovery(program_id, patient),
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::RecoveryApprove {},
    )
}

/// `recovery_cancel`: the patient's current wallet cancels (or a guardian clears a stale
/// proposal); rent goes to `proposer`.
pub fn recovery_cancel(
    program_id: &Pubkey,
    signer: &Pubkey,
    patient: &Pubkey,
    proposer: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::RecoveryCancel {
            signer: *signer,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            recovery: pda::recovery(program_id, patient),
            proposer: *proposer,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::RecoveryCancel {},
    )
}

/// `recovery_execute`: the new wallet takes over after the time lock.
pub fn recovery_execute(
    program_id: &Pubkey,
    new_authority: &Pubkey,
    patient: &Pubkey,
    proposer: &Pubkey,
    encryption_key: [u8; 32],
) -> Instruction {
    build(
        program_id,
        rekam::accounts::RecoveryExecute {
            new_authority: *new_authority,
            patient: *patient,
            guardianship: pda::guardianship(program_id, patient),
            recovery: pda::recovery(program_id, patient),
            proposer: *proposer,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::RecoveryExecute { encryption_key },
    )
}
