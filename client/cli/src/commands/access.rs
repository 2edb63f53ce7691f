//! `rekam access`: a provider reads a record a patient shared, the access receipt
//! on-chain first (`rekam_client::flows::access`).

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use rekam_client::flows::access::Reader;

use crate::app::{pubkey_arg, App};
use crate::commands::records::{write_bundle, Fetched};
use crate::output;
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  rekam access 5tQe...Consent 7xKX...Attestation --out record.json"
)]
pub struct Args {
    /// The consent the patient granted you.
    #[arg(value_parser = pubkey_arg)]
    pub consent: Pubkey,
    /// The record (attestation) to read.
    #[arg(value_parser = pubkey_arg)]
    pub attestation: Pubkey,
    /// Where to write the FHIR Bundle.
    #[arg(long)]
    pub out: PathBuf,
    /// Also read the other parts of the record's source Bundle that the consent covers (a
    /// receipt for each) and write what they rebuild; the kinds not covered are named.
    #[arg(long)]
    pub source_bundle: bool,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let fetched = if args.source_bundle {
        let signer = app.signer()?;
        let identity = app.identity()?;
        let (record, rebuilt) = app.with_ctx(|ctx| {
            let mut reader = Reader::new(ctx, &signer, &identity, &args.consent)?;
            warn_skipped_shares(&reader);
            reader.read_source_bundle(ctx, &args.attestation)
        })?;
        write_bundle(&args.out, &rebuilt.bundle)?;
        Fetched {
            attestation: args.attestation.to_string(),
            locator: record.locator.to_string(),
            kind: record.envelope.kind.clone(),
            treatment_date: record.envelope.treatment_date.clone(),
            verified: true,
            out: args.out.display().to_string(),
            missing: Some(rebuilt.missing),
        }
    } else {
        access(&mut app, &args.consent, &args.attestation, &args.out)?
    };
    output::print(settings.output, &fetched)
}

/// Reads `attestation`'s record under `consent`, receipt first, and writes its Bundle.
pub fn access(
    app: &mut App,
    consent_key: &Pubkey,
    attestation_key: &Pubkey,
    out: &Path,
) -> anyhow::Result<Fetched> {
    let signer = app.signer()?;
    let identity = app.identity()?;
    let record = app.with_ctx(|ctx| {
        let mut reader = Reader::new(ctx, &signer, &identity, consent_key)?;
        warn_skipped_shares(&reader);
        reader.read(ctx, attestation_key)
    })?;
    write_bundle(out, &record.envelope.content()?)?;
    Ok(Fetched {
        attestation: attestation_key.to_string(),
        locator: record.locator.to_string(),
        kind: record.envelope.kind.clone(),
        treatment_date: record.envelope.treatment_date.clone(),
        verified: true,
        out: out.display().to_string(),
        missing: None,
    })
}

/// For an emergency consent: key share memos that did not count, on stderr.
fn warn_skipped_shares(reader: &Reader) {
    if !reader.skipped_shares.is_empty() {
        eprintln!(
            "warning: skipped {} key share memo(s) for consent {} (not a current guardian's, failed, or not for this key): {}",
            reader.skipped_shares.len(),
            reader.consent_key,
            reader.skipped_shares.join(", ")
        );
    }
}
