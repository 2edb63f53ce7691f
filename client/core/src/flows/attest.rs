//! Attesting FHIR R4 Bundles: validate every Bundle first, then for each one encrypt it
//! for the patient and the clinic, store it, and issue its attestation in a transaction
//! whose memo records the locator. The record is stored first; if the attestation then
//! fails, the stored record is deleted again (on IPFS: unpinned).
//!
//! The record salt comes from the clinic's signature over the Bundle and the patient, so
//! attesting the same Bundle again targets the same attestation: a re-run resumes and
//! never attests twice.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use rekam::{AttestationIssueArgs, Issuer, Patient};
use serde::Serialize;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::{block_on, unix_now, Ctx, FlowError};
use crate::claims::sdjwt::{self, IssuerClaims};
use crate::fhir::validate::Issue;
use crate::fhir::ReadOptions;
use crate::record::{self, Prepared, MEMO_PREFIX, MEMO_PROGRAM};
use crate::{ix, pda};

/// How to attest.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttestOptions {
    /// Expiry in days from today; `None` never expires.
    pub expires_in_days: Option<u16>,
    /// Refuse Bundles with validation warnings too.
    pub strict: bool,
    /// Attest the valid Bundles of a folder and report the others, instead of refusing all.
    pub skip_invalid: bool,
}

/// The issuer attesting, as the caller resolved it.
pub struct Clinic<'a> {
    pub signer: &'a Keypair,
    pub issuer_key: Pubkey,
    pub issuer: Issuer,
}

#[derive(Clone, Debug, Serialize)]
pub struct Attested {
    pub file: String,
    pub attestation: String,
    pub kind: String,
    pub treatment_date: String,
    pub claims: u32,
    pub locator: String,
    pub signature: String,
    /// Validation warnings (the Bundle was still attested).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    pub file: String,
    pub reason: String,
}

/// A Bundle read and checked, ready to attest.
pub struct Checked {
    pub file: PathBuf,
    pub prepared: Prepared,
    pub warnings: Vec<Issue>,
}

/// Every Bundle of `path` (a file, or the `.json` files of a folder, sorted).
pub fn bundle_files(path: &Path) -> Result<Vec<PathBuf>, FlowError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let io = |e: std::io::Error| FlowError::Refused(format!("cannot read {}: {e}", path.display()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(FlowError::Refused(format!(
            "no .json bundles in {}",
            path.display()
        )));
    }
    Ok(files)
}

/// Reads and validates one Bundle, deriving its record salt from the clinic's signature.
pub fn check(
    file: &Path,
    clinic: &Keypair,
    patient: &Pubkey,
    options: &AttestOptions,
    today: u16,
) -> Result<Checked, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    let signature: [u8; 64] = clinic
        .sign_message(&record::salt_message(&bytes, patient))
        .into();
    let prepared = record::prepare_with(
        &bytes,
        record::salt_from_signature(&signature),
        ReadOptions {
            strict: options.strict,
        },
    )
    .map_err(|e| e.to_string())?;
    if prepared.summary.treatment_day > today {
        return Err(format!(
            "its date of treatment {} is in the future",
            prepared.summary.treatment_date
        ));
    }
    let warnings = prepared.summary.warnings.clone();
    Ok(Checked {
        file: file.to_path_buf(),
        prepared,
        warnings,
    })
}

/// Validates every Bundle before anything is stored: all are returned checked, or, unless
/// `skip_invalid`, nothing is attested and every refusal is reported.
pub fn check_all(
    files: &[PathBuf],
    clinic: &Keypair,
    patient: &Pubkey,
    options: &AttestOptions,
    today: u16,
) -> Result<(Vec<Checked>, Vec<Refused>), FlowError> {
    let mut checked = Vec::new();
    let mut refused = Vec::new();
    for file in files {
        match check(file, clinic, patient, options, today) {
            Ok(c) => checked.push(c),
            Err(reason) => refused.push(Refused {
                file: file.display().to_string(),
                reason,
            }),
        }
    }
    if !refused.is_empty() && !options.skip_invalid {
        let list: Vec<String> = refused
            .iter()
            .map(|r| format!("{}: {}", r.file, r.reason))
            .collect();
        return Err(FlowError::Refused(format!(
            "{} of {} Bundles cannot be attested, so none was (pass --skip-invalid to attest the others):\n{}",
            refused.len(),
            files.len(),
            list.join("\n")
        )));
    }
    Ok((checked, refused))
}

