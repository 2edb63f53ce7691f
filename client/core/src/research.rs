//! Research copies: a patient's record, de-identified to HIPAA Safe Harbor's list, with the
//! record's claims of whatever the copy shows, encrypted to a study's researcher.
//!
//! The rules are specified in `docs/research.md`. In short:
//! - [`schema`]: the allow-list, per resource type, of the elements a copy keeps;
//! - [`deidentify`](mod@deidentify): builds the copy's Bundle from that list (codes without
//!   labels, quantities, statuses; dates to the year; ages over 89 top-coded; no free text,
//!   identifiers, people, places or devices; fresh ids);
//! - [`check`]: an independent walk that reports anything identifying left in a Bundle;
//!   the patient's client runs it before sealing, the researcher's after opening;
//! - [`codes`]: which code systems and code shapes a copy may carry.
//!
//! A [`ResearchCopy`] carries the Bundle plus, for each fact of it whose claim shows no
//! more than the Bundle does, that claim (SD-JWT disclosure and proof). The researcher
//! checks each claim against the on-chain claims root and every fact of the Bundle against
//! its claim, value for value. A claim that carries free text (a code's label, dosage
//! text) or a value the copy generalizes (an age over 89) cannot be shown without showing
//! that text or value: its fact is listed as unproven instead.

pub mod check;
pub mod codes;
pub mod deidentify;
pub mod schema;

use std::collections::HashMap;
use std::fmt;

use anchor_lang::prelude::Pubkey;
use rekam::Attestation;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::claims::{self, presentation::DisclosedClaim};
use crate::crypto::stream::{decrypt_to_vec, encrypt_to_vec};
use crate::crypto::{EncryptOptions, Identity};
use crate::fhir::facts::{self, resource_type_of};
use crate::record::{Envelope, RecordError};
pub use check::{check_bundle, Finding};
pub use deidentify::{age_band, deidentify};

/// Version 2: no attestation address, the treatment year instead of its month, no free
/// text, and unproven facts listed.
pub const COPY_FORMAT: &str = "rekam-research/2";
pub const COPY_CONTENT_TYPE: &str = "application/vnd.rekam.research+json";
/// The extension that carries a patient's age band in a de-identified Bundle.
pub const AGE_BAND_URL: &str = "https://rekam.health/fhir/StructureDefinition/age-band";

/// A research copy. It names its study but not the attestation it comes from: the
/// researcher learns that from the chain (docs/research.md, "What the researcher learns").
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResearchCopy {
    pub format: String,
    pub study: String,
    pub kind: String,
    /// `YYYY` of the treatment (Safe Harbor keeps the year only).
    pub treatment_year: String,
    /// Leaves in the attestation's claims tree.
    pub count: u32,
    /// The facts of the Bundle whose claims show nothing the Bundle does not, as disclosed
    /// claims with their proofs. Dates and the derived patient facts stay undisclosed.
    pub disclosures: Vec<DisclosedClaim>,
    /// The facts of the Bundle whose claims cannot be shown (they carry free text or a
    /// value the copy generalizes): not proven against the claims root.
    pub unproven: Vec<String>,
    /// The de-identified FHIR Bundle.
    pub bundle: Value,
}

/// The check's findings, as one error message lists them.
#[derive(Debug, PartialEq, Eq)]
pub struct Findings(pub Vec<Finding>);

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(Finding::to_string).collect();
        write!(f, "{}", list.join("; "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResearchError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("research copy is malformed: {0}")]
    Malformed(String),
    #[error("research copy does not match attestation {attestation}: {what}")]
    Mismatch { attestation: Pubkey, what: String },
    #[error("research copy is not de-identified ({count} finding(s)): {findings}", count = .0.0.len(), findings = .0)]
    Identifying(Findings),
}

/// What a verified copy proves: the facts backed by a claim under the attestation's
/// claims root, and those shown without one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub proven: Vec<String>,
    pub unproven: Vec<String>,
}

/// Whether a claim is a resource's fact without its date: what a research copy discloses.
fn is_copied_fact(name: &str) -> bool {
    resource_type_of(name).is_some() && !name.ends_with(".date") && !name.ends_with(".period")
}

/// The facts a de-identified Bundle carries, as the issuer's extraction sees them.
fn bundle_facts(bundle: &Value) -> Vec<(String, Value)> {
    let resources: Vec<&Value> = bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("resource"))
        .collect();
    facts::extract(&resources, "")
        .into_iter()
        .filter(|f| is_copied_fact(&f.name))
        .map(|f| (f.name, f.value))
        .collect()
}

/// Everything the identifier check finds in a copy: in its Bundle, and in its claims
/// (each disclosed claim must show exactly a fact of the Bundle, nothing more).
pub fn check_copy(copy: &ResearchCopy) -> Vec<Finding> {
    let mut out = check_bundle(&copy.bundle);
    let flag = |path: String, what: &str| Finding {
        path,
        what: what.to_string(),
    };
    if !codes::is_year(&copy.treatment_year) {
        out.push(flag("treatment_year".into(), "not a year"));
    }
    if !codes::is_token(&copy.kind) {
        out.push(flag("kind".into(), "not an attestation kind"));
    }
    let facts: HashMap<String, Value> = bundle_facts(&copy.bundle).into_iter().collect();
    for (i, c) in copy.disclosures.iter().enumerate() {
        let path = format!("disclosures/{i}");
        match claims::Disclosure::parse(&c.disclosure) {
            Ok(d) if facts.get(d.name()) == Some(d.value()) => {}
            Ok(_) => out.push(flag(
                path,
                "a claim whose value is not a fact of the Bundle",
            )),
            Err(_) => out.push(flag(path, "not a disclosure")),
        }
    }
    for (i, name) in copy.unproven.iter().enumerate() {
        if !facts.contains_key(name) {
            out.push(flag(format!("unproven/{i}"), "not a fact of the Bundle"));
        }
    }
    out
}

