//! Research copies: a patient's record, de-identified, with just enough disclosed to be
//! verified against its attestation, encrypted to a study's researcher.
//!
//! The rules are specified in `docs/research.md`. In short, [`deidentify`] keeps an
//! allow-list of clinical fields per resource and drops everything else (names,
//! identifiers, contact data, narrative, notes, metadata, people and organizations),
//! generalizes every date to its month and the birth date to a five-year age band
//! (`90+` at the top), and replaces every resource id with a fresh random one, so nothing
//! in the copy links back to the clinic's systems.
//!
//! A [`ResearchCopy`] carries the de-identified Bundle plus, for every fact in it, the
//! record's claim of that fact (its SD-JWT disclosure and proof). The researcher checks
//! each claim against the on-chain claims root and that every fact of the Bundle is one of
//! them, value for value, so a paid contributor cannot fabricate a lab value. Dates,
//! derived facts, the record salt and the other claims stay private.

use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use rekam::Attestation;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::{self, presentation::DisclosedClaim};
use crate::crypto::stream::{decrypt_to_vec, encrypt_to_vec};
use crate::crypto::{EncryptOptions, Identity};
use crate::fhir::facts::{self, resource_type_of};
use crate::fhir::{self, FhirError};
use crate::record::{Envelope, RecordError};

pub const COPY_FORMAT: &str = "rekam-research/1";
pub const COPY_CONTENT_TYPE: &str = "application/vnd.rekam.research+json";
/// The extension that carries a patient's age band in a de-identified Bundle.
pub const AGE_BAND_URL: &str = "https://rekam.health/fhir/StructureDefinition/age-band";

/// Resource types dropped whole: they describe people, organizations, places or devices.
const DROPPED_TYPES: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Person",
    "Organization",
    "Location",
    "Device",
    "Endpoint",
    "HealthcareService",
    "Provenance",
    "AuditEvent",
    "Coverage",
    "Claim",
    "ExplanationOfBenefit",
    "DocumentReference",
    "Binary",
    "Media",
];

/// Fields every kept resource may keep (besides `resourceType` and a fresh `id`).
const COMMON_FIELDS: &[&str] = &[
    "status",
    "intent",
    "category",
    "code",
    "class",
    "type",
    "subject",
    "patient",
    "encounter",
];

/// Further fields kept per resource type. Anything not listed is dropped.
fn type_fields(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "Patient" => &["gender", "deceasedBoolean", "deceasedDateTime"],
        "Encounter" => &["period", "priority", "reasonCode", "hospitalization"],
        "Condition" => &[
            "clinicalStatus",
            "verificationStatus",
            "severity",
            "bodySite",
            "onsetDateTime",
            "onsetPeriod",
            "abatementDateTime",
            "recordedDate",
            "stage",
        ],
        "Observation" => &[
            "effectiveDateTime",
            "effectivePeriod",
            "issued",
            "valueQuantity",
            "valueCodeableConcept",
            "valueString",
            "valueBoolean",
            "valueInteger",
            "valueRange",
            "valueRatio",
            "dataAbsentReason",
            "interpretation",
            "bodySite",
            "method",
            "referenceRange",
            "component",
        ],
        "DiagnosticReport" => &[
            "effectiveDateTime",
            "effectivePeriod",
            "issued",
            "result",
            "conclusionCode",
        ],
        "Immunization" => &[
            "vaccineCode",
            "occurrenceDateTime",
            "recorded",
            "primarySource",
            "site",
            "route",
            "doseQuantity",
            "protocolApplied",
        ],
        "MedicationRequest" => &[
            "medicationCodeableConcept",
            "authoredOn",
            "dosageInstruction",
            "dispenseRequest",
            "reasonCode",
        ],
        "MedicationStatement" | "MedicationAdministration" => &[
            "medicationCodeableConcept",
            "effectiveDateTime",
            "effectivePeriod",
            "dateAsserted",
            "dosage",
            "reasonCode",
        ],
        "ImagingStudy" => &[
            "started",
            "modality",
            "procedureCode",
            "numberOfSeries",
            "numberOfInstances",
            "reasonCode",
        ],
        "Procedure" => &[
            "performedDateTime",
            "performedPeriod",
            "bodySite",
            "outcome",
        ],
        "AllergyIntolerance" => &[
            "clinicalStatus",
            "verificationStatus",
            "criticality",
            "onsetDateTime",
            "recordedDate",
            "reaction",
        ],
        _ => &[],
    }
}

