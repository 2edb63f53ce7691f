//! Reads a FHIR R4 Bundle to attest it: validates every resource against R4
//! ([`validate`]), finds the primary clinical resource, and derives the attestation kind,
//! the date of treatment, the coded fact the diagnosis commitment binds, and every
//! disclosable fact ([`facts`]). The Bundle itself is encrypted byte for byte.

pub mod facts;
pub mod validate;

use rekam::AttestationKind;
use serde_json::Value;

use facts::Fact;
use validate::{Issue, Severity};

fn list(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("\n  {i}"))
        .collect::<String>()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FhirError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("not valid FHIR R4:{}", list(.0))]
    Invalid(Vec<Issue>),
    #[error("refused under --strict, it has warnings:{}", list(.0))]
    Warnings(Vec<Issue>),
    #[error("expected a FHIR Bundle, found resourceType {0:?}")]
    NotABundle(String),
    #[error("the Bundle has no entries")]
    NoEntries,
    #[error("Bundle entry {0} has no resource")]
    EntryWithoutResource(usize),
    #[error("the Bundle holds no clinical resource to attest (Condition, Observation, Immunization, MedicationRequest, ImagingStudy, DiagnosticReport)")]
    NothingToAttest,
    #[error("{0} has no code (coding with system and code)")]
    MissingCode(&'static str),
    #[error("{0} has no date of treatment")]
    MissingDate(&'static str),
    #[error("date {0:?} is not a FHIR date (YYYY-MM-DD...)")]
    BadDate(String),
}

/// One coding: a code in a code system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coding {
    pub system: String,
    pub code: String,
    pub display: Option<String>,
}

/// What an attestation of this Bundle says.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub kind: AttestationKind,
    /// The primary resource type (`Condition`, `Observation`...).
    pub resource_type: &'static str,
    /// Days since 1970-01-01.
    pub treatment_day: u16,
    /// `YYYY-MM-DD`.
    pub treatment_date: String,
    /// The coded fact the diagnosis commitment binds.
    pub coding: Coding,
    /// Every disclosable fact, in claim order.
    pub facts: Vec<Fact>,
    /// What the validator reported short of an error (the Bundle is still attested).
    pub warnings: Vec<Issue>,
}

/// How strictly to read a Bundle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Refuse a Bundle that has warnings, too.
    pub strict: bool,
}

/// Resource types that can be attested, in priority order, with their kind, where their
/// code lives and which date fields mark the treatment.
const PRIMARY: &[(&str, AttestationKind, &[&str], &[&str])] = &[
    (
        "Condition",
        AttestationKind::Diagnosis,
        &["code"],
        &["recordedDate", "onsetDateTime", "onsetPeriod.start"],
    ),
    (
        "Immunization",
        AttestationKind::Vaccination,
        &["vaccineCode"],
        &["occurrenceDateTime", "recorded"],
    ),
    (
        "MedicationRequest",
        AttestationKind::Prescription,
        &["medicationCodeableConcept", "medication.concept"],
        &["authoredOn"],
    ),
    (
        "ImagingStudy",
        AttestationKind::Imaging,
        &["procedureCode", "modality"],
        &["started"],
    ),
    (
        "Observation",
        AttestationKind::LabResult,
        &["code"],
        &["effectiveDateTime", "effectivePeriod.start", "issued"],
    ),
    (
        "DiagnosticReport",
        AttestationKind::LabResult,
        &["code"],
        &["effectiveDateTime", "effectivePeriod.start", "issued"],
    ),
    (
        "AllergyIntolerance",
        AttestationKind::Diagnosis,
        &["code"],
        &["recordedDate", "onsetDateTime"],
    ),
    (
        "MedicationStatement",
        AttestationKind::Prescription,
        &["medicationCodeableConcept"],
        &["effectiveDateTime", "effectivePeriod.start", "dateAsserted"],
    ),
    (
        "MedicationAdministration",
        AttestationKind::Prescription,
        &["medicationCodeableConcept"],
        &["effectiveDateTime", "effectivePeriod.start"],
    ),
    (
        "Procedure",
        AttestationKind::Other,
        &["code"],
        &["performedDateTime", "performedPeriod.start"],
    ),
];

/// The kind a clinical resource type is attested as; `None` for context resources
/// (Patient, Practitioner, Encounter, Organization...).
pub fn kind_of(resource_type: &str) -> Option<AttestationKind> {
    PRIMARY.iter().find(|p| p.0 == resource_type).map(|p| p.1)
}

