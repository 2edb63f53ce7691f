//! `rekam guardians set|show`: the patient names guardians for emergencies and recovery.
//!
//! `set` wraps the keys of the emergency scope (e.g. the emergency summary record) to a
//! fresh emergency key, splits that key M-of-N among the guardians, stores the object and
//! sets the guardians on-chain (first time or as a change): `flows::guardians`. A
//! guardian holds one share, which opens nothing alone.

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use rekam::{ConsentScope, Guardianship};
use rekam_client::flows::{self, guardians::GuardianSettings, records::OwnRecords};
use rekam_client::pda;
use serde::Serialize;

use crate::app::{pubkey_arg, App};
use crate::commands::consent::parse_kind;
use crate::commands::issuer::parse_key;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Name guardians (or replace them): wallets and their encryption keys, a threshold,
    /// the emergency scope and limits.
    #[command(
        after_help = "Example:\n  rekam guardians set --guardian <WALLET>=<KEY_HEX> --guardian <WALLET>=<KEY_HEX> --threshold 2 --emergency-kinds diagnosis,prescription"
    )]
    Set {
        /// A guardian as WALLET=ENCRYPTION_KEY_HEX (their `rekam identity`); repeatable.
        #[arg(long = "guardian", required = true)]
        guardians: Vec<String>,
        /// Approvals needed (M of N).
        #[arg(long)]
        threshold: u8,
        /// Records (attestation addresses) a clinic may read in an emergency (repeatable).
        #[arg(long = "emergency-attestation", value_parser = pubkey_arg)]
        emergency_attestations: Vec<Pubkey>,
        /// Record kinds a clinic may read in an emergency (comma-separated): diagnosis,
        /// lab-result, prescription, vaccination, imaging, other.
        #[arg(long, value_delimiter = ',')]
        emergency_kinds: Vec<String>,
        /// Longest emergency access, in hours (at most 72).
        #[arg(long, default_value_t = 24)]
        emergency_max_hours: u32,
        /// Time lock of a social recovery, in hours (24 to 720).
        #[arg(long, default_value_t = 48)]
        recovery_timelock_hours: u32,
    },
    /// Show a patient's guardians (default: yours).
    #[command(
        after_help = "Examples:\n  rekam guardians show\n  rekam guardians show --patient <PATIENT>"
    )]
    Show {
        /// The patient's profile address (default: this wallet's).
        #[arg(long, value_parser = pubkey_arg)]
        patient: Option<Pubkey>,
    },
}

#[derive(Serialize)]
pub struct GuardiansOut {
    pub patient: String,
    pub guardianship: String,
    pub guardians: Vec<String>,
    pub threshold: u8,
    pub emergency_kinds: Vec<String>,
    pub emergency_attestations: Vec<String>,
    pub emergency_max_hours: i64,
    pub recovery_timelock_hours: i64,
    pub emergencies_requested: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_in_grants: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Render for GuardiansOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Guardians of patient {} ({} of {} must approve)\n",
            self.patient,
            self.threshold,
            self.guardians.len()
        );
        for g in &self.guardians {
            out.push_str(&format!("  {g}\n"));
        }
        out.push_str(&format!(
            "  Emergency scope: kinds [{}], records [{}]; at most {} h\n  Recovery time lock: {} h",
            self.emergency_kinds.join(", "),
            self.emergency_attestations.join(", "),
            self.emergency_max_hours,
            self.recovery_timelock_hours
        ));
        if let Some(n) = self.records_in_grants {
            out.push_str(&format!(
                "\n  Emergency records in the guardians' threshold grant: {n}"
            ));
        }
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature: {sig}"));
        }
        out
    }
}