/// Whether a JSON string is a FHIR date, dateTime or instant (`YYYY`, `YYYY-MM`, ...).
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && (b.len() == 7
            || (b.len() >= 10 && b[7] == b'-' && b[8..10].iter().all(u8::is_ascii_digit)))
}

/// Generalizes every date inside `value` to `YYYY-MM`; maps references through `ids`
/// (a reference to anything not kept is removed); keeps only `reference` in references.
fn scrub(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(s) if is_date(s) => s.truncate(7),
        Value::Array(items) => {
            items.retain_mut(|item| {
                scrub(item, ids);
                !is_dropped_reference(item)
            });
        }
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("reference") {
                let mapped = ids.get(target).cloned();
                map.clear();
                if let Some(new) = mapped {
                    map.insert("reference".into(), Value::String(new));
                }
                return;
            }
            // Free text inside data types (Annotation, narrative) never survives.
            map.remove("div");
            map.remove("extension");
            map.remove("modifierExtension");
            map.remove("identifier");
            let mut emptied = Vec::new();
            for (key, v) in map.iter_mut() {
                scrub(v, ids);
                if is_dropped_reference(v) {
                    emptied.push(key.clone());
                }
            }
            for key in emptied {
                map.remove(&key);
            }
        }
        _ => {}
    }
}

/// A reference whose target was dropped (scrubbed to an empty object).
fn is_dropped_reference(value: &Value) -> bool {
    matches!(value, Value::Object(m) if m.is_empty())
}

/// The five-year age band of someone born on `birth` (`YYYY-MM-DD`) at `at`
/// (`YYYY-MM-DD`): `"40-44"`, ..., `"90+"`.
pub fn age_band(birth: &str, at: &str) -> Option<String> {
    let parse = |d: &str| -> Option<(i32, u32, u32)> {
        let y = d.get(0..4)?.parse().ok()?;
        let m = d.get(5..7)?.parse().ok()?;
        let day = d.get(8..10).and_then(|s| s.parse().ok()).unwrap_or(1);
        Some((y, m, day))
    };
    let (by, bm, bd) = parse(birth)?;
    let (ay, am, ad) = parse(at)?;
    let mut age = ay - by;
    if (am, ad) < (bm, bd) {
        age -= 1;
    }
    if age < 0 {
        return None;
    }
    Some(if age >= 90 {
        "90+".to_string()
    } else {
        let low = age / 5 * 5;
        format!("{low}-{}", low + 4)
    })
}

fn random_uuid() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("system RNG");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// De-identifies a FHIR R4 Bundle (rules in `docs/research.md`). `treatment_date`
/// (`YYYY-MM-DD`, the record's date) is when the patient's age is measured.
pub fn deidentify(bundle: &[u8], treatment_date: &str) -> Result<Value, FhirError> {
    // The record was validated whole when attested; a part of a split Bundle may point at
    // resources of other parts (those references are dropped below).
    fhir::summarize_attested(bundle)?;
    let bundle: Value =
        serde_json::from_slice(bundle).map_err(|e| FhirError::NotJson(e.to_string()))?;
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(FhirError::NoEntries)?;

    // Fresh ids for every kept resource; old references (urn:uuid and Type/id) map to them.
    let mut ids = HashMap::new();
    let mut kept = Vec::new();
    for entry in entries {
        let resource = entry.get("resource").cloned().unwrap_or(Value::Null);
        let rtype = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if DROPPED_TYPES.contains(&rtype.as_str()) {
            continue;
        }
        let new_id = random_uuid();
        if let Some(url) = entry.get("fullUrl").and_then(Value::as_str) {
            ids.insert(url.to_string(), format!("urn:uuid:{new_id}"));
        }
        if let Some(old) = resource.get("id").and_then(Value::as_str) {
            ids.insert(format!("{rtype}/{old}"), format!("urn:uuid:{new_id}"));
            ids.insert(format!("urn:uuid:{old}"), format!("urn:uuid:{new_id}"));
        }
        kept.push((rtype, new_id, resource));
    }

    let mut out_entries = Vec::new();
    for (rtype, new_id, resource) in kept {
        let mut clean = Map::new();
        clean.insert("resourceType".into(), Value::String(rtype.clone()));
        clean.insert("id".into(), Value::String(new_id.clone()));
        for field in COMMON_FIELDS.iter().chain(type_fields(&rtype)) {
            if let Some(v) = resource.get(*field) {
                let mut v = v.clone();
                scrub(&mut v, &ids);
                if !is_dropped_reference(&v) {
                    clean.insert((*field).into(), v);
                }
            }
        }
        if rtype == "Patient" {
            if let Some(band) = resource
                .get("birthDate")
                .and_then(Value::as_str)
                .and_then(|b| age_band(b, treatment_date))
            {
                clean.insert(
                    "extension".into(),
                    serde_json::json!([{ "url": AGE_BAND_URL, "valueString": band }]),
                );
            }
        }
        out_entries.push(serde_json::json!({
            "fullUrl": format!("urn:uuid:{new_id}"),
            "resource": Value::Object(clean),
        }));
    }
    Ok(serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": out_entries,
    }))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResearchCopy {
    pub format: String,
    pub study: String,
    pub attestation: String,
    pub kind: String,
    /// `YYYY-MM` of the treatment.
    pub treatment_month: String,
    /// Leaves in the attestation's claims tree.
    pub count: u32,
    /// Every fact of the copy's Bundle as a disclosed claim with its proof. Dates and
    /// the derived patient facts stay undisclosed.
    pub disclosures: Vec<DisclosedClaim>,
    /// The de-identified FHIR Bundle.
    pub bundle: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ResearchError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("research copy is malformed: {0}")]
    Malformed(String),
    #[error("research copy does not match attestation {attestation}: {what}")]
    Mismatch { attestation: Pubkey, what: String },
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

