//! `rekam passport create` (the patient makes a QR card of chosen facts) and
//! `rekam passport verify` (anyone reads a card from an image or its text and checks it
//! offline, then live). The flows are in `rekam_client::flows::passport`; this parses,
//! calls and renders.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rekam_client::flows::passport::{self, CreateRequest, Selector, ShownFact};
use rekam_client::flows::records::OwnRecords;
use rekam_client::passport::card::{self, Line, Printed};
use rekam_client::passport::qr::{Qr, TARGET_VERSION};
use rekam_client::passport::verify::PassportVerdict;
use rekam_client::passport::{date, payload::TEXT_PREFIX};
use serde::Serialize;

use crate::app::{unix_now, App};
use crate::commands::records::write_bundle;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Patient: a QR card of chosen facts with their proofs, signed by your wallet.
    #[command(
        after_help = "Example:\n  rekam passport create --claim 7xKX...Qm3d#immunization.0 --claim 7xKX...Qm3d#age_over_18 --out card.png"
    )]
    Create(CreateArgs),
    /// Clinic: a SMART Health Card of immunizations you attested, signed by your
    /// anchored ES256 key.
    #[command(
        after_help = "Example:\n  rekam -k clinic.json passport shc 7xKX...Qm3d --signing-key shc-key.p8 --out card.smart-health-card --qr card.png"
    )]
    Shc(crate::commands::shc::ExportArgs),
    /// Anyone: read a card (a PNG with its QR code, or its text) and verify it.
    #[command(after_help = "Example:\n  rekam passport verify photo-of-card.png")]
    Verify(VerifyArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// A claim to show: `<attestation>#<index>` (ids from `rekam claims`) or
    /// `<attestation>#<name>` (e.g. `#age_over_18`); repeat for several.
    #[arg(long = "claim", required = true)]
    pub claims: Vec<Selector>,
    /// How many days the card itself is valid (the attestations' status is checked live).
    #[arg(long, default_value_t = 30)]
    pub valid_days: u32,
    /// `card.png`: the QR code; `card.svg`: a printable card with the facts in words.
    /// The payload as text goes next to it, in `card.txt`.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// A PNG of the card's QR code (a photo or a scan will do), a file holding the card's
    /// text (`RKP1:...`), or that text itself.
    pub input: String,
    /// Check only what the card proves by itself: the attestations' status (revocation,
    /// the issuer) is not checked.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Serialize)]
struct Created {
    facts: Vec<ShownFact>,
    attestations: usize,
    payload_bytes: usize,
    qr_version: i16,
    error_correction: &'static str,
    modules: usize,
    /// Bytes left below version 22's capacity at error correction M.
    margin_bytes: i64,
    valid_until: String,
    out: String,
    text_file: String,
    text: String,
}

impl Render for Created {
    fn text(&self) -> String {
        let mut out = format!(
            "Passport with {} fact(s) from {} attestation(s), valid until {}\n",
            self.facts.len(),
            self.attestations,
            self.valid_until
        );
        out.push_str(&format!(
            "  QR version {} at error correction {} ({m} x {m} modules), {} bytes; {}\n",
            self.qr_version,
            self.error_correction,
            self.payload_bytes,
            if self.margin_bytes >= 0 {
                format!(
                    "{} bytes to spare below version {TARGET_VERSION}",
                    self.margin_bytes
                )
            } else {
                format!("{} bytes over version {TARGET_VERSION}", -self.margin_bytes)
            },
            m = self.modules,
        ));
        for f in &self.facts {
            out.push_str(&format!("  {}  {}\n", f.id, f.words));
        }
        out.push_str(&format!("  Wrote {} and {}", self.out, self.text_file));
        out
    }
}

fn text_path(out: &Path) -> PathBuf {
    out.with_extension("txt")
}

pub fn run(settings: &Settings, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create(args) => create(settings, args),
        Command::Verify(args) => verify(settings, args),
        Command::Shc(args) => crate::commands::shc::export(settings, args),
    }
}