fn path<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(value, |v, key| v.get(key))
}

fn first_coding(concept: &Value) -> Option<Coding> {
    // A CodeableConcept, or (R4 ImagingStudy.modality) a list of Codings.
    let codings = concept
        .get("coding")
        .and_then(Value::as_array)
        .or_else(|| concept.as_array())?;
    codings.iter().find_map(|c| {
        let system = c.get("system")?.as_str()?.trim();
        let code = c.get("code")?.as_str()?.trim();
        (!system.is_empty() && !code.is_empty()).then(|| Coding {
            system: system.to_string(),
            code: code.to_string(),
            display: c.get("display").and_then(Value::as_str).map(str::to_string),
        })
    })
}

/// Days since the epoch of a FHIR date / dateTime (the date part).
pub fn day_number(date: &str) -> Result<(u16, String), FhirError> {
    let bad = || FhirError::BadDate(date.to_string());
    let ymd = date.get(..10).ok_or_else(bad)?;
    let mut parts = ymd.split('-');
    let (y, m, d) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1970..=2149).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok((u16::try_from(days).map_err(|_| bad())?, ymd.to_string()))
}

/// Validates `bytes` as a FHIR R4 Bundle and summarizes what an attestation would say.
pub fn summarize(bytes: &[u8]) -> Result<Summary, FhirError> {
    summarize_with(bytes, ReadOptions::default())
}

/// [`summarize`] with options.
pub fn summarize_with(bytes: &[u8], options: ReadOptions) -> Result<Summary, FhirError> {
    let bundle: Value =
        serde_json::from_slice(bytes).map_err(|e| FhirError::NotJson(e.to_string()))?;
    let report = validate::validate_bundle(&bundle);
    let (errors, warnings): (Vec<Issue>, Vec<Issue>) = report
        .issues
        .into_iter()
        .partition(|i| i.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(FhirError::Invalid(errors));
    }
    if options.strict && !warnings.is_empty() {
        return Err(FhirError::Warnings(warnings));
    }
    summarize_value(&bundle, None, warnings)
}

/// Summarizes a record's Bundle that was validated whole when it was attested (a part of
/// a split Bundle may reference resources of the other parts, which it does not hold).
pub fn summarize_attested(bytes: &[u8]) -> Result<Summary, FhirError> {
    let bundle: Value =
        serde_json::from_slice(bytes).map_err(|e| FhirError::NotJson(e.to_string()))?;
    summarize_value(&bundle, None, Vec::new())
}

/// Summarizes one part of a split Bundle (`crate::parts`) as an attestation of `kind`.
/// The source was validated whole before the split, so the part is not validated again
/// (its references to other parts point outside it).
pub fn summarize_part(bytes: &[u8], kind: AttestationKind) -> Result<Summary, FhirError> {
    let bundle: Value =
        serde_json::from_slice(bytes).map_err(|e| FhirError::NotJson(e.to_string()))?;
    summarize_value(&bundle, Some(kind), Vec::new())
}

fn summarize_value(
    bundle: &Value,
    only: Option<AttestationKind>,
    warnings: Vec<Issue>,
) -> Result<Summary, FhirError> {
    let resource_type = bundle
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if resource_type != "Bundle" {
        return Err(FhirError::NotABundle(resource_type.to_string()));
    }
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
        .ok_or(FhirError::NoEntries)?;
    let mut resources = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let resource = entry
            .get("resource")
            .filter(|r| r.is_object())
            .ok_or(FhirError::EntryWithoutResource(i))?;
        resources.push(resource);
    }
    for &(wanted, kind, code_fields, date_fields) in PRIMARY {
        if only.is_some_and(|k| k != kind) {
            continue;
        }
        let Some(resource) = resources
            .iter()
            .find(|r| r.get("resourceType").and_then(Value::as_str) == Some(wanted))
        else {
            continue;
        };
        let coding = code_fields
            .iter()
            .find_map(|field| path(resource, field).and_then(first_coding))
            .ok_or(FhirError::MissingCode(wanted))?;
        let date = date_fields
            .iter()
            .find_map(|field| path(resource, field).and_then(Value::as_str))
            .ok_or(FhirError::MissingDate(wanted))?;
        let (treatment_day, treatment_date) = day_number(date)?;
        let facts = facts::extract(&resources, &treatment_date);
        return Ok(Summary {
            kind,
            resource_type: wanted,
            treatment_day,
            treatment_date,
            coding,
            facts,
            warnings,
        });
    }
    Err(FhirError::NothingToAttest)
}
