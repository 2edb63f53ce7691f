//! De-identification and research copies, on the committed FHIR fixtures: nothing
//! identifying survives, the clinical content does, and a copy verifies against exactly
//! the attestation it came from.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, AttestationKind};
use rekam_client::crypto::Identity;
use rekam_client::record::{self, Prepared};
use rekam_client::research::*;
use serde_json::Value;

#[path = "research/crafted.rs"]
mod crafted;
#[path = "research/leaks.rs"]
mod leaks;
#[path = "research/plants.rs"]
mod plants;
#[path = "research/stay.rs"]
mod stay;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/fhir")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const FIXTURES: [&str; 5] = [
    "diagnosis-diabetes.json",
    "lab-hba1c.json",
    "vaccination-influenza.json",
    "prescription-metformin.json",
    "emergency-summary.json",
];

/// Every string value in a JSON document.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The attestation a clinic would have issued for `prepared`.
fn attestation_of(prepared: &Prepared) -> Attestation {
    Attestation {
        version: 1,
        bump: 255,
        kind: prepared.summary.kind,
        issuer: Pubkey::new_unique(),
        patient: Pubkey::new_unique(),
        diagnosis_commitment: prepared.commitments.diagnosis,
        claims_root: prepared.commitments.claims_root,
        treatment_day: prepared.summary.treatment_day,
        expires_on_day: 0,
        issued_at: 0,
        revoked_at: 0,
    }
}

