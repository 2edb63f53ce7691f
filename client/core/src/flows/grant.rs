//! The patient grants a consent: a key grant re-wrapping the data key of every record in
//! scope to the grantee (stored, its hash on-chain), then the consent itself.

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, ConsentGrantArgs, ConsentScope, Issuer, KeyGrant, Patient, Purpose};
use solana_signer::Signer;

use super::records::{locator, OwnRecords};
use super::{block_on, offsets, unix_now, Ctx, FlowError};
use crate::crypto::Identity;
use crate::record::KeyGrantObject;
use crate::{ix, pda};

/// What the patient grants.
pub struct GrantRequest {
    pub grantee: Pubkey,
    /// The grantee's X25519 key; `None` looks it up when the grantee is an issuer's wallet.
    pub grantee_key: Option<[u8; 32]>,
    pub purpose: Purpose,
    pub scope: ConsentScope,
    pub days: u32,
}

pub struct Granted {
    pub consent: Pubkey,
    pub records: usize,
    pub signature: String,
}

/// The grantee's encryption key: given, or the one of the issuer it signs for.
pub fn grantee_key(ctx: &Ctx, request: &GrantRequest) -> Result<[u8; 32], FlowError> {
    if let Some(key) = request.grantee_key {
        return Ok(key);
    }
    let issuers = ctx
        .chain
        .list::<Issuer>(Some((offsets::AFTER_HEADER, request.grantee)))?;
    match issuers.first() {
        Some((_, issuer)) => Ok(issuer.encryption_key),
        None => Err(FlowError::Refused(format!(
            "{} is not an issuer's wallet: pass its encryption key with --grantee-key",
            request.grantee
        ))),
    }
}

/// Grants the consent as the patient profile `patient_key` (whose authority `signer` is).
pub fn grant(
    ctx: &Ctx,
    own: &OwnRecords,
    signer: &dyn Signer,
    identity: &Identity,
    patient_key: &Pubkey,
    request: GrantRequest,
) -> Result<Granted, FlowError> {
    if request.scope.is_empty() {
        return Err(FlowError::Refused(
            "name the records to share: --kinds and/or --attestation".into(),
        ));
    }
    let key = grantee_key(ctx, &request)?;
    let patient: Patient = ctx.account(patient_key, "patient profile")?;
    let mut grant = KeyGrantObject::new(&key);
    let records = ctx
        .chain
        .list::<Attestation>(Some((offsets::ATTESTATION_PATIENT, *patient_key)))?;
    for (attestation, a) in records {
        let scope = &request.scope;
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
    let grant_bytes = grant.to_bytes();
    let hash = crate::storage::content_digest(&grant_bytes);
    let grant_locator = block_on(ctx.store.put(grant_bytes))??;
    let now = unix_now();
    let args = ConsentGrantArgs {
        grantee: request.grantee,
        purpose: request.purpose,
        scope: request.scope,
        starts_at: now - 60,
        expires_at: now + i64::from(request.days) * 86_400,
        key_grant: KeyGrant {
            hash,
            locator: grant_locator.compact(),
        },
    };
    let consent = pda::consent(&ctx.program_id(), patient_key, patient.consents_created);
    let ix = ix::consent_grant(
        &ctx.program_id(),
        &signer.pubkey(),
        patient_key,
        patient.consents_created,
        args,
    );
    let signature = ctx.chain.send(&[ix], signer, &[])?;
    Ok(Granted {
        consent,
        records: grant.entries.len(),
        signature,
    })
}
