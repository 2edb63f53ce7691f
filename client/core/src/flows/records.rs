//! Finding a record on chain and opening the patient's own records: the steps `fetch`,
//! `claims` and `disclose` share.

use std::cell::RefCell;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
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

/// Where `attestation`'s record is stored, from the newest authenticated locator memo, and
/// the memos that were skipped (a stranger's, a failed transaction's, a malformed one).
#[derive(Debug)]
pub struct Located {
    pub locator: Locator,
    /// For a part of a split Bundle, the Bundle's tag.
    pub tag: Option<String>,
    /// Signatures of locator memos about this attestation that were not accepted.
    pub skipped: Vec<String>,
}

/// The newest authenticated locator memo about `attestation` (docs/format.md). Anyone can
/// post a memo listing an address, so a memo counts only from a successful transaction
/// that either issued this attestation (the program checked the issuer's signature), or
/// was signed by the issuer's current authority (re-keying after a rotation), or by the
/// patient's wallet: the current one, or a wallet the patient had before a recovery, for
/// memos from before that recovery. Everything else is skipped,
/// never fatal. Every page of the address's history is read.
pub fn locate(chain: &ChainClient, attestation: &Pubkey) -> Result<Option<Located>, FlowError> {
    let Some(account) = chain.fetch::<Attestation>(attestation)? else {
        return Ok(None);
    };
    let mut wallets: Option<Vec<(Pubkey, Option<i64>)>> = None;
    let mut issuer_authority: Option<Option<Pubkey>> = None;
    let mut skipped = Vec::new();
    for listed in chain.history(attestation)? {
        let Some((text, tag)) = listed
            .memo
            .as_deref()
            .and_then(|memo| record::parse_locator_memo(memo, attestation))
        else {
            continue;
        };
        let (true, Ok(locator)) = (listed.ok, text.parse::<Locator>()) else {
            skipped.push(listed.signature);
            continue;
        };
        let Some(tx) = chain.transaction(&listed.signature)? else {
            skipped.push(listed.signature);
            continue;
        };
        let issued_here = tx.instructions.iter().any(|ix| {
            ix.program == chain.program_id
                && ix
                    .data
                    .starts_with(rekam::instruction::AttestationIssue::DISCRIMINATOR)
                && ix.accounts.contains(attestation)
        });
        let mut by_patient = || -> Result<bool, FlowError> {
            if wallets.is_none() {
                wallets = Some(patient_wallets(chain, &account.patient)?);
            }
            let wallets = wallets.as_deref().unwrap_or_default();
            Ok(wallets.iter().any(|(wallet, until)| {
                tx.signers.contains(wallet)
                    && until.is_none_or(|t| listed.block_time.is_some_and(|at| at <= t))
            }))
        };
        // A clinic re-keying what it attested (`flows::rotate_issuer`) signs with its
        // current authority.
        let mut by_issuer = || -> Result<bool, FlowError> {
            if issuer_authority.is_none() {
                issuer_authority = Some(
                    chain
                        .fetch::<rekam::Issuer>(&account.issuer)?
                        .map(|i| i.authority),
                );
            }
            Ok(issuer_authority
                .flatten()
                .is_some_and(|authority| tx.signers.contains(&authority)))
        };
        if issued_here || by_patient()? || by_issuer()? {
            return Ok(Some(Located {
                locator,
                tag,
                skipped,
            }));
        }
        skipped.push(listed.signature);
    }
    Ok(None)
}

/// The patient's wallets: the current one (no end), and each one a recovery replaced,
/// with the time it stopped being the patient's.
fn patient_wallets(
    chain: &ChainClient,
    patient: &Pubkey,
) -> Result<Vec<(Pubkey, Option<i64>)>, FlowError> {
    let mut wallets = Vec::new();
    if let Some(profile) = chain.fetch::<rekam::Patient>(patient)? {
        wallets.push((profile.authority, None));
    }
    let recovery = crate::pda::recovery(&chain.program_id, patient);
    for emitted in chain.events_touching(&recovery)? {
        if let Some(e) = emitted.decode::<rekam::events::PatientRecovered>() {
            if e.patient == *patient {
                wallets.push((e.previous, Some(emitted.block_time.unwrap_or(i64::MIN))));
            }
        }
    }
    Ok(wallets)
}