impl ResearchCopy {
    /// Builds the copy of a patient's own (decrypted) record for `study`.
    pub fn build(
        envelope: &Envelope,
        study: &Pubkey,
        attestation: &Pubkey,
    ) -> Result<Self, ResearchError> {
        let content = envelope.content()?;
        let bundle = deidentify(&content, &envelope.treatment_date).map_err(RecordError::from)?;
        let claims = envelope.claim_set()?;
        let mut disclosures = Vec::new();
        for (i, d) in claims.disclosures().iter().enumerate() {
            if !is_copied_fact(d.name()) {
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
        Ok(Self {
            format: COPY_FORMAT.into(),
            study: study.to_string(),
            attestation: attestation.to_string(),
            kind: envelope.kind.clone(),
            treatment_month: envelope.treatment_date.chars().take(7).collect(),
            count: claims.count(),
            disclosures,
            bundle,
        })
    }

    /// Checks the copy against the on-chain attestation it claims to come from: every
    /// disclosed claim is under the claims root, and every fact of the Bundle is one of
    /// them, value for value.
    pub fn verify(
        &self,
        study: &Pubkey,
        attestation_key: &Pubkey,
        attestation: &Attestation,
    ) -> Result<(), ResearchError> {
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
        if self.attestation != attestation_key.to_string() || self.study != study.to_string() {
            return Err(mismatch(
                "the copy names another study or attestation".into(),
            ));
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
        for (name, value) in &facts {
            if verified.get(name) != Some(value) {
                return Err(mismatch(format!(
                    "fact {name} of the Bundle is not backed by a verified claim"
                )));
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
        if month_of_day(attestation.treatment_day) != self.treatment_month {
            return Err(mismatch("treatment month differs".into()));
        }
        if find_identifying(&self.bundle).is_some() {
            return Err(ResearchError::Malformed(
                "the Bundle is not de-identified".into(),
            ));
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("copy serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ResearchError> {
        serde_json::from_slice(bytes).map_err(|e| ResearchError::Malformed(e.to_string()))
    }

    /// Encrypts the copy to the researcher's X25519 key.
    pub fn seal(&self, researcher_key: &[u8; 32]) -> Result<Vec<u8>, ResearchError> {
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

/// The first identifying thing left in a Bundle, if any: a resource field that
/// de-identification removes, an identifier or a reference's display anywhere, or a date
/// more precise than a month.
pub fn find_identifying(value: &Value) -> Option<String> {
    const RESOURCE_FIELDS: &[&str] = &[
        "name",
        "telecom",
        "address",
        "birthDate",
        "photo",
        "contact",
        "text",
        "note",
        "meta",
    ];
    match value {
        Value::String(s) if is_date(s) && s.len() > 7 => Some(format!("date {s}")),
        Value::Array(items) => items.iter().find_map(find_identifying),
        Value::Object(map) => {
            let is_resource = map.contains_key("resourceType");
            let is_reference = map.contains_key("reference");
            map.iter().find_map(|(key, v)| {
                let key = key.as_str();
                if key == "identifier"
                    || (is_resource && RESOURCE_FIELDS.contains(&key))
                    || (is_reference && key == "display")
                {
                    Some(format!("field {key}"))
                } else {
                    find_identifying(v)
                }
            })
        }
        _ => None,
    }
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
