//! Typed instruction builders. Each takes the program id (so `--program-id` deployments
//! work) and returns a ready `Instruction`; account order comes from the program's own
//! generated `accounts` structs. Governance, issuers, attestations, consents and reads
//! here; batches, studies, guardians and closing in the submodules.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use rekam::{
    AttestationIssueArgs, AttestationKind, AttestationVerifyClaimArgs, ConfigInitializeArgs,
    ConsentGrantArgs, IssuerAccreditArgs, KeyGrant, PatientRegisterArgs, Purpose,
};

use crate::pda;

mod batch;
mod close;
mod guardians;
mod shc;
mod study;

pub use batch::*;
pub use close::*;
pub use guardians::*;
pub use shc::*;
pub use study::*;

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
            program_data: pda::program_data(program_id),
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

/// `issuer_reinstate` restoring every attestation made before the suspension.
pub fn issuer_reinstate(program_id: &Pubkey, authority: &Pubkey, issuer: &Pubkey) -> Instruction {
    issuer_reinstate_voiding(program_id, authority, issuer, None)
}

/// `issuer_reinstate` voiding for good the attestations issued from `void_from` (Unix
/// time) up to the suspension; `None` restores them all.
pub fn issuer_reinstate_voiding(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    void_from: Option<i64>,
) -> Instruction {
    build(
        program_id,
        issuer_govern(program_id, authority, issuer),
        rekam::instruction::IssuerReinstate {
            args: rekam::IssuerReinstateArgs { void_from },
        },
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

/// `patient_rotate_key`: the patient's wallet signs.
pub fn patient_rotate_key(
    program_id: &Pubkey,
    authority: &Pubkey,
    patient: &Pubkey,
    encryption_key: [u8; 32],
) -> Instruction {
    build(
        program_id,
        rekam::accounts::PatientRotateKey {
            authority: *authority,
            patient: *patient,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::PatientRotateKey { encryption_key },
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
            patient: Some(*patient),
            attestation: pda::attestation(program_id, issuer, &args.evidence_commitment),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::AttestationIssue { args },
    )
}

/// `attestation_issue` of an ethics approval: an ethics-board issuer approves the study
/// whose terms hash is `terms_hash` (see `rekam::StudyTerms::hash`), on `approved_day`,
/// valid until `expires_on_day` (0 = no expiry). Ethics approvals name no patient.
pub fn ethics_approval_issue(
    program_id: &Pubkey,
    payer: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    terms_hash: [u8; 32],
    approved_day: u16,
    expires_on_day: u16,
) -> Instruction {
    let args = AttestationIssueArgs {
        evidence_commitment: terms_hash,
        kind: AttestationKind::EthicsApproval,
        diagnosis_commitment: [0; 32],
        claims_root: [0; 32],
        treatment_day: approved_day,
        expires_on_day,
    };
    build(
        program_id,
        rekam::accounts::AttestationIssue {
            payer: *payer,
            authority: *authority,
            issuer: *issuer,
            patient: None,
            attestation: pda::attestation(program_id, issuer, &terms_hash),
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

/// `attestation_verify_claim`: read-only; returns `VerifiedClaim` as return data.
pub fn attestation_verify_claim(
    program_id: &Pubkey,
    attestation: &Pubkey,
    issuer: &Pubkey,
    args: AttestationVerifyClaimArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::AttestationVerifyClaim {
            attestation: *attestation,
            issuer: *issuer,
        },
        rekam::instruction::AttestationVerifyClaim { args },
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
#[allow(clippy::too_many_arguments)]
pub fn access_record(
    program_id: &Pubkey,
    accessor: &Pubkey,
    patient: &Pubkey,
    consent: &Pubkey,
    attestation: &Pubkey,
    issuer: &Pubkey,
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
            issuer: *issuer,
            receipt: pda::access_receipt(program_id, consent, index),
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::AccessRecord { purpose },
    )
}
