//! A mixed Bundle split into one part per attestation kind, and rebuilt.
//!
//! Each part is a standalone FHIR Bundle: the source's context entries (Patient,
//! Practitioner, Encounter, Organization...) plus the clinical entries of one kind, in
//! source order. It becomes its own encrypted record with its own data key and its own
//! attestation, so a consent scoped to lab results opens the lab facts and nothing else.
//!
//! Every part also carries, privately (inside its encrypted envelope), how to rebuild the
//! source byte for byte: the *skeleton* (the source's bytes with every clinical entry cut
//! out, its separators kept), the holes (where each cut was and which part holds it), this
//! part's own entry bytes, and the source's SHA-256. Whoever holds every part rebuilds the
//! exact original; whoever holds some gets a valid Bundle of what they hold and the list of
//! what is missing. References from one part to a resource of another part point outside
//! the part (the source was validated whole before the split).
//!
//! A Bundle of one kind is not split: its one record holds the original bytes.

use base64::Engine;
use rekam::AttestationKind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::fhir::{kind_of, FhirError};
use crate::record::kind_name;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Where a clinical entry was cut out of the source, and which part holds it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hole {
    /// Byte offset in the skeleton.
    pub at: usize,
    /// The kind of the part that holds the entry.
    pub kind: String,
}

/// How to rebuild the source Bundle, as one part carries it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Source {
    /// The public tag the parts' memos carry (`record::bundle_tag`), set when prepared.
    #[serde(default)]
    pub tag: String,
    /// The kind of this part.
    pub kind: String,
    /// SHA-256 of the source bytes, hex.
    pub sha256: String,
    /// The kinds of every part, in attestation order.
    pub kinds: Vec<String>,
    /// The attestation of each part, in the same order (filled in once known).
    #[serde(default)]
    pub attestations: Vec<String>,
    /// The source with every clinical entry cut out, base64.
    pub skeleton: String,
    pub holes: Vec<Hole>,
    /// This part's own entries, base64, in the order of its holes.
    pub entries: Vec<String>,
}

/// One part of a split Bundle.
#[derive(Clone, Debug)]
pub struct Part {
    pub kind: AttestationKind,
    /// The standalone part Bundle (the record's content).
    pub bundle: Vec<u8>,
    /// `None` when the Bundle was not split (its bundle is the source itself).
    pub source: Option<Source>,
}

#[derive(Deserialize)]
struct RawBundle<'a> {
    #[serde(borrow, default)]
    entry: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct EntryType {
    #[serde(default)]
    resource: Option<ResourceType>,
}

#[derive(Deserialize)]
struct ResourceType {
    #[serde(rename = "resourceType", default)]
    resource_type: String,
}

/// Splits `source` (a validated Bundle) into its per-kind parts, in `AttestationKind`
/// order.
pub fn split(source: &[u8]) -> Result<Vec<Part>, FhirError> {
    let raw: RawBundle =
        serde_json::from_slice(source).map_err(|e| FhirError::NotJson(e.to_string()))?;
    let base = source.as_ptr() as usize;
    let mut cuts = Vec::new(); // (start, end, kind)
    for entry in &raw.entry {
        let text = entry.get();
        let kind = serde_json::from_str::<EntryType>(text)
            .ok()
            .and_then(|e| e.resource)
            .and_then(|r| kind_of(&r.resource_type));
        if let Some(kind) = kind {
            let start = text.as_ptr() as usize - base;
            cuts.push((start, start + text.len(), kind));
        }
    }
    let mut kinds: Vec<AttestationKind> = Vec::new();
    for kind in AttestationKind::ALL {
        if cuts.iter().any(|c| c.2 == kind) {
            kinds.push(kind);
        }
    }
    if kinds.len() <= 1 {
        return Ok(kinds
            .first()
            .map(|kind| Part {
                kind: *kind,
                bundle: source.to_vec(),
                source: None,
            })
            .into_iter()
            .collect());
    }
    let mut skeleton = Vec::with_capacity(source.len());
    let mut holes = Vec::with_capacity(cuts.len());
    let mut last = 0;
    for (start, end, kind) in &cuts {
        skeleton.extend_from_slice(&source[last..*start]);
        holes.push(Hole {
            at: skeleton.len(),
            kind: kind_name(*kind).into(),
        });
        last = *end;
    }
    skeleton.extend_from_slice(&source[last..]);
    let sha256 = hex::encode(Sha256::digest(source));
    let kind_names: Vec<String> = kinds.iter().map(|k| kind_name(*k).into()).collect();
    let skeleton_b64 = b64().encode(&skeleton);
    kinds
        .iter()
        .map(|kind| {
            let own: Vec<&[u8]> = cuts
                .iter()
                .filter(|c| c.2 == *kind)
                .map(|c| &source[c.0..c.1])
                .collect();
            let src = Source {
                tag: String::new(),
                kind: kind_name(*kind).into(),
                sha256: sha256.clone(),
                kinds: kind_names.clone(),
                attestations: Vec::new(),
                skeleton: skeleton_b64.clone(),
                holes: holes.clone(),
                entries: own.iter().map(|e| b64().encode(e)).collect(),
            };
            let bundle = assemble(&skeleton, &holes, &[&src])
                .map_err(|e| FhirError::NotJson(e.to_string()))?
                .bundle;
            Ok(Part {
                kind: *kind,
                bundle,
                source: Some(src),
            })
        })
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartsError {
    #[error("the parts are not of one source Bundle")]
    Mismatch,
    #[error("a part's rebuild data is malformed: {0}")]
    Malformed(String),
    #[error("the rebuilt Bundle does not match its recorded SHA-256")]
    Digest,
}

/// A source rebuilt from the parts at hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebuilt {
    /// The source byte for byte when every part was given; otherwise a Bundle of the
    /// context entries and the entries of the parts given.
    pub bundle: Vec<u8>,
    /// Kinds whose entries were not given.
    pub missing: Vec<String>,
}

