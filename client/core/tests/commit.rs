//! Commitment and claim known-answer vectors (computed independently with Python's
//! hashlib and a hand-written RFC 5869 HKDF: `tests/vectors/claims_vectors.py`, see
//! docs/format.md) and claims-tree properties.

use rekam::claim_tree::ProofError;
use rekam_client::claims::{self, ClaimError, ClaimSet, Disclosure, DisclosureError};
use rekam_client::commit::*;
use rekam_client::fhir::facts::Fact;
use serde_json::json;

fn salt() -> RecordSalt {
    let mut bytes = [0u8; 32];
    bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    RecordSalt::from_bytes(bytes)
}

#[test]
fn known_answer_vectors() {
    let s = salt();
    assert_eq!(
        hex::encode(*s.diagnosis_salt()),
        "64d9cf03467cd97c41af50fe003291088573edbf633d6cb09d600d03689f5e21"
    );
    assert_eq!(
        hex::encode(diagnosis_commitment(
            &s,
            "http://hl7.org/fhir/sid/icd-10",
            "E11.9"
        )),
        "402a831fd7c23fcd7f3824277984cd6d785d43f34ff7500ec3f1ef3ed26d9c90"
    );
    let plaintext = br#"{"resourceType":"Bundle","type":"collection"}"#;
    assert_eq!(
        hex::encode(evidence_commitment(&s, plaintext)),
        "902805be57d855fa4fc83474900949997fe7680e71c17d108729eaab04ef3160"
    );
}

#[test]
fn streaming_evidence_equals_one_shot() {
    let s = salt();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut hasher = evidence_hasher(&s, data.len() as u64);
    for piece in data.chunks(4093) {
        hasher.update(piece);
    }
    assert_eq!(hasher.finish(), evidence_commitment(&s, &data));
}

#[test]
fn salts_change_everything() {
    let a = salt();
    let b = RecordSalt::from_bytes([7; 32]);
    let system = "http://hl7.org/fhir/sid/icd-10";
    assert_ne!(
        diagnosis_commitment(&a, system, "E11.9"),
        diagnosis_commitment(&b, system, "E11.9")
    );
    assert_ne!(
        diagnosis_commitment(&a, system, "E11.9"),
        diagnosis_commitment(&a, system, "E11.8")
    );
    // Field boundaries are unambiguous: moving bytes between system and code changes it.
    assert_ne!(
        diagnosis_commitment(&a, "ab", "c"),
        diagnosis_commitment(&a, "a", "bc")
    );
    assert_ne!(evidence_commitment(&a, b"x"), evidence_commitment(&b, b"x"));
    assert_ne!(*a.diagnosis_salt(), *a.evidence_salt());
}

/// The facts of `tests/vectors/claims_vectors.py`, in the same order.
fn vector_facts() -> Vec<Fact> {
    let fact = |name: &str, value: serde_json::Value| Fact {
        name: name.into(),
        value,
        entry: None,
    };
    vec![
        fact(
            "immunization.0",
            json!({"display": "Influenza, seasonal", "status": "completed", "vaccine": "http://hl7.org/fhir/sid/cvx|140"}),
        ),
        fact("immunization.0.date", json!("2025-10-14T09:20:00Z")),
        fact(
            "observation.0",
            json!({"code": "http://loinc.org|4548-4", "unit": "%", "value": 5.9}),
        ),
        fact("birth_year", json!(1976)),
        fact("age_over_18", json!(true)),
    ]
}

fn hexes(list: &[[u8; 32]]) -> String {
    list.iter().map(hex::encode).collect::<Vec<_>>().join(",")
}

