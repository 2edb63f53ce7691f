//! Builders for the research instructions: open, top up, contribute, close.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::system_program;
use rekam::{KeyGrant, StudyContributeArgs, StudyOpenArgs};

use super::build;
use crate::pda;

/// `study_open`: the researcher signs, pays rent and moves `args.budget` from `source`.
/// `ethics_approval` is the approval attestation of these terms by `approval_issuer`.
#[allow(clippy::too_many_arguments)]
pub fn study_open(
    program_id: &Pubkey,
    researcher: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
    source: &Pubkey,
    ethics_approval: &Pubkey,
    approval_issuer: &Pubkey,
    args: StudyOpenArgs,
) -> Instruction {
    let study = pda::study(program_id, researcher, args.id);
    build(
        program_id,
        rekam::accounts::StudyOpen {
            researcher: *researcher,
            config: pda::config(program_id),
            ethics_approval: *ethics_approval,
            issuer: *approval_issuer,
            study,
            mint: *mint,
            escrow: pda::escrow(program_id, &study),
            source: *source,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::StudyOpen { args },
    )
}

/// A study's ethics approval (`Study.ethics_approval`) and the board that issued it,
/// which top-ups, contributions and closes re-check.
#[derive(Clone, Copy, Debug)]
pub struct StudyApproval {
    pub attestation: Pubkey,
    pub board: Pubkey,
}

/// `study_top_up`: `funder` signs and moves `amount` from `source` into the escrow.
#[allow(clippy::too_many_arguments)]
pub fn study_top_up(
    program_id: &Pubkey,
    funder: &Pubkey,
    study: &Pubkey,
    approval: StudyApproval,
    mint: &Pubkey,
    token_program: &Pubkey,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::StudyTopUp {
            funder: *funder,
            study: *study,
            ethics_approval: approval.attestation,
            ethics_board: approval.board,
            escrow: pda::escrow(program_id, study),
            mint: *mint,
            source: *source,
            token_program: *token_program,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::StudyTopUp { amount },
    )
}

/// The accounts of a contribution, beyond the program's own PDAs.
#[derive(Clone, Copy, Debug)]
pub struct Contribute<'a> {
    /// The patient's wallet: signs, pays rent, receives the payout (its ATA).
    pub authority: &'a Pubkey,
    pub patient: &'a Pubkey,
    /// The patient's current `consents_created` (the research consent's index).
    pub consent_index: u64,
    pub study: &'a Pubkey,
    pub approval: StudyApproval,
    pub mint: &'a Pubkey,
    pub token_program: &'a Pubkey,
    pub attestation: &'a Pubkey,
    pub issuer: &'a Pubkey,
}

/// `study_contribute`: pays the patient for `attestation` and grants the research consent
/// whose key grant is `copy`.
pub fn study_contribute(program_id: &Pubkey, c: Contribute<'_>, copy: KeyGrant) -> Instruction {
    build(
        program_id,
        rekam::accounts::StudyContribute {
            authority: *c.authority,
            patient: *c.patient,
            config: pda::config(program_id),
            study: *c.study,
            ethics_approval: c.approval.attestation,
            ethics_board: c.approval.board,
            participant: pda::participant(program_id, c.study, c.patient),
            issuer_tally: pda::study_issuer(program_id, c.study, c.issuer),
            escrow: pda::escrow(program_id, c.study),
            mint: *c.mint,
            attestation: *c.attestation,
            issuer: *c.issuer,
            contribution: pda::contribution(program_id, c.study, c.attestation),
            consent: pda::consent(program_id, c.patient, c.consent_index),
            patient_token: pda::associated_token(c.authority, c.mint, c.token_program),
            treasury: pda::treasury(program_id, c.mint),
            token_program: *c.token_program,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::StudyContribute {
            args: StudyContributeArgs { copy },
        },
    )
}

/// `study_close`: `closer` signs (the researcher, or anyone after the deadline or once the
/// ethics approval is withdrawn); the rest of the escrow goes to `refund_to`, a token
/// account of the researcher.
#[allow(clippy::too_many_arguments)]
pub fn study_close(
    program_id: &Pubkey,
    closer: &Pubkey,
    researcher: &Pubkey,
    study: &Pubkey,
    approval: StudyApproval,
    mint: &Pubkey,
    token_program: &Pubkey,
    refund_to: &Pubkey,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::StudyClose {
            closer: *closer,
            study: *study,
            ethics_approval: approval.attestation,
            ethics_board: approval.board,
            researcher: *researcher,
            escrow: pda::escrow(program_id, study),
            mint: *mint,
            refund_to: *refund_to,
            token_program: *token_program,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::StudyClose {},
    )
}
