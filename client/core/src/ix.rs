//! Typed instruction builders. Each takes the program id (so `--program-id` deployments
//! work) and returns a ready `Instruction`; account order comes from the program's own
//! generated `accounts` structs.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use rekam::{
    AttestationIssueArgs, ConfigInitializeArgs, ConsentGrantArgs, IssuerAccreditArgs, KeyGrant,
    PatientRegisterArgs, Purpose,
};

use crate::pda;

fn build(
    program_id: &Pubkey,
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
) -> Instruction {
    Instruction {
        program_id: *program_id,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `config_initialize`: creates the config and the treasury for `treasury_mint`, whose
/// owner is `token_program` (SPL Token or Token-2022).
pub fn config_initialize(
    program_id: &Pubkey,
    payer: &Pubkey,
    treasury_mint: &Pubkey,
    token_program: &Pubkey,
    args: ConfigInitializeArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ConfigInitialize {
            payer: *payer,
            config: pda::config(program_id),
            treasury_mint: *treasury_mint,
            treasury: pda::treasury(program_id, treasury_mint),
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ConfigInitialize { args },
    )
}

/// `treasury_withdraw`: moves `amount` of protocol fees to `destination`.
pub fn treasury_withdraw(
    program_id: &Pubkey,
    authority: &Pubkey,
    treasury_mint: &Pubkey,
    destination: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::TreasuryWithdraw {
            authority: *authority,
            config: pda::config(program_id),
            treasury: pda::treasury(program_id, treasury_mint),
            treasury_mint: *treasury_mint,
            destination: *destination,
            token_program: *token_program,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::TreasuryWithdraw { amount },
    )
}

/// `config_authority_propose`: `authority` proposes `new_authority` (default = cancel).
pub fn config_authority_propose(
    program_id: &Pubkey,
    authority: &Pubkey,
    new_authority: Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ConfigAuthorityPropose {
            authority: *authority,
            config: pda::config(program_id),
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ConfigAuthorityPropose { new_authority },
    )
}

/// `config_authority_accept`: the proposed authority takes over.
pub fn config_authority_accept(program_id: &Pubkey, new_authority: &Pubkey) -> Instruction {
    build(
        program_id,
        rekam::accounts::ConfigAuthorityAccept {
            new_authority: *new_authority,
            config: pda::config(program_id),
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ConfigAuthorityAccept {},
    )
}

/// `issuer_accredit`: governance `authority` accredits an issuer; `payer` pays rent.
pub fn issuer_accredit(
    program_id: &Pubkey,
    payer: &Pubkey,
    authority: &Pubkey,
    args: IssuerAccreditArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::IssuerAccredit {
            payer: *payer,
            authority: *authority,
            config: pda::config(program_id),
            issuer: pda::issuer(program_id, &args.registry_id_hash),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::IssuerAccredit { args },
    )
}

fn issuer_govern(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
) -> rekam::accounts::IssuerGovern {
    rekam::accounts::IssuerGovern {
        authority: *authority,
        config: pda::config(program_id),
        issuer: *issuer,
        event_authority: pda::event_authority(program_id),
        program: *program_id,
    }
}

/// `issuer_suspend`.
pub fn issuer_suspend(program_id: &Pubkey, authority: &Pubkey, issuer: &Pubkey) -> Instruction {
    build(
        program_id,
        issuer_govern(program_id, authority, issuer),
        rekam::instruction::IssuerSuspend {},
    )
}

/// `issuer_reinstate`.
pub fn issuer_reinstate(program_id: &Pubkey, authority: &Pubkey, issuer: &Pubkey) -> Instruction {
    build(
        program_id,
        issuer_govern(program_id, authority, issuer),
        rekam::instruction::IssuerReinstate {},
    )
}

/// `issuer_rotate_keys`: both the current and the new authority sign.
pub fn issuer_rotate_keys(
    program_id: &Pubkey,
    authority: &Pubkey,
    new_authority: &Pubkey,
    issuer: &Pubkey,
    encryption_key: [u8; 32],
) -> Instruction {
    build(
        program_id,
        rekam::accounts::IssuerRotateKeys {
            authority: *authority,
            new_authority: *new_authority,
            issuer: *issuer,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::IssuerRotateKeys { encryption_key },
    )
}

/// `patient_register`: `authority` signs and pays.
pub fn patient_register(
    program_id: &Pubkey,
    authority: &Pubkey,
    args: PatientRegisterArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::PatientRegister {
            authority: *authority,
            patient: pda::patient(program_id, &args.pseudonym),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::PatientRegister { args },
    )
}

/// `attestation_issue`: the issuer's `authority` signs; `payer` pays rent.
pub fn attestation_issue(
    program_id: &Pubkey,
    payer: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    patient: &Pubkey,
    args: AttestationIssueArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::AttestationIssue {
            payer: *payer,
            authority: *authority,
            issuer: *issuer,
            patient: *patient,
            attestation: pda::attestation(program_id, issuer, &args.evidence_commitment),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::AttestationIssue { args },
    )
}

/// `attestation_revoke`.
pub fn attestation_revoke(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    attestation: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::AttestationRevoke {
            authority: *authority,
            issuer: *issuer,
            attestation: *attestation,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::AttestationRevoke {},
    )
}

/// `attestation_verify`: read-only; returns `VerifiedAttestation` as return data.
pub fn attestation_verify(
    program_id: &Pubkey,
    attestation: &Pubkey,
    issuer: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::AttestationVerify {
            attestation: *attestation,
            issuer: *issuer,
        },
        rekam::instruction::AttestationVerify {},
    )
}

/// `consent_grant`: the patient's `authority` signs and pays. `index` is the patient's
/// current `consents_created` (read it from the profile).
pub fn consent_grant(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    index: u64,
    args: ConsentGrantArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ConsentGrant {
            authority: *authority,
            patient: *patient,
            consent: pda::consent(program_id, patient, index),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ConsentGrant { args },
    )
}

fn consent_change(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
) -> rekam::accounts::ConsentChange {
    rekam::accounts::ConsentChange {
        authority: *authority,
        patient: *patient,
        consent: *consent,
        event_authority: pda::event_authority(program_id),
        program: *program_id,
    }
}

/// `consent_update_key_grant`.
pub fn consent_update_key_grant(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
    key_grant: KeyGrant,
) -> Instruction {
    build(
        program_id,
        consent_change(program_id, authority, patient, consent),
        rekam::instruction::ConsentUpdateKeyGrant { key_grant },
    )
}

/// `consent_extend`.
pub fn consent_extend(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
    expires_at: i64,
) -> Instruction {
    build(
        program_id,
        consent_change(program_id, authority, patient, consent),
        rekam::instruction::ConsentExtend { expires_at },
    )
}

/// `consent_revoke`.
pub fn consent_revoke(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
) -> Instruction {
    build(
        program_id,
        consent_change(program_id, authority, patient, consent),
        rekam::instruction::ConsentRevoke {},
    )
}

/// `access_record`: the grantee signs and pays. `index` is the consent's current
/// `access_count` (read it from the consent).
pub fn access_record(
    program_id: &Pubkey,
    accessor: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
    attestation: &Pubkey,
    index: u64,
    purpose: Purpose,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::AccessRecord {
            accessor: *accessor,
            patient: *patient,
            consent: *consent,
            attestation: *attestation,
            receipt: pda::access_receipt(program_id, consent, index),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::AccessRecord { purpose },
    )
}
