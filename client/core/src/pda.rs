//! Program-derived addresses. Seeds live in the program crate (`rekam::constants`, used
//! through the state types' `find_address`); nothing here repeats a seed literal.

use anchor_lang::prelude::Pubkey;
use rekam::state::{AccessReceipt, Attestation, Config, Consent, Issuer, Patient};

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

/// An issuer: `["issuer", registry_id_hash]`.
pub fn issuer(program_id: &Pubkey, registry_id_hash: &[u8; 32]) -> Pubkey {
    Issuer::find_address(program_id, registry_id_hash).0
}

/// A patient profile: `["patient", pseudonym]`.
pub fn patient(program_id: &Pubkey, pseudonym: &[u8; 32]) -> Pubkey {
    Patient::find_address(program_id, pseudonym).0
}

/// An attestation: `["attestation", issuer, evidence_commitment]`.
pub fn attestation(program_id: &Pubkey, issuer: &Pubkey, evidence_commitment: &[u8; 32]) -> Pubkey {
    Attestation::find_address(program_id, issuer, evidence_commitment).0
}

/// A consent: `["consent", patient, index]`.
pub fn consent(program_id: &Pubkey, patient: &Pubkey, index: u64) -> Pubkey {
    Consent::find_address(program_id, patient, index).0
}

/// An access receipt: `["access", consent, index]`.
pub fn access_receipt(program_id: &Pubkey, consent: &Pubkey, index: u64) -> Pubkey {
    AccessReceipt::find_address(program_id, consent, index).0
}
