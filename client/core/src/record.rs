//! A stored record: the plaintext envelope (the original FHIR Bundle bytes plus the
//! record salt and what the attestation commits to), sealed with [`crate::crypto`], and
//! the key grants that let a consented reader open it (the guardians' threshold grant
//! in `record/guardians.rs`).

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use rekam::{Attestation, AttestationKind};
use serde::{Deserialize, Serialize};

use crate::claims::{ClaimError, ClaimSet};
use crate::commit::{self, RecordSalt};
use crate::crypto::stream::{decrypt_to_vec, encrypt_to_vec, Header};
use crate::crypto::wrap::{self, Stanza, STANZA_LEN};
use crate::crypto::{CryptoError, EncryptOptions, Identity};
use crate::fhir::{self, FhirError, ReadOptions, Summary};
use crate::parts::Source;

pub const ENVELOPE_FORMAT: &str = "rekam-record/2";
pub const GRANT_FORMAT: &str = "rekam-key-grant/1";

mod guardians;
mod memo;

pub use guardians::*;
pub use memo::*;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("invalid FHIR bundle: {0}")]
    Fhir(#[from] FhirError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("record envelope is malformed: {0}")]
    Envelope(String),
    #[error("the record's claims are malformed: {0}")]
    Claims(#[from] ClaimError),
    #[error("the record does not match attestation {attestation}: {what} differs")]
    Mismatch {
        attestation: Pubkey,
        what: &'static str,
    },
    #[error("key grant is malformed: {0}")]
    Grant(String),
    #[error("the key grant has no entry for attestation {0}")]
    NotGranted(Pubkey),
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
}

/// The plaintext inside a stored record. Its `Debug` shows only what identifies the
/// format and the shape, never the salt, the claims or the content.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Envelope {
    pub format: String,
    /// The record salt, hex: every commitment salt derives from it.
    pub record_salt: String,
    pub kind: String,
    pub treatment_date: String,
    pub code_system: String,
    pub code: String,
    /// Every claim of the record as an SD-JWT disclosure (base64url), in leaf order.
    pub disclosures: Vec<String>,
    /// Media type of `content`.
    pub content_type: String,
    /// The original document, byte for byte, base64.
    pub content: String,
    /// The issuer-signed SD-JWT over every claim (`crate::claims::sdjwt`), when the issuer
    /// made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_jwt: Option<String>,
    /// When the record is one part of a split Bundle: how to rebuild the source
    /// (`crate::parts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("format", &self.format)
            .field("record_salt", &"<redacted>")
            .field("kind", &self.kind)
            .field("claims", &self.disclosures.len())
            .field("content_type", &self.content_type)
            .field("content_bytes", &self.content.len())
            .field(
                "issuer_jwt",
                &self.issuer_jwt.as_ref().map(|_| "<redacted>"),
            )
            .field("parts", &self.source.as_ref().map(|s| s.attestations.len()))
            .finish_non_exhaustive()
    }
}

/// The commitments an attestation of a record carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitments {
    pub evidence: [u8; 32],
    pub diagnosis: [u8; 32],
    pub claims_root: [u8; 32],
}

/// A Bundle ready to attest: its envelope, summary and commitments.
pub struct Prepared {
    pub envelope: Envelope,
    pub summary: Summary,
    pub commitments: Commitments,
}