fn create(settings: &Settings, args: CreateArgs) -> anyhow::Result<()> {
    let svg = match args.out.extension().and_then(|e| e.to_str()) {
        Some("png") => false,
        Some("svg") => true,
        _ => bail!("--out must name a .png (the QR code) or .svg (a printable card) file"),
    };
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let holder = app.signer()?;
    let own = OwnRecords::default();
    let now = unix_now() as u64;
    let created = app.with_ctx(|ctx| {
        passport::create(
            ctx,
            &own,
            &identity,
            &holder,
            &CreateRequest {
                selectors: &args.claims,
                now,
                valid_days: args.valid_days,
            },
        )
    })?;
    let bytes = created.card.to_bytes();
    let qr = Qr::encode(&bytes)?;
    let valid_until = date(created.card.body.valid_until);
    let file = if svg {
        let lines: Vec<Line> = created
            .facts
            .iter()
            .map(|f| Line {
                words: f.words.clone(),
                // The full address is in the QR code; the print fits the card.
                attested_by: format!(
                    "issuer {}…{}",
                    &f.issuer[..6],
                    &f.issuer[f.issuer.len() - 6..]
                ),
            })
            .collect();
        card::svg(
            &qr,
            &Printed {
                holder: &created.card.body.holder.to_string(),
                issued_on: &date(created.card.body.issued_at),
                valid_until: &valid_until,
                lines: &lines,
            },
        )
        .into_bytes()
    } else {
        qr.png()
    };
    write_bundle(&args.out, &file)?;
    let text = created.card.to_text();
    let text_file = text_path(&args.out);
    write_bundle(&text_file, format!("{text}\n").as_bytes())?;
    output::print(
        settings.output,
        &Created {
            attestations: created.card.body.attestations.len(),
            facts: created.facts,
            payload_bytes: bytes.len(),
            qr_version: qr.version(),
            error_correction: "M",
            modules: qr.width(),
            margin_bytes: qr.margin(),
            valid_until,
            out: args.out.display().to_string(),
            text_file: text_file.display().to_string(),
            text,
        },
    )
}

struct VerdictView(PassportVerdict);

impl Serialize for VerdictView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Render for VerdictView {
    fn text(&self) -> String {
        let v = &self.0;
        let verdict = match (v.verified, v.live) {
            (true, true) => "GREEN",
            (true, false) => "GREEN (offline only: revocation was not checked)",
            (false, _) => "RED",
        };
        let mut out = format!(
            "{verdict}  passport of {}: {} fact(s), issued {}, valid until {}\n",
            v.holder,
            v.facts.len(),
            v.issued_on,
            v.valid_until
        );
        let mark = |ok: bool| if ok { "ok  " } else { "FAIL" };
        for (stage, checks) in [("offline", &v.offline_checks), ("live   ", &v.live_checks)] {
            for c in checks {
                out.push_str(&format!(
                    "  {stage} {} {}: {}\n",
                    mark(c.ok),
                    c.check,
                    c.detail
                ));
            }
        }
        for f in &v.facts {
            let colour = if f.green { "GREEN" } else { "RED  " };
            match &f.reason {
                None => out.push_str(&format!("  {colour} {}  {}\n", f.id, f.words)),
                Some(r) => out.push_str(&format!("  {colour} {}  {} ({r})\n", f.id, f.words)),
            }
        }
        for s in &v.not_checked {
            out.push_str(&format!("  not checked: {s}\n"));
        }
        out.trim_end().to_string()
    }
}

fn verify(settings: &Settings, args: VerifyArgs) -> anyhow::Result<()> {
    let input = if args.input.trim_start().starts_with(TEXT_PREFIX) {
        args.input.clone().into_bytes()
    } else {
        std::fs::read(&args.input).with_context(|| format!("cannot read {}", args.input))?
    };
    let app = App::new(settings);
    if let Some(jws) = rekam_client::flows::shc::jws_of(&input) {
        return crate::commands::shc::verify(settings, &app, &jws?, args.offline);
    }
    let card = passport::read_card(&input)?;
    let chain = (!args.offline).then_some(&app.chain);
    let verdict = passport::verify_card(&app.program_id(), chain, card, unix_now() as u64);
    let ok = verdict.verified;
    let first = verdict.errors.first().map(ToString::to_string);
    output::print(settings.output, &VerdictView(verdict))?;
    if !ok {
        bail!(
            "the passport does not verify: {}",
            first.unwrap_or_else(|| "a fact is red".into())
        );
    }
    Ok(())
}
