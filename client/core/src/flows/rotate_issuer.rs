//! Rotating a clinic's encryption key (`issuer_rotate_keys`, the wallet unchanged): every
//! record the issuer attested is sealed again under a fresh data key to its patient and
//! the issuer's next key, each attestation is pointed at the new copy by a memo the
//! issuer signs, the old copies are deleted, then the chain and the keystore file switch
//! to the next key (as for a patient: `PATH.next` first, resumable). Afterwards the old
//! key opens nothing that exists. The patients' consent grants over those records name
//! the old data keys: each patient re-issues them with `rekam identity rekey`
//! (`docs/format.md`, "Rotation").

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, Issuer, Patient};
use serde::Serialize;
use solana_signer::Signer;

use super::records::locate;
use super::rekey::locator_memo_ix;
use super::rotate::{next_identity, switch, KeyFiles};
use super::{block_on, Ctx, FlowError};
use crate::crypto::Identity;
use crate::ix;
use crate::record::{self, Envelope};

/// `Attestation.issuer` (after the header and `kind`).
pub const ATTESTATION_ISSUER: usize = 4;

/// What an issuer's rotation did.
#[derive(Serialize, Debug, Clone)]
pub struct IssuerRotated {
    pub issuer: String,
    pub old_key: String,
    pub new_key: String,
    pub resumed: bool,
    /// Records sealed again under fresh data keys.
    pub records: usize,
    pub old_objects_removed: usize,
    /// Attestations with no authenticated locator (nothing stored to re-key).
    pub without_locator: Vec<String>,
    /// Patient profiles whose consent grants name the old data keys (each runs
    /// `rekam identity rekey`).
    pub patients_to_rekey: Vec<String>,
    pub signature: Option<String>,
}

/// Rotates `issuer_key`'s encryption key from `current`, signed by its authority.
pub fn rotate_issuer(
    ctx: &Ctx,
    signer: &dyn Signer,
    issuer_key: &Pubkey,
    current: &Identity,
    mut files: KeyFiles,
    on_record: &mut dyn FnMut(&Pubkey),
) -> Result<(Identity, IssuerRotated), FlowError> {
    let wallet = signer.pubkey();
    let issuer: Issuer = ctx.account(issuer_key, "issuer")?;
    if issuer.authority != wallet {
        return Err(FlowError::Refused(format!(
            "wallet {wallet} is not the authority of issuer {issuer_key}"
        )));
    }
    let (next, resumed) = next_identity(&wallet, current, &mut files)?;

    let mut attestations = ctx
        .chain
        .list::<Attestation>(Some((ATTESTATION_ISSUER, *issuer_key)))?;
    attestations.sort_by_key(|(key, a)| (a.issued_at, *key));
    let mut out = IssuerRotated {
        issuer: issuer_key.to_string(),
        old_key: hex::encode(current.public_key()),
        new_key: hex::encode(next.public_key()),
        resumed,
        records: 0,
        old_objects_removed: 0,
        without_locator: Vec::new(),
        patients_to_rekey: Vec::new(),
        signature: None,
    };
    for (key, a) in &attestations {
        on_record(key);
        let Some(located) = locate(ctx.chain, key)? else {
            out.without_locator.push(key.to_string());
            continue;
        };
        let bytes = block_on(ctx.store.get(&located.locator))??;
        let envelope = open_either(&bytes, &[&next, current])?;
        envelope.check(&ctx.program_id(), key, a)?;
        let patient: Patient = ctx.account(&a.patient, "patient profile")?;
        let (sealed, _) = record::seal(&envelope, &[patient.encryption_key, next.public_key()])?;
        let new = block_on(ctx.store.put(sealed))??;
        let memo = locator_memo_ix(key, &new, &envelope);
        ctx.chain.send(&[memo], signer, &[])?;
        if new != located.locator {
            block_on(ctx.store.delete(&located.locator))??;
            out.old_objects_removed += 1;
        }
        out.records += 1;
        let patient = a.patient.to_string();
        if !out.patients_to_rekey.contains(&patient) {
            out.patients_to_rekey.push(patient);
        }
    }

    if issuer.encryption_key != next.public_key() {
        let ix = ix::issuer_rotate_keys(
            &ctx.program_id(),
            &wallet,
            &wallet,
            issuer_key,
            next.public_key(),
        );
        out.signature = Some(ctx.chain.send(&[ix], signer, &[])?);
    }
    switch(files.path)?;
    Ok((next, out))
}

fn open_either(bytes: &[u8], identities: &[&Identity]) -> Result<Envelope, FlowError> {
    let mut first = None;
    for identity in identities {
        match record::open(bytes, identity) {
            Ok((envelope, _)) => return Ok(envelope),
            Err(err) => {
                first.get_or_insert(err);
            }
        }
    }
    Err(first.expect("two identities").into())
}
