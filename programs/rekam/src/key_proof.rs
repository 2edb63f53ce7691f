//! SMART Health Card keys: the RFC 7638 thumbprint of a P-256 JWK, the `iss` URL rule,
//! and the proof that whoever anchors a key holds it.
//!
//! The proof is a secp256r1 precompile instruction placed right before `shc_key_anchor`
//! in the same transaction, verifying one ES256 signature (low-S, as the precompile
//! demands) of the key over `SHC_KEY_PROOF_LABEL ‖ program id ‖ issuer`, with the
//! signature, the key and the message all inside that instruction's own data (offset
//! index `u16::MAX`). The runtime checks the signature before the program runs and fails
//! the transaction otherwise; this module checks that the key and the message it checked
//! are the ones being anchored. Without the proof, any accredited issuer could anchor
//! another issuer's published key first and have that issuer's cards pass as its own.

use anchor_lang::prelude::*;
use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};
use solana_sha256_hasher::hashv;

use crate::constants::{MAX_ISS_LEN, SHC_KEY_PROOF_LABEL};
use crate::error::RekamError;

/// The secp256r1 signature-verification precompile.
pub const SECP256R1_PROGRAM: Pubkey =
    Pubkey::from_str_const("Secp256r1SigVerify1111111111111111111111111");

/// The instructions sysvar, which `shc_key_anchor` reads for the proof.
pub const INSTRUCTIONS_SYSVAR: Pubkey = solana_instructions_sysvar::ID;

/// Where the precompile's offsets sit in its data (after the count and a padding byte).
const OFFSETS_START: usize = 2;
const OFFSETS_LEN: usize = 14;
/// An offset's instruction index meaning "this instruction's own data".
const OWN_DATA: u16 = u16::MAX;
const COMPRESSED_KEY_LEN: usize = 33;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url of 32 bytes (43 characters).
fn base64url(bytes: &[u8; 32]) -> [u8; 43] {
    let mut out = [0u8; 43];
    let mut o = 0;
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for k in 0..chars {
            out[o] = ALPHABET[(n >> (18 - 6 * k) & 63) as usize];
            o += 1;
        }
    }
    out
}

/// RFC 7638: SHA-256 of `{"crv":"P-256","kty":"EC","x":"…","y":"…"}`.
pub fn thumbprint(x: &[u8; 32], y: &[u8; 32]) -> [u8; 32] {
    hashv(&[
        br#"{"crv":"P-256","kty":"EC","x":""#,
        &base64url(x),
        br#"","y":""#,
        &base64url(y),
        br#""}"#,
    ])
    .to_bytes()
}

/// The message the key signs to prove possession for `issuer` of the deployment at
/// `program_id`.
pub fn proof_message(program_id: &Pubkey, issuer: &Pubkey) -> Vec<u8> {
    [SHC_KEY_PROOF_LABEL, program_id.as_ref(), issuer.as_ref()].concat()
}

/// An `iss` a SMART Health Card may carry: `https://`, printable ASCII without spaces,
/// no trailing slash, at most `MAX_ISS_LEN` bytes.
pub fn check_iss(iss: &str) -> Result<()> {
    let host = iss.strip_prefix("https://").unwrap_or("");
    require!(
        !host.is_empty()
            && iss.len() <= MAX_ISS_LEN
            && !iss.ends_with('/')
            && iss.bytes().all(|b| b.is_ascii_graphic()),
        RekamError::InvalidIssuerUrl
    );
    Ok(())
}

/// Checks that the instruction before the current one is the secp256r1 precompile
/// verifying the key `(x, y)` over [`proof_message`]`(issuer)`.
pub fn check_possession(
    instructions: &AccountInfo,
    x: &[u8; 32],
    y: &[u8; 32],
    issuer: &Pubkey,
) -> Result<()> {
    let current = load_current_index_checked(instructions)?;
    require!(current > 0, RekamError::ShcKeyProofMissing);
    let proof = load_instruction_at_checked(usize::from(current) - 1, instructions)?;
    require_keys_eq!(
        proof.program_id,
        SECP256R1_PROGRAM,
        RekamError::ShcKeyProofMissing
    );
    let data = &proof.data;
    require!(
        data.len() >= OFFSETS_START + OFFSETS_LEN && data[0] == 1,
        RekamError::ShcKeyProofMismatch
    );
    let field = |i: usize| {
        let at = OFFSETS_START + 2 * i;
        u16::from_le_bytes([data[at], data[at + 1]])
    };
    let (key_at, message_at, message_len) = (field(2), field(4), field(5));
    require!(
        field(1) == OWN_DATA && field(3) == OWN_DATA && field(6) == OWN_DATA,
        RekamError::ShcKeyProofMismatch
    );
    let slice = |at: u16, len: usize| data.get(usize::from(at)..usize::from(at) + len);
    let mut compressed = [0u8; COMPRESSED_KEY_LEN];
    compressed[0] = 2 | (y[31] & 1);
    compressed[1..].copy_from_slice(x);
    require!(
        slice(key_at, COMPRESSED_KEY_LEN) == Some(&compressed[..])
            && slice(message_at, usize::from(message_len))
                == Some(&proof_message(&crate::ID, issuer)[..]),
        RekamError::ShcKeyProofMismatch
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648() {
        // 32 bytes 0x00..0x1f, encoded by `basenc --base64url` without padding.
        let bytes: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            std::str::from_utf8(&base64url(&bytes)).unwrap(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        );
        let ones = [0xffu8; 32];
        assert_eq!(
            std::str::from_utf8(&base64url(&ones)).unwrap(),
            "__________________________________________8"
        );
    }

    #[test]
    fn iss_rules() {
        check_iss("https://clinic.example").unwrap();
        for bad in [
            "http://clinic.example",
            "https://",
            "https://clinic.example/",
            "https://clinic example",
            &format!("https://{}", "a".repeat(MAX_ISS_LEN)),
        ] {
            assert!(check_iss(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
