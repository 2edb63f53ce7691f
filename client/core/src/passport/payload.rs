//! The passport's compact binary payload: what the QR code holds. Byte layout in
//! `docs/passport.md`; in short:
//!
//! ```text
//! card  = "RKP" ‖ 0x01 ‖ raw-deflate(body ‖ signature(64)), with DICTIONARY as history
//! body  = holder(32) ‖ v(issued_at) ‖ v(valid_until) ‖ v(number of attestations)
//!         ‖ for each attestation: address(32) ‖ v(claim count of its tree)
//!             ‖ v(number shown) ‖ for each shown claim (ascending index):
//!                 v(index) ‖ v(len) ‖ the disclosure's JSON text (not base64)
//!             ‖ v(number of proof nodes) ‖ nodes(32 each)   (passport::multiproof)
//! ```
//!
//! `v()` is an unsigned LEB128 varint. A disclosure travels as its JSON text and is
//! re-encoded to base64url (which is canonical for given bytes) before hashing, so the
//! digest is the issuer's. The holder signs `SIGNING_DOMAIN ‖ program ‖ body`.

use anchor_lang::prelude::Pubkey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rekam::claim_tree::Hash;

/// The first bytes of every Rekam passport.
pub const MAGIC: &[u8; 3] = b"RKP";
pub const VERSION: u8 = 1;
/// The text form: this prefix and the card in base64url.
pub const TEXT_PREFIX: &str = "RKP1:";
/// What the holder's Ed25519 signature covers, before the program id and the body. The
/// leading 0xff keeps it from ever parsing as a Solana transaction message.
pub const SIGNING_DOMAIN: &[u8] = b"\xffrekam passport v1\x00";
/// An inflated body larger than this is refused (a QR holds under 3 KB).
pub const MAX_BODY: usize = 16 * 1024;
/// At most this many attestations, and claims per attestation, in one card.
pub const MAX_ITEMS: u64 = 64;

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("this is not a Rekam passport (no RKP header)")]
    NotAPassport,
    #[error("this is a Rekam passport of version {0}; this verifier reads version 1")]
    UnsupportedVersion(u8),
    #[error("the passport payload is truncated")]
    Truncated,
    #[error("the passport payload is malformed: {0}")]
    Malformed(String),
}

/// One shown claim: its index in the tree and its disclosure as JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownClaim {
    pub index: u32,
    pub json: Vec<u8>,
}

impl ShownClaim {
    /// The SD-JWT disclosure (base64url) this JSON text is.
    pub fn encoded(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.json)
    }
}

/// The shown claims of one attestation and the proof that joins them to its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownAttestation {
    pub address: Pubkey,
    pub count: u32,
    pub claims: Vec<ShownClaim>,
    pub proof: Vec<Hash>,
}

/// Everything a card says, before and after the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    pub holder: Pubkey,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds: the card's own end, whatever the attestations' status.
    pub valid_until: u64,
    pub attestations: Vec<ShownAttestation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub body: Body,
    pub signature: [u8; 64],
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Body {
    /// The canonical bytes of the body (what is signed, before compression).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(self.holder.as_ref());
        put_varint(&mut out, self.issued_at);
        put_varint(&mut out, self.valid_until);
        put_varint(&mut out, self.attestations.len() as u64);
        for a in &self.attestations {
            out.extend_from_slice(a.address.as_ref());
            put_varint(&mut out, a.count.into());
            put_varint(&mut out, a.claims.len() as u64);
            for c in &a.claims {
                put_varint(&mut out, c.index.into());
                put_varint(&mut out, c.json.len() as u64);
                out.extend_from_slice(&c.json);
            }
            put_varint(&mut out, a.proof.len() as u64);
            for node in &a.proof {
                out.extend_from_slice(node);
            }
        }
        out
    }

    /// The message the holder signs for `program`.
    pub fn signing_message(&self, program: &Pubkey) -> Vec<u8> {
        let mut m = SIGNING_DOMAIN.to_vec();
        m.extend_from_slice(program.as_ref());
        m.extend_from_slice(&self.to_bytes());
        m
    }
}

/// The preset dictionary of format version 1: strings common in claims (claim names, code
/// systems, JSON keys), so that a few short disclosures compress at all. The deflate stream
/// of a card may refer back into it as if it had been sent first.
pub const DICTIONARY: &[u8] = include_bytes!("dictionary.txt");

