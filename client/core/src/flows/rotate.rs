//! Rotating the patient's encryption key (`docs/format.md`, "Rotation"): the next
//! identity is written beside the current one first (`PATH.next`), every record is
//! re-keyed to it under fresh data keys, the profile is pointed at it on chain, and only
//! then does the next file replace the current one. Interrupted anywhere, running it
//! again resumes with the same next identity; nothing is ever sealed to a key that is
//! not on disk.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use rekam::Patient;
use serde::Serialize;
use solana_signer::Signer;
use zeroize::Zeroizing;

use super::records::OwnRecords;
use super::rekey::{rekey_all, Rekey, Rekeyed};
use super::{Ctx, FlowError};
use crate::crypto::keystore::{self, KeystoreError};
use crate::crypto::Identity;
use crate::ix;

/// What a rotation did.
#[derive(Serialize, Debug, Clone)]
pub struct Rotated {
    pub patient: String,
    pub old_key: String,
    pub new_key: String,
    /// True when an interrupted rotation's next identity was picked up again.
    pub resumed: bool,
    pub rekeyed: Rekeyed,
    /// The `patient_rotate_key` transaction (none when the chain already had the key).
    pub signature: Option<String>,
}

/// The identity file and the passphrases: `passphrase` opens a sealed next file left by
/// an interrupted rotation; `new_passphrase` seals a new one.
pub struct KeyFiles<'a> {
    pub path: &'a Path,
    pub new_passphrase: Option<&'a str>,
    pub passphrase: &'a mut dyn FnMut() -> Result<Option<Zeroizing<String>>, FlowError>,
}

/// Rotates `patient`'s encryption key from `current` (its keystore at `files.path`).
pub fn rotate_patient(
    ctx: &Ctx,
    own: &OwnRecords,
    signer: &dyn Signer,
    patient: &Pubkey,
    current: &Identity,
    mut files: KeyFiles,
    on_record: &mut dyn FnMut(&Pubkey),
) -> Result<(Identity, Rotated), FlowError> {
    let wallet = signer.pubkey();
    let profile: Patient = ctx.account(patient, "patient profile")?;
    if profile.authority != wallet {
        return Err(FlowError::Refused(format!(
            "wallet {wallet} does not control patient profile {patient}"
        )));
    }
    let (next, resumed) = next_identity(&wallet, current, &mut files)?;

    let rekeyed = rekey_all(
        ctx,
        own,
        &Rekey {
            signer,
            patient: *patient,
            openers: &[&next, current],
            to: &next,
        },
        on_record,
    )?;

    let signature = if profile.encryption_key == next.public_key() {
        None
    } else {
        let ix = ix::patient_rotate_key(&ctx.program_id(), &wallet, patient, next.public_key());
        Some(ctx.chain.send(&[ix], signer, &[])?)
    };
    switch(files.path)?;
    let rotated = Rotated {
        patient: patient.to_string(),
        old_key: hex::encode(current.public_key()),
        new_key: hex::encode(next.public_key()),
        resumed,
        rekeyed,
        signature,
    };
    Ok((next, rotated))
}

/// The next identity: the one an interrupted rotation left at `PATH.next` (resumed), or a
/// new random one written there first.
pub(crate) fn next_identity(
    wallet: &Pubkey,
    current: &Identity,
    files: &mut KeyFiles,
) -> Result<(Identity, bool), FlowError> {
    let next_path = keystore::next_path(files.path);
    let (next, resumed) = if next_path.exists() {
        let next = keystore::open(&next_path, wallet, &mut *files.passphrase)??;
        (next, true)
    } else {
        let seed = keystore::new_seed();
        keystore::write(&next_path, wallet, &seed, files.new_passphrase, false)?;
        (Identity::from_ikm(seed.as_slice()), false)
    };
    if next.public_key() == current.public_key() {
        return Err(KeystoreError::Corrupt(next_path).into());
    }
    Ok((next, resumed))
}

/// The next identity file replaces the current one (after the chain has the next key).
pub(crate) fn switch(path: &Path) -> Result<(), FlowError> {
    std::fs::rename(keystore::next_path(path), path)
        .map_err(|err| KeystoreError::Unwritable(path.to_path_buf(), err).into())
}
