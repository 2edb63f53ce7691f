//! `rekam demo`: the Rekam story on an embedded local validator and a local store,
//! narrated: accreditation, a clinic attests three FHIR bundles, the patient grants a
//! doctor, the doctor reads with an on-chain receipt, the patient revokes and the next
//! read fails, a study approved by an ethics board pays three patients for de-identified
//! copies (the researcher decrypts and verifies them), a passport of one vaccination
//! (green, then red once the clinic revokes it), and the audit trail.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anyhow::{bail, Context};
use rekam::{roles, AttestationKind, ConsentScope, IssuerAccreditArgs, Purpose};
use rekam_client::chain::{ChainClient, FeeOptions};
use rekam_client::{ix, pda};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;

mod claims;
mod passport;
mod refusals;
mod scoped;
mod setup;

use refusals::{refusal, short};
use setup::register_patient;
pub use setup::{airdrop, create_mint};

use crate::app::App;
use crate::localnet::{Localnet, LocalnetOptions};
use crate::output::{self, OutputFormat, Render};
use crate::settings::Settings;
use rekam_client::flows::setup::{initialize, Initialized};

/// Synthetic FHIR R4 bundles (tests/fixtures/fhir, generated with carebundle).
const BUNDLES: [(&str, &[u8]); 3] = [
    (
        "diagnosis-diabetes.json",
        include_bytes!("../../../../tests/fixtures/fhir/diagnosis-diabetes.json"),
    ),
    (
        "lab-hba1c.json",
        include_bytes!("../../../../tests/fixtures/fhir/lab-hba1c.json"),
    ),
    (
        "vaccination-influenza.json",
        include_bytes!("../../../../tests/fixtures/fhir/vaccination-influenza.json"),
    ),
];

/// The other two contributors' records.
const RESEARCH_BUNDLES: [(&str, &[u8]); 2] = [
    (
        "lab-hba1c.json",
        include_bytes!("../../../../tests/fixtures/fhir/lab-hba1c.json"),
    ),
    (
        "emergency-summary.json",
        include_bytes!("../../../../tests/fixtures/fhir/emergency-summary.json"),
    ),
];

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  rekam demo\n  rekam demo --ledger /tmp/rekam-demo --output json"
)]
pub struct Args {
    /// Keep the validator's ledger here instead of in memory.
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Where the hosted program's own log lines go (default: the ledger directory, or
    /// the system temp directory).
    #[arg(long)]
    pub program_log: Option<PathBuf>,
}

#[derive(Serialize)]
struct Step {
    step: String,
    result: String,
}

#[derive(Serialize)]
struct DemoSummary {
    validator_url: String,
    store: String,
    steps: Vec<Step>,
    deployment: Initialized,
    attestations: Vec<String>,
    audit: rekam_client::flows::audit::Trail,
    token_flows: Vec<Step>,
}

impl Render for DemoSummary {
    fn text(&self) -> String {
        let width = self.steps.iter().map(|s| s.step.len()).max().unwrap_or(0);
        let mut out = String::from("\nSummary\n");
        for step in &self.steps {
            out.push_str(&format!("  {:width$}  {}\n", step.step, step.result));
        }
        out.push_str("\nToken flows of the study (base units of a 6-decimal test token)\n");
        let width = self
            .token_flows
            .iter()
            .map(|s| s.step.len())
            .max()
            .unwrap_or(0);
        for flow in &self.token_flows {
            out.push_str(&format!("  {:width$}  {:>10}\n", flow.step, flow.result));
        }
        out.push_str(&format!("\n{}\n", self.audit.text()));
        out
    }
}

