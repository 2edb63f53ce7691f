//! Unit tests for `batch.rs`: a round trip, every refusal with its exact error, proofs
//! and the stored form.

use super::*;
use crate::monitoring::reading::Measurement;

const NOW: i64 = 1_764_633_600;

fn device() -> Keypair {
    Keypair::new_from_array([3u8; 32])
}

fn secret() -> RecordSalt {
    RecordSalt::from_bytes([9u8; 32])
}

fn readings(key: [u8; 32], n: usize) -> Vec<Reading> {
    (0..n)
        .map(|i| Reading {
            device: key,
            at: NOW - 3600 + i as i64 * 60,
            measurement: Measurement::HeartRate { bpm: 60 + i as u16 },
        })
        .collect()
}

fn built(n: usize) -> SignedBatch {
    let kp = device();
    Batch::build(&kp, &readings(kp.pubkey().to_bytes(), n), &secret(), NOW).unwrap()
}

#[test]
fn build_check_and_salts_rederive() {
    let b = built(5);
    assert_eq!(b.count(), 5);
    assert_eq!((b.first_at, b.last_at), (NOW - 3600, NOW - 3600 + 240));
    assert_eq!(b.check(NOW), Ok(()));
    let again = built(5);
    assert_eq!(again.root, b.root, "same secret, same salts, same root");
    let other = Batch::build(
        &device(),
        &b.readings,
        &RecordSalt::from_bytes([1u8; 32]),
        NOW,
    )
    .unwrap();
    assert_ne!(other.root, b.root);
    let d0 = Disclosure::new(
        &secret().disclosure_salt(0),
        "reading.0",
        b.readings[0].to_json(),
    );
    assert_eq!(b.disclosures[0], d0);
}

#[test]
fn signed_message_layout() {
    let m = signed_message(&[0xAA; 32], 2, -1, 258, &[0xBB; 32]);
    assert_eq!(m.len(), 17 + 32 + 4 + 8 + 8 + 32);
    assert_eq!(&m[..17], b"rekam-readings-v1");
    assert_eq!(&m[49..53], &[2, 0, 0, 0]);
    assert_eq!(&m[53..61], &[0xFF; 8]);
    assert_eq!(&m[61..69], &[2, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&m[69..], &[0xBB; 32]);
}

#[test]
fn input_refusals() {
    let kp = device();
    let key = kp.pubkey().to_bytes();
    let s = secret();
    let build = |r: &[Reading]| Batch::build(&kp, r, &s, NOW).map(|_| ());
    assert_eq!(build(&[]), Err(BatchError::Empty));
    let mut r = readings(key, 3);
    r.swap(1, 2);
    assert_eq!(build(&r), Err(BatchError::OutOfOrder { index: 2 }));
    let mut r = readings(key, 3);
    r[2].at = r[1].at;
    assert_eq!(build(&r), Err(BatchError::Duplicate { index: 2 }));
    r[2].measurement = Measurement::SpO2 { percent: 97 };
    assert_eq!(build(&r), Ok(()), "another code at the same second is fine");
    let mut r = readings(key, 3);
    r[1].device = [5u8; 32];
    assert_eq!(build(&r), Err(BatchError::WrongDevice { index: 1 }));
    let mut r = readings(key, 3);
    r[2].at = NOW + MAX_CLOCK_SKEW + 1;
    assert_eq!(
        build(&r),
        Err(BatchError::FromFuture {
            index: 2,
            at: NOW + MAX_CLOCK_SKEW + 1,
            now: NOW
        })
    );
    r[2].at = NOW + MAX_CLOCK_SKEW;
    assert_eq!(build(&r), Ok(()));
    let big = vec![readings(key, 1)[0]; MAX_READINGS + 1];
    assert_eq!(build(&big), Err(BatchError::TooMany(MAX_READINGS + 1)));
}

#[test]
fn tampering_is_caught() {
    let b = built(4);
    let mut t = b.clone();
    t.root[0] ^= 1;
    assert_eq!(t.check(NOW), Err(BatchError::RootMismatch));
    let mut t = b.clone();
    t.last_at += 1;
    assert_eq!(t.check(NOW), Err(BatchError::RootMismatch));
    let mut t = b.clone();
    t.disclosures.swap(0, 1);
    assert_eq!(t.check(NOW), Err(BatchError::BadDisclosure { index: 0 }));
    let mut t = b.clone();
    t.signature = Keypair::new_from_array([4u8; 32]).sign_message(b"x");
    assert_eq!(t.check(NOW), Err(BatchError::BadSignature));
}

#[test]
fn proofs_verify_and_wrong_ones_fail() {
    let b = built(7);
    for i in 0..7 {
        let (d, proof) = b.prove(i).unwrap();
        assert_eq!(
            verify_fact(&b.root, 7, i, &d, &proof),
            Ok(b.readings[i as usize])
        );
    }
    let (d, proof) = b.prove(3).unwrap();
    assert_eq!(
        verify_fact(&b.root, 7, 4, &d, &proof),
        Err(BatchError::Proof(ProofError::NotInRoot))
    );
    assert_eq!(
        verify_fact(&b.root, 8, 3, &d, &proof),
        Err(BatchError::Proof(ProofError::NotInRoot))
    );
    assert_eq!(
        b.prove(7).unwrap_err(),
        BatchError::Proof(ProofError::IndexOutOfRange)
    );
}

#[test]
fn stored_form_round_trips() {
    let b = built(3);
    let text = b.to_json();
    let back = SignedBatch::from_json(&text).unwrap();
    assert_eq!(back, b);
    assert_eq!(back.check(NOW), Ok(()));
    assert!(matches!(
        SignedBatch::from_json("{}"),
        Err(BatchError::Malformed(_))
    ));
}
