//! Mixed Bundles split into one record per kind, and rebuilt byte for byte.

use rekam::AttestationKind;
use rekam_client::fhir::{self, ReadOptions};
use rekam_client::parts::{self, PartsError};
use rekam_client::record;
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/fhir/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

fn resource_types(bundle: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(bundle).unwrap();
    v["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_mixed_bundle_becomes_one_part_per_kind() {
    let source = fixture("emergency-summary.json");
    let split = parts::split(&source).unwrap();
    let kinds: Vec<AttestationKind> = split.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            AttestationKind::Diagnosis,
            AttestationKind::LabResult,
            AttestationKind::Prescription
        ]
    );
    for part in &split {
        let types = resource_types(&part.bundle);
        // Context entries in every part, clinical entries of this kind only.
        for context in ["Patient", "Practitioner", "Encounter"] {
            assert!(
                types.iter().any(|t| t == context),
                "{:?}: {types:?}",
                part.kind
            );
        }
        for t in &types {
            if let Some(k) = fhir::kind_of(t) {
                assert_eq!(k, part.kind, "{t} in the {:?} part", part.kind);
            }
        }
        // Each part summarizes as its own kind, with facts of its own resources only.
        let summary = fhir::summarize_part(&part.bundle, part.kind).unwrap();
        assert_eq!(summary.kind, part.kind);
        for f in &summary.facts {
            if let Some(rt) = fhir::facts::resource_type_of(&f.name) {
                assert_eq!(fhir::kind_of(rt), Some(part.kind), "{}", f.name);
            }
        }
    }
    let lab = &split[1];
    assert!(!resource_types(&lab.bundle).iter().any(|t| t == "Condition"));
}

#[test]
fn all_parts_rebuild_the_source_byte_for_byte_and_some_say_what_is_missing() {
    let source = fixture("emergency-summary.json");
    let split = parts::split(&source).unwrap();
    let sources: Vec<&parts::Source> = split.iter().map(|p| p.source.as_ref().unwrap()).collect();
    let whole = parts::rebuild(&sources).unwrap();
    assert!(whole.is_complete());
    assert_eq!(whole.bundle, source, "byte for byte");
    // In any order.
    let reversed: Vec<&parts::Source> = sources.iter().rev().copied().collect();
    assert_eq!(parts::rebuild(&reversed).unwrap().bundle, source);

    // Only the lab part: a valid Bundle of context + lab entries, the rest named missing.
    let some = parts::rebuild(&[sources[1]]).unwrap();
    assert_eq!(
        some.missing,
        vec!["diagnosis".to_string(), "prescription".to_string()]
    );
    let types = resource_types(&some.bundle);
    assert!(types
        .iter()
        .all(|t| fhir::kind_of(t).is_none_or(|k| k == AttestationKind::LabResult)));
    assert_eq!(
        types.iter().filter(|t| *t == "Observation").count(),
        resource_types(&source)
            .iter()
            .filter(|t| *t == "Observation")
            .count()
    );

    // Parts of another Bundle, or a tampered entry, are refused.
    let other = parts::split(&fixture("prescription-metformin.json")).unwrap();
    assert_eq!(
        parts::rebuild(&[sources[0], other[0].source.as_ref().unwrap()]),
        Err(PartsError::Mismatch)
    );
    let mut forged = sources[0].clone();
    forged.entries[0] = base64_of(b"{\"resource\":{\"resourceType\":\"Condition\"}}");
    let list = [&forged, sources[1], sources[2]];
    assert_eq!(parts::rebuild(&list), Err(PartsError::Digest));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn single_kind_bundles_keep_their_bytes_and_mixed_ones_get_distinct_records() {
    let dx = fixture("diagnosis-diabetes.json");
    let one = record::prepare_parts(&dx, [1; 32], ReadOptions::default()).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].envelope.content().unwrap(), dx);
    assert!(one[0].envelope.source.is_none());
    // The same salt as an unsplit record: wave-1 addresses do not move.
    let unsplit = record::prepare_with_salt(&dx, [1; 32]).unwrap();
    assert_eq!(one[0].commitments, unsplit.commitments);

    let mixed = record::prepare_parts(
        &fixture("emergency-summary.json"),
        [1; 32],
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(mixed.len(), 3);
    let salts: std::collections::HashSet<_> = mixed
        .iter()
        .map(|p| p.envelope.record_salt.clone())
        .collect();
    assert_eq!(salts.len(), 3, "each part has its own salt");
    let tags: std::collections::HashSet<_> = mixed
        .iter()
        .map(|p| p.envelope.source.as_ref().unwrap().tag.clone())
        .collect();
    assert_eq!(tags.len(), 1, "one tag links the parts");
    // Deterministic: the same Bundle and salt give the same parts (a re-run resumes).
    let again = record::prepare_parts(
        &fixture("emergency-summary.json"),
        [1; 32],
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        again.iter().map(|p| p.commitments).collect::<Vec<_>>(),
        mixed.iter().map(|p| p.commitments).collect::<Vec<_>>()
    );
}

/// A part that points at a resource of another part (a prescription's reason, a Condition)
/// still makes a verifiable research copy: the dangling reference is dropped.
#[test]
fn a_part_with_references_to_other_parts_makes_a_research_copy() {
    use anchor_lang::prelude::Pubkey;
    let mut bundle: Value = serde_json::from_slice(&fixture("emergency-summary.json")).unwrap();
    let entries = bundle["entry"].as_array_mut().unwrap();
    let condition = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Condition")
        .unwrap()["fullUrl"]
        .clone();
    for e in entries.iter_mut() {
        if e["resource"]["resourceType"] == "MedicationRequest" {
            e["resource"]["reasonReference"] = serde_json::json!([{ "reference": condition }]);
        }
    }
    let bytes = serde_json::to_vec(&bundle).unwrap();
    let parts = record::prepare_parts(&bytes, [5; 32], ReadOptions::default()).unwrap();
    let rx = parts
        .iter()
        .find(|p| p.summary.kind == AttestationKind::Prescription)
        .unwrap();
    let (study, key) = (Pubkey::new_unique(), Pubkey::new_unique());
    let copy = rekam_client::research::ResearchCopy::build(&rx.envelope, &study).unwrap();
    assert!(!serde_json::to_string(&copy.bundle)
        .unwrap()
        .contains("reasonReference"));
    let attestation = rekam::Attestation {
        version: 1,
        bump: 255,
        kind: rx.summary.kind,
        issuer: Pubkey::new_unique(),
        patient: Pubkey::new_unique(),
        diagnosis_commitment: rx.commitments.diagnosis,
        claims_root: rx.commitments.claims_root,
        treatment_day: rx.summary.treatment_day,
        expires_on_day: 0,
        issued_at: 0,
        revoked_at: 0,
    };
    copy.verify(&study, &key, &attestation).unwrap();
}
