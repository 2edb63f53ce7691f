//! A batch-root attestation: one account anchors the Merkle root of many small facts
//! (device readings, dose events, any attestable claims) of one patient by one issuer.
//!
//! Seeds: `["batch", issuer, root]`. The root is a `claim_tree` root over the facts'
//! SD-JWT disclosure digests; its leaves bind their index and the fact count, so the
//! root alone fixes the batch and one issuer cannot anchor the same batch twice.
//!
//! Size: `Batch::space(count)` = 1-byte discriminator + 139 bytes + ceil(count / 8)
//! bytes of revocation bitmap (bit `i % 8` of byte `i / 8` set = fact `i` revoked).
//! 1,000 facts: 265 bytes; [`MAX_BATCH_FACTS`]: 8,332 bytes.

use anchor_lang::prelude::*;

use crate::constants::{BATCH_SEED, MAX_BATCH_FACTS};
use crate::state::issuer::roles;

/// What the facts of a batch are. Not an [`crate::AttestationKind`]: those are the
/// record kinds consent scopes and study criteria name by bit, with an ethics approval
/// that has no patient; a batch is always about a patient and its kinds say what stream
/// it belongs to. Append-only.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BatchKind {
    /// Device readings (FHIR Observations from a monitoring device).
    Readings,
    /// Medication dose events (FHIR MedicationAdministration).
    DoseEvents,
    /// Any other attestable claims.
    Claims,
}

impl BatchKind {
    /// Issuer roles allowed to anchor this kind. Readings come from a device operator's
    /// gateway or a clinic or lab that runs the monitoring; dose events from a pharmacy,
    /// a clinic, or a device operator (a smart pill bottle is a device); other claims
    /// from any issuer that attests patient facts (every role but an ethics board).
    pub fn allowed_roles(self) -> u8 {
        match self {
            BatchKind::Readings => roles::DEVICE_OPERATOR | roles::CLINIC | roles::LAB,
            BatchKind::DoseEvents => roles::PHARMACY | roles::CLINIC | roles::DEVICE_OPERATOR,
            BatchKind::Claims => roles::ALL & !roles::ETHICS_BOARD,
        }
    }
}

#[account(discriminator = [14])]
#[derive(Debug, PartialEq, Eq)]
pub struct Batch {
    pub version: u8,
    pub bump: u8,
    pub kind: BatchKind,
    /// The issuer PDA.
    pub issuer: Pubkey,
    /// The patient profile PDA the facts are about.
    pub patient: Pubkey,
    /// `claim_tree` root over the facts' disclosure digests (the PDA seed).
    pub root: [u8; 32],
    /// Number of facts (leaves), 1..=[`MAX_BATCH_FACTS`].
    pub count: u32,
    /// The time window the facts cover (Unix seconds, inclusive), so a reader picks the
    /// batches of a window without opening them.
    pub first_at: i64,
    pub last_at: i64,
    pub anchored_at: i64,
    /// When the issuer revoked the whole batch; 0 = active.
    pub revoked_at: i64,
    /// Revocation bitmap, `ceil(count / 8)` bytes.
    pub revoked: Vec<u8>,
}

impl Batch {
    /// Fixed part: version, bump, kind, issuer, patient, root, count, four instants and
    /// the bitmap's 4-byte length prefix.
    const FIXED: usize = 1 + 1 + BatchKind::INIT_SPACE + 32 + 32 + 32 + 4 + 4 * 8 + 4;

    /// Account size for `count` facts, discriminator included.
    pub const fn space(count: u32) -> usize {
        Self::DISCRIMINATOR.len() + Self::FIXED + Self::bitmap_len(count)
    }

    /// Bytes of revocation bitmap for `count` facts.
    pub const fn bitmap_len(count: u32) -> usize {
        (count as usize).div_ceil(8)
    }

    /// The largest batch account.
    pub const MAX_SIZE: usize = Self::space(MAX_BATCH_FACTS);

    pub fn find_address(program_id: &Pubkey, issuer: &Pubkey, root: &[u8; 32]) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[BATCH_SEED, issuer.as_ref(), root], program_id)
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at != 0
    }

    /// Whether fact `index` is revoked; `None` when the index is outside the batch.
    pub fn fact_revoked(&self, index: u32) -> Option<bool> {
        if index >= self.count {
            return None;
        }
        let byte = self.revoked.get(index as usize / 8)?;
        Some(byte & (1 << (index % 8)) != 0)
    }

    /// Marks fact `index` revoked; `None` when the index is outside the batch.
    pub fn revoke_fact(&mut self, index: u32) -> Option<()> {
        if index >= self.count {
            return None;
        }
        let byte = self.revoked.get_mut(index as usize / 8)?;
        *byte |= 1 << (index % 8);
        Some(())
    }

    /// The layout rule every batch keeps.
    pub fn invariant(&self) -> bool {
        (1..=MAX_BATCH_FACTS).contains(&self.count)
            && self.revoked.len() == Self::bitmap_len(self.count)
            && self.first_at <= self.last_at
    }
}

/// What `batch_verify_fact` returns (Borsh) to its caller.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedFact {
    pub kind: BatchKind,
    pub index: u32,
    /// The disclosure digest that was proven under the batch root.
    pub digest: [u8; 32],
    pub first_at: i64,
    pub last_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_matches_the_serialized_layout() {
        for count in [1u32, 7, 8, 9, 1_000, MAX_BATCH_FACTS] {
            let batch = Batch {
                version: 1,
                bump: 255,
                kind: BatchKind::Readings,
                issuer: Pubkey::new_unique(),
                patient: Pubkey::new_unique(),
                root: [7; 32],
                count,
                first_at: 1,
                last_at: 2,
                anchored_at: 3,
                revoked_at: 0,
                revoked: vec![0; Batch::bitmap_len(count)],
            };
            let mut data = Vec::new();
            batch.try_serialize(&mut data).unwrap();
            assert_eq!(data.len(), Batch::space(count), "count {count}");
            assert!(batch.invariant());
        }
        assert_eq!(Batch::space(1_000), 265);
        assert_eq!(Batch::MAX_SIZE, 8_332);
        const { assert!(Batch::MAX_SIZE <= 10_240) };
    }

    #[test]
    fn bits_are_per_fact_and_bounded() {
        let mut batch = Batch {
            version: 1,
            bump: 255,
            kind: BatchKind::Claims,
            issuer: Pubkey::new_unique(),
            patient: Pubkey::new_unique(),
            root: [7; 32],
            count: 10,
            first_at: 1,
            last_at: 1,
            anchored_at: 1,
            revoked_at: 0,
            revoked: vec![0; 2],
        };
        assert_eq!(batch.revoke_fact(9), Some(()));
        assert_eq!(batch.fact_revoked(9), Some(true));
        assert_eq!(batch.fact_revoked(8), Some(false));
        assert_eq!(batch.revoke_fact(10), None);
        assert_eq!(batch.fact_revoked(10), None);
        assert_eq!(batch.revoked, vec![0, 2]);
    }
}