impl Envelope {
    pub fn salt(&self) -> Result<RecordSalt, RecordError> {
        let bytes = hex::decode(&self.record_salt)
            .map_err(|_| RecordError::Envelope("record salt is not hex".into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| RecordError::Envelope("record salt is not 32 bytes".into()))?;
        Ok(RecordSalt::from_bytes(bytes))
    }

    pub fn content(&self) -> Result<Vec<u8>, RecordError> {
        b64()
            .decode(&self.content)
            .map_err(|_| RecordError::Envelope("content is not base64".into()))
    }

    /// The record's claims and their tree.
    pub fn claim_set(&self) -> Result<ClaimSet, RecordError> {
        Ok(ClaimSet::from_encoded(&self.disclosures)?)
    }

    /// Recomputes the commitments from the envelope's own content, salt and claims.
    pub fn commitments(&self) -> Result<Commitments, RecordError> {
        let salt = self.salt()?;
        let claims_root = self.claim_set()?.root();
        Ok(Commitments {
            evidence: commit::evidence_commitment(&salt, &self.content()?),
            diagnosis: commit::diagnosis_commitment(&salt, &self.code_system, &self.code),
            claims_root,
        })
    }

    /// Checks this record against an on-chain attestation: the address (evidence seed),
    /// the diagnosis commitment and the claims root must all match.
    pub fn check(
        &self,
        program_id: &Pubkey,
        attestation_key: &Pubkey,
        attestation: &Attestation,
    ) -> Result<(), RecordError> {
        let c = self.commitments()?;
        let mismatch = |what| {
            Err(RecordError::Mismatch {
                attestation: *attestation_key,
                what,
            })
        };
        if Attestation::find_address(program_id, &attestation.issuer, &c.evidence).0
            != *attestation_key
        {
            return mismatch("evidence commitment");
        }
        if c.diagnosis != attestation.diagnosis_commitment {
            return mismatch("diagnosis commitment");
        }
        if c.claims_root != attestation.claims_root {
            return mismatch("claims root");
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("envelope serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Envelope(e.to_string()))?;
        if envelope.format != ENVELOPE_FORMAT {
            return Err(RecordError::Envelope(format!(
                "unknown format {:?}",
                envelope.format
            )));
        }
        Ok(envelope)
    }
}

/// Validates a FHIR Bundle and builds its envelope with a fresh random record salt.
pub fn prepare(bundle: &[u8]) -> Result<Prepared, RecordError> {
    let mut salt = [0u8; 32];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| CryptoError::Backend)?;
    prepare_with_salt(bundle, salt)
}

/// The record salt a clinic derives for a Bundle and a patient: deterministic, so that
/// attesting the same Bundle for the same patient again yields the same attestation
/// address (a re-run resumes instead of duplicating), and computable only from the
/// clinic's encryption identity, never from a wallet signature (a site that gets the
/// wallet to sign a message learns nothing, and hardware wallets sign only transactions).
pub fn record_salt(clinic: &crate::crypto::Identity, bundle: &[u8], patient: &Pubkey) -> [u8; 32] {
    let mut info = crate::storage::digest(bundle).to_vec();
    info.extend_from_slice(patient.as_ref());
    *clinic.derive_secret(b"rekam/v2/record-salt", &info)
}

/// Validates a FHIR Bundle and builds its envelope with the given record salt.
pub fn prepare_with_salt(bundle: &[u8], salt: [u8; 32]) -> Result<Prepared, RecordError> {
    prepare_with(bundle, salt, ReadOptions::default())
}

/// [`prepare_with_salt`] with options for reading the Bundle: one record of the whole
/// Bundle, unsplit (see [`prepare_parts`] for what `rekam attest` does).
pub fn prepare_with(
    bundle: &[u8],
    salt: [u8; 32],
    options: ReadOptions,
) -> Result<Prepared, RecordError> {
    let summary = fhir::summarize_with(bundle, options)?;
    build(bundle, salt, summary, None)
}

/// Validates a Bundle whole, splits it into one part per kind (`crate::parts`) and
/// prepares one record per part, each with its own salt derived from `salt`. A Bundle of
/// one kind gives one record of its original bytes, salted with `salt` itself.
pub fn prepare_parts(
    bundle: &[u8],
    salt: [u8; 32],
    options: ReadOptions,
) -> Result<Vec<Prepared>, RecordError> {
    let whole = fhir::summarize_with(bundle, options)?;
    let parts = crate::parts::split(bundle)?;
    if parts.len() <= 1 {
        return Ok(vec![build(bundle, salt, whole, None)?]);
    }
    let tag = bundle_tag(&salt);
    parts
        .into_iter()
        .map(|part| {
            let mut summary = fhir::summarize_part(&part.bundle, part.kind)?;
            summary.warnings = whole.warnings.clone();
            let source = part.source.map(|mut s| {
                s.tag = tag.clone();
                s
            });
            build(&part.bundle, part_salt(&salt, part.kind), summary, source)
        })
        .collect()
}

/// The record salt of one part: HKDF-SHA256(salt, info = "rekam/v2/part-salt" ‖ kind).
fn part_salt(salt: &[u8; 32], kind: AttestationKind) -> [u8; 32] {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, salt);
    let mut out = [0u8; 32];
    hk.expand(
        &[b"rekam/v2/part-salt".as_slice(), &[kind as u8]].concat(),
        &mut out,
    )
    .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

fn build(
    bundle: &[u8],
    salt: [u8; 32],
    summary: Summary,
    source: Option<Source>,
) -> Result<Prepared, RecordError> {
    let record_salt = RecordSalt::from_bytes(salt);
    let claims = ClaimSet::issue(&record_salt, &summary.facts)?;
    let envelope = Envelope {
        format: ENVELOPE_FORMAT.into(),
        record_salt: hex::encode(salt),
        kind: format!("{:?}", summary.kind),
        treatment_date: summary.treatment_date.clone(),
        code_system: summary.coding.system.clone(),
        code: summary.coding.code.clone(),
        disclosures: claims.encoded(),
        content_type: "application/fhir+json".into(),
        content: b64().encode(bundle),
        issuer_jwt: None,
        source,
    };
    let commitments = Commitments {
        evidence: commit::evidence_commitment(&record_salt, bundle),
        diagnosis: commit::diagnosis_commitment(
            &record_salt,
            &envelope.code_system,
            &envelope.code,
        ),
        claims_root: claims.root(),
    };
    Ok(Prepared {
        envelope,
        summary,
        commitments,
    })
}

/// Encrypts an envelope to `recipients` (X25519 public keys).
pub fn seal(
    envelope: &Envelope,
    recipients: &[[u8; 32]],
) -> Result<(Vec<u8>, Header), RecordError> {
    let opts = EncryptOptions::new(recipients, "application/vnd.rekam.record+json");
    Ok(encrypt_to_vec(&envelope.to_bytes(), &opts)?)
}

/// Decrypts a record with `identity`.
pub fn open(record: &[u8], identity: &Identity) -> Result<(Envelope, Header), RecordError> {
    let (plain, header) = decrypt_to_vec(record, identity)?;
    Ok((Envelope::from_bytes(&plain)?, header))
}

pub fn kind_name(kind: AttestationKind) -> &'static str {
    match kind {
        AttestationKind::Diagnosis => "diagnosis",
        AttestationKind::LabResult => "lab-result",
        AttestationKind::Prescription => "prescription",
        AttestationKind::Vaccination => "vaccination",
        AttestationKind::Imaging => "imaging",
        AttestationKind::Other => "other",
        AttestationKind::EthicsApproval => "ethics-approval",
    }
}

/// One record a key grant opens.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GrantEntry {
    pub attestation: String,
    pub locator: String,
    /// The record header's prefix (the stanza's AAD), base64.
    pub record_prefix: String,
    /// The data key wrapped to the grantee, base64 (88 bytes).
    pub stanza: String,
}

