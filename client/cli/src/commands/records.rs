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
#[command(after_help = "Examples:\n  rekam records\n  rekam records --patient <PATIENT>")]
pub struct ListArgs {
    /// Patient profile (default: this wallet's).
    #[arg(long, value_parser = pubkey_arg)]
    pub patient: Option<Pubkey>,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  rekam fetch 7Yh...3kQ --out visit.json\n  rekam fetch --latest --out latest.json"
)]
pub struct FetchArgs {
    /// The record's attestation address.
    #[arg(value_parser = pubkey_arg, required_unless_present = "latest")]
    pub attestation: Option<Pubkey>,
    /// Fetch this wallet's most recent record (latest treatment day).
    #[arg(long, conflicts_with = "attestation")]
    pub latest: bool,
    /// Where to write the FHIR Bundle.
    #[arg(long)]
    pub out: PathBuf,
    /// The record's locator, when the chain history no longer has it.
    #[arg(long)]
    pub locator: Option<Locator>,
    /// Rebuild the whole Bundle this record was split from (byte for byte when every part
    /// opens; otherwise what opens, and the kinds that are missing).
    #[arg(long)]
    pub source_bundle: bool,
}

#[derive(Serialize)]
struct Row {
    /// The tag shared by the records of one split source Bundle.
    bundle: Option<String>,
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
            "  {:<16} {:<46} {:<13} {:>6}  {}\n",
            "source bundle", "attestation", "kind", "day", "status"
        ));
        for r in &self.records {
            out.push_str(&format!(
                "  {:<16} {:<46} {:<13} {:>6}  {}\n",
                r.bundle.as_deref().unwrap_or("-"),
                r.attestation,
                r.kind,
                r.treatment_day,
                r.status
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
    let now = app.chain.now()?;
    let mut records = Vec::new();
    for (key, a) in app.attestations_of(&patient)? {
        let issuer: Issuer = app.fetch(&a.issuer, "issuer")?;
        records.push(Row {
            bundle: rekam_client::flows::records::bundle_tag(&app.chain, &key)?,
            attestation: key.to_string(),
            kind: record::kind_name(a.kind).into(),
            treatment_day: a.treatment_day,
            issuer: a.issuer.to_string(),
            status: status_of(&a, &issuer, now).into(),
        });
    }
    // Grouped by source Bundle (the parts of one stay together), then by day.
    records.sort_by(|a, b| {
        a.bundle
            .cmp(&b.bundle)
            .then(a.treatment_day.cmp(&b.treatment_day))
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
    /// With `--source-bundle`: kinds of the source Bundle that could not be opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
}

impl Render for Fetched {
    fn text(&self) -> String {
        let mut text = format!(
            "Fetched {} ({}, {}) from {}\n  Verified against the attestation: {}\n  Wrote {}",
            self.attestation, self.kind, self.treatment_date, self.locator, self.verified, self.out
        );
        match &self.missing {
            Some(m) if m.is_empty() => text.push_str("\n  The whole source Bundle, byte for byte"),
            Some(m) => text.push_str(&format!(
                "\n  Part of the source Bundle: its {} records could not be opened",
                m.join(", ")
            )),
            None => {}
        }
        text
    }
}

pub fn fetch(settings: &Settings, args: FetchArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let attestation = match args.attestation {
        Some(key) => key,
        None => {
            let (patient, _) = app.own_patient()?;
            rekam_client::flows::records::latest_record(&app.chain, &patient)?
        }
    };
    let own = OwnRecords::default();
    let (record, rebuilt) = app.with_ctx(|ctx| {
        let record = own.open(ctx, &identity, &attestation, args.locator.clone())?;
        let rebuilt = if args.source_bundle {
            Some(own.source_bundle(ctx, &identity, &attestation, args.locator.clone())?)
        } else {
            None
        };
        Ok((record, rebuilt))
    })?;
    crate::app::warn_skipped_memos(&attestation, &record.skipped_memos);
    let bytes = match &rebuilt {
        Some(r) => r.bundle.clone(),
        None => record.envelope.content()?,
    };
    write_bundle(&args.out, &bytes)?;
    output::print(
        settings.output,
        &Fetched {
            attestation: attestation.to_string(),
            locator: record.locator.to_string(),
            kind: record.envelope.kind.clone(),
            treatment_date: record.envelope.treatment_date.clone(),
            verified: true,
            out: args.out.display().to_string(),
            missing: rebuilt.map(|r| r.missing),
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
