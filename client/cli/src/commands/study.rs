//! `rekam study`: research studies paid in SPL tokens (docs/research.md).
//!
//! Researcher: `propose` (write the terms for ethics review), `open`, `top-up`,
//! `contributions`, `fetch`, `close`. Ethics board: `approve`. Patient: `contribute`.
//! Anyone: `show`, `list`.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context};
use rekam::{Contribution, Study, StudyCriteria, StudyTerms};
use rekam_client::research::{ResearchCopy, Verified};
use rekam_client::storage;
use rekam_client::{flows, pda, record};
use solana_signer::Signer;

use crate::app::{offsets, pubkey_arg, token_balance, unix_now, App};
use crate::commands::consent::parse_kind;
use crate::commands::issuer::parse_roles;
use crate::output;
use crate::progress;
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Researcher: write a study's terms to a file for ethics review.
    #[command(
        after_help = "Example:\n  rekam -k researcher.json study propose --price 1000000 --max 100 --kinds lab-result --protocol protocol.pdf --out terms.json"
    )]
    Propose(ProposeArgs),
    /// Ethics board: approve the terms in a file (issues the approval attestation).
    #[command(
        after_help = "Example:\n  rekam -k ethics-board.json study approve terms.json --valid-days 365"
    )]
    Approve {
        /// The terms file (from `rekam study propose`).
        terms: PathBuf,
        /// Days the approval stays valid (0 = until revoked).
        #[arg(long, default_value_t = 0)]
        valid_days: u16,
    },
    /// Researcher: open an approved study and move its budget into escrow.
    #[command(
        after_help = "Example:\n  rekam -k researcher.json study open terms.json --budget 100000000"
    )]
    Open {
        /// The approved terms file (from `rekam study propose`).
        terms: PathBuf,
        /// Tokens (base units) to escrow now.
        #[arg(long)]
        budget: u64,
        /// Token account to pay from, an address or a keypair file (default: your associated
        /// token account).
        #[arg(long, value_parser = pubkey_arg)]
        source: Option<Pubkey>,
    },
    /// Add tokens (base units) to an open study's escrow.
    #[command(after_help = "Example:\n  rekam -k researcher.json study top-up <STUDY> 5000000")]
    TopUp {
        /// The study's address.
        #[arg(value_parser = pubkey_arg)]
        study: Pubkey,
        /// Tokens (base units) to add.
        amount: u64,
        /// Token account to pay from, an address or a keypair file (default: your associated
        /// token account).
        #[arg(long, value_parser = pubkey_arg)]
        source: Option<Pubkey>,
    },
    /// Show a study: terms, escrow and what it paid.
    #[command(after_help = "Example:\n  rekam study show <STUDY>")]
    Show {
        /// The study's address.
        #[arg(value_parser = pubkey_arg)]
        study: Pubkey,
    },
    /// List studies (all, or with --open only those taking contributions).
    #[command(after_help = "Examples:\n  rekam study list\n  rekam study list --open")]
    List {
        /// Only studies still taking contributions (not closed, before the deadline).
        #[arg(long)]
        open: bool,
    },
    /// Patient: contribute one of your attestations (de-identified copy) and get paid.
    #[command(
        after_help = "Example:\n  rekam -k patient.json study contribute <STUDY> <ATTESTATION>"
    )]
    Contribute {
        /// The study's address.
        #[arg(value_parser = pubkey_arg)]
        study: Pubkey,
        /// The attestation (one of your records) to contribute, by address.
        #[arg(value_parser = pubkey_arg)]
        attestation: Pubkey,
    },
    /// Researcher: list a study's contributions.
    #[command(after_help = "Example:\n  rekam study contributions <STUDY>")]
    Contributions {
        /// The study's address.
        #[arg(value_parser = pubkey_arg)]
        study: Pubkey,
    },
    /// Researcher: fetch, verify and decrypt every contribution (receipt first).
    #[command(
        after_help = "Example:\n  rekam -k researcher.json study fetch <STUDY> --out contributions/"
    )]
    Fetch {
        /// The study's address.
        #[arg(value_parser = pubkey_arg)]
        study: Pubkey,
        /// Folder for the de-identified Bundles (one `<attestation>.json` each).
        #[arg(long)]
        out: PathBuf,
    },
    /// Close a study and refund the rest of the escrow to the researcher.
    #[command(after_help = "Example:\n  rekam -k researcher.json study close <STUDY>")]
    Close {
        /// The study's address.
        #[arg(value_parser = pubkey_arg)]
        study: Pubkey,
    },
}

