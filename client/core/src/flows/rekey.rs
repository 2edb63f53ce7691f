//! Re-keying a patient's records under fresh data keys, so that a key that opened them
//! before opens nothing that exists afterwards: after a consent is revoked (its grantee's
//! copies of the data keys), when the patient rotates its encryption key, and after a
//! social recovery (the lost wallet's identity). Attestations are untouched: the
//! plaintext, and so every commitment, is the same.

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, Consent, Issuer, KeyGrant};
use serde::Serialize;
use solana_signer::Signer;

use super::records::{locate, OwnRecords};
use super::{block_on, offsets, Ctx, FlowError};
use crate::crypto::Identity;
use crate::ix;
use crate::record::{self, EmergencyGrant, KeyGrantObject, MEMO_V1_PROGRAM};
use crate::storage::{content_digest, Locator, Store};

/// What a re-key did.
#[derive(Serialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    /// Records re-encrypted under a fresh data key.
    pub records: usize,
    /// Other consents whose key grants were re-issued.
    pub grants_updated: usize,
    /// Old objects deleted (or unpinned, on IPFS).
    pub old_objects_removed: usize,
    /// Attestations with no authenticated locator (nothing stored to re-key).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_locator: Vec<String>,
}

/// Who re-keys: the patient's wallet, the identities that may open the current copies,
/// and the identity the new copies are sealed to (with the record's issuer).
pub struct Rekey<'a> {
    pub signer: &'a dyn Signer,
    pub patient: Pubkey,
    pub openers: &'a [&'a Identity],
    pub to: &'a Identity,
}

/// What a consent's key grant points at.
pub enum Held {
    /// Record keys wrapped to the grantee (every consent the patient grants).
    Keys(KeyGrantObject),
    /// Record keys wrapped to the guardians' emergency key (an emergency consent).
    Emergency(EmergencyGrant),
    /// A de-identified copy encrypted to a researcher (a study contribution's consent).
    Copy,
}

/// Reads a consent's key grant object from the store.
pub fn load_grant(store: &dyn Store, c: &Consent) -> Result<(Locator, Held), FlowError> {
    let locator = Locator::from_compact(&c.key_grant.locator, &c.key_grant.hash)?;
    let bytes = block_on(store.get(&locator))??;
    if let Ok(emergency) = EmergencyGrant::from_bytes(&bytes) {
        return Ok((locator, Held::Emergency(emergency)));
    }
    match KeyGrantObject::from_bytes(&bytes) {
        Ok(grant) => Ok((locator, Held::Keys(grant))),
        Err(_) if crate::crypto::Header::read_from(&mut &bytes[..]).is_ok() => {
            Ok((locator, Held::Copy))
        }
        Err(err) => Err(err.into()),
    }
}

/// A record and its current copy.
pub type Located = (Pubkey, Locator);

/// Every record of `patient` with its authenticated locator (the newest copy).
pub fn all_records(ctx: &Ctx, patient: &Pubkey) -> Result<(Vec<Located>, Vec<Pubkey>), FlowError> {
    let mut found = Vec::new();
    let mut without = Vec::new();
    let mut attestations = ctx
        .chain
        .list::<Attestation>(Some((offsets::ATTESTATION_PATIENT, *patient)))?;
    attestations.sort_by_key(|(key, a)| (a.issued_at, *key));
    for (key, _) in attestations {
        match locate(ctx.chain, &key)? {
            Some(located) => found.push((key, located.locator)),
            None => without.push(key),
        }
    }
    Ok((found, without))
}

