//! `rekam patient register|show`: the patient's pseudonymous profile.

use anyhow::bail;
use rekam::PatientRegisterArgs;
use rekam_client::{ix, pda};
use serde::Serialize;
use solana_signer::Signer;

use crate::app::App;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create this wallet's patient profile (random pseudonym, wallet-derived key).
    #[command(after_help = "Example:\n  rekam -k patient.json patient register")]
    Register,
    /// Show this wallet's profile.
    #[command(after_help = "Example:\n  rekam -k patient.json patient show")]
    Show,
}

#[derive(Serialize)]
struct PatientOut {
    patient: String,
    authority: String,
    encryption_key: String,
    consents_created: u64,
    accesses: u64,
    signature: Option<String>,
}

impl Render for PatientOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Patient {}\n  Wallet:          {}\n  Encryption key:  {}\n  Consents:        {}\n  Accesses:        {}",
            self.patient, self.authority, self.encryption_key, self.consents_created, self.accesses
        );
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature:       {sig}"));
        }
        out
    }
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let signature = match command {
        Command::Register => {
            if let Ok((existing, _)) = app.own_patient() {
                bail!("this wallet already has patient profile {existing}");
            }
            let mut pseudonym = [0u8; 32];
            aws_lc_rs::rand::fill(&mut pseudonym)
                .map_err(|_| anyhow::anyhow!("system RNG failed"))?;
            let identity = app.identity()?;
            let signer = app.signer()?;
            let ix = ix::patient_register(
                &app.program_id(),
                &signer.pubkey(),
                PatientRegisterArgs {
                    pseudonym,
                    encryption_key: identity.public_key(),
                },
            );
            let sig = app.chain.send(&[ix], &signer, &[])?;
            debug_assert_eq!(
                app.own_patient()?.0,
                pda::patient(&app.program_id(), &pseudonym)
            );
            Some(sig)
        }
        Command::Show => None,
    };
    let (key, patient) = app.own_patient()?;
    output::print(
        settings.output,
        &PatientOut {
            patient: key.to_string(),
            authority: patient.authority.to_string(),
            encryption_key: hex::encode(patient.encryption_key),
            consents_created: patient.consents_created,
            accesses: patient.accesses,
            signature,
        },
    )
}
