//! Commitment known-answer vectors (computed independently with Python's hashlib and a
//! hand-written RFC 5869 HKDF, see docs/format.md) and Merkle-path properties.

use rekam_client::commit::*;

fn salt() -> RecordSalt {
    let mut bytes = [0u8; 32];
    bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    RecordSalt::from_bytes(bytes)
}

fn claims(n: usize) -> Vec<Claim> {
    let base = [
        ("kind", "vaccination"),
        ("vaccine", "CVX|208"),
        ("date", "2026-11"),
        ("issuer", "clinic"),
        ("lot", "EK5730"),
    ];
    (0..n)
        .map(|i| {
            let (name, value) = base[i % base.len()];
            Claim {
                name: name.into(),
                value: format!(
                    "{value}{}",
                    if i < base.len() {
                        String::new()
                    } else {
                        i.to_string()
                    }
                ),
            }
        })
        .collect()
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
    assert_eq!(
        hex::encode(claims_root(&s, &claims(5)).unwrap()),
        "85e578e28dfe616a15d8416fdb3db6a13992a1c4044289e81a7f06c9d71e041d"
    );
    assert_eq!(
        hex::encode(*s.claim_salt(0)),
        "e956f4137d007659b0fa81298ff2992b24a8fdc07b3563e67374c1efedb7dd07"
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

#[test]
fn every_claim_has_a_path_and_tampering_fails() {
    let s = salt();
    for n in 1..=9 {
        let all = claims(n);
        let root = claims_root(&s, &all).unwrap();
        for (i, claim) in all.iter().enumerate() {
            let path = claim_path(&s, &all, i).unwrap();
            let leaf_salt = s.claim_salt(i as u32);
            assert!(verify_claim(&root, &leaf_salt, claim, &path), "n={n} i={i}");
            let forged = Claim {
                name: claim.name.clone(),
                value: format!("{}!", claim.value),
            };
            assert!(
                !verify_claim(&root, &leaf_salt, &forged, &path),
                "forged value n={n} i={i}"
            );
            assert!(
                !verify_claim(&root, &[0; 32], claim, &path),
                "wrong salt n={n} i={i}"
            );
            if !path.is_empty() {
                let mut bent = path.clone();
                bent[0].sibling_is_left = !bent[0].sibling_is_left;
                assert!(
                    !verify_claim(&root, &leaf_salt, claim, &bent),
                    "bent path n={n} i={i}"
                );
            }
        }
    }
    assert_eq!(claims_root(&s, &[]), Err(ClaimsError::NoClaims));
    assert_eq!(
        claim_path(&s, &claims(3), 3),
        Err(ClaimsError::IndexOutOfRange { index: 3, len: 3 })
    );
}