/// Re-encrypts `records` (attestation, current copy) under fresh data keys to
/// `r.to` and each record's issuer, points each attestation at its new copy (a memo the
/// patient signs), re-issues the key grants of the consents still in force, and deletes
/// the old copies. `on_record` is told each attestation as it starts.
pub fn rekey(
    ctx: &Ctx,
    own: &OwnRecords,
    r: &Rekey,
    records: &[(Pubkey, Locator)],
    on_record: &mut dyn FnMut(&Pubkey),
) -> Result<Rekeyed, FlowError> {
    // Which consents are in force is the program's call, by the cluster's clock.
    let now = ctx.chain.now()?;
    // The grants of the consents that stay in force (a research copy is its own
    // encryption to the researcher: re-keying the originals does not touch it; an
    // emergency consent's records are re-wrapped to the same emergency key, inside the
    // same wrapper).
    let mut others = Vec::new();
    for (key, c) in ctx
        .chain
        .list::<Consent>(Some((offsets::AFTER_HEADER, r.patient)))?
    {
        if c.revoked_at == 0 && c.expires_at > now {
            match load_grant(ctx.store, &c)? {
                (locator, Held::Keys(grant)) => others.push((key, locator, grant, None, false)),
                (locator, Held::Emergency(e)) => {
                    others.push((key, locator, e.grant.clone(), Some(e), false))
                }
                (_, Held::Copy) => {}
            }
        }
    }

    let mut done = Rekeyed::default();
    for (attestation, old) in records {
        on_record(attestation);
        let bytes = block_on(ctx.store.get(old))??;
        let envelope = open_with_any(ctx, own, r, attestation, &bytes)?;
        let a: Attestation = ctx.account(attestation, "attestation")?;
        let issuer: Issuer = ctx.account(&a.issuer, "issuer")?;
        let (sealed, _) = record::seal(&envelope, &[r.to.public_key(), issuer.encryption_key])?;
        let new = block_on(ctx.store.put(sealed.clone()))??;
        let memo = locator_memo_ix(attestation, &new, &envelope);
        ctx.chain.send(&[memo], r.signer, &[])?;
        for (_, _, grant, _, changed) in others.iter_mut() {
            if grant.remove(attestation) {
                grant.add(attestation, &new.to_string(), &sealed, r.to)?;
                *changed = true;
            }
        }
        if new != *old {
            block_on(ctx.store.delete(old))??;
            done.old_objects_removed += 1;
        }
        done.records += 1;
    }

    for (consent_key, old_locator, grant, wrapper, changed) in others {
        if !changed {
            continue;
        }
        let bytes = match wrapper {
            Some(mut emergency) => {
                emergency.grant = grant;
                emergency.to_bytes()
            }
            None => grant.to_bytes(),
        };
        let hash = content_digest(&bytes);
        let locator = block_on(ctx.store.put(bytes))??;
        let ix = ix::consent_update_key_grant(
            &ctx.program_id(),
            &r.signer.pubkey(),
            &r.patient,
            &consent_key,
            KeyGrant {
                hash,
                locator: locator.compact(),
            },
        );
        ctx.chain.send(&[ix], r.signer, &[])?;
        block_on(ctx.store.delete(&old_locator))??;
        done.grants_updated += 1;
        done.old_objects_removed += 1;
    }
    Ok(done)
}

/// Re-keys every record of `r.patient` ([`all_records`], then [`rekey`]); attestations
/// with no stored copy are listed in `without_locator`.
pub fn rekey_all(
    ctx: &Ctx,
    own: &OwnRecords,
    r: &Rekey,
    on_record: &mut dyn FnMut(&Pubkey),
) -> Result<Rekeyed, FlowError> {
    let (records, without) = all_records(ctx, &r.patient)?;
    let mut done = rekey(ctx, own, r, &records, on_record)?;
    done.without_locator = without.iter().map(Pubkey::to_string).collect();
    Ok(done)
}

/// The SPL Memo (v1) instruction pointing `attestation` at its new copy `at`.
pub fn locator_memo_ix(
    attestation: &Pubkey,
    at: &Locator,
    envelope: &record::Envelope,
) -> solana_instruction::Instruction {
    solana_instruction::Instruction {
        program_id: MEMO_V1_PROGRAM,
        accounts: vec![solana_instruction::AccountMeta::new_readonly(
            *attestation,
            false,
        )],
        data: record::locator_memo(
            attestation,
            &at.to_string(),
            envelope.source.as_ref().map(|s| s.tag.as_str()),
        )
        .into_bytes(),
    }
}

/// Opens the current copy with the first identity that can (checked against the chain).
fn open_with_any(
    ctx: &Ctx,
    own: &OwnRecords,
    r: &Rekey,
    attestation: &Pubkey,
    bytes: &[u8],
) -> Result<record::Envelope, FlowError> {
    let mut first = None;
    for identity in r.openers {
        match own.open_bytes(ctx, identity, &r.patient, attestation, bytes) {
            Ok(envelope) => return Ok(envelope),
            Err(err) => {
                first.get_or_insert(err);
            }
        }
    }
    Err(first.unwrap_or_else(|| FlowError::Refused("no identity to open records with".into())))
}
