//! Finding a record on chain and opening the patient's own records: the steps `fetch`,
//! `claims` and `disclose` share.

use std::cell::RefCell;

use anchor_lang::prelude::Pubkey;
use rekam::Attestation;

use super::{block_on, Ctx, FlowError};
use crate::chain::ChainClient;
use crate::crypto::Identity;
use crate::record::{self, Envelope, KeyGrantObject, PATIENT_GRANT_PREFIX};
use crate::storage::Locator;

/// The patient profile `address` names: the profile itself, or the one profile whose
/// wallet `address` is (a clinic knows the patient's wallet, not the pseudonymous PDA).
pub fn patient_profile(chain: &ChainClient, address: &Pubkey) -> Result<Pubkey, FlowError> {
    // A wallet is a System account (or no account at all): only a program account that
    // decodes as a Patient is a profile.
    if let Ok(Some(_)) = chain.fetch::<rekam::Patient>(address) {
        return Ok(*address);
    }
    let mut found = chain.list::<rekam::Patient>(Some((super::offsets::AFTER_HEADER, *address)))?;
    match found.len() {
        1 => Ok(found.remove(0).0),
        0 => Err(FlowError::Refused(format!(
            "{address} is neither a patient profile nor the wallet of one on {}; the patient runs `rekam patient register` first",
            chain.url()
        ))),
        n => Err(FlowError::Refused(format!(
            "wallet {address} controls {n} patient profiles; give the profile address"
        ))),
    }
}

/// The patient's most recent record: the latest treatment day, then the latest issued.
pub fn latest_record(chain: &ChainClient, patient: &Pubkey) -> Result<Pubkey, FlowError> {
    let records =
        chain.list::<Attestation>(Some((super::offsets::ATTESTATION_PATIENT, *patient)))?;
    records
        .into_iter()
        .max_by_key(|(key, a)| (a.treatment_day, a.issued_at, *key))
        .map(|(key, _)| key)
        .ok_or_else(|| FlowError::Refused(format!("patient {patient} has no records yet")))
}

/// What the newest memo about `attestation` says: its locator and, for a part of a split
/// Bundle, the Bundle's tag. Newest first: after a re-key, the latest memo names the
/// current copy.
pub fn memo_of(
    chain: &ChainClient,
    attestation: &Pubkey,
) -> Result<Option<(Locator, Option<String>)>, FlowError> {
    let signatures = chain
        .rpc
        .get_signatures_for_address(attestation)
        .map_err(|e| crate::chain::decode_error(&chain.url(), &e))?;
    let found = signatures
        .iter()
        .filter_map(|s| s.memo.as_deref())
        .find_map(|memo| record::parse_locator_memo(memo, attestation));
    match found {
        Some((locator, tag)) => Ok(Some((locator.parse()?, tag))),
        None => Ok(None),
    }
}

/// The record locator of `attestation`, from chain data.
pub fn locator(chain: &ChainClient, attestation: &Pubkey) -> Result<Locator, FlowError> {
    memo_of(chain, attestation)?
        .map(|(locator, _)| locator)
        .ok_or(FlowError::NoLocator(*attestation))
}

/// The tag of the split Bundle `attestation`'s record is a part of, if any.
pub fn bundle_tag(chain: &ChainClient, attestation: &Pubkey) -> Result<Option<String>, FlowError> {
    Ok(memo_of(chain, attestation)?.and_then(|(_, tag)| tag))
}

/// Opens a patient's own records: through the record header (the usual case), or
/// through a patient grant an issuer made after a recovery. Patient grants are read once
/// per opener, however many records it opens.
#[derive(Default)]
pub struct OwnRecords {
    grants: RefCell<Option<(Pubkey, Vec<KeyGrantObject>)>>,
}

/// One of the patient's records, decrypted and checked against its attestation.
pub struct OpenedRecord {
    pub key: Pubkey,
    pub attestation: Attestation,
    pub locator: Locator,
    pub envelope: Envelope,
}