fn narrate(format: OutputFormat, line: &str) {
    if format == OutputFormat::Text {
        output::out(line);
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let program_log = args
        .program_log
        .clone()
        .unwrap_or_else(|| match &args.ledger {
            Some(dir) => dir.join("program.log"),
            None => std::env::temp_dir().join(format!("rekam-demo-{}.log", std::process::id())),
        });
    if let Some(dir) = &args.ledger {
        std::fs::create_dir_all(dir)?;
    }
    output::isolate_stdout(&program_log)?;
    let say = |line: &str| narrate(settings.output, line);
    let mut steps = Vec::new();

    say("Starting an embedded local validator (offline, loopback only) with the Rekam program...");
    let started = Instant::now();
    // Governance deploys the program (its upgrade authority), so it may initialize it.
    let [governance, clinic, patient, doctor] = [(); 4].map(|_| Keypair::new());
    let localnet = Localnet::start(&LocalnetOptions {
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        rpc_port: 0,
        ledger: args.ledger.clone(),
        slot_time_ms: 100,
        deployer: Some(governance.pubkey()),
    })?;
    say(&format!(
        "  JSON-RPC at {} (ready in {:.1?}); program log lines: {}",
        localnet.url,
        started.elapsed(),
        program_log.display()
    ));
    steps.push(Step {
        step: "local validator".into(),
        result: localnet.url.clone(),
    });

    let workdir = tempfile::tempdir()?;
    let mut demo_settings = settings.clone();
    demo_settings.url = localnet.url.clone();
    demo_settings.store = rekam_client::storage::StoreConfig::Local {
        dir: workdir.path().join("store"),
    };
    let chain = ChainClient::new(
        &localnet.url,
        settings.commitment,
        settings.program_id,
        FeeOptions::default(),
    );
    let pid = settings.program_id;

    say("Funding four wallets from the local faucet: governance, a clinic, a patient, a doctor...");
    for wallet in [&governance, &clinic, &patient, &doctor] {
        airdrop(&chain, &wallet.pubkey(), 10_000_000_000)?;
    }

    say("Governance initializes the deployment (config PDA, fee treasury via CPI)...");
    let mint = create_mint(&chain, &governance, 6)?;
    let deployment = initialize(&chain, &governance, &mint, governance.pubkey(), 250, false)?;
    steps.push(Step {
        step: "deployment".into(),
        result: format!("config {}", deployment.config),
    });

    say("Governance accredits the clinic (clinic + lab + pharmacy roles)...");
    let mut clinic_app = App::with_keypair(&demo_settings, clinic.insecure_clone());
    let registry_id_hash = rekam_client::storage::digest(b"rekam/v1/registry-id\nDEMO-CLINIC-0001");
    let accredit = ix::issuer_accredit(
        &pid,
        &governance.pubkey(),
        &governance.pubkey(),
        IssuerAccreditArgs {
            registry_id_hash,
            issuer_authority: clinic.pubkey(),
            encryption_key: clinic_app.identity()?.public_key(),
            roles: roles::CLINIC | roles::LAB | roles::PHARMACY,
        },
    );
    chain.send(&[accredit], &governance, &[])?;
    steps.push(Step {
        step: "clinic accredited".into(),
        result: pda::issuer(&pid, &registry_id_hash).to_string(),
    });

    say("The patient registers a pseudonymous profile (key derived from the wallet)...");
    let (mut patient_app, patient_key) = register_patient(&chain, &demo_settings, &patient)?;
    steps.push(Step {
        step: "patient profile".into(),
        result: patient_key.to_string(),
    });

    say("The clinic attests three FHIR R4 bundles: each is validated, encrypted for the patient and the clinic, stored, then attested on-chain...");
    let mut attestations = Vec::new();
    for (name, bytes) in BUNDLES {
        let file = workdir.path().join(name);
        std::fs::write(&file, bytes)?;
        for attested in clinic_app.attest_file(&file, &patient_key)? {
            say(&format!(
                "  {name}: {} of {} -> {}",
                attested.kind, attested.treatment_date, attested.attestation
            ));
            attestations.push((
                attested.attestation.parse::<Pubkey>()?,
                attested.kind.clone(),
            ));
        }
    }
    let of_kind = |kind: &str| {
        attestations
            .iter()
            .find(|(_, k)| k == kind)
            .map(|(key, _)| *key)
            .with_context(|| format!("no {kind} record was attested"))
    };
    let (diagnosis, lab, vaccination) = (
        of_kind("diagnosis")?,
        of_kind("lab-result")?,
        of_kind("vaccination")?,
    );
    steps.push(Step {
        step: "records attested".into(),
        result: format!(
            "{} (the vaccination visit's temperature is a lab-result record of its own)",
            attestations.len()
        ),
    });

    say("The patient discloses one lab value (HbA1c) to a pharmacy, which verifies it: proof under the attestation's claims root, the patient's binding to its audience and nonce, the attestation live on-chain...");
    let verifier = App::new(&demo_settings);
    let shown = claims::disclose_one_lab_value(&mut patient_app, &lab, &verifier, workdir.path())?;
    say(&format!(
        "  {}: {} -> verified: {}",
        shown.claim, shown.words, shown.verified
    ));
    say(&format!(
        "  the same presentation with the value changed is refused: {}",
        shown.tampered_refusal
    ));
    if !shown.verified {
        bail!("the pharmacy could not verify the disclosed lab value");
    }
    steps.push(Step {
        step: "one lab value disclosed".into(),
        result: format!("verified: {}; tampered copy refused", shown.verified),
    });

    say("The patient grants the doctor treatment access to diagnoses and lab results for 30 days...");
    // The doctor's app (and its in-memory identity) serves for the whole story.
    let mut doctor_app = App::with_keypair(&demo_settings, doctor.insecure_clone());
    let doctor_app_identity = doctor_app.identity()?;
    let scope = ConsentScope {
        kinds: AttestationKind::Diagnosis.bit() | AttestationKind::LabResult.bit(),
        attestations: vec![],
    };
    let consent = crate::commands::consent::grant(
        &mut patient_app,
        &doctor.pubkey(),
        Some(&hex::encode(doctor_app_identity.public_key())),
        Purpose::Treatment,
        scope,
        30,
    )?;
    let consent_key: Pubkey = consent.consent.parse()?;
    steps.push(Step {
        step: "consent granted".into(),
        result: format!(
            "{} ({} records in the key grant)",
            consent.consent,
            consent.records_in_grant.unwrap_or(0)
        ),
    });

    say("The doctor reads the diagnosis: the access receipt goes on-chain first, then the record is decrypted and checked against its attestation...");
    let out = workdir.path().join("doctor-copy.json");
    let fetched = crate::commands::access::access(&mut doctor_app, &consent_key, &diagnosis, &out)?;
    let identical = std::fs::read(&out)? == BUNDLES[0].1;
    if !(identical && fetched.verified) {
        bail!("the doctor's copy is not the clinic's verified bundle: the demo stops here");
    }
    say(&format!(
        "  read {} ({}), verified: {}, byte-identical to the clinic's bundle: {identical}",
        fetched.attestation, fetched.kind, fetched.verified
    ));
    steps.push(Step {
        step: "doctor read (with receipt)".into(),
        result: format!("verified, identical: {identical}"),
    });

    say("The vaccination record is outside the consent's scope: the read is refused...");
    let refused = crate::commands::access::access(
        &mut doctor_app,
        &consent_key,
        &vaccination,
        &workdir.path().join("x.json"),
    );
    let refused_reason = refusal(refused, "the out-of-scope read")?;
    say(&format!("  refused: {refused_reason}"));
    steps.push(Step {
        step: "out-of-scope read".into(),
        result: short(&refused_reason),
    });

    say("The vaccination visit also measured a temperature: that fact is a lab-result record of its own. A consent for lab results alone opens it, and no diagnosis...");
    let visit_lab = attestations
        .iter()
        .rev()
        .find(|(_, k)| k == "lab-result")
        .map(|(key, _)| *key)
        .context("no lab part of the vaccination visit")?;
    let scoped = scoped::lab_only(
        &demo_settings,
        &mut patient_app,
        &visit_lab,
        &diagnosis,
        workdir.path(),
    )?;
    say(&format!(
        "  opened the visit's lab record: {}; diagnosis refused: {}",
        scoped.lab_types.join(", "),
        scoped.diagnosis_refusal
    ));
    steps.push(Step {
        step: "lab-only consent".into(),
        result: format!(
            "labs opened, diagnosis refused ({})",
            short(&scoped.diagnosis_refusal)
        ),
    });

    say("The patient revokes the consent; the doctor's next read fails...");
    let revoked = crate::commands::consent::revoke(&mut patient_app, &consent_key, true)?;
    let rekeyed = revoked.rekeyed.as_ref().map_or(0, |r| r.records);
    say(&format!(
        "  re-keyed {rekeyed} records: the doctor's old key opens nothing that exists now"
    ));
    let after = crate::commands::access::access(
        &mut doctor_app,
        &consent_key,
        &diagnosis,
        &workdir.path().join("y.json"),
    );
    let after_reason = refusal(after, "the read after revocation")?;
    say(&format!("  refused: {after_reason}"));
    steps.push(Step {
        step: "read after revocation".into(),
        result: short(&after_reason),
    });

    let token_flows = research(
        &chain,
        &demo_settings,
        &governance,
        &mint,
        &mut clinic_app,
        &mut patient_app,
        diagnosis,
        workdir.path(),
        &mut steps,
        &say,
    )?;

    let apps = (&mut patient_app, &mut clinic_app, &verifier);
    passport::chapter(apps, &vaccination, workdir.path(), &mut steps, &say)?;

    let audit = rekam_client::flows::audit::trail(&patient_app.chain, &patient_key)?;
    let summary = DemoSummary {
        validator_url: localnet.url.clone(),
        store: workdir.path().join("store").display().to_string(),
        steps,
        deployment,
        attestations: attestations.iter().map(|(k, _)| k.to_string()).collect(),
        audit,
        token_flows,
    };
    output::print(settings.output, &summary)?;
    localnet.shutdown()
}

/// The research part of the story: an ethics board approves a study, the researcher
/// escrows its budget, three patients contribute de-identified copies and are paid, the
/// researcher decrypts and verifies them, then closes and is refunded the rest.
#[allow(clippy::too_many_arguments)]
fn research(
    chain: &ChainClient,
    settings: &Settings,
    governance: &Keypair,
    mint: &Pubkey,
    clinic_app: &mut App,
    first_patient: &mut App,
    first_record: Pubkey,
    workdir: &std::path::Path,
    steps: &mut Vec<Step>,
    say: &dyn Fn(&str),
) -> anyhow::Result<Vec<Step>> {
    use crate::commands::study;
    use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;

    let pid = settings.program_id;
    let token = anchor_spl::token::ID;
    let [board, researcher, second, third] = [(); 4].map(|_| Keypair::new());
    say("Research: an ethics board, a researcher and two more patients join...");
    for wallet in [&board, &researcher, &second, &third] {
        airdrop(chain, &wallet.pubkey(), 10_000_000_000)?;
    }
    let mut board_app = App::with_keypair(settings, board.insecure_clone());
    let registry_id_hash = rekam_client::storage::digest(b"rekam/v1/registry-id\nDEMO-IRB-0001");
    let accredit = ix::issuer_accredit(
        &pid,
        &governance.pubkey(),
        &governance.pubkey(),
        IssuerAccreditArgs {
            registry_id_hash,
            issuer_authority: board.pubkey(),
            encryption_key: board_app.identity()?.public_key(),
            roles: roles::ETHICS_BOARD,
        },
    );
    chain.send(&[accredit], governance, &[])?;
    // The researcher's budget: 10 test tokens.
    let funds = 10_000_000u64;
    let researcher_ata = pda::associated_token(&researcher.pubkey(), mint, &token);
    chain.send(
        &[
            create_associated_token_account_idempotent(
                &governance.pubkey(),
                &researcher.pubkey(),
                mint,
                &token,
            ),
            token_ix::mint_to(
                &token,
                mint,
                &researcher_ata,
                &governance.pubkey(),
                &[],
                funds,
            )?,
        ],
        governance,
        &[],
    )?;
    let mut others = Vec::new();
    for (wallet, (name, bundle)) in [&second, &third].into_iter().zip(RESEARCH_BUNDLES) {
        let (app, profile) = register_patient(chain, settings, wallet)?;
        let file = workdir.join(name);
        std::fs::write(&file, bundle)?;
        let parts = clinic_app.attest_file(&file, &profile)?;
        // A mixed Bundle gives one record per kind; the first (diagnosis, if any) goes in.
        let attested = parts.first().context("nothing was attested")?;
        say(&format!(
            "  another patient's {name}: {} records, contributing its {} -> {}",
            parts.len(),
            attested.kind,
            attested.attestation
        ));
        others.push((app, attested.attestation.parse::<Pubkey>()?));
    }

    let protocol = workdir.join("protocol.txt");
    std::fs::write(
        &protocol,
        "Protocol: glycaemic control in type 2 diabetes, retrospective, de-identified data.",
    )?;
    let terms = workdir.join("study-terms.json");
    let mut researcher_app = App::with_keypair(settings, researcher.insecure_clone());
    say("The researcher proposes terms: 1 token per diagnosis or lab result, 3 contributions, 30 days...");
    let proposed = study::propose(
        &mut researcher_app,
        &study::ProposeArgs {
            id: Some(1),
            price: 1_000_000,
            max: 3,
            max_per_patient: 1,
            max_per_issuer: 0,
            kinds: vec!["diagnosis".into(), "lab-result".into()],
            issuer_roles: vec![],
            issued_from: None,
            issued_until: None,
            deadline_days: 30,
            data_use_days: 365,
            protocol,
            out: terms.clone(),
        },
    )?;
    say("The ethics board approves the terms (an attestation over their hash)...");
    let approved = study::approve(&mut board_app, &terms, 0)?;
    say(&format!("  approval {}", approved.approval));
    say("The researcher opens the study and escrows 3.5 tokens...");
    let opened = study::open(&mut researcher_app, &terms, 3_500_000, None)?;
    let study_key: Pubkey = proposed.study.parse()?;
    steps.push(Step {
        step: "study opened (ethics-approved)".into(),
        result: format!("{} escrow {}", opened.study, opened.escrow_balance),
    });

    say("Three patients contribute: each copy is de-identified, encrypted to the researcher, stored; one transaction pays them and grants the research consent...");
    let mut paid = Vec::new();
    let first = study::contribute(first_patient, &study_key, &first_record)?;
    say(&format!(
        "  patient 1 paid {} (fee {}), balance {}",
        first.payout, first.fee, first.balance
    ));
    paid.push(first);
    for (i, (app, record)) in others.iter_mut().enumerate() {
        let c = study::contribute(app, &study_key, record)?;
        say(&format!(
            "  patient {} paid {} (fee {}), balance {}",
            i + 2,
            c.payout,
            c.fee,
            c.balance
        ));
        paid.push(c);
    }
    steps.push(Step {
        step: "study contributions paid".into(),
        result: format!("{} patients", paid.len()),
    });

    say("The researcher fetches the contributions: receipt on-chain, decrypt, verify against each attestation...");
    let fetched = study::fetch(&mut researcher_app, &study_key, &workdir.join("research"))?;
    let verified = fetched
        .contributions
        .iter()
        .filter(|c| c.verified == Some(true))
        .count();
    say(&format!(
        "  {verified} de-identified bundles verified and written to {}",
        workdir.join("research").display()
    ));
    steps.push(Step {
        step: "researcher decrypted".into(),
        result: format!("{verified} verified copies"),
    });

    say("The researcher closes the study; the rest of the escrow comes back...");
    let closed = study::close(&mut researcher_app, &study_key)?;
    steps.push(Step {
        step: "study closed".into(),
        result: format!("refunded {}", closed.refunded),
    });
    let balance = |account: &Pubkey| crate::app::token_balance(chain, account);
    let mut flows = vec![
        Step {
            step: "researcher budget".into(),
            result: funds.to_string(),
        },
        Step {
            step: "escrowed".into(),
            result: closed.deposited.to_string(),
        },
    ];
    for (i, c) in paid.iter().enumerate() {
        flows.push(Step {
            step: format!("paid to patient {}", i + 1),
            result: balance(&c.token_account.parse()?).to_string(),
        });
    }
    flows.push(Step {
        step: "protocol fees (treasury)".into(),
        result: balance(&pda::treasury(&pid, mint)).to_string(),
    });
    flows.push(Step {
        step: "refunded to researcher".into(),
        result: closed.refunded.to_string(),
    });
    flows.push(Step {
        step: "researcher holds now".into(),
        result: balance(&researcher_ata).to_string(),
    });
    Ok(flows)
}