#[derive(clap::Args, Debug)]
pub struct ProposeArgs {
    /// Study id, unique per researcher (default: random).
    #[arg(long)]
    pub id: Option<u64>,
    /// Tokens (base units) paid per contribution, before the protocol fee.
    #[arg(long)]
    pub price: u64,
    /// Number of contributions wanted.
    #[arg(long)]
    pub max: u32,
    /// Paid contributions one patient may make (each a different record); at least 1.
    #[arg(long, default_value_t = 1)]
    pub max_per_patient: u16,
    /// Paid contributions attested by one issuer (0 = no cap).
    #[arg(long, default_value_t = 0)]
    pub max_per_issuer: u32,
    /// Accepted record kinds: diagnosis, lab-result, prescription, vaccination, imaging, other.
    #[arg(long, value_delimiter = ',', required = true)]
    pub kinds: Vec<String>,
    /// Accepted issuer roles (default: any): clinic, lab, pharmacy, device-operator...
    #[arg(long, value_delimiter = ',')]
    pub issuer_roles: Vec<String>,
    /// Only attestations issued on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub issued_from: Option<String>,
    /// Only attestations issued on or before this day (YYYY-MM-DD).
    #[arg(long)]
    pub issued_until: Option<String>,
    /// Contributions close this many days from now.
    #[arg(long, default_value_t = 30)]
    pub deadline_days: u32,
    /// Contributed data may be used this many days from now (research consents end then).
    #[arg(long, default_value_t = 365)]
    pub data_use_days: u32,
    /// The study protocol document the ethics board reviews (its SHA-256 is in the terms).
    #[arg(long)]
    pub protocol: PathBuf,
    /// Where to write the terms file.
    #[arg(long)]
    pub out: PathBuf,
}

/// A terms file: what the ethics board reviews and the researcher opens.
mod terms;
pub use terms::TermsFile;

mod render;
pub use render::*;

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let format = settings.output;
    match command {
        Command::Propose(args) => output::print(format, &propose(&mut app, &args)?),
        Command::Approve { terms, valid_days } => {
            output::print(format, &approve(&mut app, &terms, valid_days)?)
        }
        Command::Open {
            terms,
            budget,
            source,
        } => output::print(format, &open(&mut app, &terms, budget, source)?),
        Command::TopUp {
            study,
            amount,
            source,
        } => output::print(format, &top_up(&mut app, &study, amount, source)?),
        Command::Show { study } => output::print(format, &show(&app, &study, None)?),
        Command::List { open } => {
            let now = unix_now();
            let mut rows = Vec::new();
            for (key, s) in app.chain.list::<Study>(None)? {
                if open && (s.is_closed() || now >= s.terms.deadline) {
                    continue;
                }
                rows.push(describe(&app, &key, &s, None)?);
            }
            output::print(format, &StudyList(rows))
        }
        Command::Contribute { study, attestation } => {
            output::print(format, &contribute(&mut app, &study, &attestation)?)
        }
        Command::Contributions { study } => output::print(format, &contributions(&app, &study)?),
        Command::Fetch { study, out } => output::print(format, &fetch(&mut app, &study, &out)?),
        Command::Close { study } => output::print(format, &close(&mut app, &study)?),
    }
}

/// The deployment's payment mint and the token program that owns it.
fn payment_mint(app: &App) -> anyhow::Result<(Pubkey, Pubkey)> {
    app.with_ctx(flows::study::payment_mint)
}

