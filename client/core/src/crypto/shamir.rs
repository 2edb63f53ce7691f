//! Shamir secret sharing over GF(2^8) (`docs/format.md`, "Threshold guardians"): a
//! secret is split into N shares so that any M of them rebuild it and M−1 of them say
//! nothing about it. Each byte of the secret is the constant term of its own random
//! polynomial of degree M−1; share `x` (1..=N) holds every polynomial's value at `x`.
//!
//! The field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b).
//! Multiplication is table-free and branch-free (no secret-dependent memory access or
//! branch), so the arithmetic on shares leaks no timing through lookups.
//!
//! Shares are not authenticated here: a wrong share rebuilds a wrong secret, without an
//! error. Callers MUST check the rebuilt secret against a commitment (the guardians'
//! grant checks the rebuilt X25519 public key, `record::guardians`).

use zeroize::Zeroizing;

/// Why shares could not be made or combined. Every variant says exactly what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShamirError {
    #[error("the secret to split is empty")]
    EmptySecret,
    #[error("threshold {threshold} is not within 1..={count} (the number of shares)")]
    BadThreshold { threshold: usize, count: usize },
    #[error("{0} shares asked for; at most 255 fit GF(2^8)")]
    TooManyShares(usize),
    #[error("{need} shares are needed to rebuild the secret, {have} given")]
    NotEnoughShares { have: usize, need: usize },
    #[error("share index 0 is not allowed (it would be the secret itself)")]
    ZeroIndex,
    #[error("share index {0} is given twice")]
    DuplicateIndex(u8),
    #[error("share {index} is {len} bytes long, the first share {expected}")]
    LengthMismatch {
        index: u8,
        len: usize,
        expected: usize,
    },
    #[error("no randomness from the system")]
    Rng,
}

/// One share: its index `x` (never 0) and the value of every byte's polynomial at `x`.
/// The value is wiped on drop; `Debug` shows the index only.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    pub index: u8,
    pub value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share({}, {} bytes)", self.index, self.value.len())
    }
}

/// Multiplication in GF(2^8) mod 0x11b, without tables or data-dependent branches.
pub fn gf_mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut product) = (a, b, 0u8);
    for _ in 0..8 {
        // All ones when the low bit of b is set, else zero.
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The inverse in GF(2^8): a^254 (a^255 = 1 for a ≠ 0), by a fixed square-and-multiply
/// chain. 0 maps to 0; callers never divide by 0 (indices are distinct and non-zero).
pub fn gf_inv(a: u8) -> u8 {
    // 254 = 0b1111_1110: seven squarings, multiplying in a after each of the first six.
    let mut result = a;
    for _ in 0..6 {
        result = gf_mul(gf_mul(result, result), a);
    }
    gf_mul(result, result)
}

/// Splits `secret` into `count` shares (indices 1..=count), any `threshold` of which
/// rebuild it.
pub fn split(secret: &[u8], threshold: usize, count: usize) -> Result<Vec<Share>, ShamirError> {
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    if count > 255 {
        return Err(ShamirError::TooManyShares(count));
    }
    if threshold == 0 || threshold > count {
        return Err(ShamirError::BadThreshold { threshold, count });
    }
    // coefficients[j * (threshold - 1) + k]: the x^(k+1) coefficient of byte j's polynomial.
    let mut coefficients = Zeroizing::new(vec![0u8; secret.len() * (threshold - 1)]);
    aws_lc_rs::rand::fill(coefficients.as_mut_slice()).map_err(|_| ShamirError::Rng)?;
    let mut shares = Vec::with_capacity(count);
    for x in 1..=count {
        let x = u8::try_from(x).map_err(|_| ShamirError::TooManyShares(count))?;
        let mut value = Zeroizing::new(vec![0u8; secret.len()]);
        for (j, byte) in secret.iter().enumerate() {
            let row = &coefficients[j * (threshold - 1)..(j + 1) * (threshold - 1)];
            // Horner: ((a_{m-1} x + a_{m-2}) x + ...) x + secret.
            let mut y = 0u8;
            for &a in row.iter().rev() {
                y = gf_mul(y ^ a, x);
            }
            value[j] = y ^ byte;
        }
        shares.push(Share { index: x, value });
    }
    Ok(shares)
}

/// Rebuilds the secret from at least `threshold` shares by Lagrange interpolation at 0.
/// Refuses fewer shares than the threshold, index 0, a repeated index and shares of
/// different lengths. More shares than the threshold are all used (if every one is
/// genuine, the result is the same).
pub fn combine(shares: &[Share], threshold: usize) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if shares.len() < threshold.max(1) {
        return Err(ShamirError::NotEnoughShares {
            have: shares.len(),
            need: threshold.max(1),
        });
    }
    let expected = shares[0].value.len();
    for (i, share) in shares.iter().enumerate() {
        if share.index == 0 {
            return Err(ShamirError::ZeroIndex);
        }
        if shares[..i].iter().any(|s| s.index == share.index) {
            return Err(ShamirError::DuplicateIndex(share.index));
        }
        if share.value.len() != expected {
            return Err(ShamirError::LengthMismatch {
                index: share.index,
                len: share.value.len(),
                expected,
            });
        }
    }
    if expected == 0 {
        return Err(ShamirError::EmptySecret);
    }
    // Lagrange basis at 0: l_i = Π_{j≠i} x_j / (x_j − x_i); subtraction is XOR.
    let basis: Vec<u8> = shares
        .iter()
        .map(|si| {
            let (mut num, mut den) = (1u8, 1u8);
            for sj in shares.iter().filter(|sj| sj.index != si.index) {
                num = gf_mul(num, sj.index);
                den = gf_mul(den, sj.index ^ si.index);
            }
            gf_mul(num, gf_inv(den))
        })
        .collect();
    let mut secret = Zeroizing::new(vec![0u8; expected]);
    for (share, l) in shares.iter().zip(&basis) {
        for (out, y) in secret.iter_mut().zip(share.value.iter()) {
            *out ^= gf_mul(*y, *l);
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_matches_the_aes_field() {
        // FIPS-197 §4.2: {57} • {83} = {c1}, {57} • {13} = {fe}.
        assert_eq!(gf_mul(0x57, 0x83), 0xc1);
        assert_eq!(gf_mul(0x57, 0x13), 0xfe);
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a)), 1, "inverse of {a:#x}");
        }
        assert_eq!(gf_inv(0), 0);
    }
}
