//! `rekam emergency request|approve|keys|end|show|list`: break-glass access.
//!
//! A clinic requests; each guardian's approval releases that guardian's share of the
//! emergency key to the clinic; the approval that reaches the threshold also creates the
//! emergency consent, in the same transaction (`rekam_client::flows::emergency`). The
//! clinic then reads with `rekam access <CONSENT> <ATTESTATION>` (receipt first, like any
//! consent), rebuilding the emergency key from M shares; `keys` checks that alone. The patient
//! or any guardian can end it early; otherwise it ends by itself.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{
    valid_approvals, EmergencyReason, EmergencyRequest, EmergencyRequestArgs, Guardianship, Patient,
};
use rekam_client::{flows, ix, pda};
use serde::Serialize;
use solana_signer::Signer;

use crate::app::{offsets, pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Clinic: ask a patient's guardians for emergency access.
    #[command(
        after_help = "Example:\n  rekam -k clinic.json emergency request <PATIENT> --reason btg --hours 6 --window-minutes 30"
    )]
    Request {
        /// The patient's profile address.
        #[arg(value_parser = pubkey_arg)]
        patient: Pubkey,
        /// etreat (emergency treatment) or btg (break the glass).
        #[arg(long, default_value = "etreat")]
        reason: String,
        /// How long the access should last, in hours (within the patient's limit, ≤ 72).
        #[arg(long, default_value_t = 12)]
        hours: u32,
        /// How long guardians have to approve, in minutes (≤ 1440).
        #[arg(long, default_value_t = 60)]
        window_minutes: u32,
    },
    /// Guardian: approve a request; the approval that reaches the threshold grants access.
    #[command(after_help = "Example:\n  rekam -k guardian.json emergency approve <REQUEST>")]
    Approve {
        /// The emergency request's address (from `rekam emergency request` or `list`).
        #[arg(value_parser = pubkey_arg)]
        request: Pubkey,
    },
    /// Clinic: rebuild the emergency key from the guardians' released shares (a check;
    /// `rekam access` does it by itself). Fails until M guardians have approved.
    #[command(after_help = "Example:\n  rekam -k clinic.json emergency keys <REQUEST>")]
    Keys {
        /// The emergency request's address.
        #[arg(value_parser = pubkey_arg)]
        request: Pubkey,
    },
    /// Patient or guardian: end emergency access now.
    #[command(after_help = "Example:\n  rekam emergency end <REQUEST>")]
    End {
        /// The granted emergency request's address.
        #[arg(value_parser = pubkey_arg)]
        request: Pubkey,
    },
    /// Show one request.
    #[command(after_help = "Example:\n  rekam emergency show <REQUEST>")]
    Show {
        /// The emergency request's address.
        #[arg(value_parser = pubkey_arg)]
        request: Pubkey,
    },
    /// List a patient's emergency requests (default: yours).
    #[command(
        after_help = "Examples:\n  rekam emergency list\n  rekam emergency list --patient <PATIENT>"
    )]
    List {
        /// The patient's profile address (default: this wallet's).
        #[arg(long, value_parser = pubkey_arg)]
        patient: Option<Pubkey>,
    },
}

#[derive(Serialize)]
pub struct RequestOut {
    pub request: String,
    pub patient: String,
    pub requester: String,
    pub issuer: String,
    pub reason: String,
    pub status: String,
    pub duration_hours: f64,
    pub requested_at: i64,
    pub approve_by: i64,
    pub approvals: Vec<String>,
    pub approvals_counted: usize,
    pub threshold: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// After an approval: where the guardian's share for the clinic is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_released: Option<String>,
}

impl Render for RequestOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Emergency request {} ({})\n  Patient:    {}\n  Clinic:     {} (wallet {})\n  Reason:     {}, {} h\n  Approvals:  {} of {} needed{}\n  Approve by: {}",
            self.request,
            self.status,
            self.patient,
            self.issuer,
            self.requester,
            self.reason,
            self.duration_hours,
            self.approvals_counted,
            self.threshold,
            if self.approvals.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.approvals.join(", "))
            },
            self.approve_by
        );
        if let Some(c) = &self.consent {
            out.push_str(&format!(
                "\n  Consent:    {c} (until {})",
                self.expires_at.unwrap_or(0)
            ));
        }
        if let Some(share) = &self.share_released {
            out.push_str(&format!("\n  Key share:  {share} (for the clinic)"));
        }
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature:  {sig}"));
        }
        out
    }
}

