//! SMART Health Cards: `rekam issuer shc-key` (a clinic makes its ES256 key and anchors it
//! on-chain), `rekam issuer jwks` (the JWKS an issuer publishes, read from the chain) and
//! `rekam passport shc` (a clinic exports a card of immunizations and lab results it
//! attested). Verifying
//! one is `rekam passport verify`. The flows are in `rekam_client::flows::shc`.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam_client::flows::records::OwnRecords;
use rekam_client::flows::shc;
use rekam_client::passport::qr::Qr;
use rekam_client::passport::shc::{to_numeric, SigningKey, MAX_SINGLE_QR_JWS};
use serde::Serialize;
use serde_json::{json, Value};

use crate::app::{pubkey_arg, unix_now, App};
use crate::commands::records::write_bundle;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct ShcKeyArgs {
    /// The issuer URL the cards will name (`iss`): https, no trailing slash.
    #[arg(long)]
    pub iss: String,
    /// Where to write the new private key (PKCS#8 DER, mode 0600; not overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RetireArgs {
    /// The key's `kid` (its RFC 7638 thumbprint, as `issuer shc-key` printed it).
    pub kid: String,
}

#[derive(clap::Args, Debug)]
pub struct JwksArgs {
    /// The issuer's account address.
    #[arg(value_parser = pubkey_arg)]
    pub issuer: Pubkey,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Attestations you issued whose records hold the immunizations and laboratory results
    /// to put on the card.
    #[arg(value_parser = pubkey_arg, required = true)]
    pub attestations: Vec<Pubkey>,
    /// Your SMART Health Card key (from `rekam issuer shc-key`), anchored and not retired.
    #[arg(long)]
    pub signing_key: PathBuf,
    /// Where to write the card file (`{"verifiableCredential": [JWS]}`).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write its numeric `shc:/` QR code as a PNG.
    #[arg(long)]
    pub qr: Option<PathBuf>,
}

#[derive(Serialize)]
struct KeyOut {
    issuer: String,
    kid: String,
    account: String,
    iss: String,
    out: String,
}

impl Render for KeyOut {
    fn text(&self) -> String {
        format!(
            "Anchored SMART Health Card key {} for issuer {} (iss {})\n  Key account {}\n  Wrote {}",
            self.kid, self.issuer, self.iss, self.account, self.out
        )
    }
}

pub fn shc_key(settings: &Settings, args: ShcKeyArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!("{} exists; not overwriting a key", args.out.display());
    }
    let mut app = App::new(settings);
    let (issuer, _) = app.own_issuer()?;
    let signer = app.signer()?;
    let key = SigningKey::generate();
    let account = app.with_ctx(|ctx| shc::anchor(ctx, &issuer, &signer, &key, &args.iss))?;
    rekam_client::private_file::write_atomic(&args.out, &key.to_pkcs8())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    output::print(
        settings.output,
        &KeyOut {
            issuer: issuer.to_string(),
            kid: key.kid(),
            account: account.to_string(),
            iss: args.iss,
            out: args.out.display().to_string(),
        },
    )
}

#[derive(Serialize)]
struct RetiredOut {
    issuer: String,
    kid: String,
    retired_at: i64,
}

impl Render for RetiredOut {
    fn text(&self) -> String {
        format!(
            "Retired SMART Health Card key {} of issuer {}: the cards it signed no longer verify",
            self.kid, self.issuer
        )
    }
}

pub fn retire(settings: &Settings, args: RetireArgs) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let (issuer, _) = app.own_issuer()?;
    let signer = app.signer()?;
    let key = app.with_ctx(|ctx| shc::retire(ctx, &issuer, &signer, &args.kid))?;
    output::print(
        settings.output,
        &RetiredOut {
            issuer: issuer.to_string(),
            kid: key.kid().to_string(),
            retired_at: key.retired_at,
        },
    )
}

struct Jwks(Value);

impl Serialize for Jwks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Render for Jwks {
    fn text(&self) -> String {
        serde_json::to_string_pretty(&self.0).expect("JSON serializes")
    }
}

pub fn jwks(settings: &Settings, args: JwksArgs) -> anyhow::Result<()> {
    let app = App::new(settings);
    let keys: Vec<Value> = shc::keys_of(&app.chain, &args.issuer)?
        .into_iter()
        .filter(|k| k.retired_at == 0)
        .map(|k| k.jwk)
        .collect();
    if keys.is_empty() {
        bail!(
            "issuer {} has no SMART Health Card key in use (none anchored, or all retired)",
            args.issuer
        );
    }
    output::print(settings.output, &Jwks(json!({ "keys": keys })))
}

