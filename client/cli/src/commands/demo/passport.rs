//! The demo's last chapter: the patient shows one vaccination on a passport QR code, the
//! verifier reads it back from the PNG and sees green, the clinic revokes the vaccination,
//! and the next check is red. Everything goes through `rekam_client::flows::passport`.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anyhow::bail;
use rekam_client::flows::passport::{self, CreateRequest, Selector, Which};
use rekam_client::flows::records::OwnRecords;
use rekam_client::ix;
use rekam_client::passport::qr::Qr;
use solana_signer::Signer;

use super::Step;
use crate::app::{unix_now, App};

/// Narrates the chapter with `say` and adds its line to the summary.
pub fn chapter(
    (patient_app, clinic_app, verifier): (&mut App, &mut App, &App),
    vaccination: &Pubkey,
    workdir: &Path,
    steps: &mut Vec<Step>,
    say: &dyn Fn(&str),
) -> anyhow::Result<()> {
    say("Last, a passport: the patient shows one vaccination on a QR code; the verifier reads it back from the image and checks it offline and on-chain; the clinic revokes the vaccination and the next check is red...");
    let identity = patient_app.identity()?;
    let holder = patient_app.signer()?;
    let own = OwnRecords::default();
    let created = patient_app.with_ctx(|ctx| {
        passport::create(
            ctx,
            &own,
            &identity,
            &holder,
            &CreateRequest {
                selectors: &[Selector {
                    attestation: *vaccination,
                    claim: Which::Name("immunization.0".into()),
                }],
                now: unix_now() as u64,
                valid_days: 30,
            },
        )
    })?;
    let bytes = created.card.to_bytes();
    let qr = Qr::encode(&bytes)?;
    let png = workdir.join("passport.png");
    std::fs::write(&png, qr.png())?;
    let check = || -> anyhow::Result<(bool, String)> {
        let card = passport::read_card(&std::fs::read(&png)?)?;
        let v = passport::verify_card(
            &verifier.program_id(),
            Some(&verifier.chain),
            card,
            unix_now() as u64,
        );
        let why = v
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        Ok((v.verified, why))
    };
    let (green, _) = check()?;
    if !green {
        bail!("the fresh passport did not verify: the demo stops here");
    }
    let fact = created
        .facts
        .first()
        .map(|f| f.words.clone())
        .unwrap_or_default();
    say(&format!(
        "  {fact}: {} bytes, QR version {} at error correction M -> green",
        bytes.len(),
        qr.version()
    ));
    say("  the clinic revokes the vaccination...");
    let (issuer, _) = clinic_app.own_issuer()?;
    let signer = clinic_app.signer()?;
    let revoke = ix::attestation_revoke(
        &clinic_app.program_id(),
        &signer.pubkey(),
        &issuer,
        vaccination,
    );
    clinic_app.chain.send(&[revoke], &signer, &[])?;
    let (still_green, why) = check()?;
    if still_green {
        bail!("a passport of a revoked attestation verified: the demo stops here");
    }
    say(&format!("  after the revocation -> red: {why}"));
    // "attestation <address>: <reason>": the summary keeps the reason.
    let reason = why.split_once(": ").map_or(why.as_str(), |(_, r)| r);
    steps.push(Step {
        step: "passport".into(),
        result: format!("green, then red: {reason}"),
    });
    Ok(())
}