#[derive(Serialize)]
struct RequestList(Vec<RequestOut>);

impl Render for RequestList {
    fn text(&self) -> String {
        if self.0.is_empty() {
            return "No emergency requests".into();
        }
        self.0
            .iter()
            .map(Render::text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub fn describe(
    app: &App,
    key: &Pubkey,
    r: &EmergencyRequest,
    signature: Option<String>,
) -> anyhow::Result<RequestOut> {
    let g = guardianship_of(app, &r.patient)?;
    describe_with(app, key, r, &g, signature)
}

fn guardianship_of(app: &App, patient: &Pubkey) -> anyhow::Result<Guardianship> {
    app.fetch(
        &pda::guardianship(&app.program_id(), patient),
        "guardianship",
    )
}

/// [`describe`] with the patient's guardianship already read (listing many requests).
fn describe_with(
    app: &App,
    key: &Pubkey,
    r: &EmergencyRequest,
    g: &Guardianship,
    signature: Option<String>,
) -> anyhow::Result<RequestOut> {
    let consent = (r.granted_at != 0)
        .then(|| app.chain.fetch::<rekam::Consent>(&r.consent))
        .transpose()?
        .flatten();
    let t = crate::app::unix_now();
    let status = match &consent {
        Some(c) if c.revoked_at != 0 => "ended",
        Some(c) if t >= c.expires_at => "expired",
        Some(_) => "granted",
        None if t >= r.approve_by => "request expired",
        None => "awaiting approvals",
    };
    Ok(RequestOut {
        request: key.to_string(),
        patient: r.patient.to_string(),
        requester: r.requester.to_string(),
        issuer: r.issuer.to_string(),
        reason: r.reason.code().into(),
        status: status.into(),
        duration_hours: r.duration_seconds as f64 / 3_600.0,
        requested_at: r.requested_at,
        approve_by: r.approve_by,
        approvals: r.approvals.iter().map(|a| a.guardian.to_string()).collect(),
        approvals_counted: valid_approvals(&r.approvals, &g.guardians),
        threshold: g.threshold,
        consent: consent.as_ref().map(|_| r.consent.to_string()),
        expires_at: consent.map(|c| c.expires_at),
        signature,
        share_released: None,
    })
}

pub fn request(
    app: &mut App,
    patient: &Pubkey,
    reason: EmergencyReason,
    hours: u32,
    window_minutes: u32,
) -> anyhow::Result<RequestOut> {
    let pid = app.program_id();
    let (issuer_key, _) = app.own_issuer()?;
    app.fetch::<Patient>(patient, "patient profile")?;
    let g: Guardianship = app
        .fetch(&pda::guardianship(&pid, patient), "guardianship")
        .context("this patient has named no guardians, so there is no emergency access")?;
    let signer = app.signer()?;
    let ix = ix::emergency_request(
        &pid,
        &signer.pubkey(),
        &issuer_key,
        patient,
        g.emergencies_requested,
        EmergencyRequestArgs {
            reason,
            duration_seconds: i64::from(hours) * 3_600,
            approval_window_seconds: i64::from(window_minutes) * 60,
        },
    );
    let signature = app.chain.send(&[ix], &signer, &[])?;
    let key = pda::emergency_request(&pid, patient, g.emergencies_requested);
    let r: EmergencyRequest = app.fetch(&key, "emergency request")?;
    describe_with(app, &key, &r, &g, Some(signature))
}

/// A guardian approves and releases its key share to the clinic; the approval that
/// reaches the threshold also creates the emergency consent (`flows::emergency`).
pub fn approve(app: &mut App, request_key: &Pubkey) -> anyhow::Result<RequestOut> {
    let signer = app.signer()?;
    let identity = app.identity()?;
    let approved =
        app.with_ctx(|ctx| flows::emergency::approve(ctx, &signer, &identity, request_key))?;
    let r: EmergencyRequest = app.fetch(request_key, "emergency request")?;
    let mut out = describe(app, request_key, &r, Some(approved.signature))?;
    out.share_released = Some(approved.share.to_string());
    Ok(out)
}

/// The clinic's view of the key shares released to it for one request.
#[derive(Serialize)]
pub struct KeysOut {
    pub request: String,
    pub emergency_key: String,
    pub shares: usize,
    pub threshold: u8,
    pub skipped_memos: Vec<String>,
}

impl Render for KeysOut {
    fn text(&self) -> String {
        format!(
            "Emergency key {} rebuilt from {} guardian shares ({} needed) for request {}",
            self.emergency_key, self.shares, self.threshold, self.request
        )
    }
}

/// Clinic: collects the shares released to this wallet's key and rebuilds the emergency
/// key (checked against its public key); fails with the count when fewer than M.
pub fn keys(app: &mut App, request_key: &Pubkey) -> anyhow::Result<KeysOut> {
    let identity = app.identity()?;
    let (target, collected) = app.with_ctx(|ctx| {
        let target = flows::emergency::target(ctx, request_key)?;
        Ok((
            target,
            flows::emergency::collect(ctx, &identity, request_key, target)?,
        ))
    })?;
    warn_skipped_shares(request_key, &collected.skipped);
    let unlocked = collected.rebuild(target)?;
    Ok(KeysOut {
        request: request_key.to_string(),
        emergency_key: hex::encode(target.emergency_key),
        shares: unlocked.shares,
        threshold: unlocked.threshold,
        skipped_memos: unlocked.skipped,
    })
}

/// Warns, on stderr, about share memos on a request that did not count.
pub fn warn_skipped_shares(request: &Pubkey, skipped: &[String]) {
    if !skipped.is_empty() {
        eprintln!(
            "warning: skipped {} key share memo(s) on emergency request {request} (not a current guardian's, failed, or not for this key): {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
}

pub fn end(app: &mut App, request_key: &Pubkey) -> anyhow::Result<RequestOut> {
    let pid = app.program_id();
    let r: EmergencyRequest = app.fetch(request_key, "emergency request")?;
    if r.granted_at == 0 {
        bail!("emergency request {request_key} was never granted");
    }
    let signer = app.signer()?;
    let ix = ix::emergency_end(&pid, &signer.pubkey(), &r.patient, request_key, &r.consent);
    let signature = app.chain.send(&[ix], &signer, &[])?;
    let r: EmergencyRequest = app.fetch(request_key, "emergency request")?;
    describe(app, request_key, &r, Some(signature))
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let format = settings.output;
    match command {
        Command::Request {
            patient,
            reason,
            hours,
            window_minutes,
        } => {
            let reason = match reason.as_str() {
                "etreat" => EmergencyReason::EmergencyTreatment,
                "btg" => EmergencyReason::BreakTheGlass,
                other => bail!("unknown reason {other:?}: use etreat or btg"),
            };
            output::print(
                format,
                &request(&mut app, &patient, reason, hours, window_minutes)?,
            )
        }
        Command::Approve { request } => output::print(format, &approve(&mut app, &request)?),
        Command::Keys { request } => output::print(format, &keys(&mut app, &request)?),
        Command::End { request } => output::print(format, &end(&mut app, &request)?),
        Command::Show { request } => {
            let r: EmergencyRequest = app.fetch(&request, "emergency request")?;
            output::print(format, &describe(&app, &request, &r, None)?)
        }
        Command::List { patient } => {
            let patient = match patient {
                Some(p) => p,
                None => app.own_patient()?.0,
            };
            let mut rows = Vec::new();
            let mut found = app
                .chain
                .list::<EmergencyRequest>(Some((offsets::AFTER_HEADER, patient)))?;
            found.sort_by_key(|(_, r)| r.index);
            if !found.is_empty() {
                let g = guardianship_of(&app, &patient)?;
                for (key, r) in found {
                    rows.push(describe_with(&app, &key, &r, &g, None)?);
                }
            }
            output::print(format, &RequestList(rows))
        }
    }
}
