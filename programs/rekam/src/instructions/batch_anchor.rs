//! `batch_anchor`: an accredited issuer anchors the Merkle root of a batch of facts about
//! one patient (device readings, dose events, other claims) in one account, so that
//! thousands of facts cost one account's rent and one signature. Each fact is then
//! verified alone with its proof (`batch_verify_fact`) and revoked alone
//! (`batch_revoke_fact`).
//!
//! Checks:
//! - `authority` signs (and pays) and is `issuer.authority` (`NotIssuerAuthority`).
//! - `issuer` is an Issuer at its canonical PDA, active (`IssuerSuspended`), holding a
//!   role allowed for the kind (`RoleNotAllowedForKind`). A void window always ends
//!   before a suspension, so a batch anchored by an active issuer is never inside one.
//! - `patient` is a registered Patient profile (owner + discriminator + version).
//! - `batch` is the canonical `["batch", issuer, root]` PDA and new: one issuer anchors
//!   one root once (the System program refuses an address in use).
//! - `1 <= count <= MAX_BATCH_FACTS` (`InvalidBatchCount`); `first_at <= last_at`
//!   (`InvalidBatchWindow`); `last_at <= now + MAX_CLOCK_SKEW_SECONDS`
//!   (`BatchWindowInFuture`); the root is not all zeros (`ZeroBatchRoot`).
//!
//! The account is sized for `min(count, MAX_BATCH_FACTS)` facts so that an oversized
//! count reaches the handler's `InvalidBatchCount` (the failed transaction creates
//! nothing). `issuer.attestations_issued` is not incremented: it counts Attestation
//! accounts (the CLI shows it as such); a batch is counted by its `BatchAnchored` event.

use anchor_lang::prelude::*;

use crate::constants::{
    ACCOUNT_VERSION, BATCH_SEED, ISSUER_SEED, MAX_BATCH_FACTS, MAX_CLOCK_SKEW_SECONDS,
};
use crate::error::RekamError;
use crate::events::{self, BatchAnchored};
use crate::state::{Batch, BatchKind, Issuer, Patient};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BatchAnchorArgs {
    /// `claim_tree` root over the facts' disclosure digests.
    pub root: [u8; 32],
    pub count: u32,
    pub kind: BatchKind,
    /// The time window the facts cover (Unix seconds, inclusive).
    pub first_at: i64,
    pub last_at: i64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: BatchAnchorArgs)]
pub struct BatchAnchor<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        seeds = [ISSUER_SEED, issuer.registry_id_hash.as_ref()],
        bump = issuer.bump,
        has_one = authority @ RekamError::NotIssuerAuthority,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,

    #[account(constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub patient: Account<'info, Patient>,

    #[account(
        init,
        payer = authority,
        space = Batch::space(args.count.min(MAX_BATCH_FACTS)),
        seeds = [BATCH_SEED, issuer.key().as_ref(), args.root.as_ref()],
        bump,
    )]
    pub batch: Account<'info, Batch>,

    pub system_program: Program<'info, System>,
}

impl BatchAnchor<'_> {
    pub fn handle(&mut self, args: BatchAnchorArgs, bump: u8) -> Result<()> {
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        require!(
            self.issuer.roles & args.kind.allowed_roles() != 0,
            RekamError::RoleNotAllowedForKind
        );
        require!(
            (1..=MAX_BATCH_FACTS).contains(&args.count),
            RekamError::InvalidBatchCount
        );
        require!(
            args.first_at <= args.last_at,
            RekamError::InvalidBatchWindow
        );
        let now = Clock::get()?.unix_timestamp;
        let latest = now
            .checked_add(MAX_CLOCK_SKEW_SECONDS)
            .ok_or(RekamError::ArithmeticOverflow)?;
        require!(args.last_at <= latest, RekamError::BatchWindowInFuture);
        require!(args.root != [0; 32], RekamError::ZeroBatchRoot);
        self.batch.set_inner(Batch {
            version: ACCOUNT_VERSION,
            bump,
            kind: args.kind,
            issuer: self.issuer.key(),
            patient: self.patient.key(),
            root: args.root,
            count: args.count,
            first_at: args.first_at,
            last_at: args.last_at,
            anchored_at: now,
            revoked_at: 0,
            revoked: vec![0; Batch::bitmap_len(args.count)],
        });
        events::emit(
            &self.event_authority,
            &BatchAnchored {
                batch: self.batch.key(),
                issuer: self.issuer.key(),
                patient: self.patient.key(),
                kind: args.kind,
                count: args.count,
            },
        )
    }
}