/// A non-final stored deflate block holding the dictionary: what a decoder reads before a
/// card's stream so that the card's back-references into the dictionary resolve.
fn dictionary_block() -> Vec<u8> {
    let len = DICTIONARY.len() as u16;
    let mut block = vec![0u8];
    block.extend_from_slice(&len.to_le_bytes());
    block.extend_from_slice(&(!len).to_le_bytes());
    block.extend_from_slice(DICTIONARY);
    block
}

/// Raw deflate of `plain` with [`DICTIONARY`] as history: the dictionary is compressed
/// first and flushed to a byte boundary, and only what follows is kept.
fn deflate(plain: &[u8]) -> Vec<u8> {
    let mut z = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(2 * (DICTIONARY.len() + plain.len()) + 64);
    z.compress_vec(DICTIONARY, &mut out, FlushCompress::Sync)
        .expect("compressing into a Vec with room");
    let mark = out.len();
    loop {
        let input = &plain[(z.total_in() as usize - DICTIONARY.len())..];
        let status = z
            .compress_vec(input, &mut out, FlushCompress::Finish)
            .expect("compressing into a Vec");
        if status == Status::StreamEnd {
            break;
        }
        out.reserve(out.capacity());
    }
    out.split_off(mark)
}

/// Inflates a card's stream after the dictionary block; refuses an incomplete stream as
/// truncated and anything after its end.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, PayloadError> {
    let corrupt = |e: flate2::DecompressError| {
        PayloadError::Malformed(format!("the compressed data is corrupt ({e})"))
    };
    let mut z = Decompress::new(false);
    let mut out = Vec::with_capacity(DICTIONARY.len() + MAX_BODY + 1);
    let block = dictionary_block();
    z.decompress_vec(&block, &mut out, FlushDecompress::None)
        .map_err(corrupt)?;
    let status = z
        .decompress_vec(compressed, &mut out, FlushDecompress::Finish)
        .map_err(corrupt)?;
    if out.len() > DICTIONARY.len() + MAX_BODY {
        return Err(PayloadError::Malformed(format!(
            "it inflates past {MAX_BODY} bytes"
        )));
    }
    if status != Status::StreamEnd {
        return Err(PayloadError::Truncated);
    }
    if z.total_in() != (block.len() + compressed.len()) as u64 {
        return Err(PayloadError::Malformed(
            "bytes follow the compressed data".into(),
        ));
    }
    Ok(out.split_off(DICTIONARY.len()))
}

/// Reads a body: every read that runs past the end is [`PayloadError::Truncated`].
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], PayloadError> {
        if self.bytes.len() < n {
            return Err(PayloadError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn varint(&mut self) -> Result<u64, PayloadError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let [b] = self.array::<1>()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 {
                    return Err(PayloadError::Malformed(
                        "a number is not minimally encoded".into(),
                    ));
                }
                return Ok(v);
            }
        }
        Err(PayloadError::Malformed("a number is too long".into()))
    }

    fn small(&mut self, what: &str, max: u64) -> Result<u64, PayloadError> {
        let v = self.varint()?;
        if v > max {
            return Err(PayloadError::Malformed(format!("{what} {v} is over {max}")));
        }
        Ok(v)
    }
}

fn parse_body(r: &mut Reader) -> Result<Body, PayloadError> {
    let holder = Pubkey::new_from_array(r.array()?);
    let issued_at = r.varint()?;
    let valid_until = r.varint()?;
    let n = r.small("number of attestations", MAX_ITEMS)?;
    if n == 0 {
        return Err(PayloadError::Malformed("it shows no attestation".into()));
    }
    let mut attestations = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let address = Pubkey::new_from_array(r.array()?);
        let count = r.small("claim count", u32::MAX.into())? as u32;
        let shown = r.small("number of claims", MAX_ITEMS)?;
        if shown == 0 {
            return Err(PayloadError::Malformed(format!(
                "attestation {address} shows no claim"
            )));
        }
        let mut claims: Vec<ShownClaim> = Vec::with_capacity(shown as usize);
        for _ in 0..shown {
            let index = r.small("claim index", u32::MAX.into())? as u32;
            if claims.last().is_some_and(|c| c.index >= index) {
                return Err(PayloadError::Malformed(
                    "claim indices must be ascending and distinct".into(),
                ));
            }
            let len = r.small("disclosure length", MAX_BODY as u64)? as usize;
            claims.push(ShownClaim {
                index,
                json: r.take(len)?.to_vec(),
            });
        }
        let nodes = r.small("number of proof nodes", 64 * 24)?;
        let proof = (0..nodes)
            .map(|_| r.array::<32>())
            .collect::<Result<Vec<_>, _>>()?;
        attestations.push(ShownAttestation {
            address,
            count,
            claims,
            proof,
        });
    }
    Ok(Body {
        holder,
        issued_at,
        valid_until,
        attestations,
    })
}

