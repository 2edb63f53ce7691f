//! Hygiene findings of the keys-and-privacy issue (section 5): a record's declared
//! plaintext length is not trusted before a tag is checked (a writer who declares 2^56
//! bytes used to make the reader allocate them and abort), and nothing that holds a
//! secret prints it through `Debug`.

use rekam_client::crypto::stream::decrypt_with_stanza;
use rekam_client::crypto::wrap::wrap;
use rekam_client::crypto::{CryptoError, DataKey, Header, Identity};
use rekam_client::record::Envelope;
use rekam_client::storage::retry::RetryPolicy;
use rekam_client::storage::s3::S3Config;

/// A header a malicious writer builds: correctly wrapped to the reader, declaring far
/// more plaintext than the record holds.
fn lying_header(reader: &Identity, declared: u64) -> (Header, Vec<u8>) {
    let mut header = Header {
        segment_size: 64 * 1024,
        plaintext_len: declared,
        nonce_prefix: [7; 7],
        content_type: "application/fhir+json".into(),
        commitment: [0; 32],
        stanzas: Vec::new(),
    };
    let key = DataKey::generate();
    header.commit_to(&key).expect("commit");
    let stanza = wrap(&key, &reader.public_key(), &header.prefix_bytes()).expect("wrap");
    header.stanzas.push(stanza);
    let mut record = header.to_bytes();
    record.extend_from_slice(&[0u8; 100]);
    (header, record)
}

#[test]
fn a_declared_length_beyond_the_record_is_refused_before_any_allocation() {
    let reader = Identity::generate();
    for declared in [1u64 << 56, u64::MAX / 2, 1 << 30] {
        let (header, record) = lying_header(&reader, declared);
        let bytes = header.to_bytes();
        let err = decrypt_with_stanza(&record, &header, &bytes, &header.stanzas[0], &reader)
            .expect_err("a lying header");
        match err {
            CryptoError::LengthMismatch {
                declared: d,
                actual,
            } => {
                assert_eq!(d, declared);
                assert!(actual < 100, "{actual}");
            }
            other => panic!("expected LengthMismatch, got {other:?}"),
        }
    }
}

#[test]
fn secrets_never_print_through_debug() {
    let config = S3Config {
        endpoint: Some("http://127.0.0.1:1".into()),
        bucket: "b".into(),
        region: "us-east-1".into(),
        access_key: "AKIAEXAMPLE".into(),
        secret_key: "very-secret-key-material".into(),
        prefix: "rekam/".into(),
        retry: RetryPolicy::default(),
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains("very-secret-key-material"), "{printed}");
    assert!(
        printed.contains("AKIAEXAMPLE"),
        "the access key id is not secret: {printed}"
    );
    let envelope = Envelope {
        format: "rekam-record/2".into(),
        record_salt: "5a17".repeat(16),
        kind: "diagnosis".into(),
        treatment_date: "2024-02-04".into(),
        code_system: "http://snomed.info/sct".into(),
        code: "44054006".into(),
        disclosures: vec!["WyJzYWx0IiwiZGlhZ25vc2lzIl0".into()],
        content_type: "application/fhir+json".into(),
        content: "eyJyZXNvdXJjZVR5cGUiOiJCdW5kbGUifQ".into(),
        issuer_jwt: Some("eyJhbGciOiJFUzI1NiJ9.e30.sig".into()),
        source: None,
    };
    let printed = format!("{envelope:?}");
    for secret in [
        "5a175a17",
        "WyJzYWx0IiwiZGlhZ25vc2lzIl0",
        "eyJyZXNvdXJjZVR5cGUiOiJCdW5kbGUifQ",
        "44054006",
        "2024-02-04",
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(printed.contains("rekam-record/2"), "{printed}");
}

/// `hpke`'s X25519 private key relies on `x25519_dalek::StaticSecret` wiping itself on
/// drop, which holds only with x25519-dalek's `zeroize` feature (it was built without).
#[test]
fn the_x25519_secret_is_wiped_on_drop() {
    // Without the feature the secret is plain bytes with no destructor at all.
    assert!(std::mem::needs_drop::<x25519_dalek::StaticSecret>());
    fn wipeable<T: zeroize::Zeroize>() {}
    wipeable::<x25519_dalek::StaticSecret>();
}
