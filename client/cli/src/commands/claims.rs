//! `rekam claims` (list a record's claims), `rekam disclose` (present chosen claims) and
//! `rekam presentation verify` (anyone checks a presentation). The flows are in
//! `rekam_client::flows::present`; this parses, calls and renders.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam_client::claims::presentation::{Expect, Presentation, Verdict, DEFAULT_MAX_AGE};
use rekam_client::claims::ClaimId;
use rekam_client::flows::access::Reader;
use rekam_client::flows::present::{self, ClaimRow, DiscloseRequest};
use rekam_client::flows::records::OwnRecords;
use rekam_client::storage::Locator;
use serde::Serialize;

use crate::app::{pubkey_arg, unix_now, App};
use crate::commands::records::write_bundle;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  rekam claims 7xKX...Qm3d --output json")]
pub struct ClaimsArgs {
    /// The attestation whose record to list (one of your records, or one shared with you).
    #[arg(value_parser = pubkey_arg)]
    pub attestation: Pubkey,
    /// Read it as a provider under this consent (the access receipt goes on-chain first).
    #[arg(long, value_parser = pubkey_arg)]
    pub consent: Option<Pubkey>,
    /// The record's locator, when the chain history no longer has it.
    #[arg(long)]
    pub locator: Option<Locator>,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  rekam disclose 7xKX...Qm3d --claim 7xKX...Qm3d#4 --audience pharmacy.example --nonce 8f2c --out p.json"
)]
pub struct DiscloseArgs {
    /// The attestation whose claims to disclose.
    #[arg(value_parser = pubkey_arg)]
    pub attestation: Pubkey,
    /// A claim id from `rekam claims` (`<attestation>#<index>`); repeat for several.
    #[arg(long = "claim", required = true)]
    pub claims: Vec<ClaimId>,
    /// Who the presentation is for (a name or a public key); the verifier checks it.
    #[arg(long)]
    pub audience: String,
    /// The verifier's challenge, if it gave one.
    #[arg(long, default_value = "")]
    pub nonce: String,
    /// Where to write the presentation.
    #[arg(long)]
    pub out: PathBuf,
    /// `rekam`: a Rekam presentation (JSON, with proofs under the on-chain root);
    /// `sd-jwt`: a standard SD-JWT with key binding, signed by the issuer.
    #[arg(long, value_enum, default_value_t = Format::Rekam)]
    pub format: Format,
    /// The record's locator, when the chain history no longer has it.
    #[arg(long)]
    pub locator: Option<Locator>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Rekam,
    SdJwt,
}

#[derive(clap::Subcommand, Debug)]
pub enum PresentationCommand {
    /// Anyone: verify a presentation offline (proofs, holder binding) and live (status).
    #[command(
        after_help = "Example:\n  rekam presentation verify p.json --audience pharmacy.example --nonce 8f2c"
    )]
    Verify(VerifyArgs),
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The presentation file (from `rekam disclose`).
    pub file: PathBuf,
    /// The audience you are: refuse a presentation made for anyone else.
    #[arg(long)]
    pub audience: Option<String>,
    /// The challenge you gave: refuse a presentation made for another.
    #[arg(long)]
    pub nonce: Option<String>,
    /// How old the holder binding may be, in seconds.
    #[arg(long, default_value_t = DEFAULT_MAX_AGE)]
    pub max_age: i64,
}

#[derive(Serialize)]
struct Listing {
    attestation: String,
    kind: String,
    claims: Vec<ClaimRow>,
}

impl Render for Listing {
    fn text(&self) -> String {
        let mut out = format!("Claims of {} ({})\n", self.attestation, self.kind);
        for c in &self.claims {
            out.push_str(&format!("  {}  {}\n", c.id, c.words));
        }
        out.trim_end().to_string()
    }
}

