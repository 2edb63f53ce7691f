//! Record format version 2 (docs/format.md): known-answer vectors of the header and
//! segments, the key commitment (a record cannot read differently for two recipients),
//! per-record key ids, and the exact refusal of version 1.

#[path = "record_format/gcm.rs"]
mod gcm;
#[path = "record_format/kat.rs"]
mod kat;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use rekam_client::crypto::stream::{
    decrypt_to_path, decrypt_to_vec, decrypt_with_stanza, encrypt_to_vec,
    encrypt_with_fixed_randomness, FixedRandomness,
};
use rekam_client::crypto::wrap::{unwrap, wrap};
use rekam_client::crypto::{CryptoError, DataKey, EncryptOptions, Header, Identity};
use sha2::{Digest, Sha256};

fn unhex(value: &serde_json::Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("a hex string")).expect("hex")
}

const VECTORS: &str = "tests/vectors/record-v2.json";

#[test]
fn known_answer_vectors_are_reproduced_byte_for_byte_and_open() {
    let computed = kat::file();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(VECTORS);
    if std::env::var_os("REKAM_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        computed, committed,
        "docs/format.md, computed from the primitives, differs from {VECTORS}"
    );

    let inputs = kat::inputs();
    let vectors = committed["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), inputs.len());
    for (input, v) in inputs.iter().zip(vectors) {
        let name = input.name;
        let identities: Vec<Identity> = input
            .recipients
            .iter()
            .map(|(ikm, _)| Identity::from_ikm(ikm))
            .collect();
        let keys: Vec<[u8; 32]> = identities.iter().map(Identity::public_key).collect();
        for (key, r) in keys.iter().zip(v["recipients"].as_array().unwrap()) {
            assert_eq!(key.as_slice(), unhex(&r["public_key"]), "{name}");
        }
        let opts = EncryptOptions {
            recipients: &keys,
            content_type: input.content_type,
            segment_size: input.segment_size,
        };
        let fixed = FixedRandomness {
            data_key: DataKey::from_bytes(input.data_key),
            nonce_prefix: input.nonce_prefix,
            ephemeral_ikm: input.recipients.iter().map(|(_, e)| *e).collect(),
        };
        let mut record = Vec::new();
        let header = encrypt_with_fixed_randomness(
            &input.plaintext[..],
            input.plaintext.len() as u64,
            &mut record,
            &opts,
            &fixed,
        )
        .unwrap();
        assert_eq!(header.committed_bytes(), unhex(&v["committed"]), "{name}");
        assert_eq!(
            header.commitment.as_slice(),
            unhex(&v["commitment"]),
            "{name}"
        );
        assert_eq!(header.prefix_bytes(), unhex(&v["prefix"]), "{name}");
        assert_eq!(header.to_bytes(), unhex(&v["header"]), "{name}");
        assert_eq!(
            hex::encode(&record),
            v["record"].as_str().unwrap(),
            "{name}"
        );
        let segments: Vec<u8> = v["segments"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(unhex)
            .collect();
        assert_eq!(record[header.to_bytes().len()..], segments[..], "{name}");
        assert_eq!(
            v["segments"].as_array().unwrap().len() as u64,
            header.segment_count()
        );
        for reader in &identities {
            let (plain, read) = decrypt_to_vec(&unhex(&v["record"]), reader).unwrap();
            assert_eq!(plain, input.plaintext, "{name}");
            assert_eq!(read, header, "{name}");
        }
    }
    // The vectors cover a partial last segment, several recipients and an empty record.
    assert_eq!(vectors[0]["segments"].as_array().unwrap().len(), 3);
    assert_eq!(vectors[0]["recipients"].as_array().unwrap().len(), 2);
    assert_eq!(vectors[2]["plaintext"], "");
}

#[test]
fn fixed_randomness_needs_one_ephemeral_key_per_recipient() {
    let reader = Identity::generate();
    let keys = [reader.public_key()];
    let fixed = FixedRandomness {
        data_key: DataKey::from_bytes([1; 32]),
        nonce_prefix: [2; 7],
        ephemeral_ikm: Vec::new(),
    };
    let err = encrypt_with_fixed_randomness(
        &b"x"[..],
        1,
        Vec::new(),
        &EncryptOptions::new(&keys, "text/plain"),
        &fixed,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Malformed("one fixed ephemeral key per recipient is needed")
        ),
        "{err:?}"
    );
}

/// The payload key of `data_key` in a header with `nonce_prefix`, as raw bytes.
fn payload_key_bytes(data_key: &[u8; 32], nonce_prefix: &[u8; 7]) -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(nonce_prefix), data_key)
        .expand(b"rekam/v2/payload", &mut out)
        .unwrap();
    out
}

fn open_with(payload_key: &[u8; 32], nonce: [u8; 12], aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, payload_key).unwrap());
    let mut buf = sealed.to_vec();
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .expect("the segment authenticates under this key")
        .to_vec();
    plain
}

