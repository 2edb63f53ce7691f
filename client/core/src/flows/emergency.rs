//! Break-glass with a cryptographic threshold (`docs/guardians.md`): every guardian's
//! approval releases that guardian's share of the emergency key E to the requesting
//! clinic (stored, announced by a memo in the approval transaction); the approval that
//! reaches M also creates the emergency consent, whose key grant is the emergency scope
//! wrapped to E. The clinic rebuilds E from M released shares, and only then can open
//! anything.

use anchor_lang::prelude::Pubkey;
use rekam::{valid_approvals, Consent, EmergencyRequest, Guardianship, Issuer, KeyGrant, Patient};
use solana_instruction::Instruction;
use solana_signer::Signer;

use super::{block_on, guardians, Ctx, FlowError};
use crate::crypto::shamir::Share;
use crate::crypto::Identity;
use crate::record::{
    self, EmergencyGrant, RecordError, ReleasedShare, ThresholdError, MEMO_PROGRAM,
    SHARE_MEMO_PREFIX,
};
use crate::storage::{self, Locator};
use crate::{ix, pda};

/// A guardian's approval, as sent.
pub struct Approved {
    pub signature: String,
    /// Where this guardian's share, re-wrapped to the clinic, is stored.
    pub share: Locator,
    /// Whether this approval reached the threshold and created the emergency consent.
    pub activated: bool,
}

/// The memo announcing a released share: `rekam-guardian-share:<locator>`.
pub fn share_memo(locator: &Locator) -> Instruction {
    Instruction {
        program_id: MEMO_PROGRAM,
        accounts: Vec::new(),
        data: format!("{SHARE_MEMO_PREFIX}{locator}").into_bytes(),
    }
}

/// A guardian (`signer`, X25519 `identity`) approves `request_key`: the approval, this
/// guardian's share released to the clinic, and, when this approval reaches the
/// threshold, the emergency consent, all in one transaction.
pub fn approve(
    ctx: &Ctx,
    signer: &dyn Signer,
    identity: &Identity,
    request_key: &Pubkey,
) -> Result<Approved, FlowError> {
    let pid = ctx.program_id();
    let me = signer.pubkey();
    let r: EmergencyRequest = ctx.account(request_key, "emergency request")?;
    let g: Guardianship = ctx.account(&pda::guardianship(&pid, &r.patient), "guardianship")?;
    if !g.is_guardian(&me) {
        return Err(FlowError::Refused(format!(
            "wallet {me} is not a guardian of patient {}",
            r.patient
        )));
    }
    let (_, grants) = guardians::load(ctx, &g)?;
    let clinic: Issuer = ctx.account(&r.issuer, "clinic")?;
    let released = grants.release(request_key, &me, identity, &clinic.encryption_key)?;
    let share = block_on(ctx.store.put(released.to_bytes()))??;
    let mut ixs = vec![
        ix::emergency_approve(&pid, &me, &r.patient, request_key),
        share_memo(&share),
    ];
    let activated = valid_approvals(&r.approvals, &g.guardians) + 1 >= usize::from(g.threshold);
    if activated {
        // The consent's key grant: the scope wrapped to E, naming this request. It opens
        // nothing without M released shares, so it is not deleted if the send fails
        // (another guardian's activation may have stored the same bytes).
        let bytes = EmergencyGrant::new(request_key, &grants).to_bytes();
        let hash = storage::content_digest(&bytes);
        let locator = block_on(ctx.store.put(bytes))??;
        let patient: Patient = ctx.account(&r.patient, "patient profile")?;
        ixs.push(ix::emergency_activate(
            &pid,
            &me,
            &r.patient,
            request_key,
            &r.issuer,
            patient.consents_created,
            KeyGrant {
                hash,
                locator: locator.compact(),
            },
        ));
    }
    match ctx.chain.send(&ixs, signer, &[]) {
        Ok(signature) => Ok(Approved {
            signature,
            share,
            activated,
        }),
        Err(err) => {
            let _ = block_on(ctx.store.delete(&share));
            Err(FlowError::Refused(format!(
                "the approval was refused: {err}"
            )))
        }
    }
}

/// The emergency key E rebuilt by the clinic, and what it was rebuilt from.
pub struct Unlocked {
    pub identity: Identity,
    /// Released shares that opened with the clinic's key and count.
    pub shares: usize,
    pub threshold: u8,
    /// Signatures of share memos that were not accepted (a stranger's, a failed
    /// transaction's, a removed guardian's, one for another key or that does not open).
    pub skipped: Vec<String>,
}

/// Which key the shares must rebuild: E's public key and the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub emergency_key: [u8; 32],
    pub threshold: u8,
}

