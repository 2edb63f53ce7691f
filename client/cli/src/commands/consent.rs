//! `rekam consent grant|list|revoke`: the patient's consents, with their key grants.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{AttestationKind, ConsentScope, Purpose};
use rekam_client::ix;
use rekam_client::record::{self, EmergencyGrant, KeyGrantObject};
use rekam_client::storage::Locator;
use serde::Serialize;
use solana_signer::Signer;

use rekam_client::flows::rekey::{load_grant, Held, Rekey, Rekeyed};
use rekam_client::flows::{self, grant::GrantRequest, records::OwnRecords};

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Grant a provider (or any wallet) access to records in a scope.
    #[command(
        after_help = "Examples:\n  rekam consent grant --grantee <PROVIDER> --kinds lab-result,diagnosis --days 14\n  rekam consent grant --grantee doctor.json --grantee-key <KEY_HEX> --attestation <ATTESTATION>"
    )]
    Grant {
        /// The wallet to grant: an address or a keypair file (e.g. a clinic's authority).
        #[arg(long, value_parser = pubkey_arg)]
        grantee: Pubkey,
        /// The grantee's X25519 key, hex (looked up when the grantee is an issuer).
        #[arg(long)]
        grantee_key: Option<String>,
        /// treatment, emergency, research, payment, operations, public-health,
        /// patient-requested, coverage.
        #[arg(long, default_value = "treatment")]
        purpose: String,
        /// Record kinds in scope: diagnosis, lab-result, prescription, vaccination, imaging, other.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// Specific attestations in scope, by address (repeatable).
        #[arg(long = "attestation", value_parser = pubkey_arg)]
        attestations: Vec<Pubkey>,
        /// Length of the consent, in days.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// List consents: this patient's, or with --received, those granted to this wallet.
    #[command(
        after_help = "Examples:\n  rekam consent list\n  rekam -k doctor.json consent list --received"
    )]
    List {
        /// List the consents granted to this wallet instead of this patient's.
        #[arg(long)]
        received: bool,
    },
    /// Revoke a consent, effective immediately. Then, unless --no-rekey, re-encrypt every
    /// record it covered under a new key, re-issue the other consents' key grants, and
    /// delete the old copies (local and S3; IPFS copies cannot be recalled).
    #[command(
        after_help = "Examples:\n  rekam consent revoke <CONSENT>\n  rekam consent revoke <CONSENT> --no-rekey"
    )]
    Revoke {
        /// The consent's address (from `rekam consent list`).
        #[arg(value_parser = pubkey_arg)]
        consent: Pubkey,
        /// Keep the existing ciphertexts (the revoked grantee's old key still opens them).
        #[arg(long)]
        no_rekey: bool,
    },
    /// Close an ended (revoked or expired) consent and its access receipts for their rent:
    /// the consent's to you, each receipt's to the reader who paid it. The audit trail
    /// stays in the ledger's events; `rekam audit` no longer lists the closed receipts.
    #[command(after_help = "Example:\n  rekam consent close <CONSENT>")]
    Close {
        /// The consent's address (from `rekam consent list`).
        #[arg(value_parser = pubkey_arg)]
        consent: Pubkey,
    },
}

#[derive(Serialize)]
pub struct ClosedOut {
    pub consent: String,
    pub receipts_closed: usize,
    pub receipts_already_closed: usize,
    pub signatures: Vec<String>,
}

impl Render for ClosedOut {
    fn text(&self) -> String {
        format!(
            "Closed consent {}\n  Receipts closed: {} (already closed: {}), their rent back to their readers\n  Transactions:    {}",
            self.consent,
            self.receipts_closed,
            self.receipts_already_closed,
            self.signatures.join(", ")
        )
    }
}

pub fn parse_purpose(text: &str) -> anyhow::Result<Purpose> {
    Ok(match text {
        "treatment" => Purpose::Treatment,
        "emergency" => Purpose::EmergencyTreatment,
        "research" => Purpose::Research,
        "payment" => Purpose::Payment,
        "operations" => Purpose::Operations,
        "public-health" => Purpose::PublicHealth,
        "patient-requested" => Purpose::PatientRequested,
        "coverage" => Purpose::Coverage,
        other => bail!("unknown purpose {other:?}"),
    })
}

pub fn parse_kind(text: &str) -> anyhow::Result<AttestationKind> {
    AttestationKind::ALL
        .iter()
        .copied()
        .find(|k| record::kind_name(*k) == text.trim())
        .with_context(|| format!("unknown record kind {text:?}"))
}

