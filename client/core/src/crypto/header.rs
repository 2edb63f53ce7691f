//! The record header of format version 2 (`docs/format.md`, "Header"): the committed
//! prefix (magic, sizes, nonce prefix, content type), the key commitment, and the
//! recipient stanzas. Parsing refuses every other version by name.

use std::io::Read;

use super::keys;
use super::wrap::{DataKey, Stanza, STANZA_LEN};
use super::CryptoError;

/// `REKAMv2` and a zero byte: format version 2 (key-committing, per-record key ids).
pub const MAGIC: &[u8; 8] = b"REKAMv2\0";
/// The format version this build reads and writes.
pub const VERSION: u8 = 2;
pub const DEFAULT_SEGMENT_SIZE: u32 = 64 * 1024;
pub const MIN_SEGMENT_SIZE: u32 = 1024;
pub const MAX_SEGMENT_SIZE: u32 = 16 * 1024 * 1024;
pub const MAX_RECIPIENTS: usize = 32;
pub const TAG_LEN: usize = 16;
/// Bytes of the key commitment.
pub const COMMITMENT_LEN: usize = 32;
/// magic (8) + segment size (4) + plaintext length (8) + nonce prefix (7) + content type
/// length (1): the fixed part of the committed prefix.
pub(crate) const FIXED_LEN: usize = 28;

/// A parsed record header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub segment_size: u32,
    pub plaintext_len: u64,
    pub nonce_prefix: [u8; 7],
    pub content_type: String,
    /// The key commitment: HKDF of the data key over the committed prefix
    /// ([`Header::committed_bytes`]). Every reader checks it before opening a segment.
    pub commitment: [u8; COMMITMENT_LEN],
    pub stanzas: Vec<Stanza>,
}

impl Header {
    /// What the key commitment covers: magic through content type.
    pub fn committed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + self.content_type.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.segment_size.to_be_bytes());
        out.extend_from_slice(&self.plaintext_len.to_be_bytes());
        out.extend_from_slice(&self.nonce_prefix);
        out.push(self.content_type.len() as u8);
        out.extend_from_slice(self.content_type.as_bytes());
        out
    }

    /// Everything before the recipient list (the committed bytes, then the commitment):
    /// the AAD of every stanza.
    pub fn prefix_bytes(&self) -> Vec<u8> {
        let mut out = self.committed_bytes();
        out.extend_from_slice(&self.commitment);
        out
    }

    /// Sets the commitment to `key`'s. A writer calls this before wrapping the key.
    pub fn commit_to(&mut self, key: &DataKey) -> Result<(), CryptoError> {
        self.commitment = keys::commitment(key, &self.nonce_prefix, &self.committed_bytes())?;
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.prefix_bytes();
        out.push(self.stanzas.len() as u8);
        for stanza in &self.stanzas {
            out.extend_from_slice(&stanza.to_bytes());
        }
        out
    }

    /// Reads and validates a header; returns it with its exact bytes.
    pub fn read_from(reader: &mut impl Read) -> Result<(Header, Vec<u8>), CryptoError> {
        let mut fixed = [0u8; FIXED_LEN];
        let got = read_full(reader, &mut fixed)?;
        check_magic(&fixed[..got.min(8)])?;
        if got < FIXED_LEN {
            return Err(CryptoError::Malformed(
                "header ends inside its fixed fields",
            ));
        }
        let segment_size = u32::from_be_bytes(fixed[8..12].try_into().expect("4 bytes"));
        let plaintext_len = u64::from_be_bytes(fixed[12..20].try_into().expect("8 bytes"));
        let nonce_prefix: [u8; 7] = fixed[20..27].try_into().expect("7 bytes");
        let content_type_len = usize::from(fixed[27]);
        if !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&segment_size) {
            return Err(CryptoError::Malformed("segment size out of range"));
        }
        let mut content_type = vec![0u8; content_type_len];
        read_exact_or(
            reader,
            &mut content_type,
            CryptoError::Malformed("header ends inside the content type"),
        )?;
        let content_type = String::from_utf8(content_type)
            .map_err(|_| CryptoError::Malformed("content type is not UTF-8"))?;
        let mut commitment = [0u8; COMMITMENT_LEN];
        read_exact_or(
            reader,
            &mut commitment,
            CryptoError::Malformed("header ends inside the key commitment"),
        )?;
        let mut count = [0u8; 1];
        read_exact_or(
            reader,
            &mut count,
            CryptoError::Malformed("header ends before the recipient count"),
        )?;
        let count = usize::from(count[0]);
        if count == 0 || count > MAX_RECIPIENTS {
            return Err(CryptoError::Malformed("recipient count out of range"));
        }
        let mut stanzas = Vec::with_capacity(count);
        for _ in 0..count {
            let mut bytes = [0u8; STANZA_LEN];
            read_exact_or(
                reader,
                &mut bytes,
                CryptoError::Malformed("header ends inside a recipient stanza"),
            )?;
            stanzas.push(Stanza::from_bytes(&bytes));
        }
        let header = Header {
            segment_size,
            plaintext_len,
            nonce_prefix,
            content_type,
            commitment,
            stanzas,
        };
        if header.segment_count() > u64::from(u32::MAX) + 1 {
            return Err(CryptoError::Malformed("too many segments"));
        }
        let raw = header.to_bytes();
        Ok((header, raw))
    }

    pub fn segment_count(&self) -> u64 {
        self.plaintext_len
            .div_ceil(u64::from(self.segment_size))
            .max(1)
    }

    /// Plaintext length of segment `index`.
    pub(crate) fn segment_plain_len(&self, index: u64) -> usize {
        let size = u64::from(self.segment_size);
        let start = index * size;
        (self.plaintext_len - start).min(size) as usize
    }

    /// The encrypted length of the whole record (header + segments).
    pub fn record_len(&self) -> u64 {
        self.to_bytes().len() as u64 + self.plaintext_len + self.segment_count() * TAG_LEN as u64
    }
}

