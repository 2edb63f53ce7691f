//! `rekam recovery propose|approve|cancel|execute|show|rewrap`: social recovery of a
//! patient's authority after a lost wallet.
//!
//! Guardians propose and approve (M of N); a time lock follows, during which the current
//! wallet can `cancel`; then the new wallet `execute`s and becomes the profile's authority
//! with its own encryption key. A recovery never reads a record. The records' keys reach
//! the new wallet through the clinics that issued them: `rewrap`, run by a clinic, wraps
//! the existing data keys of the records it issued to the patient's new key (a patient
//! grant, announced with a memo on the profile). The data keys do not change, so every
//! consent's key grant keeps working.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{valid_approvals, Guardianship, Patient, Recovery};
use rekam_client::record::{self, KeyGrantObject};
use rekam_client::{ix, pda};
use serde::Serialize;
use solana_signer::Signer;

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Guardian: propose moving a patient's profile to a new wallet.
    #[command(
        after_help = "Example:\n  rekam -k guardian.json recovery propose <PATIENT> --new-wallet new-wallet.json"
    )]
    Propose {
        /// The patient's profile address.
        #[arg(value_parser = pubkey_arg)]
        patient: Pubkey,
        /// The wallet to become the profile's authority: an address or a keypair file.
        #[arg(long, value_parser = pubkey_arg)]
        new_wallet: Pubkey,
    },
    /// Guardian: approve the patient's pending recovery.
    #[command(after_help = "Example:\n  rekam -k guardian.json recovery approve <PATIENT>")]
    Approve {
        /// The patient's profile address.
        #[arg(value_parser = pubkey_arg)]
        patient: Pubkey,
    },
    /// Patient (current wallet): cancel a pending recovery. A guardian may instead clear
    /// a proposal that failed to reach the threshold within one time lock (--patient).
    #[command(
        after_help = "Examples:\n  rekam recovery cancel\n  rekam -k guardian.json recovery cancel --patient <PATIENT>"
    )]
    Cancel {
        /// The patient's profile address (default: this wallet's).
        #[arg(long, value_parser = pubkey_arg)]
        patient: Option<Pubkey>,
    },
    /// New wallet: take over the profile once the time lock has passed.
    #[command(after_help = "Example:\n  rekam -k new-wallet.json recovery execute <PATIENT>")]
    Execute {
        /// The patient's profile address.
        #[arg(value_parser = pubkey_arg)]
        patient: Pubkey,
    },
    /// Show a patient's pending recovery.
    #[command(after_help = "Example:\n  rekam recovery show <PATIENT>")]
    Show {
        /// The patient's profile address.
        #[arg(value_parser = pubkey_arg)]
        patient: Pubkey,
    },
    /// Clinic: wrap the keys of the records you issued for a patient to the patient's
    /// current encryption key (after a recovery).
    #[command(after_help = "Example:\n  rekam -k clinic.json recovery rewrap <PATIENT>")]
    Rewrap {
        /// The patient's profile address.
        #[arg(value_parser = pubkey_arg)]
        patient: Pubkey,
    },
}

#[derive(Serialize)]
pub struct RecoveryOut {
    pub patient: String,
    pub recovery: String,
    pub status: String,
    pub new_wallet: String,
    pub proposer: String,
    pub approvals: Vec<String>,
    pub approvals_counted: usize,
    pub threshold: u8,
    /// 0 until the threshold is met.
    pub unlocks_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Render for RecoveryOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Recovery of patient {} ({})\n  New wallet: {}\n  Approvals:  {} of {} needed\n  Unlocks at: {}",
            self.patient,
            self.status,
            self.new_wallet,
            self.approvals_counted,
            self.threshold,
            if self.unlocks_at == 0 {
                "not yet (threshold not met)".to_string()
            } else {
                self.unlocks_at.to_string()
            }
        );
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature:  {sig}"));
        }
        out
    }
}

#[derive(Serialize)]
pub struct Done {
    pub patient: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    pub signature: String,
}

impl Render for Done {
    fn text(&self) -> String {
        let mut out = format!("{} for patient {}", self.outcome, self.patient);
        if let Some(a) = &self.authority {
            out.push_str(&format!("\n  Authority now: {a}"));
        }
        if let Some(n) = self.records {
            out.push_str(&format!("\n  Records re-wrapped: {n}"));
        }
        if let Some(g) = &self.grant {
            out.push_str(&format!("\n  Patient grant: {g}"));
        }
        out.push_str(&format!("\n  Signature: {}", self.signature));
        out
    }
}

fn show(app: &App, patient: &Pubkey, signature: Option<String>) -> anyhow::Result<RecoveryOut> {
    let pid = app.program_id();
    let key = pda::recovery(&pid, patient);
    let r: Recovery = app.fetch(&key, "pending recovery")?;
    let g: Guardianship = app.fetch(&pda::guardianship(&pid, patient), "guardianship")?;
    let now = crate::app::unix_now();
    let status = if r.unlocks_at == 0 {
        "awaiting approvals"
    } else if now < r.unlocks_at {
        "time-locked"
    } else {
        "ready to execute"
    };
    Ok(RecoveryOut {
        patient: patient.to_string(),
        recovery: key.to_string(),
        status: status.into(),
        new_wallet: r.new_authority.to_string(),
        proposer: r.proposer.to_string(),
        approvals: r.approvals.iter().map(|a| a.guardian.to_string()).collect(),
        approvals_counted: valid_approvals(&r.approvals, &g.guardians),
        threshold: g.threshold,
        unlocks_at: r.unlocks_at,
        signature,
    })
}

