//! Social recovery, guardian side: propose a new wallet for a patient who lost theirs.
//! A stale pending recovery (one that never reached the threshold within one time lock,
//! whose lock no longer holds, or that lapsed unexecuted) is cleared and replaced in the
//! same transaction, so no other proposal can come between the two.

use anchor_lang::prelude::Pubkey;
use rekam::{Guardianship, Recovery};
use serde::Serialize;
use solana_signer::Signer;

use super::{Ctx, FlowError};
use crate::{ix, pda};

/// What `propose` sent.
#[derive(Debug, Clone, Serialize)]
pub struct Proposed {
    pub signature: String,
    /// The stale recovery cleared in the same transaction: its proposer and new wallet.
    pub replaced: Option<(String, String)>,
}

/// `guardian` proposes moving `patient` to `new_wallet`.
pub fn propose(
    ctx: &Ctx,
    guardian: &dyn Signer,
    patient: &Pubkey,
    new_wallet: Pubkey,
) -> Result<Proposed, FlowError> {
    let pid = ctx.program_id();
    let me = guardian.pubkey();
    let guardianship: Guardianship =
        ctx.account(&pda::guardianship(&pid, patient), "guardian set")?;
    if !guardianship.is_guardian(&me) {
        return Err(FlowError::Refused(format!(
            "{me} is not a guardian of patient {patient}"
        )));
    }
    let mut ixs = Vec::new();
    let mut replaced = None;
    let recovery_key = pda::recovery(&pid, patient);
    if let Some(pending) = ctx.chain.fetch::<Recovery>(&recovery_key)? {
        let now = ctx.chain.now()?;
        if !pending.is_stale(&guardianship, now) {
            return Err(FlowError::Refused(format!(
                "a recovery of patient {patient} to {} is already pending (proposed by {}); approve it, or wait until it is stale",
                pending.new_authority, pending.proposer
            )));
        }
        ixs.push(ix::recovery_cancel(&pid, &me, patient, &pending.proposer));
        replaced = Some((
            pending.proposer.to_string(),
            pending.new_authority.to_string(),
        ));
    }
    ixs.push(ix::recovery_propose(&pid, &me, patient, new_wallet));
    let signature = ctx.chain.send(&ixs, guardian, &[])?;
    Ok(Proposed {
        signature,
        replaced,
    })
}
