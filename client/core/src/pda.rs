//! Program-derived addresses. Seeds live in the program crate (`rekam::constants`, used
//! through the state types' `find_address`); nothing here repeats a seed literal.

use anchor_lang::prelude::Pubkey;
use rekam::state::{
    AccessReceipt, Attestation, Batch, Config, Consent, Contribution, EmergencyRequest,
    Guardianship, Issuer, Patient, Recovery, ShcKey, Study,
};

/// The deployment config: `["config"]`.
pub fn config(program_id: &Pubkey) -> Pubkey {
    Config::find_address(program_id).0
}

/// The program's ProgramData account (upgradeable loader): `[program_id]` under the
/// loader. Its upgrade authority is the only wallet that can initialize the deployment.
pub fn program_data(program_id: &Pubkey) -> Pubkey {
    anchor_lang::solana_program::bpf_loader_upgradeable::get_program_data_address(program_id)
}

/// The protocol-fee treasury token account for `mint`: `["treasury", mint]`.
pub fn treasury(program_id: &Pubkey, mint: &Pubkey) -> Pubkey {
    Config::find_treasury_address(program_id, mint).0
}

/// Anchor's event authority, the signer of `emit_cpi` self-invocations.
pub fn event_authority(program_id: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[rekam::constants::EVENT_AUTHORITY_SEED], program_id).0
}

/// An issuer: `["issuer", registry_id_hash]`.
pub fn issuer(program_id: &Pubkey, registry_id_hash: &[u8; 32]) -> Pubkey {
    Issuer::find_address(program_id, registry_id_hash).0
}

/// An anchored SMART Health Card key: `["shc_key", thumbprint]`.
pub fn shc_key(program_id: &Pubkey, thumbprint: &[u8; 32]) -> Pubkey {
    ShcKey::find_address(program_id, thumbprint).0
}

/// A patient profile: `["patient", pseudonym]`.
pub fn patient(program_id: &Pubkey, pseudonym: &[u8; 32]) -> Pubkey {
    Patient::find_address(program_id, pseudonym).0
}

/// An attestation: `["attestation", issuer, evidence_commitment]`.
pub fn attestation(program_id: &Pubkey, issuer: &Pubkey, evidence_commitment: &[u8; 32]) -> Pubkey {
    Attestation::find_address(program_id, issuer, evidence_commitment).0
}

/// A batch-root attestation: `["batch", issuer, root]`.
pub fn batch(program_id: &Pubkey, issuer: &Pubkey, root: &[u8; 32]) -> Pubkey {
    Batch::find_address(program_id, issuer, root).0
}

/// A consent: `["consent", patient, index]`.
pub fn consent(program_id: &Pubkey, patient: &Pubkey, index: u64) -> Pubkey {
    Consent::find_address(program_id, patient, index).0
}

/// An access receipt: `["access", consent, index]`.
pub fn access_receipt(program_id: &Pubkey, consent: &Pubkey, index: u64) -> Pubkey {
    AccessReceipt::find_address(program_id, consent, index).0
}

/// A study: `["study", researcher, id]`.
pub fn study(program_id: &Pubkey, researcher: &Pubkey, id: u64) -> Pubkey {
    Study::find_address(program_id, researcher, id).0
}

/// A study's escrow token account: `["escrow", study]`.
pub fn escrow(program_id: &Pubkey, study: &Pubkey) -> Pubkey {
    Study::find_escrow_address(program_id, study).0
}

/// A paid contribution: `["contribution", study, attestation]`.
pub fn contribution(program_id: &Pubkey, study: &Pubkey, attestation: &Pubkey) -> Pubkey {
    Contribution::find_address(program_id, study, attestation).0
}

/// A patient's tally in a study (`["participant", study, patient]`).
pub fn participant(program_id: &Pubkey, study: &Pubkey, patient: &Pubkey) -> Pubkey {
    rekam::StudyTally::find_participant(program_id, study, patient).0
}

/// An issuer's tally in a study (`["study_issuer", study, issuer]`).
pub fn study_issuer(program_id: &Pubkey, study: &Pubkey, issuer: &Pubkey) -> Pubkey {
    rekam::StudyTally::find_issuer(program_id, study, issuer).0
}

/// The associated token account of `wallet` for `mint` under `token_program`.
pub fn associated_token(wallet: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(
        wallet,
        mint,
        token_program,
    )
}

/// A patient's guardian set: `["guardians", patient]`.
pub fn guardianship(program_id: &Pubkey, patient: &Pubkey) -> Pubkey {
    Guardianship::find_address(program_id, patient).0
}

/// An emergency request: `["emergency", patient, index]`.
pub fn emergency_request(program_id: &Pubkey, patient: &Pubkey, index: u64) -> Pubkey {
    EmergencyRequest::find_address(program_id, patient, index).0
}

/// A patient's pending recovery: `["recovery", patient]`.
pub fn recovery(program_id: &Pubkey, patient: &Pubkey) -> Pubkey {
    Recovery::find_address(program_id, patient).0
}