/// A clinic wraps the data keys of every record it issued for `patient` to the
/// patient's current encryption key, stores that grant and announces it on the profile.
pub fn rewrap(app: &mut App, patient_key: &Pubkey) -> anyhow::Result<Done> {
    let (issuer_key, _) = app.own_issuer()?;
    let patient: Patient = app.fetch(patient_key, "patient profile")?;
    let identity = app.identity()?;
    let store = app.store()?;
    let mut grant = KeyGrantObject::new(&patient.encryption_key);
    for (attestation, a) in app.attestations_of(patient_key)? {
        if a.issuer != issuer_key {
            continue;
        }
        let locator = app.record_locator(&attestation)?;
        let bytes = App::block_on(store.get(&locator))?
            .with_context(|| format!("cannot fetch {locator}"))?;
        // Only the attested record is re-wrapped: open it and check it against the chain.
        let (envelope, _) = record::open(&bytes, &identity)?;
        envelope.check(&app.program_id(), &attestation, &a)?;
        grant.add(&attestation, &locator.to_string(), &bytes, &identity)?;
    }
    if grant.entries.is_empty() {
        bail!("your issuer {issuer_key} issued no record for patient {patient_key}");
    }
    let records = grant.entries.len();
    let locator = App::block_on(store.put(grant.to_bytes()))??;
    let signer = app.signer()?;
    let memo = solana_instruction::Instruction {
        program_id: record::MEMO_V1_PROGRAM,
        accounts: vec![solana_instruction::AccountMeta::new_readonly(
            *patient_key,
            false,
        )],
        data: format!("{}{locator}", record::PATIENT_GRANT_PREFIX).into_bytes(),
    };
    let signature = app.chain.send(&[memo], &signer, &[])?;
    Ok(Done {
        patient: patient_key.to_string(),
        outcome: "Re-wrapped record keys".into(),
        authority: None,
        records: Some(records),
        grant: Some(locator.to_string()),
        signature,
    })
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let pid = app.program_id();
    let format = settings.output;
    match command {
        Command::Propose {
            patient,
            new_wallet,
        } => {
            let signer = app.signer()?;
            let proposed = app.with_ctx(|ctx| {
                rekam_client::flows::recovery::propose(ctx, &signer, &patient, new_wallet)
            })?;
            if let Some((proposer, wallet)) = &proposed.replaced {
                eprintln!(
                    "cleared the stale recovery to {wallet} (proposed by {proposer}) in the same transaction"
                );
            }
            output::print(format, &show(&app, &patient, Some(proposed.signature))?)
        }
        Command::Approve { patient } => {
            let signer = app.signer()?;
            let ix = ix::recovery_approve(&pid, &signer.pubkey(), &patient);
            let sig = app.chain.send(&[ix], &signer, &[])?;
            output::print(format, &show(&app, &patient, Some(sig))?)
        }
        Command::Cancel { patient } => {
            let patient = match patient {
                Some(p) => p,
                None => app.own_patient()?.0,
            };
            let r: Recovery = app.fetch(&pda::recovery(&pid, &patient), "pending recovery")?;
            let signer = app.signer()?;
            let ix = ix::recovery_cancel(&pid, &signer.pubkey(), &patient, &r.proposer);
            let signature = app.chain.send(&[ix], &signer, &[])?;
            output::print(
                format,
                &Done {
                    patient: patient.to_string(),
                    outcome: "Cancelled the recovery".into(),
                    authority: None,
                    records: None,
                    grant: None,
                    signature,
                },
            )
        }
        Command::Execute { patient } => {
            let r: Recovery = app.fetch(&pda::recovery(&pid, &patient), "pending recovery")?;
            let key = app.identity()?.public_key();
            let signer = app.signer()?;
            if r.new_authority != signer.pubkey() {
                bail!(
                    "this recovery moves the profile to {}, not to {}",
                    r.new_authority,
                    signer.pubkey()
                );
            }
            let ix = ix::recovery_execute(&pid, &signer.pubkey(), &patient, &r.proposer, key);
            let signature = app.chain.send(&[ix], &signer, &[])?;
            output::print(
                format,
                &Done {
                    patient: patient.to_string(),
                    outcome: "Recovered the profile (ask the issuing clinics to run `rekam recovery rewrap`, then run `rekam identity rekey`)".into(),
                    authority: Some(signer.pubkey().to_string()),
                    records: None,
                    grant: None,
                    signature,
                },
            )
        }
        Command::Show { patient } => output::print(format, &show(&app, &patient, None)?),
        Command::Rewrap { patient } => output::print(format, &rewrap(&mut app, &patient)?),
    }
}
