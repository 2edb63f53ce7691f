//! Each Safe Harbor identifier planted in each place it can hide: the de-identifier
//! removes it, and the checker, given a copy with it put back, names where it is.

use rekam_client::research::*;
use serde_json::Value;

use crate::crafted::stay;
use crate::plants::{self, plant_into, plants, Plant};

/// Strings and numbers of `value` that could carry `needle`, except the copy's own fresh
/// ids (random hex, in which a short number can occur by chance).
fn carries(value: &Value, needle: &str) -> bool {
    match value {
        // A planted age (`93`) is a number; as text it occurs inside codes (SNOMED
        // 430193006).
        Value::String(_) if needle.len() <= 3 && needle.bytes().all(|b| b.is_ascii_digit()) => {
            false
        }
        Value::String(s) => {
            let fresh =
                s.starts_with("urn:uuid:") || (s.len() == 36 && s.matches('-').count() == 4);
            !fresh && s.contains(needle)
        }
        Value::Number(n) => n.to_string() == needle,
        Value::Array(items) => items.iter().any(|v| carries(v, needle)),
        Value::Object(map) => map.iter().any(|(k, v)| {
            let fresh_id = k == "id" || k == "fullUrl" || k == "reference";
            (!fresh_id && carries(v, needle)) || (fresh_id && k == "id" && v == needle)
        }),
        _ => false,
    }
}

fn deid(bundle: &Value) -> Value {
    let bytes = serde_json::to_vec(bundle).unwrap();
    deidentify(&bytes, "2024-05-02").unwrap_or_else(|e| panic!("crafted Bundle refused: {e}"))
}

#[test]
fn every_planted_identifier_is_removed() {
    let mut leaks = Vec::new();
    for p in plants() {
        let out = deid(&plants::planted(&p));
        if carries(&out, p.needle) {
            leaks.push(format!("({}) {}: {:?} survived", p.item, p.place, p.needle));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// Every string of `value` that is a FHIR date.
fn dates(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s)
            if s.len() >= 4
                && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && (s.len() == 4
                    || (s.len() >= 7
                        && s.as_bytes()[4] == b'-'
                        && s.as_bytes()[5..7].iter().all(u8::is_ascii_digit))) =>
        {
            out.push(s.clone())
        }
        Value::Array(items) => items.iter().for_each(|v| dates(v, out)),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| *k != "id")
            .for_each(|(_, v)| dates(v, out)),
        _ => {}
    }
}

#[test]
fn dates_are_kept_to_the_year_only() {
    let out = deid(&stay());
    let mut found = Vec::new();
    dates(&out, &mut found);
    assert!(!found.is_empty());
    let finer: Vec<&String> = found.iter().filter(|d| d.len() != 4).collect();
    assert!(finer.is_empty(), "dates finer than a year: {finer:?}");
    assert!(found.iter().all(|d| d == "2024"), "{found:?}");
}

fn resource<'a>(bundle: &'a Value, rtype: &str, nth: usize) -> &'a Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == rtype)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {rtype} #{nth}"))
}

#[test]
fn ages_of_ninety_and_over_are_top_coded() {
    let out = deid(&stay());
    let age = resource(&out, "Observation", 1);
    assert_eq!(age["code"]["coding"][0]["code"], "30525-0");
    assert_eq!(age["valueQuantity"]["value"], 90);
    assert_eq!(age["valueQuantity"]["comparator"], ">=");
    assert_eq!(age["valueQuantity"]["code"], "a");
    let patient = resource(&out, "Patient", 0);
    assert_eq!(patient["extension"][0]["valueString"], "90+");
    assert!(patient.get("birthDate").is_none());
}

/// The de-identified stay with `p` put back into its resource (same type and position).
fn copy_with(p: &Plant) -> Value {
    let source = stay();
    let index = source["entry"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["fullUrl"] == p.resource)
        .unwrap();
    let mut copy = deid(&source);
    plant_into(&mut copy["entry"][index]["resource"], p);
    copy
}

#[test]
fn the_checker_finds_every_planted_identifier() {
    assert_eq!(
        check_bundle(&deid(&stay())),
        vec![],
        "the clean copy passes"
    );
    let index_of = |url: &str| {
        stay()["entry"]
            .as_array()
            .unwrap()
            .iter()
            .position(|e| e["fullUrl"] == url)
            .unwrap()
    };
    let mut missed = Vec::new();
    for p in plants() {
        // A finding at the planted place, inside what was planted there, or at the
        // element the plant went into (never just the resource or the Bundle).
        let resource = format!("/entry/{}/resource", index_of(p.resource));
        let at = format!("{resource}{}", p.pointer);
        let findings = check_bundle(&copy_with(&p));
        let found = findings.iter().any(|f| {
            f.path.starts_with(&at) || (at.starts_with(&f.path) && f.path.len() > resource.len())
        });
        if !found {
            missed.push(format!("({}) {}: {findings:?}", p.item, p.place));
        }
    }
    assert!(
        missed.is_empty(),
        "{} missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

#[test]
fn the_copy_names_neither_its_attestation_nor_its_month() {
    let bytes = serde_json::to_vec(&stay()).unwrap();
    let prepared = rekam_client::record::prepare(&bytes).unwrap();
    let copy = ResearchCopy::build(
        &prepared.envelope,
        &anchor_lang::prelude::Pubkey::new_unique(),
    )
    .unwrap();
    let json: Value = serde_json::from_slice(&copy.to_bytes()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "bundle",
            "count",
            "disclosures",
            "format",
            "kind",
            "study",
            "treatment_year",
            "unproven"
        ]
    );
    assert_eq!(json["treatment_year"], "2024");
    assert!(
        !json.to_string().contains("2024-05"),
        "the copy carries the treatment month"
    );
    // A copy that names an attestation (format 1 did) is not a copy.
    let mut old = json.clone();
    old["attestation"] = "11111111111111111111111111111111".into();
    let err = ResearchCopy::from_bytes(&serde_json::to_vec(&old).unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("research copy is malformed: unknown field `attestation`"),
        "{err}"
    );
}
