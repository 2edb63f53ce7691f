//! `rekam verify`: anyone checks an attestation's status, issuer and dates.

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, Issuer};
use rekam_client::record;
use serde::Serialize;

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  rekam verify <ATTESTATION>")]
pub struct Args {
    /// The attestation's address.
    #[arg(value_parser = pubkey_arg)]
    pub attestation: Pubkey,
}

/// The same rule as the program's `attestation_verify`.
pub fn status_of(a: &Attestation, issuer: &Issuer, now: i64) -> &'static str {
    if a.is_revoked() {
        "revoked"
    } else if a.is_expired(now) {
        "expired"
    } else if !issuer.is_active() {
        "issuer-suspended"
    } else if issuer.voids(a.issued_at) {
        "voided"
    } else {
        "active"
    }
}

#[derive(Serialize)]
struct Verified {
    attestation: String,
    status: String,
    kind: String,
    treatment_day: u16,
    issuer: String,
    issuer_status: String,
    patient: String,
    issued_at: i64,
    expires_on_day: Option<u16>,
    revoked_at: Option<i64>,
}

impl Render for Verified {
    fn text(&self) -> String {
        format!(
            "Attestation {}\n  Status:        {}\n  Kind:          {}\n  Treatment day: {}\n  Issuer:        {} ({})\n  Patient:       {}\n  Issued at:     {}\n  Expires:       {}\n  Revoked at:    {}",
            self.attestation,
            self.status,
            self.kind,
            self.treatment_day,
            self.issuer,
            self.issuer_status,
            self.patient,
            self.issued_at,
            self.expires_on_day.map_or("never".into(), |d| format!("day {d}")),
            self.revoked_at.map_or("-".into(), |t| t.to_string())
        )
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let app = App::new(settings);
    let a: Attestation = app.fetch(&args.attestation, "attestation")?;
    let issuer: Issuer = app.fetch(&a.issuer, "issuer")?;
    let now = app.chain.now()?;
    output::print(
        settings.output,
        &Verified {
            attestation: args.attestation.to_string(),
            status: status_of(&a, &issuer, now).into(),
            kind: record::kind_name(a.kind).into(),
            treatment_day: a.treatment_day,
            issuer: a.issuer.to_string(),
            issuer_status: format!("{:?}", issuer.status),
            patient: a.patient.to_string(),
            issued_at: a.issued_at,
            expires_on_day: (a.expires_on_day != 0).then_some(a.expires_on_day),
            revoked_at: (a.revoked_at != 0).then_some(a.revoked_at),
        },
    )
}
