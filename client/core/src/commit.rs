//! Salted commitments carried by attestations: diagnosis, evidence and the claims root.
//!
//! The construction is specified in `docs/format.md` ("Commitments") and pinned by test
//! vectors computed independently. Summary:
//!
//! - Every hash is SHA-256 over a domain label and length-prefixed fields:
//!   `H(label; f1, .., fn) = SHA-256(u32be(len label) ‖ label ‖ u32be(len f1) ‖ f1 ‖ ..)`.
//!   Length prefixes make field boundaries unambiguous; labels separate the uses.
//! - A record has one 32-byte secret, the *record salt*, kept inside the encrypted record.
//!   Per-use salts are derived from it with HKDF-SHA256 (`info` = the use's label), so a
//!   disclosure of one salt reveals nothing about the others.
//! - Diagnosis: `H("rekam/v1/diagnosis"; salt_d, system, code)`. With a 256-bit salt the
//!   ~70k ICD-10 codes cannot be tried against it.
//! - Evidence: `H("rekam/v1/evidence"; salt_e, plaintext)` over the record's plaintext
//!   bytes, so re-encrypting or moving a record never changes it.
//! - Claims: one SD-JWT disclosure per fact with a salt derived per claim index; the
//!   tree over their digests is `rekam::claim_tree` (see `crate::claims`).

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub type Hash = [u8; 32];

pub const LABEL_DIAGNOSIS: &[u8] = b"rekam/v1/diagnosis";
pub const LABEL_EVIDENCE: &[u8] = b"rekam/v1/evidence";
pub const LABEL_CLAIM_SALT: &[u8] = b"rekam/v2/claim-salt";

/// A streaming `H(label; ..)`: fields are appended one by one.
pub struct Hasher(Sha256);

impl Hasher {
    pub fn new(label: &[u8]) -> Self {
        let mut hasher = Self(Sha256::new());
        hasher.field(label);
        hasher
    }

    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(field_len(bytes.len() as u64));
        self.0.update(bytes);
        self
    }

    /// Starts a field of `len` bytes that arrives in pieces via [`Hasher::update`].
    pub fn begin_field(&mut self, len: u64) -> &mut Self {
        self.0.update(field_len(len));
        self
    }

    pub fn update(&mut self, piece: &[u8]) -> &mut Self {
        self.0.update(piece);
        self
    }

    pub fn finish(self) -> Hash {
        self.0.finalize().into()
    }
}

/// Field lengths are u32 big-endian; a longer field (multi-GB imaging) uses the
/// escape `0xFFFFFFFF ‖ u64be(len)`.
fn field_len(len: u64) -> Vec<u8> {
    match u32::try_from(len) {
        Ok(short) if short != u32::MAX => short.to_be_bytes().to_vec(),
        _ => [
            u32::MAX.to_be_bytes().as_slice(),
            len.to_be_bytes().as_slice(),
        ]
        .concat(),
    }
}

fn hash(label: &[u8], fields: &[&[u8]]) -> Hash {
    let mut hasher = Hasher::new(label);
    for field in fields {
        hasher.field(field);
    }
    hasher.finish()
}

/// The one secret per record from which every commitment salt is derived.
#[derive(Clone)]
pub struct RecordSalt(Zeroizing<[u8; 32]>);

impl RecordSalt {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// HKDF-SHA256(ikm = record salt, salt = none, info = label ‖ index).
    fn derive(&self, label: &[u8], index: Option<u32>) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(None, self.0.as_slice());
        let mut info = label.to_vec();
        if let Some(i) = index {
            info.extend_from_slice(&i.to_be_bytes());
        }
        let mut out = Zeroizing::new([0u8; 32]);
        hk.expand(&info, out.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    pub fn diagnosis_salt(&self) -> Zeroizing<[u8; 32]> {
        self.derive(LABEL_DIAGNOSIS, None)
    }

    pub fn evidence_salt(&self) -> Zeroizing<[u8; 32]> {
        self.derive(LABEL_EVIDENCE, None)
    }

    /// The 16-byte salt of claim `index`'s SD-JWT disclosure (`crate::claims`).
    pub fn disclosure_salt(&self, index: u32) -> [u8; 16] {
        let full = self.derive(LABEL_CLAIM_SALT, Some(index));
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }
}

impl std::fmt::Debug for RecordSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSalt(..)")
    }
}

/// Commitment to a coded diagnosis. `system` is the code system URI (e.g.
/// `http://hl7.org/fhir/sid/icd-10`), `code` the code as issued (e.g. `E11.9`).
pub fn diagnosis_commitment(salt: &RecordSalt, system: &str, code: &str) -> Hash {
    hash(
        LABEL_DIAGNOSIS,
        &[
            salt.diagnosis_salt().as_slice(),
            system.as_bytes(),
            code.as_bytes(),
        ],
    )
}

/// Commitment to a record's plaintext, computed in one pass.
pub fn evidence_commitment(salt: &RecordSalt, plaintext: &[u8]) -> Hash {
    hash(
        LABEL_EVIDENCE,
        &[salt.evidence_salt().as_slice(), plaintext],
    )
}

/// The evidence commitment of a plaintext that arrives in pieces (of `len` bytes total).
pub fn evidence_hasher(salt: &RecordSalt, len: u64) -> Hasher {
    let mut hasher = Hasher::new(LABEL_EVIDENCE);
    hasher
        .field(salt.evidence_salt().as_slice())
        .begin_field(len);
    hasher
}
