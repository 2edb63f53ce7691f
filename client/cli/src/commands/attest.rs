//! `rekam attest`: a clinic attests FHIR R4 Bundles (a file or a folder) for a patient.
//! Every Bundle is validated before anything is stored; the flow is
//! `rekam_client::flows::attest`.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use rekam_client::flows::attest::{self, AttestOptions, Attested, Clinic, Refused};
use serde::Serialize;

use crate::app::{pubkey_arg, unix_now, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  rekam attest visit.json --patient 4fQk...9xTz --expires-in-days 365"
)]
pub struct Args {
    /// A FHIR R4 Bundle (JSON), or a folder of them.
    pub path: PathBuf,
    /// The patient: their profile address, their wallet address, or a keypair file.
    #[arg(long, value_parser = pubkey_arg)]
    pub patient: Pubkey,
    /// Expiry in days from today (none by default).
    #[arg(long)]
    pub expires_in_days: Option<u16>,
    /// Refuse Bundles with validation warnings (unknown elements, empty codes...), too.
    #[arg(long)]
    pub strict: bool,
    /// In a folder, attest the valid Bundles and report the others instead of refusing all.
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Serialize)]
struct Report {
    attested: Vec<Attested>,
    refused: Vec<Refused>,
}

impl Render for Report {
    fn text(&self) -> String {
        let mut out = String::new();
        for a in &self.attested {
            out.push_str(&format!(
                "Attested {} ({}, {}, {} claims)\n  Attestation: {}\n  Record:      {}\n  Signature:   {}\n",
                a.file, a.kind, a.treatment_date, a.claims, a.attestation, a.locator, a.signature
            ));
            for w in &a.warnings {
                out.push_str(&format!("  warning: {w}\n"));
            }
        }
        for r in &self.refused {
            out.push_str(&format!("Skipped {}: {}\n", r.file, r.reason));
        }
        out.trim_end().to_string()
    }
}

/// Today as the chain counts days (the local clock; the program re-checks).
fn today() -> u16 {
    (unix_now() / 86_400) as u16
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let options = AttestOptions {
        expires_in_days: args.expires_in_days,
        strict: args.strict,
        skip_invalid: args.skip_invalid,
    };
    let patient = rekam_client::flows::records::patient_profile(&app.chain, &args.patient)?;
    let files = attest::bundle_files(&args.path)?;
    let (issuer_key, issuer) = app.own_issuer()?;
    let signer = app.signer()?;
    let identity = app.identity()?;
    let (checked, refused) = attest::check_all(&files, &identity, &patient, &options, today())?;
    let clinic = Clinic {
        signer: &signer,
        identity: &identity,
        issuer_key,
        issuer,
    };
    let progress = crate::progress::bar(settings.output, checked.len() as u64, "attesting");
    let attested = app.with_ctx(|ctx| {
        let mut attested = Vec::new();
        for c in &checked {
            progress.set_message(c.file.display().to_string());
            attested.extend(attest::attest_one(
                ctx,
                &clinic,
                &patient,
                c,
                &options,
                today(),
            )?);
            progress.inc(1);
        }
        Ok(attested)
    });
    progress.finish_and_clear();
    output::print(
        settings.output,
        &Report {
            attested: attested?,
            refused,
        },
    )
}