/// Checks the first (up to 8) bytes of a record: this version, an older or newer Rekam
/// version (refused by number), or not a Rekam record at all.
pub(crate) fn check_magic(magic: &[u8]) -> Result<(), CryptoError> {
    if magic == MAGIC {
        return Ok(());
    }
    match magic {
        [b'R', b'E', b'K', b'A', b'M', b'v', digit @ b'0'..=b'9', 0] => {
            Err(CryptoError::UnsupportedVersion(digit - b'0'))
        }
        _ => Err(CryptoError::BadMagic),
    }
}

/// A header prefix taken apart.
pub(crate) struct PrefixParts<'a> {
    pub committed: &'a [u8],
    pub nonce_prefix: [u8; 7],
    pub commitment: [u8; COMMITMENT_LEN],
}

/// Splits a header prefix (a stanza's AAD, e.g. from a key grant) into the committed
/// bytes, the nonce prefix and the commitment, checking its version and shape.
pub(crate) fn split_prefix(prefix: &[u8]) -> Result<PrefixParts<'_>, CryptoError> {
    check_magic(&prefix[..prefix.len().min(8)])?;
    let shape = || CryptoError::Malformed("record prefix has the wrong length");
    let content_type_len = usize::from(*prefix.get(FIXED_LEN - 1).ok_or_else(shape)?);
    if prefix.len() != FIXED_LEN + content_type_len + COMMITMENT_LEN {
        return Err(shape());
    }
    let (committed, commitment) = prefix.split_at(prefix.len() - COMMITMENT_LEN);
    Ok(PrefixParts {
        committed,
        nonce_prefix: committed[20..27].try_into().expect("7 bytes"),
        commitment: commitment.try_into().expect("32 bytes"),
    })
}

pub(crate) fn read_exact_or(
    reader: &mut impl Read,
    buf: &mut [u8],
    short: CryptoError,
) -> Result<(), CryptoError> {
    match read_full(reader, buf)? {
        n if n == buf.len() => Ok(()),
        _ => Err(short),
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}