/// The key a request's shares aim at: the granted consent's emergency grant, or before
/// the grant the guardians' current grants object.
pub fn target(ctx: &Ctx, request_key: &Pubkey) -> Result<Target, FlowError> {
    let r: EmergencyRequest = ctx.account(request_key, "emergency request")?;
    if r.granted_at != 0 {
        let consent: Consent = ctx.account(&r.consent, "consent")?;
        let grant = emergency_grant(ctx, &r.consent, &consent)?;
        return Ok(Target {
            emergency_key: grant.emergency_key().map_err(RecordError::from)?,
            threshold: grant.threshold,
        });
    }
    let g: Guardianship = ctx.account(
        &pda::guardianship(&ctx.program_id(), &r.patient),
        "guardianship",
    )?;
    let (_, grants) = guardians::load(ctx, &g)?;
    Ok(Target {
        emergency_key: grants.emergency_key().map_err(RecordError::from)?,
        threshold: grants.threshold,
    })
}

/// An emergency consent's key grant, checked against the consent's hash.
pub fn emergency_grant(
    ctx: &Ctx,
    consent_key: &Pubkey,
    consent: &Consent,
) -> Result<EmergencyGrant, FlowError> {
    let locator = Locator::from_compact(&consent.key_grant.locator, &consent.key_grant.hash)?;
    let bytes = block_on(ctx.store.get(&locator))??;
    if storage::content_digest(&bytes) != consent.key_grant.hash {
        return Err(FlowError::Refused(format!(
            "key grant {locator} does not match the hash in consent {consent_key}"
        )));
    }
    Ok(EmergencyGrant::from_bytes(&bytes)?)
}

/// [`collect`], then [`Collected::rebuild`].
pub fn unlock(
    ctx: &Ctx,
    clinic: &Identity,
    request_key: &Pubkey,
    target: Target,
) -> Result<Unlocked, FlowError> {
    collect(ctx, clinic, request_key, target)?.rebuild(target)
}

/// The shares released to the clinic that count, opened, and the memos that did not.
pub struct Collected {
    pub shares: Vec<Share>,
    pub skipped: Vec<String>,
}

impl Collected {
    /// Rebuilds E from the collected shares, checked against `target`.
    pub fn rebuild(self, target: Target) -> Result<Unlocked, FlowError> {
        let identity = record::rebuild(&self.shares, target.threshold, &target.emergency_key)
            .map_err(|e: ThresholdError| FlowError::Record(e.into()))?;
        Ok(Unlocked {
            identity,
            shares: self.shares.len(),
            threshold: target.threshold,
            skipped: self.skipped,
        })
    }
}

/// The clinic (X25519 `clinic`) collects the shares released to it for `request_key`, to
/// rebuild E. A share memo counts only from a successful transaction signed by a
/// guardian the guardianship lists now, for that guardian's own share, for this request
/// and `target`, and only if it opens with the clinic's key; anything else is skipped,
/// never fatal. Rebuilding from fewer than M shares is
/// [`ThresholdError::NotEnoughShares`]; from shares that make another key,
/// [`ThresholdError::KeyMismatch`].
pub fn collect(
    ctx: &Ctx,
    clinic: &Identity,
    request_key: &Pubkey,
    target: Target,
) -> Result<Collected, FlowError> {
    let r: EmergencyRequest = ctx.account(request_key, "emergency request")?;
    let g: Guardianship = ctx.account(
        &pda::guardianship(&ctx.program_id(), &r.patient),
        "guardianship",
    )?;
    let wanted_key = hex::encode(target.emergency_key);
    let mut shares = Vec::new();
    let mut counted: Vec<Pubkey> = Vec::new();
    let mut skipped = Vec::new();
    for listed in ctx.chain.history(request_key)? {
        let Some(text) = listed.memo.as_deref() else {
            continue;
        };
        let Some(at) = text.find(SHARE_MEMO_PREFIX) else {
            continue;
        };
        let word = text[at + SHARE_MEMO_PREFIX.len()..]
            .split(|c: char| c.is_whitespace() || c == ';')
            .next()
            .unwrap_or("");
        let accepted = || -> Result<Option<(Pubkey, Share)>, FlowError> {
            let (true, Ok(locator)) = (listed.ok, word.parse::<Locator>()) else {
                return Ok(None);
            };
            let Some(tx) = ctx.chain.transaction(&listed.signature)? else {
                return Ok(None);
            };
            let Ok(Ok(bytes)) = block_on(ctx.store.get(&locator)) else {
                return Ok(None);
            };
            let Ok(release) = ReleasedShare::from_bytes(&bytes) else {
                return Ok(None);
            };
            let Ok(guardian) = release.guardian.parse::<Pubkey>() else {
                return Ok(None);
            };
            let fits = tx.signers.contains(&guardian)
                && g.guardians.contains(&guardian)
                && !counted.contains(&guardian)
                && release.request == request_key.to_string()
                && release.emergency_key == wanted_key
                && release.threshold == target.threshold;
            if !fits {
                return Ok(None);
            }
            Ok(release.open(clinic).ok().map(|share| (guardian, share)))
        };
        match accepted()? {
            Some((guardian, share)) => {
                counted.push(guardian);
                shares.push(share);
            }
            None => skipped.push(listed.signature),
        }
    }
    Ok(Collected { shares, skipped })
}
