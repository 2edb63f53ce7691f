//! Claims and presentations: list a record's claims (`rekam claims`), disclose chosen
//! claims to an audience (`rekam disclose`), verify a presentation against the chain
//! (`rekam presentation verify`).

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, Issuer, Patient};
use serde::Serialize;
use solana_signer::Signer;

use super::records::OpenedRecord;
use super::{Ctx, FlowError};
use crate::chain::ChainClient;
use crate::claims::presentation::{ChainView, Expect, Presentation, Verdict, VerifyError};
use crate::claims::{sdjwt, words, ClaimId};

/// One claim of a record, for listing.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClaimRow {
    pub id: String,
    pub name: String,
    pub value: serde_json::Value,
    pub words: String,
}

/// Every claim of an opened record, with its stable id.
pub fn claims_of(record: &OpenedRecord) -> Result<Vec<ClaimRow>, FlowError> {
    let set = record.envelope.claim_set()?;
    Ok(set
        .disclosures()
        .iter()
        .enumerate()
        .map(|(i, d)| ClaimRow {
            id: ClaimId {
                attestation: record.key,
                index: i as u32,
            }
            .to_string(),
            name: d.name().to_string(),
            value: d.value().clone(),
            words: words::describe(d.name(), d.value()),
        })
        .collect())
}

/// What the patient asks to disclose.
pub struct DiscloseRequest<'a> {
    pub claims: &'a [ClaimId],
    pub audience: &'a str,
    pub nonce: &'a str,
    pub now: i64,
}

/// Builds a presentation of chosen claims of one opened record, bound by `holder` (the
/// patient profile's current authority).
pub fn disclose(
    ctx: &Ctx,
    record: &OpenedRecord,
    holder: &dyn Signer,
    request: &DiscloseRequest,
) -> Result<Presentation, FlowError> {
    if request.claims.is_empty() {
        return Err(FlowError::Refused(
            "name at least one claim to disclose".into(),
        ));
    }
    if let Some(other) = request.claims.iter().find(|c| c.attestation != record.key) {
        return Err(FlowError::Refused(format!(
            "claim {other} belongs to another attestation than {}",
            record.key
        )));
    }
    let patient: Patient = ctx.account(&record.attestation.patient, "patient profile")?;
    if patient.authority != solana_signer::Signer::pubkey(holder) {
        return Err(FlowError::Refused(format!(
            "only the patient's current wallet {} can disclose these claims",
            patient.authority
        )));
    }
    let set = record.envelope.claim_set()?;
    let indices: Vec<u32> = request.claims.iter().map(|c| c.index).collect();
    Ok(Presentation::create(
        &ctx.program_id(),
        &record.key,
        &set,
        &indices,
        request.audience,
        request.nonce,
        request.now,
        holder,
    )?)
}

/// The same disclosure as a standard SD-JWT with key binding
/// (`<issuer JWT>~<disclosures>~<KB-JWT>`, `crate::claims::sdjwt`).
pub fn disclose_sd_jwt(
    ctx: &Ctx,
    record: &OpenedRecord,
    holder: &dyn Signer,
    request: &DiscloseRequest,
) -> Result<String, FlowError> {
    // The same checks as a Rekam presentation (one attestation, the current authority).
    disclose(ctx, record, holder, request)?;
    let issuer_jwt = record.envelope.issuer_jwt.as_deref().ok_or_else(|| {
        FlowError::Refused(
            "this record carries no issuer-signed SD-JWT (attested before SD-JWT export existed)"
                .into(),
        )
    })?;
    let set = record.envelope.claim_set()?;
    let chosen = request
        .claims
        .iter()
        .map(|c| set.get(c.index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sdjwt::present(
        issuer_jwt,
        &chosen,
        holder,
        request.audience,
        request.nonce,
        request.now,
    )?)
}

/// The accounts a presentation is checked against, read live.
pub fn chain_view(chain: &ChainClient, attestation: &Pubkey) -> Result<ChainView, VerifyError> {
    let missing = || VerifyError::NoAttestation(attestation.to_string());
    let read = |e: crate::chain::ChainError| VerifyError::Malformed(e.to_string());
    let attestation: Attestation = chain
        .fetch(attestation)
        .map_err(read)?
        .ok_or_else(missing)?;
    let issuer: Issuer = chain
        .fetch(&attestation.issuer)
        .map_err(read)?
        .ok_or_else(missing)?;
    let patient: Patient = chain
        .fetch(&attestation.patient)
        .map_err(read)?
        .ok_or_else(missing)?;
    Ok(ChainView {
        attestation,
        issuer,
        patient,
    })
}

/// Verifies a presentation: offline (claims, binding) and live (the attestation's status
/// on the cluster). A presentation whose attestation cannot be read gets a verdict that
/// says so, not an error: the verifier always gets an answer.
pub fn verify(chain: &ChainClient, presentation: &Presentation, expect: &Expect) -> Verdict {
    let view = presentation
        .attestation_key()
        .and_then(|key| chain_view(chain, &key));
    match view {
        Ok(view) => presentation.verify(&chain.program_id, &view, expect),
        Err(e) => Verdict {
            attestation: presentation.attestation.clone(),
            verified: false,
            status_error: Some(e.to_string()),
            binding_error: None,
            claims: Vec::new(),
            errors: vec![e],
            skipped: vec!["claims and binding (the attestation could not be read)".into()],
        },
    }
}