pub fn describe(key: &Pubkey, g: &Guardianship) -> GuardiansOut {
    GuardiansOut {
        patient: g.patient.to_string(),
        guardianship: key.to_string(),
        guardians: g.guardians.iter().map(ToString::to_string).collect(),
        threshold: g.threshold,
        emergency_kinds: rekam::AttestationKind::ALL
            .iter()
            .filter(|k| g.emergency_scope.kinds & k.bit() != 0)
            .map(|k| rekam_client::record::kind_name(*k).to_string())
            .collect(),
        emergency_attestations: g
            .emergency_scope
            .attestations
            .iter()
            .map(ToString::to_string)
            .collect(),
        emergency_max_hours: g.emergency_max_seconds / 3_600,
        recovery_timelock_hours: g.recovery_timelock_seconds / 3_600,
        emergencies_requested: g.emergencies_requested,
        records_in_grants: None,
        signature: None,
    }
}

/// Sets (or replaces) the signer's guardians (the flow `rekam_client::flows::guardians`).
pub fn set(app: &mut App, settings: GuardianSettings) -> anyhow::Result<GuardiansOut> {
    let (patient_key, _) = app.own_patient()?;
    let identity = app.identity()?;
    let signer = app.signer()?;
    let own = OwnRecords::default();
    let done = app.with_ctx(|ctx| {
        flows::guardians::set(ctx, &own, &signer, &identity, &patient_key, settings)
    })?;
    shown(app, done)
}

fn shown(app: &App, done: flows::guardians::GuardiansSet) -> anyhow::Result<GuardiansOut> {
    let g: Guardianship = app.fetch(&done.guardianship, "guardianship")?;
    let mut out = describe(&done.guardianship, &g);
    out.records_in_grants = Some(done.records);
    out.signature = Some(done.signature);
    Ok(out)
}

/// Re-issues the guardians' grants with the same settings (after the patient re-keyed
/// records, the old grants name records that no longer exist). True when there were
/// guardians to refresh.
pub fn refresh(app: &mut App, patient: &Pubkey) -> anyhow::Result<bool> {
    let identity = app.identity()?;
    let signer = app.signer()?;
    let own = OwnRecords::default();
    let done =
        app.with_ctx(|ctx| flows::guardians::refresh(ctx, &own, &signer, &identity, patient))?;
    Ok(done.is_some())
}

/// Parses `WALLET=KEYHEX`.
pub fn parse_guardian(text: &str) -> anyhow::Result<(Pubkey, [u8; 32])> {
    let (wallet, key) = text
        .split_once('=')
        .with_context(|| format!("{text:?}: write a guardian as WALLET=ENCRYPTION_KEY_HEX"))?;
    Ok((
        wallet
            .trim()
            .parse()
            .with_context(|| format!("{wallet:?} is not a wallet address"))?,
        parse_key(key)?,
    ))
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    match command {
        Command::Set {
            guardians,
            threshold,
            emergency_attestations,
            emergency_kinds,
            emergency_max_hours,
            recovery_timelock_hours,
        } => {
            let guardians = guardians
                .iter()
                .map(|g| parse_guardian(g))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let kinds = emergency_kinds
                .iter()
                .map(|k| parse_kind(k).map(|k| k.bit()))
                .try_fold(0u8, |mask, bit| bit.map(|b| mask | b))?;
            let scope = ConsentScope {
                kinds,
                attestations: emergency_attestations,
            };
            let out = set(
                &mut app,
                GuardianSettings {
                    guardians,
                    threshold,
                    scope,
                    emergency_max_seconds: i64::from(emergency_max_hours) * 3_600,
                    recovery_timelock_seconds: i64::from(recovery_timelock_hours) * 3_600,
                },
            )?;
            output::print(settings.output, &out)
        }
        Command::Show { patient } => {
            let patient = match patient {
                Some(p) => p,
                None => app.own_patient()?.0,
            };
            let key = pda::guardianship(&app.program_id(), &patient);
            let g: Guardianship = app.fetch(&key, "guardianship (no guardians named)")?;
            output::print(settings.output, &describe(&key, &g))
        }
    }
}
