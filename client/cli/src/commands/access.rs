//! `rekam access`: a provider reads a record a patient shared. In order: read the
//! consent and its key grant (checked against the on-chain hash), record the access
//! receipt on-chain, then fetch, decrypt, verify against the attestation and write the
//! FHIR Bundle. A refused receipt (revoked, expired, out of scope...) stops before any
//! decryption.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{Attestation, Consent};
use rekam_client::ix;
use rekam_client::record::KeyGrantObject;
use rekam_client::storage::Locator;
use solana_signer::Signer;

use crate::app::{pubkey_arg, App};
use crate::commands::records::{write_bundle, Fetched};
use crate::output;
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_parser = pubkey_arg)]
    pub consent: Pubkey,
    #[arg(value_parser = pubkey_arg)]
    pub attestation: Pubkey,
    /// Where to write the FHIR Bundle.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let fetched = access(&mut app, &args.consent, &args.attestation, &args.out)?;
    output::print(settings.output, &fetched)
}

/// Reads `attestation`'s record under `consent`, receipt first.
pub fn access(
    app: &mut App,
    consent_key: &Pubkey,
    attestation_key: &Pubkey,
    out: &Path,
) -> anyhow::Result<Fetched> {
    let args = Args {
        consent: *consent_key,
        attestation: *attestation_key,
        out: out.to_path_buf(),
    };
    let pid = app.program_id();
    let consent: Consent = app.fetch(&args.consent, "consent")?;
    let attestation: Attestation = app.fetch(&args.attestation, "attestation")?;
    let store = app.store()?;

    let grant_locator = Locator::from_compact(&consent.key_grant.locator, &consent.key_grant.hash)?;
    let grant_bytes = App::block_on(store.get(&grant_locator))?
        .with_context(|| format!("cannot fetch key grant {grant_locator}"))?;
    if rekam_client::storage::digest(&grant_bytes) != consent.key_grant.hash {
        bail!(
            "key grant {grant_locator} does not match the hash in consent {}",
            args.consent
        );
    }
    let grant = KeyGrantObject::from_bytes(&grant_bytes)?;
    let entry = grant.entry(&args.attestation)?.clone();

    // The receipt first: no decryption without an accepted, audited access.
    let signer = app.signer()?.insecure_clone();
    let receipt = ix::access_record(
        &pid,
        &signer.pubkey(),
        &consent.patient,
        &args.consent,
        &args.attestation,
        consent.access_count,
        consent.purpose,
    );
    app.chain
        .send(&[receipt], &signer, &[])
        .context("the access was refused on-chain")?;

    let locator: Locator = entry.locator.parse()?;
    let bytes =
        App::block_on(store.get(&locator))?.with_context(|| format!("cannot fetch {locator}"))?;
    let identity = app.identity()?;
    let (envelope, _) = grant.open(&args.attestation, &bytes, &identity)?;
    envelope.check(&pid, &args.attestation, &attestation)?;
    write_bundle(&args.out, &envelope.content()?)?;
    Ok(Fetched {
        attestation: args.attestation.to_string(),
        locator: locator.to_string(),
        kind: envelope.kind.clone(),
        treatment_date: envelope.treatment_date.clone(),
        verified: true,
        out: args.out.display().to_string(),
        missing: None,
    })
}
