//! A device-signed batch of readings: one SD-JWT disclosure per reading under one claims
//! tree root, so a patient can later prove any single reading against the batch root.
//!
//! Checks: readings non-empty, at most [`MAX_READINGS`], times non-decreasing, no two with
//! the same device + code + time, all from the signing device, none later than
//! `now + MAX_CLOCK_SKEW`; on [`SignedBatch::check`] also the root and the signature.

use std::collections::HashSet;

use rekam::claim_tree::{self, Hash, ProofError, Tree};
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;

use super::reading::{Reading, ReadingError};
use crate::claims::disclosure::Disclosure;
use crate::commit::RecordSalt;

/// Domain tag that starts the signed message.
pub const SIGN_TAG: &[u8] = b"rekam-readings-v1";
/// Most readings in one batch (the on-chain revocation bitmap is sized for this).
pub const MAX_READINGS: usize = 65_536;
/// How far past `now` a device clock may run, in seconds.
pub const MAX_CLOCK_SKEW: i64 = 300;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("a batch needs at least one reading")]
    Empty,
    #[error("{0} readings exceed the batch maximum of {MAX_READINGS}")]
    TooMany(usize),
    #[error("reading {index} is earlier than the one before it")]
    OutOfOrder { index: usize },
    #[error("reading {index} repeats an earlier reading (same device, code and time)")]
    Duplicate { index: usize },
    #[error("reading {index} comes from another device than the signer")]
    WrongDevice { index: usize },
    #[error("reading {index} is at {at}, more than {MAX_CLOCK_SKEW} s after now ({now})")]
    FromFuture { index: usize, at: i64, now: i64 },
    #[error("the batch root does not match its readings")]
    RootMismatch,
    #[error("the device signature does not verify")]
    BadSignature,
    #[error("disclosure {index} is not reading.{index} with a reading value")]
    BadDisclosure { index: usize },
    #[error("the reading is not in the batch: {0:?}")]
    Proof(ProofError),
    #[error("stored batch is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Reading(#[from] ReadingError),
}

/// The bytes the device signs:
/// `"rekam-readings-v1" ‖ root ‖ u32le(count) ‖ i64le(first_at) ‖ i64le(last_at) ‖ device`.
pub fn signed_message(
    root: &Hash,
    count: u32,
    first_at: i64,
    last_at: i64,
    device: &[u8; 32],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGN_TAG.len() + 32 + 4 + 16 + 32);
    m.extend_from_slice(SIGN_TAG);
    m.extend_from_slice(root);
    m.extend_from_slice(&count.to_le_bytes());
    m.extend_from_slice(&first_at.to_le_bytes());
    m.extend_from_slice(&last_at.to_le_bytes());
    m.extend_from_slice(device);
    m
}

/// Checks `readings` against every input rule; returns the count as the tree needs it.
pub fn check_readings(
    device: &[u8; 32],
    readings: &[Reading],
    now: i64,
) -> Result<u32, BatchError> {
    if readings.is_empty() {
        return Err(BatchError::Empty);
    }
    if readings.len() > MAX_READINGS {
        return Err(BatchError::TooMany(readings.len()));
    }
    let mut seen = HashSet::with_capacity(readings.len());
    for (index, r) in readings.iter().enumerate() {
        if r.device != *device {
            return Err(BatchError::WrongDevice { index });
        }
        if index > 0 && r.at < readings[index - 1].at {
            return Err(BatchError::OutOfOrder { index });
        }
        if r.at > now.saturating_add(MAX_CLOCK_SKEW) {
            return Err(BatchError::FromFuture {
                index,
                at: r.at,
                now,
            });
        }
        if !seen.insert((r.measurement.loinc(), r.at)) {
            return Err(BatchError::Duplicate { index });
        }
    }
    u32::try_from(readings.len()).map_err(|_| BatchError::TooMany(readings.len()))
}

fn name(index: usize) -> String {
    format!("reading.{index}")
}

/// Builds batches; see [`Batch::build`].
pub struct Batch;

impl Batch {
    /// Salts each reading from `secret` (`RecordSalt::disclosure_salt(i)`, so the patient
    /// re-derives them), builds the tree and signs it with the device key.
    pub fn build(
        device: &Keypair,
        readings: &[Reading],
        secret: &RecordSalt,
        now: i64,
    ) -> Result<SignedBatch, BatchError> {
        let key = device.pubkey().to_bytes();
        let count = check_readings(&key, readings, now)?;
        let disclosures: Vec<Disclosure> = readings
            .iter()
            .enumerate()
            .map(|(i, r)| Disclosure::new(&secret.disclosure_salt(i as u32), &name(i), r.to_json()))
            .collect();
        let digests: Vec<Hash> = disclosures.iter().map(Disclosure::digest).collect();
        let tree = Tree::new(&digests).map_err(BatchError::Proof)?;
        let root = tree.root();
        let (first_at, last_at) = (readings[0].at, readings[readings.len() - 1].at);
        let signature = device.sign_message(&signed_message(&root, count, first_at, last_at, &key));
        Ok(SignedBatch {
            device: key,
            readings: readings.to_vec(),
            disclosures,
            root,
            first_at,
            last_at,
            signature,
        })
    }
}