#[derive(Serialize)]
pub struct ConsentOut {
    pub consent: String,
    pub patient: String,
    pub grantee: String,
    pub purpose: String,
    pub kinds: Vec<&'static str>,
    pub attestations: Vec<String>,
    pub starts_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub access_count: u64,
    pub key_grant: String,
    pub records_in_grant: Option<usize>,
    pub signature: Option<String>,
    pub rekeyed: Option<Rekeyed>,
    /// For a research consent: the de-identified copy that was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub research_copy_deleted: Option<String>,
}

impl ConsentOut {
    pub fn from_chain(key: &Pubkey, c: &rekam::Consent) -> Self {
        ConsentOut {
            consent: key.to_string(),
            patient: c.patient.to_string(),
            grantee: c.grantee.to_string(),
            purpose: c.purpose.code().into(),
            kinds: AttestationKind::ALL
                .iter()
                .filter(|k| c.scope.kinds & k.bit() != 0)
                .map(|k| record::kind_name(*k))
                .collect(),
            attestations: c
                .scope
                .attestations
                .iter()
                .map(ToString::to_string)
                .collect(),
            starts_at: c.starts_at,
            expires_at: c.expires_at,
            revoked_at: (c.revoked_at != 0).then_some(c.revoked_at),
            access_count: c.access_count,
            key_grant: c.key_grant.locator.clone(),
            records_in_grant: None,
            signature: None,
            rekeyed: None,
            research_copy_deleted: None,
        }
    }
}

impl Render for ConsentOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Consent {}\n  Grantee:   {}\n  Purpose:   {}\n  Scope:     kinds [{}] attestations [{}]\n  Period:    {} .. {}\n  Revoked:   {}\n  Accesses:  {}\n  Key grant: {}",
            self.consent,
            self.grantee,
            self.purpose,
            self.kinds.join(", "),
            self.attestations.join(", "),
            self.starts_at,
            self.expires_at,
            self.revoked_at.map_or("no".into(), |t| format!("at {t}")),
            self.access_count,
            self.key_grant
        );
        if let Some(n) = self.records_in_grant {
            out.push_str(&format!(" ({n} records)"));
        }
        if let Some(r) = &self.rekeyed {
            out.push_str(&format!(
                "\n  Re-keyed:  {} records, {} other key grants re-issued, {} old objects removed",
                r.records, r.grants_updated, r.old_objects_removed
            ));
        }
        if let Some(copy) = &self.research_copy_deleted {
            out.push_str(&format!("\n  Research copy deleted: {copy}"));
        }
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature: {sig}"));
        }
        out
    }
}

#[derive(Serialize)]
struct ConsentList {
    consents: Vec<ConsentOut>,
}

