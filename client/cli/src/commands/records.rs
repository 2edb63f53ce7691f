//! `rekam records` (list a patient's attestations) and `rekam fetch` (the patient
//! fetches, decrypts and verifies one of their records).

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use rekam::Issuer;
use rekam_client::flows::records::OwnRecords;
use rekam_client::record;
use rekam_client::storage::Locator;
use serde::Serialize;

use crate::app::{pubkey_arg, App};
use crate::commands::verify::status_of;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Patient profile (default: this wallet's).
    #[arg(long, value_parser = pubkey_arg)]
    pub patient: Option<Pubkey>,
}

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    #[arg(value_parser = pubkey_arg)]
    pub attestation: Pubkey,
    /// Where to write the FHIR Bundle.
    #[arg(long)]
    pub out: PathBuf,
    /// The record's locator, when the chain history no longer has it.
    #[arg(long)]
    pub locator: Option<Locator>,
}

#[derive(Serialize)]
struct Row {
    attestation: String,
    kind: String,
    treatment_day: u16,
    issuer: String,
    status: String,
}

#[derive(Serialize)]
struct Listing {
    patient: String,
    records: Vec<Row>,
}

impl Render for Listing {
    fn text(&self) -> String {
        let mut out = format!("Records of patient {}\n", self.patient);
        out.push_str(&format!(
            "  {:<46} {:<13} {:>6}  {}\n",
            "attestation", "kind", "day", "status"
        ));
        for r in &self.records {
            out.push_str(&format!(
                "  {:<46} {:<13} {:>6}  {}\n",
                r.attestation, r.kind, r.treatment_day, r.status
            ));
        }
        out.trim_end().to_string()
    }
}

pub fn list(settings: &Settings, args: ListArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let patient = match args.patient {
        Some(key) => key,
        None => app.own_patient()?.0,
    };
    let now = app
        .chain
        .rpc
        .get_block_time(app.chain.rpc.get_slot()?)
        .unwrap_or(0);
    let mut records = Vec::new();
    for (key, a) in app.attestations_of(&patient)? {
        let issuer: Issuer = app.fetch(&a.issuer, "issuer")?;
        records.push(Row {
            attestation: key.to_string(),
            kind: record::kind_name(a.kind).into(),
            treatment_day: a.treatment_day,
            issuer: a.issuer.to_string(),
            status: status_of(&a, &issuer, now).into(),
        });
    }
    records.sort_by(|a, b| {
        a.treatment_day
            .cmp(&b.treatment_day)
            .then(a.attestation.cmp(&b.attestation))
    });
    output::print(
        settings.output,
        &Listing {
            patient: patient.to_string(),
            records,
        },
    )
}

#[derive(Serialize)]
pub struct Fetched {
    pub attestation: String,
    pub locator: String,
    pub kind: String,
    pub treatment_date: String,
    pub verified: bool,
    pub out: String,
}

impl Render for Fetched {
    fn text(&self) -> String {
        format!(
            "Fetched {} ({}, {}) from {}\n  Verified against the attestation: {}\n  Wrote {}",
            self.attestation, self.kind, self.treatment_date, self.locator, self.verified, self.out
        )
    }
}

pub fn fetch(settings: &Settings, args: FetchArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let own = OwnRecords::default();
    let record = app.with_ctx(|ctx| own.open(ctx, &identity, &args.attestation, args.locator))?;
    write_bundle(&args.out, &record.envelope.content()?)?;
    output::print(
        settings.output,
        &Fetched {
            attestation: args.attestation.to_string(),
            locator: record.locator.to_string(),
            kind: record.envelope.kind.clone(),
            treatment_date: record.envelope.treatment_date.clone(),
            verified: true,
            out: args.out.display().to_string(),
        },
    )
}

/// Writes a verified Bundle atomically (temp file + rename).
pub fn write_bundle(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
