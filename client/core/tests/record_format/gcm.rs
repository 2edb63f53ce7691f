//! What a malicious writer can do to AES-GCM alone: given two keys, a nonce and the
//! associated data, build one ciphertext (and tag) that authenticates under both keys and
//! decrypts to two different plaintexts. GCM's tag is a polynomial in `H = AES_K(0)` over
//! the ciphertext blocks, so one free ciphertext block solves a linear equation
//! (Dodis, Grubbs, Ristenpart, Woodage, "Fast message franking", 2018; Len, Grubbs and
//! Ristenpart, "Partitioning oracle attacks", 2021). Arithmetic per NIST SP 800-38D.

use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256};

/// A GF(2^128) element in GCM's bit order (the first bit of the block is the x^0 term).
type Block = u128;

/// The multiplicative identity: only the first bit set.
const ONE: Block = 1 << 127;

fn mul(x: Block, y: Block) -> Block {
    const R: Block = 0xe1 << 120;
    let (mut z, mut v) = (0, y);
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ R } else { v >> 1 };
    }
    z
}

/// `x^(2^128 - 2)`, the inverse of a non-zero `x`.
fn inv(x: Block) -> Block {
    let mut result = ONE;
    for bit in (0..128).rev() {
        result = mul(result, result);
        if bit != 0 {
            result = mul(result, x);
        }
    }
    result
}

fn block(bytes: &[u8]) -> Block {
    let mut full = [0u8; 16];
    full[..bytes.len()].copy_from_slice(bytes);
    u128::from_be_bytes(full)
}

/// One AES-256 block encryption (ECB of one block).
fn aes(key: &[u8; 32], input: Block) -> Block {
    let key = EncryptingKey::ecb(UnboundCipherKey::new(&AES_256, key).unwrap()).unwrap();
    let mut bytes = input.to_be_bytes();
    key.less_safe_encrypt(&mut bytes, EncryptionContext::None)
        .unwrap();
    u128::from_be_bytes(bytes)
}

/// GHASH_H over `aad` and `ct` (both padded to blocks), then the length block.
fn ghash(h: Block, aad: &[u8], ct: &[u8]) -> Block {
    let mut y = 0;
    for chunk in aad.chunks(16).chain(ct.chunks(16)) {
        y = mul(y ^ block(chunk), h);
    }
    let lengths = ((aad.len() as u128 * 8) << 64) | (ct.len() as u128 * 8);
    mul(y ^ lengths, h)
}

/// A ciphertext ‖ tag of `2 × 16` bytes (any first block, a solved second block) that
/// opens under both AES-256-GCM keys with `nonce` and `aad`.
pub fn two_key_ciphertext(
    key1: &[u8; 32],
    key2: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
) -> Vec<u8> {
    assert_ne!(key1, key2);
    let j0 = block(&[&nonce[..], &[0, 0, 0, 1]].concat());
    let (h1, h2) = (aes(key1, 0), aes(key2, 0));
    let (e1, e2) = (aes(key1, j0), aes(key2, j0));
    assert_eq!(mul(h1, inv(h1)), ONE, "the field inverse is right");
    // tag_k = GHASH_Hk(aad, c1 ‖ c2) ⊕ E_k(J0). GHASH is linear in c2, whose coefficient
    // is H^2 (then the length block, then the final multiplication): with c2 = 0,
    // the two tags differ by `delta`, and c2 · (H1^2 ⊕ H2^2) = delta makes them equal.
    let c1 = block(b"one record, two");
    let zero = [c1.to_be_bytes(), [0u8; 16]].concat();
    let delta = ghash(h1, aad, &zero) ^ e1 ^ ghash(h2, aad, &zero) ^ e2;
    let c2 = mul(delta, inv(mul(h1, h1) ^ mul(h2, h2)));
    let ct = [c1.to_be_bytes(), c2.to_be_bytes()].concat();
    let tag = ghash(h1, aad, &ct) ^ e1;
    assert_eq!(
        tag,
        ghash(h2, aad, &ct) ^ e2,
        "the tag is the same under both keys"
    );
    [ct, tag.to_be_bytes().to_vec()].concat()
}
