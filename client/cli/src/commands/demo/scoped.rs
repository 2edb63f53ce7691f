//! The demo's scoped-consent chapter: a consent for lab results opens the lab facts of a
//! mixed visit (its own record, with its own data key) and no diagnosis.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anyhow::bail;
use rekam::{AttestationKind, ConsentScope, Purpose};
use rekam_client::fhir::kind_of;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::airdrop;
use super::refusals::refusal;
use crate::app::App;
use crate::settings::Settings;

/// What a lab-only reader could and could not open.
pub struct Scoped {
    pub lab_types: Vec<String>,
    pub diagnosis_refusal: String,
}

pub fn lab_only(
    settings: &Settings,
    patient_app: &mut App,
    visit_lab: &Pubkey,
    diagnosis: &Pubkey,
    workdir: &Path,
) -> anyhow::Result<Scoped> {
    let reviewer = Keypair::new();
    let mut reviewer_app = App::with_keypair(settings, reviewer.insecure_clone());
    airdrop(&reviewer_app.chain, &reviewer.pubkey(), 1_000_000_000)?;
    let key = hex::encode(reviewer_app.identity()?.public_key());
    let consent = crate::commands::consent::grant(
        patient_app,
        &reviewer.pubkey(),
        Some(&key),
        Purpose::Treatment,
        ConsentScope {
            kinds: AttestationKind::LabResult.bit(),
            attestations: vec![],
        },
        7,
    )?;
    let consent: Pubkey = consent.consent.parse()?;
    let out = workdir.join("reviewer-labs.json");
    crate::commands::access::access(&mut reviewer_app, &consent, visit_lab, &out)?;
    let bundle: Value = serde_json::from_slice(&std::fs::read(&out)?)?;
    let lab_types: Vec<String> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["resource"]["resourceType"].as_str().map(str::to_string))
        .collect();
    if lab_types
        .iter()
        .any(|t| kind_of(t).is_some_and(|k| k != AttestationKind::LabResult))
    {
        bail!("the lab-only reader opened a non-lab fact: {lab_types:?}");
    }
    let refused = crate::commands::access::access(
        &mut reviewer_app,
        &consent,
        diagnosis,
        &workdir.join("reviewer-dx.json"),
    );
    Ok(Scoped {
        lab_types,
        diagnosis_refusal: refusal(refused, "the lab-only reader's read of a diagnosis")?,
    })
}
