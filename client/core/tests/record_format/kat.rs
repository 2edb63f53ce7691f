//! Known-answer vectors of record format version 2 (`vectors/record-v2.json`), computed
//! here straight from `docs/format.md` with the primitives alone (HKDF, SHA-256, HPKE,
//! AES-256-GCM), never through Rekam's own record code, so that the library is compared
//! with the text. `REKAM_WRITE_VECTORS=1` rewrites the file from this computation.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Kem, OpModeS, Serializable};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// An RNG that replays fixed bytes: HPKE's ephemeral `ikmE`.
struct Replay(Vec<u8>);

impl rand_core::RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        unimplemented!("HPKE only asks for bytes")
    }
    fn next_u64(&mut self) -> u64 {
        unimplemented!("HPKE only asks for bytes")
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
    }
}
impl rand_core::CryptoRng for Replay {}

/// The fixed inputs of one vector.
pub struct Inputs {
    pub name: &'static str,
    pub data_key: [u8; 32],
    pub nonce_prefix: [u8; 7],
    pub segment_size: u32,
    pub content_type: &'static str,
    pub plaintext: Vec<u8>,
    /// (recipient `ikm` for RFC 9180 DeriveKeyPair, that recipient's stanza `ikmE`)
    pub recipients: Vec<([u8; 32], [u8; 32])>,
}

fn pattern(start: u8) -> [u8; 32] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

/// The vectors: a multi-segment record to two readers (last segment partial), an exact
/// multiple of the segment size, and an empty record with no content type.
pub fn inputs() -> Vec<Inputs> {
    vec![
        Inputs {
            name: "three segments, two recipients",
            data_key: pattern(0x00),
            nonce_prefix: [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6],
            segment_size: 1024,
            content_type: "application/fhir+json",
            plaintext: (0..2500u32).map(|i| (i * 31 % 251) as u8).collect(),
            recipients: vec![
                (pattern(0x10), pattern(0x40)),
                (pattern(0x20), pattern(0x60)),
            ],
        },
        Inputs {
            name: "two full segments, one recipient",
            data_key: pattern(0x80),
            nonce_prefix: [0xb0; 7],
            segment_size: 1024,
            content_type: "text/plain",
            plaintext: (0..2048u32).map(|i| (i % 256) as u8).collect(),
            recipients: vec![(pattern(0x30), pattern(0x70))],
        },
        Inputs {
            name: "empty plaintext, empty content type",
            data_key: pattern(0xc0),
            nonce_prefix: [0; 7],
            segment_size: 65536,
            content_type: "",
            plaintext: Vec::new(),
            recipients: vec![(pattern(0x10), pattern(0xe0))],
        },
    ]
}

fn hkdf(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .unwrap();
    out
}

/// Computes every value of a vector from its inputs, following docs/format.md.
pub fn compute(v: &Inputs) -> Value {
    let mut committed = b"REKAMv2\0".to_vec();
    committed.extend_from_slice(&v.segment_size.to_be_bytes());
    committed.extend_from_slice(&(v.plaintext.len() as u64).to_be_bytes());
    committed.extend_from_slice(&v.nonce_prefix);
    committed.push(v.content_type.len() as u8);
    committed.extend_from_slice(v.content_type.as_bytes());
    let payload_key = hkdf(&v.data_key, &v.nonce_prefix, b"rekam/v2/payload");
    let commit_info = [b"rekam/v2/commit".as_slice(), &Sha256::digest(&committed)].concat();
    let commitment = hkdf(&v.data_key, &v.nonce_prefix, &commit_info);
    let prefix = [committed.as_slice(), &commitment].concat();

    let mut header = prefix.clone();
    header.push(v.recipients.len() as u8);
    let mut recipients = Vec::new();
    for (ikm, ikm_e) in &v.recipients {
        let (_, pk) = X25519HkdfSha256::derive_keypair(ikm);
        let (enc, mut ctx) = hpke::setup_sender::<AesGcm256, HkdfSha256, X25519HkdfSha256, _>(
            &OpModeS::Base,
            &pk,
            b"rekam/v2/wrap",
            &mut Replay(ikm_e.to_vec()),
        )
        .unwrap();
        let mut key_id = [0u8; 8];
        ctx.export(b"rekam/v2/key-id", &mut key_id).unwrap();
        let wrapped = ctx.seal(&v.data_key, &prefix).unwrap();
        header.extend_from_slice(&key_id);
        header.extend_from_slice(&enc.to_bytes());
        header.extend_from_slice(&wrapped);
        recipients.push(json!({
            "ikm": hex::encode(ikm),
            "public_key": hex::encode(pk.to_bytes()),
            "ikm_e": hex::encode(ikm_e),
            "key_id": hex::encode(key_id),
            "enc": hex::encode(enc.to_bytes()),
            "wrapped_key": hex::encode(&wrapped),
        }));
    }
    let header_hash = Sha256::digest(&header);

    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &payload_key).unwrap());
    let size = v.segment_size as usize;
    let count = v.plaintext.len().div_ceil(size).max(1);
    let mut segments = Vec::new();
    let mut record = header.clone();
    for i in 0..count {
        let end = ((i + 1) * size).min(v.plaintext.len());
        let mut segment = v.plaintext[(i * size).min(end)..end].to_vec();
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(&v.nonce_prefix);
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        nonce[11] = u8::from(i + 1 == count);
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(header_hash.as_slice()),
            &mut segment,
        )
        .unwrap();
        record.extend_from_slice(&segment);
        segments.push(hex::encode(&segment));
    }
    json!({
        "name": v.name,
        "data_key": hex::encode(v.data_key),
        "nonce_prefix": hex::encode(v.nonce_prefix),
        "segment_size": v.segment_size,
        "content_type": v.content_type,
        "plaintext": hex::encode(&v.plaintext),
        "recipients": recipients,
        "committed": hex::encode(&committed),
        "payload_key": hex::encode(payload_key),
        "commitment": hex::encode(commitment),
        "prefix": hex::encode(&prefix),
        "header": hex::encode(&header),
        "header_hash": hex::encode(header_hash),
        "segments": segments,
        "record_sha256": hex::encode(Sha256::digest(&record)),
        "record": hex::encode(&record),
    })
}

/// The vector file as this module computes it.
pub fn file() -> Value {
    json!({
        "description": "Rekam record format version 2 (docs/format.md): fixed data key, nonce prefix, recipient and ephemeral keys (RFC 9180 DeriveKeyPair ikm), and every derived value. All byte strings are hex.",
        "format": "REKAMv2",
        "vectors": inputs().iter().map(compute).collect::<Vec<_>>(),
    })
}