/// A malicious writer's record: one segment that AES-GCM authenticates under two data
/// keys, the first wrapped to `alice`, the second to `bob`, and a header that commits to
/// `committed_to` (one of the two). Returns the record and the two keys' plaintexts.
fn two_key_record(
    alice: &Identity,
    bob: &Identity,
    commit_first: bool,
) -> (Vec<u8>, Header, Vec<u8>, Vec<u8>) {
    let (k1, k2) = ([0x11u8; 32], [0x22u8; 32]);
    let mut header = Header {
        segment_size: 1024,
        plaintext_len: 32,
        nonce_prefix: [5; 7],
        content_type: "application/fhir+json".into(),
        commitment: [0; 32],
        stanzas: Vec::new(),
    };
    let committed = if commit_first { k1 } else { k2 };
    header
        .commit_to(&DataKey::from_bytes(committed))
        .expect("commit");
    let prefix = header.prefix_bytes();
    header.stanzas = vec![
        wrap(&DataKey::from_bytes(k1), &alice.public_key(), &prefix).unwrap(),
        wrap(&DataKey::from_bytes(k2), &bob.public_key(), &prefix).unwrap(),
    ];
    let header_bytes = header.to_bytes();
    let header_hash = Sha256::digest(&header_bytes);
    let mut nonce = [0u8; 12];
    nonce[..7].copy_from_slice(&header.nonce_prefix);
    nonce[11] = 1; // segment 0, the final one
    let (p1, p2) = (
        payload_key_bytes(&k1, &header.nonce_prefix),
        payload_key_bytes(&k2, &header.nonce_prefix),
    );
    let segment = gcm::two_key_ciphertext(&p1, &p2, &nonce, &header_hash);
    let read1 = open_with(&p1, nonce, &header_hash, &segment);
    let read2 = open_with(&p2, nonce, &header_hash, &segment);
    let record = [header_bytes, segment].concat();
    (record, header, read1, read2)
}