/// A key grant: the record keys of a consent's scope, wrapped to the grantee.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyGrantObject {
    pub format: String,
    /// The grantee's X25519 public key, hex.
    pub grantee_key: String,
    pub entries: Vec<GrantEntry>,
}

impl KeyGrantObject {
    pub fn new(grantee_key: &[u8; 32]) -> Self {
        Self {
            format: GRANT_FORMAT.into(),
            grantee_key: hex::encode(grantee_key),
            entries: Vec::new(),
        }
    }

    /// Re-wraps the data key of `record` (which `owner` can open) to the grantee.
    pub fn add(
        &mut self,
        attestation: &Pubkey,
        locator: &str,
        record: &[u8],
        owner: &Identity,
    ) -> Result<(), RecordError> {
        let (header, _) = Header::read_from(&mut &record[..])?;
        let prefix = header.prefix_bytes();
        let key = wrap::unwrap_any(&header.stanzas, owner, &prefix)?;
        let grantee: [u8; 32] = hex::decode(&self.grantee_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| RecordError::Grant("grantee key is not 32 hex bytes".into()))?;
        let stanza = wrap::wrap(&key, &grantee, &prefix)?;
        self.entries.push(GrantEntry {
            attestation: attestation.to_string(),
            locator: locator.to_string(),
            record_prefix: b64().encode(&prefix),
            stanza: b64().encode(stanza.to_bytes()),
        });
        Ok(())
    }