/// Encrypts, stores and attests one checked Bundle.
pub fn attest_one(
    ctx: &Ctx,
    clinic: &Clinic,
    patient_key: &Pubkey,
    checked: &Checked,
    options: &AttestOptions,
    today: u16,
) -> Result<Attested, FlowError> {
    let file = checked.file.display().to_string();
    let prepared = &checked.prepared;
    if !clinic.issuer.is_active() {
        return Err(FlowError::Refused(format!(
            "your issuer {} is suspended: it cannot attest until governance reinstates it (nothing was stored)",
            clinic.issuer_key
        )));
    }
    let patient: Patient = ctx.account(patient_key, "patient profile")?;
    let attestation = pda::attestation(
        &ctx.program_id(),
        &clinic.issuer_key,
        &prepared.commitments.evidence,
    );
    if ctx
        .chain
        .fetch::<rekam::Attestation>(&attestation)?
        .is_some()
    {
        return Err(FlowError::Refused(format!(
            "{file} is already attested as {attestation} (nothing to resume)"
        )));
    }
    let mut envelope = prepared.envelope.clone();
    envelope.issuer_jwt = Some(sdjwt::issuer_jwt(
        &envelope.claim_set()?,
        &IssuerClaims {
            program: &ctx.program_id(),
            issuer: &clinic.issuer_key,
            attestation: &attestation,
            holder: &patient.authority,
            issued_at: unix_now(),
        },
        clinic.signer,
    ));
    let (sealed, _) = record::seal(
        &envelope,
        &[patient.encryption_key, clinic.issuer.encryption_key],
    )?;
    let locator = block_on(ctx.store.put(sealed))??;
    let args = AttestationIssueArgs {
        evidence_commitment: prepared.commitments.evidence,
        kind: prepared.summary.kind,
        diagnosis_commitment: prepared.commitments.diagnosis,
        claims_root: prepared.commitments.claims_root,
        treatment_day: prepared.summary.treatment_day,
        expires_on_day: options
            .expires_in_days
            .map(|d| today.saturating_add(d))
            .unwrap_or(0),
    };
    let signer = clinic.signer;
    let memo = Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![],
        data: format!("{MEMO_PREFIX}{locator}").into_bytes(),
    };
    let issue = ix::attestation_issue(
        &ctx.program_id(),
        &signer.pubkey(),
        &signer.pubkey(),
        &clinic.issuer_key,
        patient_key,
        args,
    );
    let signature = match ctx.chain.send(&[issue, memo], signer, &[]) {
        Ok(signature) => signature,
        Err(err) => {
            // Leave no record without its attestation: remove what was just stored.
            let removed = matches!(block_on(ctx.store.delete(&locator)), Ok(Ok(())));
            let left = if removed {
                "the stored record was removed"
            } else {
                "the stored record could not be removed"
            };
            return Err(FlowError::Refused(format!(
                "attesting {file} failed ({left}); run the same command again to retry: {err}"
            )));
        }
    };
    Ok(Attested {
        file,
        attestation: attestation.to_string(),
        kind: record::kind_name(prepared.summary.kind).into(),
        treatment_date: prepared.summary.treatment_date.clone(),
        claims: prepared.envelope.disclosures.len() as u32,
        locator: locator.to_string(),
        signature,
        warnings: checked.warnings.iter().map(ToString::to_string).collect(),
    })
}

/// Checks and attests one Bundle file (what the demo and single-file callers need).
pub fn attest_file(
    ctx: &Ctx,
    clinic: &Clinic,
    patient: &Pubkey,
    file: &Path,
    options: &AttestOptions,
    today: u16,
) -> Result<Attested, FlowError> {
    let checked = check(file, clinic.signer, patient, options, today).map_err(|reason| {
        FlowError::Refused(format!("{} cannot be attested: {reason}", file.display()))
    })?;
    attest_one(ctx, clinic, patient, &checked, options, today)
}
