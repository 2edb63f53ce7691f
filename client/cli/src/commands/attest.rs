//! `rekam attest`: a clinic attests FHIR R4 Bundles for a patient. For each Bundle it
//! validates it, derives kind, date and coded fact, encrypts it for the patient and the
//! clinic, stores it, then issues the attestation in a transaction whose memo records
//! the locator (how the patient finds it). The record is stored first; if the attestation
//! then fails, the stored record is deleted again (on IPFS: unpinned). The record salt is
//! derived from the clinic's signature over the Bundle and the patient, so re-running the
//! same command targets the same attestation: it resumes, and never attests twice.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{AttestationIssueArgs, Patient};
use rekam_client::record::{self, MEMO_PREFIX, MEMO_PROGRAM};
use rekam_client::{ix, pda};
use serde::Serialize;
use solana_instruction::Instruction;
use solana_signer::Signer;

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A FHIR R4 Bundle (JSON), or a folder of them.
    pub path: PathBuf,
    /// The patient's profile address.
    #[arg(long, value_parser = pubkey_arg)]
    pub patient: Pubkey,
    /// Expiry in days from today (none by default).
    #[arg(long)]
    pub expires_in_days: Option<u16>,
}

#[derive(Serialize)]
pub struct Attested {
    pub file: String,
    pub attestation: String,
    pub kind: String,
    pub treatment_date: String,
    pub locator: String,
    pub signature: String,
}

#[derive(Serialize)]
struct Report {
    attested: Vec<Attested>,
}

impl Render for Report {
    fn text(&self) -> String {
        let mut out = String::new();
        for a in &self.attested {
            out.push_str(&format!(
                "Attested {} ({}, {})\n  Attestation: {}\n  Record:      {}\n  Signature:   {}\n",
                a.file, a.kind, a.treatment_date, a.attestation, a.locator, a.signature
            ));
        }
        out.trim_end().to_string()
    }
}

fn bundles(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read folder {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("no .json bundles in {}", path.display());
        }
        Ok(files)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Attests one Bundle file; the flow `rekam demo` uses too.
pub fn attest_file(
    app: &mut App,
    file: &Path,
    patient_key: &Pubkey,
    expires_in_days: Option<u16>,
) -> anyhow::Result<Attested> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let salt_signature: [u8; 64] = app
        .signer()?
        .sign_message(&record::salt_message(&bytes, patient_key))
        .into();
    let prepared = record::prepare_with_salt(&bytes, record::salt_from_signature(&salt_signature))
        .with_context(|| format!("{} cannot be attested", file.display()))?;
    let today = (crate::app::unix_now() / 86_400) as u16;
    if prepared.summary.treatment_day > today {
        bail!(
            "{} cannot be attested: its date of treatment {} is in the future",
            file.display(),
            prepared.summary.treatment_date
        );
    }
    let patient: Patient = app.fetch(patient_key, "patient profile")?;
    let (issuer_key, issuer) = app.own_issuer()?;
    if !issuer.is_active() {
        bail!("your issuer {issuer_key} is suspended: it cannot attest until governance reinstates it (nothing was stored)");
    }
    let attestation = pda::attestation(
        &app.program_id(),
        &issuer_key,
        &prepared.commitments.evidence,
    );
    if app
        .chain
        .fetch::<rekam::Attestation>(&attestation)?
        .is_some()
    {
        bail!(
            "{} is already attested as {attestation} (nothing to resume)",
            file.display()
        );
    }
    let (sealed, _) = record::seal(
        &prepared.envelope,
        &[patient.encryption_key, issuer.encryption_key],
    )?;
    let store = app.store()?;
    let locator = App::block_on(store.put(sealed))?
        .with_context(|| format!("cannot store the record of {}", file.display()))?;

    let args = AttestationIssueArgs {
        evidence_commitment: prepared.commitments.evidence,
        kind: prepared.summary.kind,
        diagnosis_commitment: prepared.commitments.diagnosis,
        claims_root: prepared.commitments.claims_root,
        treatment_day: prepared.summary.treatment_day,
        expires_on_day: expires_in_days
            .map(|d| today.saturating_add(d))
            .unwrap_or(0),
    };
    let signer = app.signer()?.insecure_clone();
    let memo = Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![],
        data: format!("{MEMO_PREFIX}{locator}").into_bytes(),
    };
    let issue = ix::attestation_issue(
        &app.program_id(),
        &signer.pubkey(),
        &signer.pubkey(),
        &issuer_key,
        patient_key,
        args,
    );
    let signature = match app.chain.send(&[issue, memo], &signer, &[]) {
        Ok(signature) => signature,
        Err(err) => {
            // Leave no record without its attestation: remove what was just stored.
            let removed = matches!(App::block_on(store.delete(&locator)), Ok(Ok(())));
            let left = if removed {
                "the stored record was removed"
            } else {
                "the stored record could not be removed"
            };
            return Err(err).with_context(|| {
                format!(
                    "attesting {} failed ({left}); run the same command again to retry",
                    file.display()
                )
            });
        }
    };
    Ok(Attested {
        file: file.display().to_string(),
        attestation: attestation.to_string(),
        kind: record::kind_name(prepared.summary.kind).into(),
        treatment_date: prepared.summary.treatment_date,
        locator: locator.to_string(),
        signature,
    })
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let files = bundles(&args.path)?;
    let progress = crate::progress::bar(settings.output, files.len() as u64, "attesting");
    let mut attested = Vec::new();
    for file in &files {
        progress.set_message(file.display().to_string());
        attested.push(attest_file(
            &mut app,
            file,
            &args.patient,
            args.expires_in_days,
        )?);
        progress.inc(1);
    }
    progress.finish_and_clear();
    output::print(settings.output, &Report { attested })
}