#[test]
fn aes_gcm_alone_lets_one_record_read_two_ways_and_the_commitment_refuses_it() {
    let alice = Identity::generate();
    let bob = Identity::generate();
    let (record, _, read1, read2) = two_key_record(&alice, &bob, true);
    // Without a key commitment, both readers would accept the same segment bytes with
    // different plaintexts: AES-GCM's tag authenticates under both keys.
    assert_eq!(read1.len(), 32);
    assert_ne!(read1, read2, "one ciphertext, two plaintexts");

    // The header commits to Alice's key: she reads the record, exactly as AES-GCM
    // decrypted it under her key.
    assert_eq!(decrypt_to_vec(&record, &alice).unwrap().0, read1);
    // Bob's stanza opens (it is his, under this header), but its key is not the one the
    // header commits to: refused before any segment is opened, and no file is written.
    let err = decrypt_to_vec(&record, &bob).unwrap_err();
    assert!(matches!(err, CryptoError::KeyCommitment), "{err:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bob.json");
    let err = decrypt_to_path(&record[..], &out, &bob).unwrap_err();
    assert!(matches!(err, CryptoError::KeyCommitment), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let mut written = Vec::new();
    let err = rekam_client::crypto::decrypt(&record[..], &mut written, &bob).unwrap_err();
    assert!(matches!(err, CryptoError::KeyCommitment), "{err:?}");
    assert!(written.is_empty(), "no plaintext was released");
    assert_eq!(
        err.to_string(),
        "the record's data key does not match the key commitment in its header (the record could read differently for different recipients)"
    );

    // Committing to Bob's key instead turns it around: only one reading ever exists.
    let (record, _, _, read2) = two_key_record(&alice, &bob, false);
    assert_eq!(decrypt_to_vec(&record, &bob).unwrap().0, read2);
    let err = decrypt_to_vec(&record, &alice).unwrap_err();
    assert!(matches!(err, CryptoError::KeyCommitment), "{err:?}");

    // The same through a key grant: a stanza wrapping another key to a grantee, under
    // this header's own prefix (its AAD), is refused on the grant path too.
    let grantee = Identity::generate();
    let (record, header, read1, _) = two_key_record(&alice, &bob, true);
    let (_, bytes) = Header::read_from(&mut &record[..]).unwrap();
    let forged = wrap(
        &DataKey::from_bytes([0x22; 32]),
        &grantee.public_key(),
        &header.prefix_bytes(),
    )
    .unwrap();
    let err = decrypt_with_stanza(&record, &header, &bytes, &forged, &grantee).unwrap_err();
    assert!(matches!(err, CryptoError::KeyCommitment), "{err:?}");
    let err = unwrap(&forged, &grantee, &header.prefix_bytes()).unwrap_err();
    assert!(matches!(err, CryptoError::KeyCommitment), "{err:?}");
    // And the committed key, granted, opens.
    let honest = wrap(
        &DataKey::from_bytes([0x11; 32]),
        &grantee.public_key(),
        &header.prefix_bytes(),
    )
    .unwrap();
    assert_eq!(
        decrypt_with_stanza(&record, &header, &bytes, &honest, &grantee).unwrap(),
        read1
    );
}

/// The version-1 key id: a stable hash of the recipient's public key.
fn v1_key_id(public: &[u8; 32]) -> [u8; 8] {
    let digest = Sha256::digest([b"rekam/v1/key-id".as_slice(), public].concat());
    digest[..8].try_into().unwrap()
}

#[test]
fn key_ids_differ_in_every_record_and_only_the_recipient_finds_its_stanza() {
    let alice = Identity::generate();
    let bob = Identity::generate();
    let keys = [bob.public_key(), alice.public_key()];
    let opts = EncryptOptions::new(&keys, "application/fhir+json");
    let (r1, h1) = encrypt_to_vec(b"first", &opts).unwrap();
    let (r2, h2) = encrypt_to_vec(b"second", &opts).unwrap();
    // Alice's stanza is the second in both: its key id changes from record to record,
    // and is not the public-key hash anyone could compute.
    assert_ne!(h1.stanzas[1].key_id, h2.stanzas[1].key_id);
    assert_ne!(h1.stanzas[0].key_id, h2.stanzas[0].key_id);
    for header in [&h1, &h2] {
        assert_ne!(header.stanzas[0].key_id, header.stanzas[1].key_id);
        assert_ne!(header.stanzas[1].key_id, v1_key_id(&alice.public_key()));
        assert_ne!(header.stanzas[0].key_id, v1_key_id(&bob.public_key()));
    }
    // Each still finds its own stanza.
    assert_eq!(decrypt_to_vec(&r1, &alice).unwrap().0, b"first");
    assert_eq!(decrypt_to_vec(&r2, &bob).unwrap().0, b"second");
    let stranger = Identity::generate();
    let err = decrypt_to_vec(&r1, &stranger).unwrap_err();
    assert!(matches!(err, CryptoError::NotARecipient), "{err:?}");
    // A key id that is not the one exported from the stanza's own HPKE context: the
    // stanza is no longer recognised as Alice's.
    let mut bad = r1.clone();
    let at = h1.prefix_bytes().len() + 1 + 88; // Alice's key id
    bad[at] ^= 1;
    let err = decrypt_to_vec(&bad, &alice).unwrap_err();
    assert!(matches!(err, CryptoError::NotARecipient), "{err:?}");
    // Bob still finds his stanza and its key, but the header changed: no segment opens.
    let err = decrypt_to_vec(&bad, &bob).unwrap_err();
    assert!(
        matches!(err, CryptoError::SegmentAuth { index: 0 }),
        "{err:?}"
    );
}

/// A version-1 header (magic `REKAMv1\0`, no commitment), byte for byte as version 1
/// wrote it, with one stanza and a one-segment body.
fn v1_record() -> Vec<u8> {
    let mut out = b"REKAMv1\0".to_vec();
    out.extend_from_slice(&65536u32.to_be_bytes());
    out.extend_from_slice(&5u64.to_be_bytes());
    out.extend_from_slice(&[9; 7]);
    out.push(10);
    out.extend_from_slice(b"text/plain");
    out.push(1);
    out.extend_from_slice(&[0x33; 88]);
    out.extend_from_slice(&[0x44; 5 + 16]);
    out
}

#[test]
fn version_1_records_are_refused_by_version() {
    let reader = Identity::generate();
    let record = v1_record();
    let err = decrypt_to_vec(&record, &reader).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedVersion(1)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "record format version 1 is not read by this version of Rekam (it reads version 2, which commits to its key); re-encrypt the record from its plaintext"
    );
    let err = Header::read_from(&mut &record[..]).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedVersion(1)), "{err:?}");
    // A key grant made for a version-1 record (its prefix is the stanza's AAD).
    let stanza = rekam_client::crypto::Stanza::from_bytes(&[0x33; 88]);
    let err = unwrap(&stanza, &reader, &record[..38]).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedVersion(1)), "{err:?}");
    // A later version is named too; anything else is not a Rekam record.
    let mut v3 = record.clone();
    v3[6] = b'3';
    let err = decrypt_to_vec(&v3, &reader).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedVersion(3)), "{err:?}");
    let err = decrypt_to_vec(b"%PDF-1.7 not a record", &reader).unwrap_err();
    assert!(matches!(err, CryptoError::BadMagic), "{err:?}");
    let err = decrypt_to_vec(b"REKAM", &reader).unwrap_err();
    assert!(matches!(err, CryptoError::BadMagic), "{err:?}");
    // A version-2 header cut inside its key commitment.
    let keys = [reader.public_key()];
    let (ok, header) = encrypt_to_vec(b"hi", &EncryptOptions::new(&keys, "")).unwrap();
    let cut = header.committed_bytes().len() + 5;
    let err = decrypt_to_vec(&ok[..cut], &reader).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Malformed("header ends inside the key commitment")
        ),
        "{err:?}"
    );
}
