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
use solana_signer::Signer;

use super::{block_on, unix_now, Ctx, FlowError};
use crate::claims::sdjwt::{self, IssuerClaims};
use crate::crypto::Identity;
use crate::fhir::validate::Issue;
use crate::fhir::ReadOptions;
use crate::record::{self, Prepared, MEMO_PROGRAM};
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
    pub signer: &'a dyn Signer,
    /// The clinic's encryption identity: record salts derive from it ([`record::record_salt`]).
    pub identity: &'a Identity,
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

/// A Bundle read and checked, ready to attest: one prepared record per kind it holds.
pub struct Checked {
    pub file: PathBuf,
    pub parts: Vec<Prepared>,
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

/// Reads and validates one Bundle, deriving its record salt from the clinic's identity.
pub fn check(
    file: &Path,
    clinic: &Identity,
    patient: &Pubkey,
    options: &AttestOptions,
    today: u16,
) -> Result<Checked, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    let parts = record::prepare_parts(
        &bytes,
        record::record_salt(clinic, &bytes, patient),
        ReadOptions {
            strict: options.strict,
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some(future) = parts.iter().find(|p| p.summary.treatment_day > today) {
        return Err(format!(
            "its date of treatment {} is in the future",
            future.summary.treatment_date
        ));
    }
    let warnings = parts[0].summary.warnings.clone();
    Ok(Checked {
        file: file.to_path_buf(),
        parts,
        warnings,
    })
}

/// Validates every Bundle before anything is stored: all are returned checked, or, unless
/// `skip_invalid`, nothing is attested and every refusal is reported.
pub fn check_all(
    files: &[PathBuf],
    clinic: &Identity,
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
    if let ([only], [refusal]) = (files, refused.as_slice()) {
        return Err(FlowError::Refused(format!(
            "{} cannot be attested: {}",
            only.display(),
            refusal.reason
        )));
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

/// Encrypts, stores and attests one checked Bundle: one record and one attestation per
/// part, the attestations packed into as few transactions as fit. Parts already attested
/// (a re-run after a crash) are skipped, so the command resumes.
pub fn attest_one(
    ctx: &Ctx,
    clinic: &Clinic,
    patient_key: &Pubkey,
    checked: &Checked,
    options: &AttestOptions,
    today: u16,
) -> Result<Vec<Attested>, FlowError> {
    let file = checked.file.display().to_string();
    if !clinic.issuer.is_active() {
        return Err(FlowError::Refused(format!(
            "your issuer {} is suspended: it cannot attest until governance reinstates it (nothing was stored)",
            clinic.issuer_key
        )));
    }
    if let Some(p) = checked
        .parts
        .iter()
        .find(|p| !clinic.issuer.may_issue(p.summary.kind))
    {
        return Err(FlowError::Refused(format!(
            "{file} holds {} facts, which your issuer's roles may not attest (nothing was stored)",
            record::kind_name(p.summary.kind)
        )));
    }
    let patient: Patient = ctx.account(patient_key, "patient profile")?;
    let addresses: Vec<Pubkey> = checked
        .parts
        .iter()
        .map(|p| {
            pda::attestation(
                &ctx.program_id(),
                &clinic.issuer_key,
                &p.commitments.evidence,
            )
        })
        .collect();
    let mut todo = Vec::new();
    for (part, address) in checked.parts.iter().zip(&addresses) {
        if ctx.chain.fetch::<rekam::Attestation>(address)?.is_none() {
            todo.push((part, *address));
        }
    }
    if todo.is_empty() {
        return Err(FlowError::Refused(format!(
            "{file} is already attested as {} (nothing to resume)",
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Seal and store every remaining part first.
    let mut stored = Vec::with_capacity(todo.len());
    for (part, address) in &todo {
        let mut envelope = part.envelope.clone();
        if let Some(source) = envelope.source.as_mut() {
            source.attestations = addresses.iter().map(ToString::to_string).collect();
        }
        envelope.issuer_jwt = Some(sdjwt::issuer_jwt(
            &envelope.claim_set()?,
            &IssuerClaims {
                program: &ctx.program_id(),
                issuer: &clinic.issuer_key,
                attestation: address,
                holder: &patient.authority,
                issued_at: unix_now(),
            },
            clinic.signer,
        )?);
        let (sealed, _) = record::seal(
            &envelope,
            &[patient.encryption_key, clinic.issuer.encryption_key],
        )?;
        match block_on(ctx.store.put(sealed))? {
            Ok(locator) => stored.push((*part, *address, locator, envelope)),
            Err(e) => {
                remove(ctx, stored.iter().map(|s| &s.2));
                return Err(e.into());
            }
        }
    }
    // Then issue them, as many per transaction as fit.
    let signer = clinic.signer;
    let mut pairs = Vec::with_capacity(stored.len());
    for (part, address, locator, envelope) in &stored {
        let args = AttestationIssueArgs {
            evidence_commitment: part.commitments.evidence,
            kind: part.summary.kind,
            diagnosis_commitment: part.commitments.diagnosis,
            claims_root: part.commitments.claims_root,
            treatment_day: part.summary.treatment_day,
            expires_on_day: options
                .expires_in_days
                .map(|d| today.saturating_add(d))
                .unwrap_or(0),
        };
        let memo = Instruction {
            program_id: MEMO_PROGRAM,
            accounts: vec![],
            data: record::locator_memo(
                address,
                &locator.to_string(),
                envelope.source.as_ref().map(|s| s.tag.as_str()),
            )
            .into_bytes(),
        };
        let issue = ix::attestation_issue(
            &ctx.program_id(),
            &signer.pubkey(),
            &signer.pubkey(),
            &clinic.issuer_key,
            patient_key,
            args,
        );
        pairs.push([issue, memo]);
    }
    let mut attested = Vec::with_capacity(stored.len());
    let mut next = 0;
    for batch in pack(ctx, &signer.pubkey(), &pairs) {
        let ixs: Vec<Instruction> = pairs[next..next + batch]
            .iter()
            .flatten()
            .cloned()
            .collect();
        let signature = match ctx.chain.send(&ixs, signer, &[]) {
            Ok(signature) => signature,
            Err(err) => {
                // Leave no record without its attestation: remove what this and the
                // later transactions would have attested.
                let left = remove(ctx, stored[next..].iter().map(|s| &s.2));
                return Err(FlowError::Refused(format!(
                    "attesting {file} failed ({left}); run the same command again to resume: {err}"
                )));
            }
        };
        for (part, address, locator, _) in &stored[next..next + batch] {
            attested.push(Attested {
                file: file.clone(),
                attestation: address.to_string(),
                kind: record::kind_name(part.summary.kind).into(),
                treatment_date: part.summary.treatment_date.clone(),
                claims: part.envelope.disclosures.len() as u32,
                locator: locator.to_string(),
                signature: signature.clone(),
                warnings: checked.warnings.iter().map(ToString::to_string).collect(),
            });
        }
        next += batch;
    }
    Ok(attested)
}

/// Deletes stored objects; says whether all went.
fn remove<'a>(ctx: &Ctx, locators: impl Iterator<Item = &'a crate::storage::Locator>) -> String {
    let (mut removed, mut kept) = (0, 0);
    for locator in locators {
        match block_on(ctx.store.delete(locator)) {
            Ok(Ok(())) => removed += 1,
            _ => kept += 1,
        }
    }
    match (removed, kept) {
        (1, 0) => "the stored record was removed".into(),
        (n, 0) => format!("the {n} stored records were removed"),
        (_, k) => format!("{k} stored record(s) could not be removed"),
    }
}

/// How many (issue, memo) pairs go in each transaction: greedily, as many as fit one
/// 1,232-byte packet with the fee instructions and one signature.
fn pack(ctx: &Ctx, payer: &Pubkey, pairs: &[[Instruction; 2]]) -> Vec<usize> {
    let fees = ctx.chain.fees.instructions();
    let fits = |pairs: &[[Instruction; 2]]| {
        let mut ixs = fees.clone();
        ixs.extend(pairs.iter().flatten().cloned());
        let tx = solana_transaction::Transaction::new_with_payer(&ixs, Some(payer));
        1 + 64 + tx.message_data().len() <= 1232
    };
    let mut sizes = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let mut n = 1;
        while start + n < pairs.len() && fits(&pairs[start..start + n + 1]) {
            n += 1;
        }
        sizes.push(n);
        start += n;
    }
    sizes
}

/// Checks and attests one Bundle file (what the demo and single-file callers need).
pub fn attest_file(
    ctx: &Ctx,
    clinic: &Clinic,
    patient: &Pubkey,
    file: &Path,
    options: &AttestOptions,
    today: u16,
) -> Result<Vec<Attested>, FlowError> {
    let checked = check(file, clinic.identity, patient, options, today).map_err(|reason| {
        FlowError::Refused(format!("{} cannot be attested: {reason}", file.display()))
    })?;
    attest_one(ctx, clinic, patient, &checked, options, today)
}