#[test]
fn nothing_identifying_survives_de_identification() {
    for name in FIXTURES {
        let original = fixture(name);
        let summary = rekam_client::fhir::summarize(&original).expect("valid fixture");
        let out = deidentify(&original, &summary.treatment_date).expect("de-identify");
        assert_eq!(check_bundle(&out), vec![], "{name}");

        let source: Value = serde_json::from_slice(&original).unwrap();
        // No original id, name, identifier value or full date appears anywhere.
        let mut after = Vec::new();
        strings(&out, &mut after);
        let entries = source["entry"].as_array().unwrap();
        for entry in entries {
            let r = &entry["resource"];
            let id = r["id"].as_str().unwrap();
            assert!(
                !after.iter().any(|s| s.contains(id)),
                "{name}: id {id} leaked"
            );
            for family in r["name"].as_array().into_iter().flatten() {
                if let Some(f) = family["family"].as_str() {
                    assert!(
                        !after.iter().any(|s| s.contains(f)),
                        "{name}: name {f} leaked"
                    );
                }
            }
            for ident in r["identifier"].as_array().into_iter().flatten() {
                let v = ident["value"].as_str().unwrap();
                assert!(
                    !after.iter().any(|s| s.contains(v)),
                    "{name}: identifier leaked"
                );
            }
        }
        assert!(!after.iter().any(|s| s.contains(&summary.treatment_date)));

        // People and organizations are gone; the clinical resources remain, with the
        // attested code, and every reference resolves inside the copy.
        let kept: Vec<&str> = out["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert!(
            !kept.contains(&"Practitioner") && !kept.contains(&"Organization"),
            "{name}"
        );
        assert!(kept.contains(&summary.resource_type), "{name}");
        let urls: Vec<&str> = out["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap())
            .collect();
        let mut refs = Vec::new();
        collect_refs(&out, &mut refs);
        assert!(!refs.is_empty(), "{name}: references kept");
        for r in refs {
            assert!(urls.contains(&r.as_str()), "{name}: dangling reference {r}");
        }
        // Dates are generalized to the year, which is still there; no month is.
        assert!(
            after.iter().any(|s| s == &summary.treatment_date[..4]),
            "{name}"
        );
        assert!(
            !after
                .iter()
                .any(|s| s.contains(&summary.treatment_date[..7])),
            "{name}"
        );
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("reference") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_patient_keeps_an_age_band_instead_of_a_birth_date() {
    let original = fixture("diagnosis-diabetes.json");
    let summary = rekam_client::fhir::summarize(&original).unwrap();
    let out = deidentify(&original, &summary.treatment_date).unwrap();
    let patient = out["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Patient")
        .expect("patient kept");
    assert!(patient.get("birthDate").is_none());
    assert_eq!(patient["extension"][0]["url"], AGE_BAND_URL);
    // Born 1964-12-01, diagnosed 2024-02-04: 59.
    assert_eq!(summary.treatment_date, "2024-02-04");
    assert_eq!(patient["extension"][0]["valueString"], "55-59");
    assert_eq!(patient["gender"], "male");
}

#[test]
fn age_bands_change_on_the_birthday_and_stop_at_ninety() {
    assert_eq!(age_band("1980-06-15", "2025-06-14").unwrap(), "40-44");
    assert_eq!(age_band("1980-06-15", "2025-06-15").unwrap(), "45-49");
    assert_eq!(age_band("1930-01-01", "2020-01-01").unwrap(), "90+");
    assert_eq!(age_band("1931-01-02", "2021-01-01").unwrap(), "85-89");
    assert_eq!(age_band("2026-01-01", "2025-01-01"), None);
    assert_eq!(age_band("garbage", "2025-01-01"), None);
}

#[test]
fn month_of_day_inverts_fhir_day_numbers() {
    for date in [
        "1970-01-01",
        "2000-02-29",
        "2026-11-22",
        "2099-12-31",
        "2024-03-01",
    ] {
        let (day, _) = rekam_client::fhir::day_number(date).unwrap();
        assert_eq!(month_of_day(day), &date[..7]);
    }
}

#[test]
fn malformed_bundles_are_refused() {
    for name in [
        "not-json.json",
        "not-a-bundle.json",
        "empty-bundle.json",
        "condition-without-code.json",
    ] {
        let bytes = fixture(&format!("invalid/{name}"));
        assert!(deidentify(&bytes, "2026-01-01").is_err(), "{name}");
    }
}

/// The resource type `summarize` attested.
fn summary_type(prepared: &Prepared) -> &'static str {
    prepared.summary.resource_type
}

/// `bundle` without any `display` or `text` (labels, narrative, dosage text): a record
/// whose claims carry no free text, so that a copy can prove every fact it shows.
fn coded_only(bundle: &[u8]) -> Vec<u8> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("display");
                map.remove("text");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_slice(bundle).unwrap();
    strip(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn a_copy_of_a_labelled_record_shows_its_facts_unproven() {
    let study = Pubkey::new_unique();
    let key = Pubkey::new_unique();
    for name in FIXTURES {
        let prepared = record::prepare(&fixture(name)).unwrap();
        let copy = ResearchCopy::build(&prepared.envelope, &study).unwrap();
        // Every claim of these records carries a code's label: none can be shown.
        assert!(copy.disclosures.is_empty(), "{name}");
        assert!(!copy.unproven.is_empty(), "{name}");
        let verified = copy
            .verify(&study, &key, &attestation_of(&prepared))
            .expect(name);
        assert_eq!(verified.proven, Vec::<String>::new(), "{name}");
        assert_eq!(verified.unproven, copy.unproven, "{name}");
        let text = String::from_utf8(copy.to_bytes()).unwrap();
        for label in [
            "Type 2 diabetes",
            "Hemoglobin A1c",
            "Influenza",
            "metformin",
            "Juno",
            "Stubfield",
        ] {
            assert!(!text.contains(label), "{name}: {label}");
        }
    }
}

#[test]
fn a_copy_verifies_against_its_attestation_and_nothing_else() {
    let study = Pubkey::new_unique();
    let key = Pubkey::new_unique();
    for name in FIXTURES {
        let prepared = record::prepare(&coded_only(&fixture(name))).unwrap();
        let attestation = attestation_of(&prepared);
        let copy = ResearchCopy::build(&prepared.envelope, &study).unwrap();
        let verified = copy.verify(&study, &key, &attestation).expect(name);
        assert!(verified.proven.len() >= 2, "{name}: {verified:?}");
        assert_eq!(verified.proven.len(), copy.disclosures.len(), "{name}");
        // The exact date and the record salt are not in the copy.
        let text = String::from_utf8(copy.to_bytes()).unwrap();
        assert!(!text.contains(&prepared.envelope.record_salt));
        assert!(!text.contains(&prepared.envelope.treatment_date[..7]));

        let wrong = |mutate: &dyn Fn(&mut ResearchCopy, &mut Attestation)| {
            let mut c = copy.clone();
            let mut a = attestation_of(&prepared);
            mutate(&mut c, &mut a);
            c.verify(&study, &key, &a).unwrap_err()
        };
        let what = |e: ResearchError| match e {
            ResearchError::Mismatch { attestation, what } => {
                assert_eq!(attestation, key);
                what
            }
            other => panic!("{name}: {other}"),
        };
        let first = &copy.disclosures[0];
        let first_name = rekam_client::claims::Disclosure::parse(&first.disclosure)
            .unwrap()
            .name()
            .to_string();
        // Another record's claims root (e.g. a copy passed off as a different record).
        assert_eq!(
            what(wrong(&|_, a| a.claims_root[0] ^= 1)),
            format!(
                "claim {} ({first_name}) is not in its claims root",
                first.index
            )
        );
        // A disclosed claim swapped for another (here: the next one, at this index).
        assert!(what(wrong(
            &|c, _| c.disclosures[0].disclosure = c.disclosures[1].disclosure.clone()
        ))
        .ends_with("is not in its claims root"));
        // A contributor may withhold a claim: the fact is then reported unproven, never
        // proven (docs/research.md, "What verification proves").
        let mut withheld = copy.clone();
        withheld.disclosures.remove(0);
        withheld.unproven.push(first_name.clone());
        let v = withheld.verify(&study, &key, &attestation).unwrap();
        assert!(v.unproven.contains(&first_name) && !v.proven.contains(&first_name));
        // An unproven fact that is not in the Bundle is refused by the check.
        let mut c = copy.clone();
        c.unproven.push("condition.99".into());
        assert_eq!(
            c.verify(&study, &key, &attestation).unwrap_err().to_string(),
            format!(
                "research copy is not de-identified (1 finding(s)): unproven/{}: not a fact of the Bundle",
                c.unproven.len() - 1
            )
        );
        // A fact of the Bundle changed (a fabricated value, a more "valuable" code): its
        // claim no longer shows that fact, and the check refuses the copy.
        let mut c = copy.clone();
        let entries = c.bundle["entry"].as_array_mut().unwrap();
        let (i, resource) = entries
            .iter_mut()
            .map(|e| &mut e["resource"])
            .enumerate()
            .find(|(_, r)| r["resourceType"] == summary_type(&prepared))
            .unwrap();
        let field = if resource.get("code").is_some() {
            "code"
        } else if resource.get("vaccineCode").is_some() {
            "vaccineCode"
        } else {
            "medicationCodeableConcept"
        };
        resource[field] =
            serde_json::json!({"coding": [{"system": "http://loinc.org", "code": "0000-0"}]});
        let err = c
            .verify(&study, &key, &attestation)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("research copy is not de-identified (1 finding(s)): disclosures/")
                && err.ends_with(": a claim whose value is not a fact of the Bundle"),
            "{name}: {err} (entry {i})"
        );
        // A claim dropped without listing its fact as unproven.
        assert_eq!(
            what(wrong(&|c, _| {
                c.disclosures.remove(0);
            })),
            format!("fact {first_name} of the Bundle is not backed by a verified claim")
        );
        // Another year, another kind, another study.
        assert_eq!(
            what(wrong(&|c, _| c.treatment_year = "1999".into())),
            "treatment year differs"
        );
        assert_eq!(
            what(wrong(&|_, a| a.kind = AttestationKind::Imaging)),
            "kind differs"
        );
        assert_eq!(
            what(
                copy.verify(&Pubkey::new_unique(), &key, &attestation)
                    .unwrap_err()
            ),
            "the copy names another study"
        );
        // A re-identified Bundle (a birth date put back) is refused before any claim.
        let mut c = copy.clone();
        c.bundle["entry"][0]["resource"]["birthDate"] = "1964-12-01".into();
        assert_eq!(
            c.verify(&study, &key, &attestation)
                .unwrap_err()
                .to_string(),
            "research copy is not de-identified (3 finding(s)): \
             /entry/0/resource/birthDate: a date finer than a year (1964-12-01); \
             /entry/0/resource/birthDate: element birthDate can identify; \
             /entry/0/resource/birthDate: not on the allow-list"
        );
    }
}

#[test]
fn a_copy_opens_only_for_the_researcher() {
    let prepared = record::prepare(&fixture("lab-hba1c.json")).unwrap();
    let copy = ResearchCopy::build(&prepared.envelope, &Pubkey::new_unique()).unwrap();
    let researcher = Identity::generate();
    let sealed = copy.seal(&researcher.public_key()).unwrap();
    assert_eq!(ResearchCopy::open(&sealed, &researcher).unwrap(), copy);
    assert!(ResearchCopy::open(&sealed, &Identity::generate()).is_err());
    let mut corrupt = sealed.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    assert!(ResearchCopy::open(&corrupt, &researcher).is_err());
}
