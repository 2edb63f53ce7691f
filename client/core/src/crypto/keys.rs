//! The record key schedule (`docs/format.md`, "Key commitment"): from the data key, the
//! AES-256-GCM payload key and the key commitment, two HKDF-SHA256 outputs under distinct
//! labels. AES-GCM alone does not commit to its key; the commitment does, so a record
//! cannot open under two data keys.

use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::header::{split_prefix, COMMITMENT_LEN};
use super::wrap::DataKey;
use super::CryptoError;

pub const PAYLOAD_INFO: &[u8] = b"rekam/v2/payload";
pub const COMMIT_INFO: &[u8] = b"rekam/v2/commit";

/// `HKDF-SHA256(ikm = data_key, salt = nonce_prefix, info, L = out.len())`.
fn derive(
    key: &DataKey,
    nonce_prefix: &[u8; 7],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    hkdf::Hkdf::<Sha256>::new(Some(nonce_prefix), key.as_bytes())
        .expand(info, out)
        .map_err(|_| CryptoError::Backend)
}

/// The segments' AES-256-GCM key.
pub fn payload_key(key: &DataKey, nonce_prefix: &[u8; 7]) -> Result<LessSafeKey, CryptoError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    derive(key, nonce_prefix, PAYLOAD_INFO, bytes.as_mut_slice())?;
    let unbound =
        UnboundKey::new(&AES_256_GCM, bytes.as_slice()).map_err(|_| CryptoError::Backend)?;
    Ok(LessSafeKey::new(unbound))
}

/// The key commitment over `committed` (the header from magic through content type):
/// `HKDF-SHA256(ikm = data_key, salt = nonce_prefix, info = COMMIT_INFO ‖
/// SHA-256(committed), L = 32)`.
pub fn commitment(
    key: &DataKey,
    nonce_prefix: &[u8; 7],
    committed: &[u8],
) -> Result<[u8; COMMITMENT_LEN], CryptoError> {
    let info = [COMMIT_INFO, Sha256::digest(committed).as_slice()].concat();
    let mut out = [0u8; COMMITMENT_LEN];
    derive(key, nonce_prefix, &info, &mut out)?;
    Ok(out)
}

/// Checks that `key` is the one the header prefix `prefix` (a stanza's AAD) commits to.
/// Every path that unwraps a data key calls this before the key opens anything.
pub fn check_commitment(key: &DataKey, prefix: &[u8]) -> Result<(), CryptoError> {
    let parts = split_prefix(prefix)?;
    let actual = commitment(key, &parts.nonce_prefix, parts.committed)?;
    // Not secret (it is in the header), but compared in constant time all the same.
    if aws_lc_rs::constant_time::verify_slices_are_equal(&actual, &parts.commitment).is_err() {
        return Err(CryptoError::KeyCommitment);
    }
    Ok(())
}