/// What the newest authenticated memo about `attestation` says: its locator and, for a
/// part of a split Bundle, the Bundle's tag.
pub fn memo_of(
    chain: &ChainClient,
    attestation: &Pubkey,
) -> Result<Option<(Locator, Option<String>)>, FlowError> {
    Ok(locate(chain, attestation)?.map(|l| (l.locator, l.tag)))
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
    grants: RefCell<Option<CachedGrants>>,
}

/// Patient grants read for one (patient, identity key).
type CachedGrants = (Pubkey, [u8; 32], Vec<KeyGrantObject>);

/// One of the patient's records, decrypted and checked against its attestation.
pub struct OpenedRecord {
    pub key: Pubkey,
    pub attestation: Attestation,
    pub locator: Locator,
    pub envelope: Envelope,
    /// Locator memos about the attestation that were skipped (not authenticated).
    pub skipped_memos: Vec<String>,
}

impl OwnRecords {
    /// Patient grants for `patient`'s current key (`identity`), newest first.
    pub fn patient_grants(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        patient: &Pubkey,
    ) -> Result<Vec<KeyGrantObject>, FlowError> {
        if let Some((cached, key, grants)) = self.grants.borrow().as_ref() {
            if cached == patient && *key == identity.public_key() {
                return Ok(grants.clone());
            }
        }
        // Announced by the clinic that re-wrapped the keys (`recovery rewrap`): only from a
        // successful transaction signed by an accredited issuer's wallet; anything else,
        // or a grant that cannot be fetched or read, is skipped.
        let issuers: Vec<Pubkey> = ctx
            .chain
            .list::<rekam::Issuer>(None)?
            .into_iter()
            .map(|(_, issuer)| issuer.authority)
            .collect();
        let mine = hex::encode(identity.public_key());
        let mut grants = Vec::new();
        for listed in ctx.chain.history(patient)?.into_iter().filter(|l| l.ok) {
            let Some(memo) = listed.memo.as_deref() else {
                continue;
            };
            let Some(i) = memo.find(PATIENT_GRANT_PREFIX) else {
                continue;
            };
            let Ok(locator) = memo[i + PATIENT_GRANT_PREFIX.len()..]
                .trim()
                .parse::<Locator>()
            else {
                continue;
            };
            let Some(tx) = ctx.chain.transaction(&listed.signature)? else {
                continue;
            };
            if !tx.signers.iter().any(|s| issuers.contains(s)) {
                continue;
            }
            let Ok(Ok(bytes)) = block_on(ctx.store.get(&locator)) else {
                continue;
            };
            let Ok(grant) = KeyGrantObject::from_bytes(&bytes) else {
                continue;
            };
            if grant.grantee_key == mine {
                grants.push(grant);
            }
        }
        *self.grants.borrow_mut() = Some((*patient, identity.public_key(), grants.clone()));
        Ok(grants)
    }

    /// Decrypts the stored bytes of one of `patient`'s records and checks them against
    /// the attestation (evidence commitment, diagnosis commitment, claims root): every
    /// path that opens a record to re-seal, grant or read it goes through here, so bytes
    /// that are not the attested record are refused before anything is built on them.
    pub fn open_bytes(
        &self,
        ctx: &Ctx,
        identity: &Identity,
        patient: &Pubkey,
        attestation: &Pubkey,
        bytes: &[u8],
    ) -> Result<Envelope, FlowError> {
        let account: Attestation = ctx.account(attestation, "attestation")?;
        let envelope = self.decrypt(ctx, identity, patient, attestation, bytes)?;
        envelope.check(&ctx.program_id(), attestation, &account)?;
        Ok(envelope)
    }

    /// Decrypts, through the header or a patient grant; no check against the chain.
    fn decrypt(
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
        // Only the attested record is shared: open and check it first.
        self.open_bytes(ctx, identity, patient, attestation, bytes)?;
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
        let (locator, skipped_memos) = match locator {
            Some(l) => (l, Vec::new()),
            None => {
                let located =
                    locate(ctx.chain, attestation)?.ok_or(FlowError::NoLocator(*attestation))?;
                (located.locator, located.skipped)
            }
        };
        let bytes = block_on(ctx.store.get(&locator))??;
        let envelope = self.decrypt(ctx, identity, &account.patient, attestation, &bytes)?;
        envelope.check(&ctx.program_id(), attestation, &account)?;
        Ok(OpenedRecord {
            key: *attestation,
            attestation: account,
            locator,
            envelope,
            skipped_memos,
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
