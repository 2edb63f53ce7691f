//! The claims tree: the salted Merkle tree whose root an attestation carries, defined once
//! here for the program (`attestation_verify_claim`) and the client (which builds it).
//!
//! Each leaf is one claim, committed as the SHA-256 digest of its SD-JWT disclosure
//! (RFC 9901: `base64url([salt, name, value])`). The tree binds where a leaf sits:
//!
//! - `leaf(i, n, d) = SHA-256(0x00 ‖ "rekam-claim-v2" ‖ u32be(i) ‖ u32be(n) ‖ d)`, so a
//!   leaf proves its own index `i` and the leaf count `n`;
//! - `node(l, r) = SHA-256(0x01 ‖ l ‖ r)`; the prefixes keep leaves and nodes apart;
//! - levels pair nodes left to right and carry an odd last node up unchanged, so the
//!   number of steps and the side of each sibling follow from `(i, n)` alone: a proof is
//!   just the siblings, and a proof of the wrong length is refused before any hashing.
//!
//! Test vectors: `docs/format.md` ("Claims tree").

use solana_sha256_hasher::hashv;

pub type Hash = [u8; 32];

/// Domain tag inside every leaf.
pub const LEAF_TAG: &[u8] = b"rekam-claim-v2";
/// Deepest tree the program accepts (2^24 leaves), bounding proof work.
pub const MAX_DEPTH: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// `index >= count`, `count == 0`, or a tree deeper than [`MAX_DEPTH`].
    IndexOutOfRange,
    /// The proof does not have the number of steps `(index, count)` implies.
    WrongLength { expected: usize, got: usize },
    /// The recomputed root differs.
    NotInRoot,
}

pub fn leaf(index: u32, count: u32, digest: &Hash) -> Hash {
    hashv(&[
        &[0u8],
        LEAF_TAG,
        &index.to_be_bytes(),
        &count.to_be_bytes(),
        digest,
    ])
    .to_bytes()
}

pub fn node(left: &Hash, right: &Hash) -> Hash {
    hashv(&[&[1u8], left, right]).to_bytes()
}

/// For each level from the leaf up, where the sibling of the path sits: `Some(true)` on
/// the left, `Some(false)` on the right, `None` when the node is carried up alone.
fn sides(index: u32, count: u32) -> impl Iterator<Item = Option<bool>> {
    let mut position = index;
    let mut width = count;
    std::iter::from_fn(move || {
        if width <= 1 {
            return None;
        }
        let side = if position % 2 == 1 {
            Some(true)
        } else if position + 1 < width {
            Some(false)
        } else {
            None
        };
        position /= 2;
        width = width.div_ceil(2);
        Some(side)
    })
}

/// How many siblings a proof of leaf `index` in a tree of `count` leaves has.
pub fn proof_len(index: u32, count: u32) -> Result<usize, ProofError> {
    if count == 0 || index >= count || count > (1 << MAX_DEPTH) {
        return Err(ProofError::IndexOutOfRange);
    }
    Ok(sides(index, count).flatten().count())
}

/// The root a leaf and its siblings lead to.
pub fn root_from_proof(
    index: u32,
    count: u32,
    digest: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    let expected = proof_len(index, count)?;
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            got: proof.len(),
        });
    }
    let mut acc = leaf(index, count, digest);
    let mut siblings = proof.iter();
    for side in sides(index, count).flatten() {
        let sibling = siblings.next().ok_or(ProofError::WrongLength {
            expected,
            got: proof.len(),
        })?;
        acc = if side {
            node(sibling, &acc)
        } else {
            node(&acc, sibling)
        };
    }
    Ok(acc)
}

/// Checks that the claim with disclosure digest `digest` is leaf `index` of `count`
/// under `root`.
pub fn verify(
    root: &Hash,
    index: u32,
    count: u32,
    digest: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if root_from_proof(index, count, digest, proof)? == *root {
        Ok(())
    } else {
        Err(ProofError::NotInRoot)
    }
}

/// A whole tree, kept level by level so that many proofs come from one build.
#[derive(Clone, Debug)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// Builds the tree over the disclosure digests, in order.
    pub fn new(digests: &[Hash]) -> Result<Self, ProofError> {
        let count = u32::try_from(digests.len()).map_err(|_| ProofError::IndexOutOfRange)?;
        proof_len(0, count)?;
        let mut level: Vec<Hash> = digests
            .iter()
            .enumerate()
            .map(|(i, d)| leaf(i as u32, count, d))
            .collect();
        let mut levels = Vec::new();
        while level.len() > 1 {
            let up = level
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node(left, right),
                    [single] => *single,
                    _ => unreachable!("chunks(2) yields one or two items"),
                })
                .collect();
            levels.push(std::mem::replace(&mut level, up));
        }
        levels.push(level);
        Ok(Self { levels })
    }

    pub fn count(&self) -> u32 {
        self.levels[0].len() as u32
    }

    pub fn root(&self) -> Hash {
        self.levels[self.levels.len() - 1][0]
    }

    /// The siblings that prove leaf `index`.
    pub fn proof(&self, index: u32) -> Result<Vec<Hash>, ProofError> {
        let count = self.count();
        proof_len(index, count)?;
        let mut position = index as usize;
        let mut proof = Vec::new();
        for (level, side) in self.levels.iter().zip(sides(index, count)) {
            match side {
                Some(true) => proof.push(level[position - 1]),
                Some(false) => proof.push(level[position + 1]),
                None => {}
            }
            position /= 2;
        }
        Ok(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(n: usize) -> Vec<Hash> {
        (0..n).map(|i| [i as u8; 32]).collect()
    }

    #[test]
    fn every_proof_verifies_and_binds_its_position() {
        for n in 1..=33usize {
            let d = digests(n);
            let tree = Tree::new(&d).unwrap();
            for i in 0..n as u32 {
                let proof = tree.proof(i).unwrap();
                assert_eq!(proof.len(), proof_len(i, n as u32).unwrap());
                verify(&tree.root(), i, n as u32, &d[i as usize], &proof).unwrap();
                // The same digest and proof at another index or count fail.
                if n > 1 {
                    let other = (i + 1) % n as u32;
                    assert!(verify(&tree.root(), other, n as u32, &d[i as usize], &proof).is_err());
                }
                assert!(verify(&tree.root(), i, n as u32 + 1, &d[i as usize], &proof).is_err());
            }
        }
    }

    #[test]
    fn wrong_lengths_and_ranges_are_refused() {
        let d = digests(5);
        let tree = Tree::new(&d).unwrap();
        let mut proof = tree.proof(4).unwrap();
        assert_eq!(proof.len(), 1, "the odd last leaf is carried up twice");
        proof.push([0; 32]);
        assert_eq!(
            verify(&tree.root(), 4, 5, &d[4], &proof),
            Err(ProofError::WrongLength {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(proof_len(5, 5), Err(ProofError::IndexOutOfRange));
        assert_eq!(proof_len(0, 0), Err(ProofError::IndexOutOfRange));
        assert!(Tree::new(&[]).is_err());
    }
}
