//! The demo's claims chapter: the patient discloses one lab value to a pharmacy, which
//! verifies it (offline proofs and binding, live status); a copy with the value changed
//! is refused. Everything goes through `rekam_client::flows::present`.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anyhow::bail;
use rekam_client::claims::presentation::{Expect, DEFAULT_MAX_AGE};
use rekam_client::claims::{ClaimId, Disclosure};
use rekam_client::flows::present::{self, DiscloseRequest};
use rekam_client::flows::records::OwnRecords;

use crate::app::{unix_now, App};

/// What the chapter showed, for the summary.
pub struct Shown {
    pub claim: String,
    pub words: String,
    pub verified: bool,
    pub tampered_refusal: String,
}

pub fn disclose_one_lab_value(
    patient_app: &mut App,
    lab: &Pubkey,
    verifier_app: &App,
    workdir: &Path,
) -> anyhow::Result<Shown> {
    let identity = patient_app.identity()?;
    let holder = patient_app.signer()?;
    let own = OwnRecords::default();
    let presentation = patient_app.with_ctx(|ctx| {
        let record = own.open(ctx, &identity, lab, None)?;
        let set = record.envelope.claim_set()?;
        let index = set
            .position("observation.0")
            .ok_or_else(|| rekam_client::flows::FlowError::Refused("no lab value".into()))?;
        present::disclose(
            ctx,
            &record,
            &holder,
            &DiscloseRequest {
                claims: &[ClaimId {
                    attestation: *lab,
                    index,
                }],
                audience: "pharmacy.example",
                nonce: "demo-nonce-1",
                now: unix_now(),
            },
        )
    })?;
    std::fs::write(
        workdir.join("presentation.json"),
        serde_json::to_vec_pretty(&presentation)?,
    )?;
    let expect = Expect {
        audience: Some("pharmacy.example".into()),
        nonce: Some("demo-nonce-1".into()),
        now: unix_now(),
        max_age: DEFAULT_MAX_AGE,
    };
    let verdict = present::verify(&verifier_app.chain, &presentation, &expect);
    let Some(claim) = verdict.claims.first() else {
        bail!("the verifier saw no claim");
    };
    // The same presentation with the lab value lowered: the verifier must refuse it.
    let mut tampered = presentation.clone();
    let shown = Disclosure::parse(&tampered.claims[0].disclosure)?;
    let mut value = shown.value().clone();
    value["value"] = serde_json::json!(4.9);
    tampered.claims[0].disclosure = Disclosure::new(&[0; 16], shown.name(), value)
        .encoded()
        .into();
    let refused = present::verify(&verifier_app.chain, &tampered, &expect);
    if refused.verified {
        bail!("a tampered presentation verified: the demo stops here");
    }
    Ok(Shown {
        claim: claim.id.clone(),
        words: claim.words.clone(),
        verified: verdict.verified,
        tampered_refusal: refused
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    })
}