fn refuse_identifying(copy: &ResearchCopy) -> Result<(), ResearchError> {
    let findings = check_copy(copy);
    if findings.is_empty() {
        Ok(())
    } else {
        Err(ResearchError::Identifying(Findings(findings)))
    }
}

impl ResearchCopy {
    /// Builds the copy of a patient's own (decrypted) record for `study`.
    pub fn build(envelope: &Envelope, study: &Pubkey) -> Result<Self, ResearchError> {
        let content = envelope.content()?;
        let bundle = deidentify(&content, &envelope.treatment_date).map_err(RecordError::from)?;
        let facts: HashMap<String, Value> = bundle_facts(&bundle).into_iter().collect();
        let claims = envelope.claim_set()?;
        let mut disclosures = Vec::new();
        let mut unproven = Vec::new();
        for (i, d) in claims.disclosures().iter().enumerate() {
            let Some(fact) = facts.get(d.name()).filter(|_| is_copied_fact(d.name())) else {
                continue;
            };
            // A claim is shown only when it says exactly what the copy's Bundle says.
            if fact != d.value() {
                unproven.push(d.name().to_string());
                continue;
            }
            let index = i as u32;
            disclosures.push(DisclosedClaim {
                index,
                disclosure: d.encoded().to_string(),
                proof: claims
                    .proof(index)
                    .map_err(RecordError::from)?
                    .iter()
                    .map(hex::encode)
                    .collect(),
            });
        }
        let copy = Self {
            format: COPY_FORMAT.into(),
            study: study.to_string(),
            kind: envelope.kind.clone(),
            treatment_year: envelope.treatment_date.chars().take(4).collect(),
            count: claims.count(),
            disclosures,
            unproven,
            bundle,
        };
        refuse_identifying(&copy)?;
        Ok(copy)
    }

    /// Checks the copy: first that nothing identifying is in it, then against the
    /// on-chain attestation the chain says it comes from (the contribution names it):
    /// every disclosed claim is under the claims root, every fact of the Bundle is one of
    /// them value for value or is listed as unproven, and the kind and year are the
    /// attestation's.
    pub fn verify(
        &self,
        study: &Pubkey,
        attestation_key: &Pubkey,
        attestation: &Attestation,
    ) -> Result<Verified, ResearchError> {
        let mismatch = |what: String| ResearchError::Mismatch {
            attestation: *attestation_key,
            what,
        };
        if self.format != COPY_FORMAT {
            return Err(ResearchError::Malformed(format!(
                "unknown format {:?}",
                self.format
            )));
        }
        refuse_identifying(self)?;
        if self.study != study.to_string() {
            return Err(mismatch("the copy names another study".into()));
        }
        let mut verified: HashMap<String, Value> = HashMap::new();
        for c in &self.disclosures {
            let d = claims::Disclosure::parse(&c.disclosure)
                .map_err(|e| ResearchError::Malformed(format!("claim {}: {e}", c.index)))?;
            let proof = c
                .proof
                .iter()
                .map(|n| {
                    hex::decode(n)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ResearchError::Malformed("proof node is not 32 hex bytes".into()))?;
            if claims::verify(&attestation.claims_root, c.index, self.count, &d, &proof).is_err() {
                return Err(mismatch(format!(
                    "claim {} ({}) is not in its claims root",
                    c.index,
                    d.name()
                )));
            }
            verified.insert(d.name().to_string(), d.value().clone());
        }
        let facts = bundle_facts(&self.bundle);
        let (mut proven, mut unproven) = (Vec::new(), Vec::new());
        for (name, value) in &facts {
            match verified.get(name) {
                Some(v) if v == value => proven.push(name.clone()),
                None if self.unproven.contains(name) => unproven.push(name.clone()),
                _ => {
                    return Err(mismatch(format!(
                        "fact {name} of the Bundle is not backed by a verified claim"
                    )))
                }
            }
        }
        if let Some(extra) = verified
            .keys()
            .find(|n| !facts.iter().any(|(f, _)| f == *n))
        {
            return Err(mismatch(format!("claim {extra} has no fact in the Bundle")));
        }
        if self.kind != format!("{:?}", attestation.kind) {
            return Err(mismatch("kind differs".into()));
        }
        if year_of_day(attestation.treatment_day) != self.treatment_year {
            return Err(mismatch("treatment year differs".into()));
        }
        Ok(Verified { proven, unproven })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("copy serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ResearchError> {
        serde_json::from_slice(bytes).map_err(|e| ResearchError::Malformed(e.to_string()))
    }

    /// Encrypts the copy to the researcher's X25519 key, after the identifier check: a
    /// copy with anything identifying in it is never sealed.
    pub fn seal(&self, researcher_key: &[u8; 32]) -> Result<Vec<u8>, ResearchError> {
        refuse_identifying(self)?;
        let recipients = [*researcher_key];
        let opts = EncryptOptions::new(&recipients, COPY_CONTENT_TYPE);
        Ok(encrypt_to_vec(&self.to_bytes(), &opts)
            .map_err(RecordError::from)?
            .0)
    }

    pub fn open(sealed: &[u8], identity: &Identity) -> Result<Self, ResearchError> {
        let (plain, _) = decrypt_to_vec(sealed, identity).map_err(RecordError::from)?;
        Self::from_bytes(&plain)
    }
}

/// `YYYY` of a day number (days since 1970-01-01).
pub fn year_of_day(day: u16) -> String {
    month_of_day(day)[..4].to_string()
}

/// `YYYY-MM` of a day number (days since 1970-01-01).
pub fn month_of_day(day: u16) -> String {
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}")
}