/// A batch as the device signed it, with the disclosures that open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBatch {
    pub device: [u8; 32],
    pub readings: Vec<Reading>,
    pub disclosures: Vec<Disclosure>,
    pub root: Hash,
    pub first_at: i64,
    pub last_at: i64,
    pub signature: Signature,
}

/// The stored form (JSON): keys in base58, the root in hex, disclosures as text.
#[derive(Serialize, Deserialize)]
struct Stored {
    device: String,
    root: String,
    first_at: i64,
    last_at: i64,
    signature: String,
    disclosures: Vec<String>,
}

impl SignedBatch {
    pub fn count(&self) -> u32 {
        self.readings.len() as u32
    }

    /// Re-checks everything: the input rules, each disclosure against its reading, the
    /// root over the disclosures, the time span, and the device signature.
    pub fn check(&self, now: i64) -> Result<(), BatchError> {
        let count = check_readings(&self.device, &self.readings, now)?;
        if self.disclosures.len() != self.readings.len() {
            return Err(BatchError::RootMismatch);
        }
        for (index, (d, r)) in self.disclosures.iter().zip(&self.readings).enumerate() {
            if d.name() != name(index) || Reading::from_json(d.value()).ok() != Some(*r) {
                return Err(BatchError::BadDisclosure { index });
            }
        }
        let digests: Vec<Hash> = self.disclosures.iter().map(Disclosure::digest).collect();
        let tree = Tree::new(&digests).map_err(BatchError::Proof)?;
        let span = (
            self.readings[0].at,
            self.readings[self.readings.len() - 1].at,
        );
        if tree.root() != self.root || span != (self.first_at, self.last_at) {
            return Err(BatchError::RootMismatch);
        }
        let m = signed_message(&self.root, count, self.first_at, self.last_at, &self.device);
        if !self.signature.verify(&self.device, &m) {
            return Err(BatchError::BadSignature);
        }
        Ok(())
    }

    /// The disclosure of reading `index` and its claims-tree proof.
    pub fn prove(&self, index: u32) -> Result<(Disclosure, Vec<Hash>), BatchError> {
        let d = self
            .disclosures
            .get(index as usize)
            .ok_or(BatchError::Proof(ProofError::IndexOutOfRange))?;
        let digests: Vec<Hash> = self.disclosures.iter().map(Disclosure::digest).collect();
        let tree = Tree::new(&digests).map_err(BatchError::Proof)?;
        Ok((d.clone(), tree.proof(index).map_err(BatchError::Proof)?))
    }

    pub fn to_json(&self) -> String {
        let stored = Stored {
            device: bs58::encode(self.device).into_string(),
            root: hex::encode(self.root),
            first_at: self.first_at,
            last_at: self.last_at,
            signature: self.signature.to_string(),
            disclosures: self
                .disclosures
                .iter()
                .map(|d| d.encoded().to_string())
                .collect(),
        };
        serde_json::to_string(&stored).expect("a stored batch serializes")
    }

    /// Parses the stored form; call [`SignedBatch::check`] before trusting it.
    pub fn from_json(text: &str) -> Result<Self, BatchError> {
        let bad = |what: &str| BatchError::Malformed(what.to_string());
        let s: Stored =
            serde_json::from_str(text).map_err(|e| BatchError::Malformed(e.to_string()))?;
        let mut device = [0u8; 32];
        match bs58::decode(&s.device).onto(&mut device) {
            Ok(32) => {}
            _ => return Err(bad("device")),
        }
        let mut root = [0u8; 32];
        hex::decode_to_slice(&s.root, &mut root).map_err(|_| bad("root"))?;
        let signature: Signature = s.signature.parse().map_err(|_| bad("signature"))?;
        let mut disclosures = Vec::with_capacity(s.disclosures.len());
        let mut readings = Vec::with_capacity(s.disclosures.len());
        for (index, e) in s.disclosures.iter().enumerate() {
            let d = Disclosure::parse(e).map_err(|_| BatchError::BadDisclosure { index })?;
            readings.push(Reading::from_json(d.value())?);
            disclosures.push(d);
        }
        Ok(Self {
            device,
            readings,
            disclosures,
            root,
            first_at: s.first_at,
            last_at: s.last_at,
            signature,
        })
    }
}

/// Checks, off-chain, that `disclosure` is reading `index` of a batch of `count` under
/// `root` (the check `batch_verify_fact` makes on-chain), and returns the reading.
pub fn verify_fact(
    root: &Hash,
    count: u32,
    index: u32,
    disclosure: &Disclosure,
    proof: &[Hash],
) -> Result<Reading, BatchError> {
    claim_tree::verify(root, index, count, &disclosure.digest(), proof)
        .map_err(BatchError::Proof)?;
    if disclosure.name() != name(index as usize) {
        return Err(BatchError::BadDisclosure {
            index: index as usize,
        });
    }
    Reading::from_json(disclosure.value()).map_err(BatchError::from)
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