impl Render for ConsentList {
    fn text(&self) -> String {
        if self.consents.is_empty() {
            return "No consents.".into();
        }
        self.consents
            .iter()
            .map(Render::text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Grants `grantee` a consent over `scope`, with a key grant re-wrapping every record in
/// scope to the grantee's key (the flow `rekam_client::flows::grant`).
pub fn grant(
    app: &mut App,
    grantee: &Pubkey,
    given_key: Option<&str>,
    purpose: Purpose,
    scope: ConsentScope,
    days: u32,
) -> anyhow::Result<ConsentOut> {
    let grantee_key = given_key
        .map(crate::commands::issuer::parse_key)
        .transpose()?;
    let (patient_key, _) = app.own_patient()?;
    let identity = app.identity()?;
    let signer = app.signer()?;
    let own = OwnRecords::default();
    let granted = app.with_ctx(|ctx| {
        flows::grant::grant(
            ctx,
            &own,
            &signer,
            &identity,
            &patient_key,
            GrantRequest {
                grantee: *grantee,
                grantee_key,
                purpose,
                scope,
                days,
            },
        )
    })?;
    let consent = app.fetch(&granted.consent, "consent")?;
    let mut out = ConsentOut::from_chain(&granted.consent, &consent);
    out.records_in_grant = Some(granted.records);
    out.signature = Some(granted.signature);
    Ok(out)
}

/// Revokes `consent` (the signer must be its patient), then re-keys unless told not to.
pub fn revoke(app: &mut App, consent: &Pubkey, rekey_records: bool) -> anyhow::Result<ConsentOut> {
    let pid = app.program_id();
    let (patient_key, _) = app.own_patient()?;
    let signer = app.signer()?;
    let ix = ix::consent_revoke(&pid, &signer.pubkey(), &patient_key, consent);
    let signature = app.chain.send(&[ix], &signer, &[])?;
    let c = app.fetch(consent, "consent")?;
    let mut out = ConsentOut::from_chain(consent, &c);
    out.signature = Some(signature);
    if rekey_records {
        let store = app.store()?;
        match load_grant(store.as_ref(), &c)
            .map_err(anyhow::Error::from)
            .context("the consent is revoked, but its key grant could not be read")?
        {
            (locator, Held::Copy) => {
                // A study contribution: the researcher held only a de-identified copy.
                // Delete it (local and S3; an IPFS copy cannot be recalled); the originals
                // were never shared, so there is nothing to re-key.
                App::block_on(store.delete(&locator))?.with_context(|| {
                    format!("the consent is revoked, but its copy {locator} could not be deleted")
                })?;
                out.research_copy_deleted = Some(locator.to_string());
            }
            (_, Held::Keys(grant)) | (_, Held::Emergency(EmergencyGrant { grant, .. })) => {
                out.rekeyed = Some(
                    rekey(app, &grant)
                        .context("the consent is revoked, but re-keying its records failed")?,
                );
            }
        }
    }
    Ok(out)
}

/// Re-encrypts every record a revoked consent covered (the flow
/// `rekam_client::flows::rekey`), so its grantee's key opens nothing that exists
/// afterwards, then re-issues the guardians' grant.
pub fn rekey(app: &mut App, revoked_grant: &KeyGrantObject) -> anyhow::Result<Rekeyed> {
    let identity = app.identity()?;
    let (patient_key, _) = app.own_patient()?;
    let signer = app.signer()?;
    let records = revoked_grant
        .entries
        .iter()
        .map(|e| Ok((e.attestation.parse()?, e.locator.parse()?)))
        .collect::<anyhow::Result<Vec<(Pubkey, Locator)>>>()?;
    let bar = crate::progress::bar(app.settings.output, records.len() as u64, "re-keying");
    let own = OwnRecords::default();
    let mut done = app.with_ctx(|ctx| {
        flows::rekey::rekey(
            ctx,
            &own,
            &Rekey {
                signer: &signer,
                patient: patient_key,
                openers: &[&identity],
                to: &identity,
            },
            &records,
            &mut |a| {
                bar.set_message(a.to_string());
                bar.inc(1);
            },
        )
    })?;
    bar.finish_and_clear();
    // The guardians' copies of the emergency keys point at the old records too.
    if done.records > 0 && crate::commands::guardians::refresh(app, &patient_key)? {
        done.grants_updated += 1;
        done.old_objects_removed += 1;
    }
    Ok(done)
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    match command {
        Command::Grant {
            grantee,
            grantee_key: given,
            purpose,
            kinds,
            attestations,
            days,
        } => {
            let purpose = parse_purpose(&purpose)?;
            let kinds = kinds
                .iter()
                .map(|k| parse_kind(k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let scope = ConsentScope {
                kinds: kinds.iter().fold(0, |m, k| m | k.bit()),
                attestations,
            };
            let out = grant(&mut app, &grantee, given.as_deref(), purpose, scope, days)?;
            output::print(settings.output, &out)
        }
        Command::List { received } => {
            let consents = if received {
                let me = app.signer()?.pubkey();
                app.consents_for(&me)?
            } else {
                let (patient_key, _) = app.own_patient()?;
                app.consents_of(&patient_key)?
            };
            let mut consents: Vec<ConsentOut> = consents
                .iter()
                .map(|(k, c)| ConsentOut::from_chain(k, c))
                .collect();
            consents.sort_by_key(|c| c.starts_at);
            output::print(settings.output, &ConsentList { consents })
        }
        Command::Revoke { consent, no_rekey } => {
            output::print(settings.output, &revoke(&mut app, &consent, !no_rekey)?)
        }
        Command::Close { consent } => {
            let signer = app.signer()?;
            let closed = rekam_client::flows::close::close_consent(&app.chain, &signer, &consent)?;
            output::print(
                settings.output,
                &ClosedOut {
                    consent: closed.consent.to_string(),
                    receipts_closed: closed.receipts_closed,
                    receipts_already_closed: closed.receipts_already_closed,
                    signatures: closed.signatures,
                },
            )
        }
    }
}