impl Rebuilt {
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

fn assemble(skeleton: &[u8], holes: &[Hole], parts: &[&Source]) -> Result<Rebuilt, PartsError> {
    if parts
        .iter()
        .any(|p| holes.iter().filter(|h| h.kind == p.kind).count() != p.entries.len())
    {
        return Err(PartsError::Malformed(
            "a part's entries do not fill its holes".into(),
        ));
    }
    let bad = |what: &str| PartsError::Malformed(what.to_string());
    let mut fills: Vec<(String, std::vec::IntoIter<Vec<u8>>)> = Vec::new();
    for p in parts {
        let kind = p.kind.clone();
        let entries = p
            .entries
            .iter()
            .map(|e| b64().decode(e).map_err(|_| bad("entry is not base64")))
            .collect::<Result<Vec<_>, _>>()?;
        fills.push((kind, entries.into_iter()));
    }
    let mut out = Vec::with_capacity(skeleton.len() * 2);
    let mut last = 0;
    let mut missing: Vec<String> = Vec::new();
    for hole in holes {
        if hole.at < last || hole.at > skeleton.len() {
            return Err(bad("holes out of order"));
        }
        out.extend_from_slice(&skeleton[last..hole.at]);
        last = hole.at;
        match fills.iter_mut().find(|(k, _)| *k == hole.kind) {
            Some((_, entries)) => {
                out.extend_from_slice(&entries.next().ok_or_else(|| bad("too few entries"))?)
            }
            None => {
                out.extend_from_slice(b"null");
                if !missing.contains(&hole.kind) {
                    missing.push(hole.kind.clone());
                }
            }
        }
    }
    out.extend_from_slice(&skeleton[last..]);
    if missing.is_empty() {
        return Ok(Rebuilt {
            bundle: out,
            missing,
        });
    }
    // Some parts are missing: drop their placeholders and write a valid Bundle.
    let mut value: Value = serde_json::from_slice(&out).map_err(|e| bad(&e.to_string()))?;
    if let Some(entries) = value.get_mut("entry").and_then(Value::as_array_mut) {
        entries.retain(|e| !e.is_null());
    }
    Ok(Rebuilt {
        bundle: serde_json::to_vec_pretty(&value).map_err(|e| bad(&e.to_string()))?,
        missing,
    })
}

/// Rebuilds the source from the parts given (at least one, all of one source).
pub fn rebuild(parts: &[&Source]) -> Result<Rebuilt, PartsError> {
    let first = parts.first().ok_or(PartsError::Mismatch)?;
    if parts
        .iter()
        .any(|p| p.sha256 != first.sha256 || p.skeleton != first.skeleton)
    {
        return Err(PartsError::Mismatch);
    }
    let skeleton = b64()
        .decode(&first.skeleton)
        .map_err(|_| PartsError::Malformed("skeleton is not base64".into()))?;
    let rebuilt = assemble(&skeleton, &first.holes, parts)?;
    if rebuilt.is_complete() && hex::encode(Sha256::digest(&rebuilt.bundle)) != first.sha256 {
        return Err(PartsError::Digest);
    }
    Ok(rebuilt)
}
