//! A provider reads a record a patient shared. In order: read the consent and its key
//! grant (checked against the on-chain hash), record the access receipt on-chain, then
//! fetch, decrypt and verify the record against its attestation. A refused receipt
//! (revoked, expired, out of scope...) stops before any decryption. An emergency
//! consent's grant opens only with the emergency key rebuilt from M guardians' shares.

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, Consent};
use solana_signer::Signer;

use super::emergency::Target;
use super::records::OpenedRecord;
use super::{block_on, Ctx, FlowError};
use crate::crypto::Identity;
use crate::ix;
use crate::parts::{self, Rebuilt};
use crate::record::{EmergencyGrant, KeyGrantObject, RecordError};
use crate::storage::Locator;

/// The grantee's side of one consent: its key grant, read once.
pub struct Reader<'a> {
    pub signer: &'a dyn Signer,
    pub identity: &'a Identity,
    pub consent_key: Pubkey,
    /// For an emergency consent, the share memos that were skipped (`flows::emergency`).
    pub skipped_shares: Vec<String>,
    consent: Consent,
    grant: KeyGrantObject,
    /// For an emergency consent, the emergency key rebuilt from the guardians' shares:
    /// the grant is wrapped to it, not to the grantee.
    emergency: Option<Identity>,
}

impl<'a> Reader<'a> {
    /// Reads the consent and its key grant, and checks the grant against the on-chain hash.
    pub fn new(
        ctx: &Ctx,
        signer: &'a dyn Signer,
        identity: &'a Identity,
        consent_key: &Pubkey,
    ) -> Result<Self, FlowError> {
        let consent: Consent = ctx.account(consent_key, "consent")?;
        let locator = Locator::from_compact(&consent.key_grant.locator, &consent.key_grant.hash)?;
        let bytes = block_on(ctx.store.get(&locator))??;
        if crate::storage::content_digest(&bytes) != consent.key_grant.hash {
            return Err(FlowError::Refused(format!(
                "key grant {locator} does not match the hash in consent {consent_key}"
            )));
        }
        // An emergency consent's grant is wrapped to the emergency key: rebuild it from
        // the shares the guardians released to this clinic first (M of them, or nothing).
        let (grant, emergency, skipped_shares) = match EmergencyGrant::from_bytes(&bytes) {
            Ok(emergency) => {
                let target = Target {
                    emergency_key: emergency.emergency_key().map_err(RecordError::from)?,
                    threshold: emergency.threshold,
                };
                let request = emergency.request().map_err(RecordError::from)?;
                let unlocked = super::emergency::unlock(ctx, identity, &request, target)?;
                (emergency.grant, Some(unlocked.identity), unlocked.skipped)
            }
            Err(_) => (KeyGrantObject::from_bytes(&bytes)?, None, Vec::new()),
        };
        Ok(Self {
            signer,
            identity,
            consent_key: *consent_key,
            skipped_shares,
            consent,
            grant,
            emergency,
        })
    }

    /// Whether the key grant covers `attestation` at all.
    pub fn covers(&self, attestation: &Pubkey) -> bool {
        self.grant.entry(attestation).is_ok()
    }

    /// Reads one record: the receipt on-chain first, then decrypt and verify.
    pub fn read(&mut self, ctx: &Ctx, attestation_key: &Pubkey) -> Result<OpenedRecord, FlowError> {
        let attestation: Attestation = ctx.account(attestation_key, "attestation")?;
        let entry = self.grant.entry(attestation_key)?.clone();
        let receipt = ix::access_record(
            &ctx.program_id(),
            &self.signer.pubkey(),
            &self.consent.patient,
            &self.consent_key,
            attestation_key,
            &attestation.issuer,
            self.consent.access_count,
            self.consent.purpose,
        );
        ctx.chain
            .send(&[receipt], self.signer, &[])
            .map_err(|e| FlowError::Refused(format!("the access was refused on-chain: {e}")))?;
        self.consent.access_count += 1;
        let locator: Locator = entry.locator.parse()?;
        let bytes = match block_on(ctx.store.get(&locator))? {
            Err(crate::storage::StoreError::NotFound(_)) => {
                return Err(FlowError::Refused(format!(
                    "the copy of {attestation_key} that consent {}'s key grant names ({locator}) no longer exists: the record was re-keyed since the grant (a key rotation); ask the patient to re-issue it (`rekam identity rekey`)",
                    self.consent_key
                )))
            }
            other => other?,
        };
        let opener = self.emergency.as_ref().unwrap_or(self.identity);
        let (envelope, _) = self.grant.open(attestation_key, &bytes, opener)?;
        envelope.check(&ctx.program_id(), attestation_key, &attestation)?;
        Ok(OpenedRecord {
            key: *attestation_key,
            attestation,
            locator,
            envelope,
            // The locator comes from the patient's key grant, not from a memo.
            skipped_memos: Vec::new(),
        })
    }

    /// Reads `attestation_key`'s record and every other part of its source Bundle that
    /// this consent covers (a receipt for each), and rebuilds what they hold; the kinds
    /// the consent does not cover are named missing.
    pub fn read_source_bundle(
        &mut self,
        ctx: &Ctx,
        attestation_key: &Pubkey,
    ) -> Result<(OpenedRecord, Rebuilt), FlowError> {
        let first = self.read(ctx, attestation_key)?;
        let Some(source) = first.envelope.source.clone() else {
            let bundle = first.envelope.content()?;
            return Ok((
                first,
                Rebuilt {
                    bundle,
                    missing: Vec::new(),
                },
            ));
        };
        let mut sources = vec![source.clone()];
        for other in &source.attestations {
            let Ok(key) = other.parse::<Pubkey>() else {
                continue;
            };
            if key == *attestation_key || !self.covers(&key) {
                continue;
            }
            if let Some(s) = self.read(ctx, &key)?.envelope.source {
                sources.push(s);
            }
        }
        let refs: Vec<&parts::Source> = sources.iter().collect();
        let rebuilt = parts::rebuild(&refs)
            .map_err(|e| FlowError::Refused(format!("cannot rebuild the source Bundle: {e}")))?;
        Ok((first, rebuilt))
    }
}