fn describe(
    app: &App,
    key: &Pubkey,
    s: &Study,
    signature: Option<String>,
) -> anyhow::Result<StudyOut> {
    let status = if s.is_closed() {
        "closed"
    } else if unix_now() >= s.terms.deadline {
        "ended"
    } else if s.contributions >= s.terms.max_contributions {
        "full"
    } else {
        "open"
    };
    let kinds = rekam::AttestationKind::ALL
        .iter()
        .filter(|k| s.terms.criteria.kinds & k.bit() != 0)
        .map(|k| record::kind_name(*k).to_string())
        .collect();
    Ok(StudyOut {
        study: key.to_string(),
        researcher: s.researcher.to_string(),
        status: status.into(),
        mint: s.mint.to_string(),
        price: s.terms.price,
        max_contributions: s.terms.max_contributions,
        contributions: s.contributions,
        kinds,
        deadline: s.terms.deadline,
        data_use_until: s.terms.data_use_until,
        ethics_approval: s.ethics_approval.to_string(),
        escrow: s.escrow.to_string(),
        escrow_balance: if s.is_closed() {
            0
        } else {
            token_balance(&app.chain, &s.escrow)
        },
        deposited: s.deposited,
        paid: s.paid,
        fees: s.fees,
        refunded: s.refunded,
        signature,
    })
}

pub fn show(app: &App, study: &Pubkey, signature: Option<String>) -> anyhow::Result<StudyOut> {
    let s: Study = app.fetch(study, "study")?;
    describe(app, study, &s, signature)
}

fn day_arg(date: &Option<String>) -> anyhow::Result<u16> {
    match date {
        None => Ok(0),
        Some(d) => Ok(rekam_client::fhir::day_number(d)
            .map_err(|e| anyhow!("{e}"))?
            .0),
    }
}

/// Writes the terms file for `args` (the researcher is the signer).
pub fn propose(app: &mut App, args: &ProposeArgs) -> anyhow::Result<Proposed> {
    let pid = app.program_id();
    let researcher = app.signer()?.pubkey();
    let encryption_key = app.identity()?.public_key();
    let (mint, _) = payment_mint(app)?;
    let protocol = std::fs::read(&args.protocol)
        .with_context(|| format!("cannot read protocol {}", args.protocol.display()))?;
    let kinds = args
        .kinds
        .iter()
        .map(|k| parse_kind(k).map(|k| k.bit()))
        .try_fold(0u8, |mask, bit| bit.map(|b| mask | b))?;
    let id = match args.id {
        Some(id) => id,
        None => {
            let mut b = [0u8; 8];
            aws_lc_rs::rand::fill(&mut b).map_err(|_| anyhow!("system RNG failed"))?;
            u64::from_le_bytes(b)
        }
    };
    let now = unix_now();
    let terms = StudyTerms {
        price: args.price,
        max_contributions: args.max,
        max_per_patient: args.max_per_patient,
        max_per_issuer: args.max_per_issuer,
        criteria: StudyCriteria {
            kinds,
            issuer_roles: parse_roles(&args.issuer_roles)?,
            issued_from_day: day_arg(&args.issued_from)?,
            issued_until_day: day_arg(&args.issued_until)?,
        },
        deadline: now + i64::from(args.deadline_days) * 86_400,
        data_use_until: now + i64::from(args.data_use_days.max(args.deadline_days)) * 86_400,
        encryption_key,
        protocol_hash: storage::digest(&protocol),
    };
    if !terms.is_valid(now) {
        bail!("these terms would be refused: price, --max, --max-per-patient and --kinds must be set, and --deadline-days at least 1");
    }
    let hash = terms.hash(&pid, &researcher, id, &mint);
    let study = pda::study(&pid, &researcher, id);
    let file = TermsFile {
        program_id: pid.to_string(),
        researcher: researcher.to_string(),
        id,
        mint: mint.to_string(),
        study: study.to_string(),
        price: terms.price,
        max_contributions: terms.max_contributions,
        max_per_patient: terms.max_per_patient,
        max_per_issuer: terms.max_per_issuer,
        kinds,
        issuer_roles: terms.criteria.issuer_roles,
        issued_from_day: terms.criteria.issued_from_day,
        issued_until_day: terms.criteria.issued_until_day,
        deadline: terms.deadline,
        data_use_until: terms.data_use_until,
        encryption_key: hex::encode(encryption_key),
        protocol_hash: hex::encode(terms.protocol_hash),
        terms_hash: hex::encode(hash),
    };
    crate::commands::records::write_bundle(&args.out, &serde_json::to_vec_pretty(&file)?)?;
    Ok(Proposed {
        file: args.out.display().to_string(),
        study: study.to_string(),
        terms_hash: file.terms_hash,
    })
}