pub fn claims(settings: &Settings, args: ClaimsArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let signer = app.signer()?;
    let own = OwnRecords::default();
    let (record, rows) = app.with_ctx(|ctx| {
        let record = match &args.consent {
            Some(consent) => {
                Reader::new(ctx, &signer, &identity, consent)?.read(ctx, &args.attestation)?
            }
            None => own.open(ctx, &identity, &args.attestation, args.locator.clone())?,
        };
        let rows = present::claims_of(&record)?;
        Ok((record, rows))
    })?;
    output::print(
        settings.output,
        &Listing {
            attestation: args.attestation.to_string(),
            kind: record.envelope.kind.clone(),
            claims: rows,
        },
    )
}

#[derive(Serialize)]
struct Disclosed {
    attestation: String,
    claims: Vec<String>,
    audience: String,
    out: String,
}

impl Render for Disclosed {
    fn text(&self) -> String {
        format!(
            "Disclosed {} claim(s) of {} to {:?}\n  {}\n  Wrote {}",
            self.claims.len(),
            self.attestation,
            self.audience,
            self.claims.join("\n  "),
            self.out
        )
    }
}

pub fn disclose(settings: &Settings, args: DiscloseArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let holder = app.signer()?;
    let own = OwnRecords::default();
    let bytes = app.with_ctx(|ctx| {
        let record = own.open(ctx, &identity, &args.attestation, args.locator.clone())?;
        let request = DiscloseRequest {
            claims: &args.claims,
            audience: &args.audience,
            nonce: &args.nonce,
            now: unix_now(),
        };
        Ok(match args.format {
            Format::Rekam => {
                serde_json::to_vec_pretty(&present::disclose(ctx, &record, &holder, &request)?)
                    .expect("a presentation serializes")
            }
            Format::SdJwt => {
                present::disclose_sd_jwt(ctx, &record, &holder, &request)?.into_bytes()
            }
        })
    })?;
    write_bundle(&args.out, &bytes)?;
    output::print(
        settings.output,
        &Disclosed {
            attestation: args.attestation.to_string(),
            claims: args.claims.iter().map(ToString::to_string).collect(),
            audience: args.audience,
            out: args.out.display().to_string(),
        },
    )
}

struct VerdictView(Verdict);

impl Serialize for VerdictView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Render for VerdictView {
    fn text(&self) -> String {
        let v = &self.0;
        let mark = |ok: bool| if ok { "VALID  " } else { "INVALID" };
        let mut out = format!(
            "{} presentation of attestation {}\n",
            mark(v.verified),
            v.attestation
        );
        out.push_str(&format!(
            "  live on-chain status: {}\n",
            v.status_error
                .as_deref()
                .unwrap_or("active (not revoked, not expired, issuer active)")
        ));
        out.push_str(&format!(
            "  holder binding (offline): {}\n",
            v.binding_error
                .as_deref()
                .unwrap_or("signed by the patient's current wallet, fresh")
        ));
        for c in &v.claims {
            let detail = match &c.error {
                None => c.words.clone(),
                Some(e) => e.clone(),
            };
            out.push_str(&format!("  {} {}  {}\n", mark(c.verified), c.id, detail));
        }
        for s in &v.skipped {
            out.push_str(&format!("  not checked: {s}\n"));
        }
        out.trim_end().to_string()
    }
}

pub fn verify(settings: &Settings, cmd: PresentationCommand) -> anyhow::Result<()> {
    let PresentationCommand::Verify(args) = cmd;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let presentation = Presentation::from_json(&bytes)?;
    let app = App::new(settings);
    let verdict = present::verify(
        &app.chain,
        &presentation,
        &Expect {
            audience: args.audience,
            nonce: args.nonce,
            now: unix_now(),
            max_age: args.max_age,
        },
    );
    let ok = verdict.verified;
    let first = verdict.errors.first().map(ToString::to_string);
    output::print(settings.output, &VerdictView(verdict))?;
    if !ok {
        bail!(
            "the presentation does not verify: {}",
            first.unwrap_or_default()
        );
    }
    Ok(())
}
