//! Every clinical fact of a record as a salted claim the patient can disclose alone.
//!
//! - [`disclosure`]: one claim as an SD-JWT disclosure (RFC 9901).
//! - [`ClaimSet`]: a record's claims in order and their tree (`rekam::claim_tree`), whose
//!   root the attestation carries.
//! - [`presentation`]: chosen claims with their proofs and the holder's binding, and their
//!   verification against the chain.
//! - [`sdjwt`]: the same claims as a standard SD-JWT with key binding.
//! - [`words`]: claims rendered for people.
//!
//! Salts: claim `i` of a record gets `HKDF-SHA256(record salt, info = "rekam/v2/claim-salt"
//! ‖ u32be(i))`, 16 bytes; one disclosed salt says nothing about the others.

pub mod disclosure;
pub mod presentation;
pub mod sdjwt;
pub mod words;

use std::fmt;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use rekam::claim_tree::{self, Hash, ProofError, Tree};

use crate::commit::RecordSalt;
use crate::fhir::facts::Fact;
pub use disclosure::{Disclosure, DisclosureError};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimError {
    #[error("a record needs at least one claim")]
    NoClaims,
    #[error("claim index {index} is out of range ({count} claims)")]
    IndexOutOfRange { index: u32, count: u32 },
    #[error("claim {index}: {source}")]
    Disclosure {
        index: usize,
        source: DisclosureError,
    },
    #[error("too many claims for one tree: {0}")]
    TooMany(usize),
    #[error("{0:?} is not a claim id (<attestation>#<index>)")]
    BadId(String),
    /// The wallet could not sign off-chain bytes (a hardware wallet signs transactions
    /// only; see `docs/format.md`, "Hardware wallets").
    #[error("wallet {signer} cannot sign {what}: {reason}")]
    Signing {
        signer: String,
        what: &'static str,
        reason: String,
    },
}

/// Signs off-chain bytes with `signer`, or says which wallet could not and why: a
/// failed signature is an error, never an empty signature.
pub(crate) fn sign_offchain(
    signer: &dyn solana_signer::Signer,
    what: &'static str,
    message: &[u8],
) -> Result<solana_signature::Signature, ClaimError> {
    signer
        .try_sign_message(message)
        .map_err(|e| ClaimError::Signing {
            signer: signer
                .try_pubkey()
                .map(|k| k.to_string())
                .unwrap_or_default(),
            what,
            reason: e.to_string(),
        })
}

/// A claim's stable id across all of a patient's records: `<attestation>#<index>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimId {
    pub attestation: Pubkey,
    pub index: u32,
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.attestation, self.index)
    }
}

impl FromStr for ClaimId {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ClaimError::BadId(s.to_string());
        let (attestation, index) = s.split_once('#').ok_or_else(bad)?;
        Ok(Self {
            attestation: attestation.parse().map_err(|_| bad())?,
            index: index.parse().map_err(|_| bad())?,
        })
    }
}

/// A record's claims, in leaf order, with their tree.
#[derive(Clone, Debug)]
pub struct ClaimSet {
    disclosures: Vec<Disclosure>,
    tree: Tree,
}

fn tree_error(e: ProofError, count: usize) -> ClaimError {
    match e {
        ProofError::IndexOutOfRange if count == 0 => ClaimError::NoClaims,
        _ => ClaimError::TooMany(count),
    }
}

impl ClaimSet {
    /// Salts and commits to `facts` (the issuer's side).
    pub fn issue(salt: &RecordSalt, facts: &[Fact]) -> Result<Self, ClaimError> {
        let disclosures = facts
            .iter()
            .enumerate()
            .map(|(i, fact)| {
                let index = u32::try_from(i).map_err(|_| ClaimError::TooMany(facts.len()))?;
                Ok(Disclosure::new(
                    &salt.disclosure_salt(index),
                    &fact.name,
                    fact.value.clone(),
                ))
            })
            .collect::<Result<Vec<_>, ClaimError>>()?;
        Self::from_disclosures(disclosures)
    }

    /// The claims as stored in a record (base64url disclosures, in order).
    pub fn from_encoded<S: AsRef<str>>(encoded: &[S]) -> Result<Self, ClaimError> {
        let disclosures = encoded
            .iter()
            .enumerate()
            .map(|(index, text)| {
                Disclosure::parse(text.as_ref())
                    .map_err(|source| ClaimError::Disclosure { index, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_disclosures(disclosures)
    }

    fn from_disclosures(disclosures: Vec<Disclosure>) -> Result<Self, ClaimError> {
        let digests: Vec<Hash> = disclosures.iter().map(Disclosure::digest).collect();
        let tree = Tree::new(&digests).map_err(|e| tree_error(e, digests.len()))?;
        Ok(Self { disclosures, tree })
    }

    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    pub fn count(&self) -> u32 {
        self.tree.count()
    }

    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    pub fn encoded(&self) -> Vec<String> {
        self.disclosures
            .iter()
            .map(|d| d.encoded().to_string())
            .collect()
    }

    pub fn get(&self, index: u32) -> Result<&Disclosure, ClaimError> {
        self.disclosures
            .get(index as usize)
            .ok_or(ClaimError::IndexOutOfRange {
                index,
                count: self.count(),
            })
    }

    /// The siblings that prove claim `index` under [`ClaimSet::root`].
    pub fn proof(&self, index: u32) -> Result<Vec<Hash>, ClaimError> {
        self.tree
            .proof(index)
            .map_err(|_| ClaimError::IndexOutOfRange {
                index,
                count: self.count(),
            })
    }

    /// The index of the claim named `name`.
    pub fn position(&self, name: &str) -> Option<u32> {
        self.disclosures
            .iter()
            .position(|d| d.name() == name)
            .map(|i| i as u32)
    }
}

/// Verifies one disclosed claim against a claims root (see `rekam::claim_tree::verify`).
pub fn verify(
    root: &Hash,
    index: u32,
    count: u32,
    disclosure: &Disclosure,
    proof: &[Hash],
) -> Result<(), ProofError> {
    claim_tree::verify(root, index, count, &disclosure.digest(), proof)
}