impl Card {
    /// The card's bytes (what the QR code holds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut plain = self.body.to_bytes();
        plain.extend_from_slice(&self.signature);
        let mut out = MAGIC.to_vec();
        out.push(VERSION);
        out.extend(deflate(&plain));
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PayloadError> {
        let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return Err(PayloadError::NotAPassport);
        };
        let (&version, compressed) = rest.split_first().ok_or(PayloadError::Truncated)?;
        if version != VERSION {
            return Err(PayloadError::UnsupportedVersion(version));
        }
        let plain = inflate(compressed)?;
        let mut r = Reader { bytes: &plain };
        let body = parse_body(&mut r)?;
        let signature = r.array::<64>()?;
        if !r.bytes.is_empty() {
            return Err(PayloadError::Malformed(format!(
                "{} byte(s) after the signature",
                r.bytes.len()
            )));
        }
        Ok(Self { body, signature })
    }

    /// The text form for copy-paste: `RKP1:` and the card in base64url.
    pub fn to_text(&self) -> String {
        format!("{TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(self.to_bytes()))
    }

    pub fn from_text(text: &str) -> Result<Self, PayloadError> {
        let Some(b64) = text.trim().strip_prefix(TEXT_PREFIX) else {
            return Err(PayloadError::NotAPassport);
        };
        let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if b64.chars().all(alphabet) && b64.len() % 4 == 1 {
            // No complete base64url text has this length: characters were cut off.
            return Err(PayloadError::Truncated);
        }
        // Lenient about the unused bits of the last character, so that text cut short
        // reads as truncated rather than as something else.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
        );
        let bytes = lenient
            .decode(b64)
            .map_err(|_| PayloadError::Malformed("the text is not base64url".into()))?;
        Self::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Card {
        Card {
            body: Body {
                holder: Pubkey::new_from_array([3; 32]),
                issued_at: 1_800_000_000,
                valid_until: 1_802_592_000,
                attestations: vec![ShownAttestation {
                    address: Pubkey::new_from_array([9; 32]),
                    count: 13,
                    claims: vec![
                        ShownClaim {
                            index: 2,
                            json: br#"["c2FsdHNhbHRzYWx0c2FsdA","age_over_18",true]"#.to_vec(),
                        },
                        ShownClaim {
                            index: 200,
                            json: b"[]".to_vec(),
                        },
                    ],
                    proof: vec![[5; 32], [6; 32]],
                }],
            },
            signature: [7; 64],
        }
    }

    #[test]
    fn round_trips_as_bytes_and_text() {
        let c = card();
        assert_eq!(Card::from_bytes(&c.to_bytes()).unwrap(), c);
        let text = c.to_text();
        assert!(text.starts_with("RKP1:"));
        assert_eq!(Card::from_text(&text).unwrap(), c);
    }

    #[test]
    fn every_truncation_is_refused_as_truncated() {
        let bytes = card().to_bytes();
        for len in 4..bytes.len() {
            assert_eq!(
                Card::from_bytes(&bytes[..len]),
                Err(PayloadError::Truncated),
                "at {len} of {}",
                bytes.len()
            );
        }
    }

    #[test]
    fn headers_versions_and_trailing_bytes() {
        assert_eq!(
            Card::from_bytes(b"shc:/5676"),
            Err(PayloadError::NotAPassport)
        );
        assert_eq!(Card::from_text("hello"), Err(PayloadError::NotAPassport));
        let mut bytes = card().to_bytes();
        bytes[3] = 2;
        assert_eq!(
            Card::from_bytes(&bytes),
            Err(PayloadError::UnsupportedVersion(2))
        );
        let mut plain = card().body.to_bytes();
        plain.extend_from_slice(&[7; 65]);
        let mut bytes = b"RKP\x01".to_vec();
        bytes.extend(deflate(&plain));
        assert_eq!(
            Card::from_bytes(&bytes),
            Err(PayloadError::Malformed(
                "1 byte(s) after the signature".into()
            ))
        );
    }

    #[test]
    fn varints_are_minimal() {
        let mut r = Reader {
            bytes: &[0x80, 0x00],
        };
        assert_eq!(
            r.varint(),
            Err(PayloadError::Malformed(
                "a number is not minimally encoded".into()
            ))
        );
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        assert_eq!(Reader { bytes: &out }.varint(), Ok(300));
    }
}