    /// Adds `entry` of another grant (whose grantee is `holder`) re-wrapped to this
    /// grant's grantee. The record itself is not needed: the data key moves from one
    /// wrapping to another under the same record-prefix AAD.
    pub fn add_from(&mut self, entry: &GrantEntry, holder: &Identity) -> Result<(), RecordError> {
        let prefix = b64()
            .decode(&entry.record_prefix)
            .map_err(|_| RecordError::Grant("record prefix is not base64".into()))?;
        let key = wrap::unwrap(&entry_stanza(entry)?, holder, &prefix)?;
        let grantee = self.grantee()?;
        let stanza = wrap::wrap(&key, &grantee, &prefix)?;
        self.remove(
            &entry
                .attestation
                .parse()
                .map_err(|_| RecordError::Grant("entry names no attestation".into()))?,
        );
        self.entries.push(GrantEntry {
            attestation: entry.attestation.clone(),
            locator: entry.locator.clone(),
            record_prefix: entry.record_prefix.clone(),
            stanza: b64().encode(stanza.to_bytes()),
        });
        Ok(())
    }

    fn grantee(&self) -> Result<[u8; 32], RecordError> {
        hex::decode(&self.grantee_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| RecordError::Grant("grantee key is not 32 hex bytes".into()))
    }

    /// Drops the entry of `attestation`, if any; true when one was there.
    pub fn remove(&mut self, attestation: &Pubkey) -> bool {
        let name = attestation.to_string();
        let before = self.entries.len();
        self.entries.retain(|e| e.attestation != name);
        self.entries.len() != before
    }

    pub fn entry(&self, attestation: &Pubkey) -> Result<&GrantEntry, RecordError> {
        let name = attestation.to_string();
        self.entries
            .iter()
            .find(|e| e.attestation == name)
            .ok_or(RecordError::NotGranted(*attestation))
    }

    /// The entry of `attestation`, provided it was made for this version of `record` (the
    /// same header prefix: a re-keyed record has a new one). Reads only the header.
    pub fn entry_for(
        &self,
        attestation: &Pubkey,
        record: &[u8],
    ) -> Result<&GrantEntry, RecordError> {
        let entry = self.entry(attestation)?;
        let (header, _) = Header::read_from(&mut &record[..])?;
        if b64().encode(header.prefix_bytes()) != entry.record_prefix {
            return Err(RecordError::Grant(
                "the grant belongs to another version of this record".into(),
            ));
        }
        Ok(entry)
    }

    /// Opens a granted record with the grantee's identity: the entry's stanza replaces
    /// the header's own (the record's bytes are unchanged on storage).
    pub fn open(
        &self,
        attestation: &Pubkey,
        record: &[u8],
        grantee: &Identity,
    ) -> Result<(Envelope, Header), RecordError> {
        let stanza = entry_stanza(self.entry_for(attestation, record)?)?;
        let (header, header_bytes) = Header::read_from(&mut &record[..])?;
        let plain = crate::crypto::stream::decrypt_with_stanza(
            record,
            &header,
            &header_bytes,
            &stanza,
            grantee,
        )?;
        Ok((Envelope::from_bytes(&plain)?, header))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("grant serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let grant: KeyGrantObject =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Grant(e.to_string()))?;
        if grant.format != GRANT_FORMAT {
            return Err(RecordError::Grant(format!(
                "unknown format {:?}",
                grant.format
            )));
        }
        Ok(grant)
    }
}

fn entry_stanza(entry: &GrantEntry) -> Result<Stanza, RecordError> {
    let bytes = b64()
        .decode(&entry.stanza)
        .map_err(|_| RecordError::Grant("stanza is not base64".into()))?;
    let bytes: [u8; STANZA_LEN] = bytes
        .try_into()
        .map_err(|_| RecordError::Grant("stanza has the wrong length".into()))?;
    Ok(Stanza::from_bytes(&bytes))
}
