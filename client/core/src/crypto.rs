//! Client-side encryption of records (format: `docs/format.md`).
//!
//! - [`identity`]: X25519 key pairs (random, kept in a keystore; RFC 9180 DeriveKeyPair).
//! - [`keystore`]: the identity's keystore file, optionally sealed under a passphrase.
//! - [`header`]: the record header (format version 2), its committed prefix and stanzas.
//! - [`keys`]: the key schedule: payload key and key commitment from the data key.
//! - [`wrap`]: HPKE (RFC 9180) wrapping of a record's data key to each reader, with
//!   per-record key ids.
//! - [`shamir`]: Shamir secret sharing over GF(2^8) (the guardians' threshold key).
//! - [`stream`]: the segmented AES-256-GCM payload (STREAM construction), constant memory,
//!   parallel across cores for large records.
//!
//! AES-256-GCM comes from aws-lc-rs (FIPS-validated AWS-LC; about 10x RustCrypto's
//! `aes-gcm` on this hardware, see the benchmark), HPKE from the `hpke` crate.

pub mod header;
pub mod identity;
pub mod keys;
pub mod keystore;
pub mod shamir;
pub mod stream;
pub mod wrap;

pub use identity::Identity;
pub use stream::{decrypt, encrypt, EncryptOptions, Header};
pub use wrap::{DataKey, Stanza};

/// Everything that can go wrong reading or writing an encrypted record. Variants name
/// the failure precisely; none of them ever comes with unverified plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("not a Rekam encrypted record (bad magic)")]
    BadMagic,
    #[error("record format version {0} is not read by this version of Rekam (it reads version 2, which commits to its key); re-encrypt the record from its plaintext")]
    UnsupportedVersion(u8),
    #[error("the record's data key does not match the key commitment in its header (the record could read differently for different recipients)")]
    KeyCommitment,
    #[error("malformed record header: {0}")]
    Malformed(&'static str),
    #[error("this record is not encrypted to your key (no matching recipient)")]
    NotARecipient,
    #[error("the record key could not be unwrapped (corrupt or substituted key stanza)")]
    UnwrapFailed,
    #[error("segment {index} failed authentication (corrupt, reordered or substituted data)")]
    SegmentAuth { index: u32 },
    #[error("record is truncated: it ends before its final segment")]
    Truncated,
    #[error("record has data after its final segment")]
    TrailingData,
    #[error("record length {actual} differs from the {declared} bytes its header declares")]
    LengthMismatch { declared: u64, actual: u64 },
    #[error("invalid public key")]
    InvalidPublicKey,
    #[error("too many recipients ({0}, at most 32)")]
    TooManyRecipients(usize),
    #[error("crypto backend failure")]
    Backend,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