/// Pinned by the independent Python implementation in `tests/vectors/claims_vectors.py`.
#[test]
fn claim_known_answer_vectors() {
    let s = salt();
    assert_eq!(
        hex::encode(s.disclosure_salt(0)),
        "ef8b772dfd2bc4b79bf40577df424c49"
    );
    let set = ClaimSet::issue(&s, &vector_facts()).unwrap();
    let d = set.disclosures();
    assert_eq!(d[0].encoded(), "WyI3NHQzTGYwcnhMZWI5QVYzMzBKTVNRIiwiaW1tdW5pemF0aW9uLjAiLHsiZGlzcGxheSI6IkluZmx1ZW56YSwgc2Vhc29uYWwiLCJzdGF0dXMiOiJjb21wbGV0ZWQiLCJ2YWNjaW5lIjoiaHR0cDovL2hsNy5vcmcvZmhpci9zaWQvY3Z4fDE0MCJ9XQ");
    assert_eq!(d[2].encoded(), "WyI0WUxIQjlPc1pZeEczUGgtNXF2Vmd3Iiwib2JzZXJ2YXRpb24uMCIseyJjb2RlIjoiaHR0cDovL2xvaW5jLm9yZ3w0NTQ4LTQiLCJ1bml0IjoiJSIsInZhbHVlIjo1Ljl9XQ");
    assert_eq!(
        d[4].encoded(),
        "WyIzdXJnY19uRHVRQnZUWGRVMWg1NmNRIiwiYWdlX292ZXJfMTgiLHRydWVd"
    );
    assert_eq!(
        hex::encode(d[1].digest()),
        "b6c1d5da3d48affe8126879c2143fa2bbed7f11f239cbf8a5766a9eb5f4df262"
    );
    assert_eq!(
        hex::encode(set.root()),
        "5018a3495b25c8476552621c3f9e4aab18dc8ba33628634b8ef144ff7721a796"
    );
    assert_eq!(
        hexes(&set.proof(3).unwrap()),
        "38554ef1b7040ddb66cdcc85bd0e31f60b8904785e7505aed5843547d58cf6a7,bad9d4b8900def0528be3dd9a82114f31d316fd4cdd2d231911d176a3d34d977,786f2f4053a75ff4f82541c5400b0dc133c5499b21cd3457fb825c594dc7f6b1"
    );
    assert_eq!(
        hexes(&set.proof(4).unwrap()),
        "199c02bd2f99c82f3dfdb77722c0c5022b8c5eb5b56bf3bef1c856a73ef8d495"
    );
    // A stored record's disclosures rebuild the same tree.
    let again = ClaimSet::from_encoded(&set.encoded()).unwrap();
    assert_eq!(again.root(), set.root());
}

#[test]
fn every_claim_verifies_and_tampering_fails_with_its_error() {
    let s = salt();
    for n in 1..=12usize {
        let facts: Vec<Fact> = (0..n)
            .map(|i| Fact {
                name: format!("observation.{i}"),
                value: json!({"value": i}),
                entry: Some(i),
            })
            .collect();
        let set = ClaimSet::issue(&s, &facts).unwrap();
        for i in 0..n as u32 {
            let d = set.get(i).unwrap();
            let proof = set.proof(i).unwrap();
            claims::verify(&set.root(), i, set.count(), d, &proof).unwrap();
            // A changed value: same salt and name, other digest.
            let forged = Disclosure::parse(
                Disclosure::new(&s.disclosure_salt(i), d.name(), json!({"value": 99})).encoded(),
            )
            .unwrap();
            assert_eq!(
                claims::verify(&set.root(), i, set.count(), &forged, &proof),
                Err(ProofError::NotInRoot)
            );
            // The same claim under another salt.
            let resalted = Disclosure::new(&[9; 16], d.name(), d.value().clone());
            assert_eq!(
                claims::verify(&set.root(), i, set.count(), &resalted, &proof),
                Err(ProofError::NotInRoot)
            );
            if n > 1 {
                let other = (i + 1) % n as u32;
                assert!(claims::verify(&set.root(), other, set.count(), d, &proof).is_err());
            }
        }
    }
    assert!(matches!(
        ClaimSet::issue(&s, &[]),
        Err(ClaimError::NoClaims)
    ));
}

#[test]
fn disclosures_refuse_weak_salts_and_bad_shapes() {
    use base64::Engine;
    let enc = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
    assert_eq!(
        Disclosure::parse(&enc(r#"["c2FsdA","x",1]"#)),
        Err(DisclosureError::WeakSalt)
    );
    assert_eq!(
        Disclosure::parse(&enc(r#"["AAAAAAAAAAAAAAAAAAAAAA","x"]"#)),
        Err(DisclosureError::NotAnArray)
    );
    assert_eq!(
        Disclosure::parse(&enc(r#"["AAAAAAAAAAAAAAAAAAAAAA","_sd",1]"#)),
        Err(DisclosureError::BadName)
    );
    assert_eq!(Disclosure::parse("%%%"), Err(DisclosureError::NotBase64));
}