#[derive(Serialize)]
struct Exported {
    kid: String,
    immunizations: usize,
    lab_results: usize,
    jws_chars: usize,
    single_qr: bool,
    out: String,
    qr: Option<String>,
    qr_version: Option<i16>,
}

impl Render for Exported {
    fn text(&self) -> String {
        let mut out = format!(
            "SMART Health Card of {} immunization(s) and {} lab result(s), signed by key {}\n  JWS {} characters ({})\n  Wrote {}",
            self.immunizations,
            self.lab_results,
            self.kid,
            self.jws_chars,
            if self.single_qr { "fits one QR code" } else { "over the single-QR limit of 1195" },
            self.out
        );
        if let (Some(qr), Some(v)) = (&self.qr, self.qr_version) {
            out.push_str(&format!(" and {qr} (QR version {v})"));
        }
        out
    }
}

pub fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    let der = std::fs::read(&args.signing_key)
        .with_context(|| format!("cannot read {}", args.signing_key.display()))?;
    let key = SigningKey::from_pkcs8(&der)?;
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let (issuer, _) = app.own_issuer()?;
    let own = OwnRecords::default();
    let exported = app.with_ctx(|ctx| {
        shc::export(
            ctx,
            &own,
            &identity,
            &issuer,
            &key,
            &args.attestations,
            unix_now(),
        )
    })?;
    let file = json!({"verifiableCredential": [exported.jws]});
    write_bundle(&args.out, serde_json::to_string(&file)?.as_bytes())?;
    let mut qr_version = None;
    if let Some(path) = &args.qr {
        let qr = Qr::encode_shc(&to_numeric(&exported.jws))?;
        qr_version = Some(qr.version());
        write_bundle(path, &qr.png())?;
    }
    output::print(
        settings.output,
        &Exported {
            kid: key.kid(),
            immunizations: exported.immunizations,
            lab_results: exported.lab_results,
            jws_chars: exported.jws.len(),
            single_qr: exported.jws.len() <= MAX_SINGLE_QR_JWS,
            out: args.out.display().to_string(),
            qr: args.qr.map(|p| p.display().to_string()),
            qr_version,
        },
    )
}

#[derive(Serialize)]
struct ShcVerdict {
    verified: bool,
    issuer: String,
    kid: String,
    iss: String,
    immunizations: Vec<String>,
    lab_results: Vec<String>,
}

impl Render for ShcVerdict {
    fn text(&self) -> String {
        let mut out = format!(
            "GREEN  SMART Health Card of issuer {} ({})\n  live ok   key {} is anchored on-chain by this active issuer and not retired; ES256 signature valid\n",
            self.issuer, self.iss, self.kid
        );
        for fact in self.immunizations.iter().chain(&self.lab_results) {
            out.push_str(&format!("  GREEN  {fact}\n"));
        }
        out.push_str("  not checked: revocation (a SMART Health Card has no on-chain status; its issuer's is checked)");
        out
    }
}

/// Checks a SMART Health Card against the key its `kid` names on-chain.
pub fn verify(settings: &Settings, app: &App, jws: &str, offline: bool) -> anyhow::Result<()> {
    if offline {
        bail!("a SMART Health Card is checked against the key its issuer anchored on-chain, so it cannot be verified --offline");
    }
    let (anchored, payload) = shc::check(&app.chain, jws)?;
    let entries = payload["vc"]["credentialSubject"]["fhirBundle"]["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let immunizations = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Immunization")
        .map(|r| {
            let code = r["vaccineCode"]["coding"][0]["code"]
                .as_str()
                .unwrap_or("?");
            let date = r["occurrenceDateTime"].as_str().unwrap_or("?");
            format!(
                "Immunization CVX {code} on {date} ({})",
                r["status"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let lab_results = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Observation")
        .map(|r| {
            let code = r["code"]["coding"][0]["code"].as_str().unwrap_or("?");
            let q = &r["valueQuantity"];
            let value = match (q["value"].as_f64(), q["unit"].as_str()) {
                (Some(v), Some(u)) => format!("{v} {u}"),
                _ => r["valueString"]
                    .as_str()
                    .unwrap_or("a coded value")
                    .to_string(),
            };
            let date = r["effectiveDateTime"].as_str().unwrap_or("?");
            format!("Lab result LOINC {code}: {value} on {date}")
        })
        .collect();
    output::print(
        settings.output,
        &ShcVerdict {
            verified: true,
            issuer: anchored.issuer.to_string(),
            kid: anchored.kid().to_string(),
            iss: anchored.iss,
            immunizations,
            lab_results,
        },
    )
}