impl OwnRecords {
    /// Patient grants for `patient`'s current key (`identity`), newest first.
    pub fn patient_grants(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        patient: &Pubkey,
    ) -> Result<Vec<KeyGrantObject>, FlowError> {
        if let Some((cached, grants)) = self.grants.borrow().as_ref() {
            if cached == patient {
                return Ok(grants.clone());
            }
        }
        let signatures = ctx
            .chain
            .rpc
            .get_signatures_for_address(patient)
            .map_err(|e| crate::chain::decode_error(&ctx.chain.url(), &e))?;
        let mine = hex::encode(identity.public_key());
        let mut grants = Vec::new();
        for memo in signatures.iter().filter_map(|s| s.memo.as_deref()) {
            let Some(i) = memo.find(PATIENT_GRANT_PREFIX) else {
                continue;
            };
            let locator: Locator = memo[i + PATIENT_GRANT_PREFIX.len()..].trim().parse()?;
            let bytes = block_on(ctx.store.get(&locator))??;
            let grant = KeyGrantObject::from_bytes(&bytes)?;
            if grant.grantee_key == mine {
                grants.push(grant);
            }
        }
        *self.grants.borrow_mut() = Some((*patient, grants.clone()));
        Ok(grants)
    }

    /// Decrypts the stored bytes of one of `patient`'s records.
    pub fn open_bytes(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        patient: &Pubkey,
        attestation: &Pubkey,
        bytes: &[u8],
    ) -> Result<Envelope, FlowError> {
        match record::open(bytes, identity) {
            Ok((envelope, _)) => Ok(envelope),
            Err(first) => {
                for grant in self.patient_grants(ctx, identity, patient)? {
                    if let Ok((envelope, _)) = grant.open(attestation, bytes, identity) {
                        return Ok(envelope);
                    }
                }
                Err(first.into())
            }
        }
    }

    /// Adds one of the patient's own records to `grant`, re-wrapping its data key from
    /// the record's header or, after a recovery, from a patient grant.
    #[allow(clippy::too_many_arguments)]
    pub fn grant(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        grant: &mut KeyGrantObject,
        patient: &Pubkey,
        attestation: &Pubkey,
        locator: &str,
        bytes: &[u8],
    ) -> Result<(), FlowError> {
        match grant.add(attestation, locator, bytes, identity) {
            Ok(()) => Ok(()),
            Err(first) => {
                for held in self.patient_grants(ctx, identity, patient)? {
                    // Only a grant for this version of the record (same header) opens it.
                    let Ok(entry) = held.entry_for(attestation, bytes) else {
                        continue;
                    };
                    if grant.add_from(entry, identity).is_ok() {
                        if let Some(last) = grant.entries.last_mut() {
                            last.locator = locator.to_string();
                        }
                        return Ok(());
                    }
                }
                Err(first.into())
            }
        }
    }

    /// Fetches, decrypts and checks one record against its attestation.
    pub fn open(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        attestation: &Pubkey,
        locator: Option<Locator>,
    ) -> Result<OpenedRecord, FlowError> {
        let account: Attestation = ctx.account(attestation, "attestation")?;
        let locator = match locator {
            Some(l) => l,
            None => self::locator(ctx.chain, attestation)?,
        };
        let bytes = block_on(ctx.store.get(&locator))??;
        let envelope = self.open_bytes(ctx, identity, &account.patient, attestation, &bytes)?;
        envelope.check(&ctx.program_id(), attestation, &account)?;
        Ok(OpenedRecord {
            key: *attestation,
            attestation: account,
            locator,
            envelope,
        })
    }
}

impl OwnRecords {
    /// Rebuilds the source Bundle `attestation`'s record was split from, from every part
    /// this identity can open: byte for byte when all can be, otherwise a Bundle of what
    /// could be opened and the kinds that could not.
    pub fn source_bundle(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        attestation: &Pubkey,
        locator: Option<Locator>,
    ) -> Result<crate::parts::Rebuilt, FlowError> {
        let record = self.open(ctx, identity, attestation, locator)?;
        let Some(source) = record.envelope.source.clone() else {
            return Ok(crate::parts::Rebuilt {
                bundle: record.envelope.content()?,
                missing: Vec::new(),
            });
        };
        let mut sources = vec![source.clone()];
        for other in &source.attestations {
            let Ok(key) = other.parse::<Pubkey>() else {
                continue;
            };
            if key == *attestation {
                continue;
            }
            if let Ok(part) = self.open(ctx, identity, &key, None) {
                if let Some(s) = part.envelope.source {
                    sources.push(s);
                }
            }
        }
        let refs: Vec<&crate::parts::Source> = sources.iter().collect();
        crate::parts::rebuild(&refs)
            .map_err(|e| FlowError::Refused(format!("cannot rebuild the source Bundle: {e}")))
    }
}
