//! One proof for several leaves of the same claims tree (`rekam::claim_tree`): the
//! siblings that cannot be computed from the disclosed leaves, level by level, each level
//! in ascending position. Three claims of one record need fewer nodes than three separate
//! proofs, which is what lets a passport fit one QR code.
//!
//! The tree shape (pairs left to right, an odd last node carried up) follows from the leaf
//! count alone, so the verifier knows at every step whether a sibling is needed; a proof
//! with a node missing or left over is refused before any root is reported.

use std::collections::BTreeMap;

use rekam::claim_tree::{self, Hash, MAX_DEPTH};

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum MultiproofError {
    #[error("no claims to prove")]
    Empty,
    #[error("claim {index} is outside a tree of {count} claims")]
    OutOfRange { index: u32, count: u32 },
    #[error("the proof is missing nodes")]
    TooShort,
    #[error("the proof has {0} node(s) left over")]
    TooLong(usize),
}

fn check_range(indices: &[u32], count: u32) -> Result<(), MultiproofError> {
    if indices.is_empty() {
        return Err(MultiproofError::Empty);
    }
    for &index in indices {
        if count == 0 || index >= count || count > (1 << MAX_DEPTH) {
            return Err(MultiproofError::OutOfRange { index, count });
        }
    }
    Ok(())
}

/// The levels of the tree over `digests` (leaves first, the root last).
fn levels(digests: &[Hash]) -> Vec<Vec<Hash>> {
    let count = digests.len() as u32;
    let mut level: Vec<Hash> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| claim_tree::leaf(i as u32, count, d))
        .collect();
    let mut out = Vec::new();
    while level.len() > 1 {
        let up = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => claim_tree::node(left, right),
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
        out.push(std::mem::replace(&mut level, up));
    }
    out.push(level);
    out
}

/// The siblings proving the leaves at `indices` (ascending, no repeats) of the tree over
/// every claim's `digests`.
pub fn prove(digests: &[Hash], indices: &[u32]) -> Result<Vec<Hash>, MultiproofError> {
    let count = u32::try_from(digests.len()).unwrap_or(u32::MAX);
    check_range(indices, count)?;
    let mut known: Vec<usize> = indices.iter().map(|&i| i as usize).collect();
    known.sort_unstable();
    known.dedup();
    let mut siblings = Vec::new();
    for level in levels(digests).iter().take_while(|l| l.len() > 1) {
        let width = level.len();
        let mut next = Vec::with_capacity(known.len());
        for (k, &pos) in known.iter().enumerate() {
            let sibling = pos ^ 1;
            let sibling_known = (k > 0 && known[k - 1] == sibling)
                || known.get(k + 1).is_some_and(|&n| n == sibling);
            if sibling < width && !sibling_known {
                siblings.push(level[sibling]);
            }
            if next.last() != Some(&(pos / 2)) {
                next.push(pos / 2);
            }
        }
        known = next;
    }
    Ok(siblings)
}

/// The root that the leaves `(index, disclosure digest)` (ascending, no repeats) of a
/// tree of `count` claims and `siblings` lead to.
pub fn root(
    count: u32,
    leaves: &[(u32, Hash)],
    siblings: &[Hash],
) -> Result<Hash, MultiproofError> {
    let indices: Vec<u32> = leaves.iter().map(|(i, _)| *i).collect();
    check_range(&indices, count)?;
    let mut known: BTreeMap<usize, Hash> = leaves
        .iter()
        .map(|(i, d)| (*i as usize, claim_tree::leaf(*i, count, d)))
        .collect();
    let mut stream = siblings.iter();
    let mut width = count as usize;
    while width > 1 {
        let mut next = BTreeMap::new();
        let mut iter = known.iter().peekable();
        while let Some((&pos, hash)) = iter.next() {
            let parent = if pos % 2 == 0 {
                if pos + 1 >= width {
                    *hash
                } else if let Some((_, right)) = iter.next_if(|(&p, _)| p == pos + 1) {
                    claim_tree::node(hash, right)
                } else {
                    let right = stream.next().ok_or(MultiproofError::TooShort)?;
                    claim_tree::node(hash, right)
                }
            } else {
                let left = stream.next().ok_or(MultiproofError::TooShort)?;
                claim_tree::node(left, hash)
            };
            next.insert(pos / 2, parent);
        }
        known = next;
        width = width.div_ceil(2);
    }
    let left = stream.len();
    if left > 0 {
        return Err(MultiproofError::TooLong(left));
    }
    Ok(*known.get(&0).expect("one node is left at the top"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use claim_tree::Tree;

    fn digests(n: usize) -> Vec<Hash> {
        (0..n).map(|i| [i as u8 + 7; 32]).collect()
    }

    #[test]
    fn every_subset_of_small_trees_folds_to_the_root() {
        for n in 1..=9usize {
            let d = digests(n);
            let tree_root = Tree::new(&d).unwrap().root();
            for mask in 1u32..(1 << n) {
                let indices: Vec<u32> = (0..n as u32).filter(|i| mask & (1 << i) != 0).collect();
                let siblings = prove(&d, &indices).unwrap();
                let leaves: Vec<(u32, Hash)> =
                    indices.iter().map(|&i| (i, d[i as usize])).collect();
                assert_eq!(root(n as u32, &leaves, &siblings).unwrap(), tree_root);
                // A single leaf needs exactly its ordinary proof.
                if indices.len() == 1 {
                    let single = Tree::new(&d).unwrap().proof(indices[0]).unwrap();
                    assert_eq!(siblings, single);
                }
                // A missing node or one left over is refused.
                if let Some((_, shorter)) = siblings.split_last() {
                    assert_eq!(
                        root(n as u32, &leaves, shorter),
                        Err(MultiproofError::TooShort)
                    );
                }
                let mut longer = siblings.clone();
                longer.push([0; 32]);
                assert_eq!(
                    root(n as u32, &leaves, &longer),
                    Err(MultiproofError::TooLong(1))
                );
                // Another digest or another count leads elsewhere.
                let mut changed = leaves.clone();
                changed[0].1[0] ^= 1;
                assert_ne!(root(n as u32, &changed, &siblings).ok(), Some(tree_root));
            }
        }
    }

    #[test]
    fn shared_paths_make_the_proof_shorter() {
        let d = digests(16);
        let separate: usize = [0u32, 1, 2]
            .iter()
            .map(|&i| Tree::new(&d).unwrap().proof(i).unwrap().len())
            .sum();
        let joint = prove(&d, &[0, 1, 2]).unwrap().len();
        assert_eq!(separate, 12);
        assert_eq!(joint, 3, "leaf 3, then the nodes over 4-7 and 8-15");
    }

    #[test]
    fn out_of_range_and_empty_are_refused() {
        let d = digests(4);
        assert_eq!(
            prove(&d, &[4]),
            Err(MultiproofError::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!(prove(&d, &[]), Err(MultiproofError::Empty));
        assert_eq!(
            root(4, &[(9, [0; 32])], &[]),
            Err(MultiproofError::OutOfRange { index: 9, count: 4 })
        );
    }
}