/// The ethics board (the signer's issuer) approves a terms file.
pub fn approve(app: &mut App, terms_path: &Path, valid_days: u16) -> anyhow::Result<Approved> {
    let (file, _, hash) = TermsFile::load(terms_path, &app.program_id())?;
    let (issuer_key, issuer) = app.own_issuer()?;
    let today = u16::try_from(unix_now() / 86_400)?;
    let signer = app.signer()?;
    let (approval, signature) = app.with_ctx(|ctx| {
        flows::study::approve(
            ctx,
            &*signer,
            (&issuer_key, &issuer),
            hash,
            today,
            valid_days,
        )
    })?;
    Ok(Approved {
        approval: approval.to_string(),
        study: file.study,
        terms_hash: file.terms_hash,
        signature,
    })
}

/// The researcher opens the study of an approved terms file.
pub fn open(
    app: &mut App,
    terms_path: &Path,
    budget: u64,
    source: Option<Pubkey>,
) -> anyhow::Result<StudyOut> {
    let (file, terms, hash) = TermsFile::load(terms_path, &app.program_id())?;
    let signer = app.signer()?;
    let opening = flows::study::Opening {
        researcher: &file.researcher.parse()?,
        id: file.id,
        mint: &file.mint.parse()?,
        terms,
        terms_hash: hash,
        budget,
        source,
    };
    let signature = app.with_ctx(|ctx| flows::study::open(ctx, &*signer, &opening))?;
    show(app, &file.study.parse()?, Some(signature))
}

pub fn top_up(
    app: &mut App,
    study_key: &Pubkey,
    amount: u64,
    source: Option<Pubkey>,
) -> anyhow::Result<StudyOut> {
    let signer = app.signer()?;
    let signature =
        app.with_ctx(|ctx| flows::study::top_up(ctx, &*signer, study_key, amount, source))?;
    show(app, study_key, Some(signature))
}

/// The patient contributes `attestation`: de-identified copy, encrypted to the
/// researcher, stored, then one transaction that pays and grants the research consent.
/// If the transaction fails the stored copy is deleted again.
pub fn contribute(
    app: &mut App,
    study_key: &Pubkey,
    attestation_key: &Pubkey,
) -> anyhow::Result<Contributed> {
    let (patient_key, patient) = app.own_patient()?;
    let identity = app.identity()?;
    let signer = app.signer()?;
    let done = app.with_ctx(|ctx| {
        flows::study::contribute(
            ctx,
            &flows::study::Contributor {
                signer: &*signer,
                identity: &identity,
                own: app.own_records(),
                patient_key,
                patient,
            },
            study_key,
            attestation_key,
        )
    })?;
    crate::app::warn_skipped_memos(attestation_key, &done.skipped_memos);
    Ok(Contributed {
        study: study_key.to_string(),
        attestation: attestation_key.to_string(),
        contribution: done.contribution_key.to_string(),
        consent: done.contribution.consent.to_string(),
        copy: done.copy.to_string(),
        payout: done.contribution.payout,
        fee: done.contribution.fee,
        token_account: done.token_account.to_string(),
        balance: token_balance(&app.chain, &done.token_account),
        signature: done.signature,
    })
}

