//! The patient names guardians (`docs/guardians.md`): the emergency scope's data keys are
//! wrapped to a fresh emergency key E, E's seed is split M-of-N among the guardians
//! (`record::GuardianGrants`), the object is stored, and the guardians are set on-chain
//! (first time or as a change) pointing at it by hash.

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, ConsentScope, GuardiansArgs, Guardianship, KeyGrant};
use solana_signer::Signer;

use super::records::{locator, OwnRecords};
use super::{block_on, offsets, Ctx, FlowError};
use crate::crypto::Identity;
use crate::record::{EmergencyKey, GuardianGrants, KeyGrantObject};
use crate::storage::{self, Locator};
use crate::{ix, pda};

/// What the patient sets.
#[derive(Clone, Debug)]
pub struct GuardianSettings {
    /// Each guardian's wallet and X25519 key, in order (share `i + 1` is guardian `i`'s).
    pub guardians: Vec<(Pubkey, [u8; 32])>,
    pub threshold: u8,
    pub scope: ConsentScope,
    pub emergency_max_seconds: i64,
    pub recovery_timelock_seconds: i64,
}

pub struct GuardiansSet {
    pub guardianship: Pubkey,
    /// Records of the emergency scope in the grant.
    pub records: usize,
    pub signature: String,
}

/// The guardians' grants object `g` points at, checked against its on-chain hash.
pub fn load(ctx: &Ctx, g: &Guardianship) -> Result<(Locator, GuardianGrants), FlowError> {
    let locator = Locator::from_compact(&g.key_grant.locator, &g.key_grant.hash)?;
    let bytes = block_on(ctx.store.get(&locator))??;
    if storage::content_digest(&bytes) != g.key_grant.hash {
        return Err(FlowError::Refused(format!(
            "guardian grants {locator} do not match the hash on-chain"
        )));
    }
    Ok((locator, GuardianGrants::from_bytes(&bytes)?))
}

/// Sets (or replaces) the guardians of `patient_key`, whose authority `signer` is.
pub fn set(
    ctx: &Ctx,
    own: &OwnRecords,
    signer: &dyn Signer,
    identity: &Identity,
    patient_key: &Pubkey,
    settings: GuardianSettings,
) -> Result<GuardiansSet, FlowError> {
    let pid = ctx.program_id();
    let scope = &settings.scope;
    if scope.is_empty() {
        return Err(FlowError::Refused(
            "name the emergency scope: --emergency-attestation and/or --emergency-kinds".into(),
        ));
    }
    let count = settings.guardians.len();
    if settings.threshold == 0 || usize::from(settings.threshold) > count {
        // The program refuses it too; the key cannot even be split.
        return Err(FlowError::Refused(format!(
            "the threshold must be from 1 to the number of guardians ({count}), not {}",
            settings.threshold
        )));
    }
    let guardianship = pda::guardianship(&pid, patient_key);

    // The emergency records' keys, wrapped once, to a fresh emergency key.
    let emergency = EmergencyKey::generate().map_err(crate::record::RecordError::from)?;
    let mut grant = KeyGrantObject::new(&emergency.public_key());
    let records = ctx
        .chain
        .list::<Attestation>(Some((offsets::ATTESTATION_PATIENT, *patient_key)))?;
    for (attestation, a) in records {
        if !(scope.kinds & a.kind.bit() != 0 || scope.attestations.contains(&attestation)) {
            continue;
        }
        let at = locator(ctx.chain, &attestation)?;
        let bytes = block_on(ctx.store.get(&at))??;
        own.grant(
            ctx,
            identity,
            &mut grant,
            patient_key,
            &attestation,
            &at.to_string(),
            &bytes,
        )?;
    }
    let records = grant.entries.len();
    if records == 0 {
        return Err(FlowError::Refused(
            "no record of yours is in the emergency scope yet; attest the emergency summary first"
                .into(),
        ));
    }
    // E's seed, split among the guardians; E itself is dropped (wiped) after this.
    let sealed = GuardianGrants::seal(
        &guardianship,
        &settings.guardians,
        settings.threshold,
        &emergency,
        grant,
    )?;
    drop(emergency);
    let bytes = sealed.to_bytes();
    let hash = storage::content_digest(&bytes);
    let stored = block_on(ctx.store.put(bytes))??;
    let args = GuardiansArgs {
        guardians: settings.guardians.iter().map(|(w, _)| *w).collect(),
        threshold: settings.threshold,
        emergency_scope: settings.scope.clone(),
        emergency_max_seconds: settings.emergency_max_seconds,
        recovery_timelock_seconds: settings.recovery_timelock_seconds,
        key_grant: KeyGrant {
            hash,
            locator: stored.compact(),
        },
    };
    let existing = ctx.chain.fetch::<Guardianship>(&guardianship)?;
    let ix = match existing {
        Some(_) => ix::guardians_change(&pid, &signer.pubkey(), patient_key, args),
        None => ix::guardians_set(&pid, &signer.pubkey(), patient_key, args),
    };
    let signature = match ctx.chain.send(&[ix], signer, &[]) {
        Ok(sig) => sig,
        Err(err) => {
            let _ = block_on(ctx.store.delete(&stored));
            return Err(FlowError::Refused(format!("guardians were not set: {err}")));
        }
    };
    if let Some(old) = existing {
        // The previous grants are superseded (IPFS copies cannot be recalled). Emergency
        // consents already granted keep their own copy (`record::EmergencyGrant`).
        if let Ok(old) = Locator::from_compact(&old.key_grant.locator, &old.key_grant.hash) {
            if old != stored {
                let _ = block_on(ctx.store.delete(&old));
            }
        }
    }
    Ok(GuardiansSet {
        guardianship,
        records,
        signature,
    })
}

/// Re-issues the guardians' grants with the same settings and a new emergency key (after
/// the patient re-keyed records, the old grant names record versions that no longer
/// exist). `None` when the patient has no guardians.
pub fn refresh(
    ctx: &Ctx,
    own: &OwnRecords,
    signer: &dyn Signer,
    identity: &Identity,
    patient_key: &Pubkey,
) -> Result<Option<GuardiansSet>, FlowError> {
    let key = pda::guardianship(&ctx.program_id(), patient_key);
    let Some(g) = ctx.chain.fetch::<Guardianship>(&key)? else {
        return Ok(None);
    };
    let (_, grants) = load(ctx, &g)?;
    let guardians = grants
        .guardians()
        .map_err(crate::record::RecordError::from)?;
    if guardians.iter().map(|(w, _)| *w).collect::<Vec<_>>() != g.guardians {
        return Err(FlowError::Refused(
            "the guardians' grants do not match the guardians; run `rekam guardians set`".into(),
        ));
    }
    set(
        ctx,
        own,
        signer,
        identity,
        patient_key,
        GuardianSettings {
            guardians,
            threshold: g.threshold,
            scope: g.emergency_scope.clone(),
            emergency_max_seconds: g.emergency_max_seconds,
            recovery_timelock_seconds: g.recovery_timelock_seconds,
        },
    )
    .map(Some)
}