fn rows(app: &App, study_key: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Contribution)>> {
    let mut found = app
        .chain
        .list::<Contribution>(Some((offsets::AFTER_HEADER, *study_key)))?;
    found.sort_by_key(|(_, c)| c.contributed_at);
    Ok(found)
}

fn row(key: &Pubkey, c: &Contribution) -> ContributionRow {
    ContributionRow {
        contribution: key.to_string(),
        attestation: c.attestation.to_string(),
        patient: c.patient.to_string(),
        consent: c.consent.to_string(),
        payout: c.payout,
        fee: c.fee,
        contributed_at: c.contributed_at,
        verified: None,
        kind: None,
        treatment_year: None,
        proven: None,
        unproven: None,
        out: None,
        error: None,
    }
}

pub fn contributions(app: &App, study_key: &Pubkey) -> anyhow::Result<Contributions> {
    app.fetch::<Study>(study_key, "study")?;
    Ok(Contributions {
        study: study_key.to_string(),
        contributions: rows(app, study_key)?
            .iter()
            .map(|(k, c)| row(k, c))
            .collect(),
    })
}

/// The researcher reads every contribution: receipt on-chain first, then download,
/// hash check, decryption and verification against the attestation.
pub fn fetch(app: &mut App, study_key: &Pubkey, out_dir: &Path) -> anyhow::Result<Contributions> {
    let study: Study = app.fetch(study_key, "study")?;
    let identity = app.identity()?;
    if identity.public_key() != study.terms.encryption_key {
        bail!("this wallet's encryption key is not the study's; sign with the researcher's wallet");
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let signer = app.signer()?;
    let found = rows(app, study_key)?;
    let bar = progress::bar(app.settings.output, found.len() as u64, "fetching");
    let mut out = Vec::new();
    for (key, c) in found {
        // One refused or unreadable contribution (e.g. a patient revoked their research
        // consent) does not stop the others; it is reported in its row.
        let mut r = row(&key, &c);
        match fetch_one(app, study_key, &c, out_dir, &identity, &*signer) {
            Ok((copy, verified, path)) => {
                r.verified = Some(true);
                r.kind = Some(copy.kind.clone());
                r.treatment_year = Some(copy.treatment_year.clone());
                r.proven = Some(verified.proven.len());
                r.unproven = Some(verified.unproven);
                r.out = Some(path.display().to_string());
            }
            Err(err) => {
                r.verified = Some(false);
                r.error = Some(format!("{err:#}"));
            }
        }
        out.push(r);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(Contributions {
        study: study_key.to_string(),
        contributions: out,
    })
}

/// Reads one contribution (`flows::study::read_contribution`) and writes the de-identified
/// Bundle.
fn fetch_one(
    app: &App,
    study_key: &Pubkey,
    c: &Contribution,
    out_dir: &Path,
    identity: &rekam_client::crypto::Identity,
    signer: &dyn solana_signer::Signer,
) -> anyhow::Result<(ResearchCopy, Verified, PathBuf)> {
    let (copy, verified) =
        app.with_ctx(|ctx| flows::study::read_contribution(ctx, signer, identity, study_key, c))?;
    let path = out_dir.join(format!("{}.json", c.attestation));
    crate::commands::records::write_bundle(&path, &serde_json::to_vec_pretty(&copy.bundle)?)?;
    Ok((copy, verified, path))
}

/// Closes the study; the refund goes to the researcher's associated token account
/// (created first if missing).
pub fn close(app: &mut App, study_key: &Pubkey) -> anyhow::Result<Closed> {
    let signer = app.signer()?;
    let (refund_to, signature) =
        app.with_ctx(|ctx| flows::study::close(ctx, &*signer, study_key))?;
    let s: Study = app.fetch(study_key, "study")?;
    Ok(Closed {
        study: study_key.to_string(),
        refunded: s.refunded,
        refund_to: refund_to.to_string(),
        contributions: s.contributions,
        deposited: s.deposited,
        paid: s.paid,
        fees: s.fees,
        signature,
    })
}
