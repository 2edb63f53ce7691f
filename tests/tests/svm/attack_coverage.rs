//! Missing signers for every instruction of the IDL, and a coverage check that fails
//! when an instruction is added to the IDL without a case here or in `attacks.rs`.
//!
//! Each case is a valid instruction built by the fixtures; for every account the IDL
//! marks as a signer, the case is sent with that account no longer signing and must fail
//! with `AccountNotSigner`, leaving every account it names unchanged. The instruction's
//! name is checked against its discriminator in the IDL, so a case cannot cover an
//! instruction it does not build.

use std::collections::BTreeSet;

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::{AttestationKind, KeyGrant, Patient};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Instructions with no signer at all (read-only verifications).
const NO_SIGNER: [&str; 3] = [
    "attestation_verify",
    "attestation_verify_claim",
    "batch_verify_fact",
];

/// The committed IDL, parsed once for all cases.
fn idl() -> &'static serde_json::Value {
    static IDL: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    IDL.get_or_init(|| {
        serde_json::from_str(include_str!("../../../idl/rekam.json")).expect("idl/rekam.json")
    })
}

/// The IDL entry whose discriminator starts `ix`'s data.
fn idl_instruction<'a>(idl: &'a serde_json::Value, ix: &Instruction) -> &'a serde_json::Value {
    idl["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            let d: Vec<u8> = i["discriminator"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect();
            ix.data.starts_with(&d)
        })
        .expect("an instruction of the IDL")
}

struct Case {
    name: &'static str,
    ix: Instruction,
    signers: Vec<Keypair>,
}

fn case(name: &'static str, ix: Instruction, signers: &[&Keypair]) -> Case {
    Case {
        name,
        ix,
        signers: signers.iter().map(|k| k.insecure_clone()).collect(),
    }
}

fn snapshot(fx: &Fixture, ix: &Instruction) -> Vec<Option<solana_account::Account>> {
    ix.accounts
        .iter()
        .filter(|m| m.pubkey != fx.payer.pubkey())
        .map(|m| fx.account(&m.pubkey))
        .collect()
}

/// The wire size of a legacy transaction carrying `ixs`, paid by `payer` and signed by
/// `signers` as well, with the compute-budget pair the CLI can add in front.
pub fn wire_size(payer: &Pubkey, ixs: &[Instruction], signers: usize) -> usize {
    use solana_message::Message;
    let mut all = vec![
        solana_compute_budget_interface_ix(0),
        solana_compute_budget_interface_ix(1),
    ];
    all.extend_from_slice(ixs);
    let message = Message::new(&all, Some(payer));
    let signatures = 1 + signers;
    // shortvec(signature count) + signatures + message.
    1 + 64 * signatures + message.serialize().len()
}

/// A compute-budget instruction of the realistic size (`SetComputeUnitLimit`: 1 + 4
/// bytes; `SetComputeUnitPrice`: 1 + 8 bytes) without the crate: program id and data.
fn solana_compute_budget_interface_ix(which: u8) -> Instruction {
    let program: Pubkey = "ComputeBudget111111111111111111111111111111"
        .parse()
        .unwrap();
    let data = if which == 0 {
        vec![2, 0, 0, 0, 0]
    } else {
        vec![3; 9]
    };
    Instruction {
        program_id: program,
        accounts: vec![],
        data,
    }
}

/// Sizes recorded by `run`, printed and bounded by the coverage test.
static SIZES: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());

/// Strips each IDL signer of `case` in turn; returns the covered instruction name.
fn run(fx: &mut Fixture, case: Case) -> String {
    let idl = idl();
    let entry = idl_instruction(idl, &case.ix);
    let name = entry["name"].as_str().unwrap().to_string();
    assert_eq!(name, case.name, "the case builds the instruction it names");
    let size = wire_size(
        &fx.payer.pubkey(),
        std::slice::from_ref(&case.ix),
        case.signers.len(),
    );
    SIZES.lock().unwrap().push((name.clone(), size));
    let signer_slots: Vec<usize> = entry["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, a)| a["signer"].as_bool() == Some(true))
        .map(|(i, _)| i)
        .collect();
    assert!(!signer_slots.is_empty(), "{name} has a signer");
    for slot in signer_slots {
        let mut ix = case.ix.clone();
        let stripped = ix.accounts[slot].pubkey;
        assert_ne!(
            stripped,
            fx.payer.pubkey(),
            "{name}: a signer other than the fee payer"
        );
        ix.accounts[slot].is_signer = false;
        let others: Vec<&Keypair> = case
            .signers
            .iter()
            .filter(|k| k.pubkey() != stripped)
            .collect();
        let before = snapshot(fx, &ix);
        let (_, err) = instruction_error(fx.send(&[ix.clone()], &others));
        assert_eq!(
            err,
            InstructionError::Custom(Anchor::AccountNotSigner as u32),
            "{name}: account {slot} unsigned"
        );
        assert_eq!(snapshot(fx, &ix), before, "{name}: nothing changed");
    }
    name
}

fn grant(tag: &str) -> KeyGrant {
    KeyGrant {
        hash: random32(),
        locator: format!("local:{tag}"),
    }
}

/// The instructions not covered by `attacks.rs`, each built by its fixture, run.
fn run_study_and_guardian_cases() -> BTreeSet<String> {
    let mut covered = BTreeSet::new();

    // config_initialize, by a deployer that is not the fee payer.
    let mut fx = Fixture::new();
    let deployer = fx.funded(SOL);
    rekam_svm::set_upgrade_authority(&mut fx.svm, &rekam::ID, Some(deployer.pubkey()));
    let mint = fx.create_mint(&TOKEN, 6);
    let ix = ix::config_initialize(
        &fx.program_id,
        &deployer.pubkey(),
        &mint,
        &TOKEN,
        rekam::ConfigInitializeArgs {
            authority: deployer.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    covered.insert(run(&mut fx, case("config_initialize", ix, &[&deployer])));

    // Studies.
    let mut m = Market::new();
    let pid = m.pid();
    let researcher = m.researcher.insecure_clone();
    let terms = m.terms();
    let approval = m.approve(5, &terms);
    let open = m.open_ix(&approval, 5, terms, BUDGET);
    let study = m.study;
    let top_up = ix::study_top_up(
        &pid,
        &researcher.pubkey(),
        &study,
        m.approval_of(&study),
        &m.mint(),
        &m.token_program,
        &m.researcher_token,
        1,
    );
    let close = m.close_ix(&study, &researcher.pubkey());
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    let clinic = m.s.clinic.key;
    let contribute = m.contribute_ix(&study, &p, &record, &clinic);
    let gov = m.s.w.governance.insecure_clone();
    let withdraw = ix::treasury_withdraw(
        &pid,
        &gov.pubkey(),
        &m.mint(),
        &m.s.dest,
        &m.token_program,
        1,
    );
    let fx = &mut m.s.w.fx;
    covered.insert(run(fx, case("study_open", open, &[&researcher])));
    covered.insert(run(fx, case("study_top_up", top_up, &[&researcher])));
    covered.insert(run(fx, case("study_close", close, &[&researcher])));
    covered.insert(run(
        fx,
        case("study_contribute", contribute, &[&p.authority]),
    ));
    covered.insert(run(fx, case("treasury_withdraw", withdraw, &[&gov])));

    // Guardians and emergencies.
    let mut g = Guarded::new();
    let pid = g.pid();
    let patient = g.s.patient_clone();
    let change = ix::guardians_change(
        &pid,
        &patient.authority.pubkey(),
        &patient.key,
        g.args(&[0, 1], 2),
    );
    let request_index = g.guardianship().emergencies_requested;
    let clinic = g.s.clinic.authority.insecure_clone();
    let request_ix = ix::emergency_request(
        &pid,
        &clinic.pubkey(),
        &g.s.clinic.key,
        &patient.key,
        request_index,
        rekam::EmergencyRequestArgs {
            reason: rekam::EmergencyReason::EmergencyTreatment,
            duration_seconds: 12 * HOUR,
            approval_window_seconds: HOUR,
        },
    );
    let request = g.request();
    let guardian = g.guardians[0].insecure_clone();
    let approve = ix::emergency_approve(&pid, &guardian.pubkey(), &patient.key, &request);
    g.approve(1, &request).expect("first approval");
    g.approve(2, &request).expect("second approval");
    let index = g.s.w.fx.fetch::<Patient>(&patient.key).consents_created;
    let activate = ix::emergency_activate(
        &pid,
        &guardian.pubkey(),
        &patient.key,
        &request,
        &g.s.clinic.key,
        index,
        grant("emergency"),
    );
    let fx = &mut g.s.w.fx;
    covered.insert(run(
        fx,
        case("guardians_change", change, &[&patient.authority]),
    ));
    covered.insert(run(fx, case("emergency_request", request_ix, &[&clinic])));
    covered.insert(run(fx, case("emergency_approve", approve, &[&guardian])));
    covered.insert(run(fx, case("emergency_activate", activate, &[&guardian])));
    let activator = g.guardians[1].insecure_clone();
    g.activate_as(&activator, &request).expect("activate");
    let consent = g.s.w.fx.fetch::<rekam::EmergencyRequest>(&request).consent;
    let end = ix::emergency_end(
        &pid,
        &patient.authority.pubkey(),
        &patient.key,
        &request,
        &consent,
    );
    covered.insert(run(
        &mut g.s.w.fx,
        case("emergency_end", end, &[&patient.authority]),
    ));

    // Recovery.
    let new = g.s.w.fx.funded(SOL);
    let propose = ix::recovery_propose(&pid, &guardian.pubkey(), &patient.key, new.pubkey());
    covered.insert(run(
        &mut g.s.w.fx,
        case("recovery_propose", propose, &[&guardian]),
    ));
    g.propose(0, &new.pubkey()).expect("propose");
    let second = g.guardians[1].insecure_clone();
    let approve = ix::recovery_approve(&pid, &second.pubkey(), &patient.key);
    covered.insert(run(
        &mut g.s.w.fx,
        case("recovery_approve", approve, &[&second]),
    ));
    g.approve_recovery(1).expect("threshold");
    let cancel = ix::recovery_cancel(
        &pid,
        &patient.authority.pubkey(),
        &patient.key,
        &guardian.pubkey(),
    );
    covered.insert(run(
        &mut g.s.w.fx,
        case("recovery_cancel", cancel, &[&patient.authority]),
    ));
    g.s.w.fx.advance(48 * HOUR);
    let execute = ix::recovery_execute(
        &pid,
        &new.pubkey(),
        &patient.key,
        &guardian.pubkey(),
        random32(),
    );
    covered.insert(run(
        &mut g.s.w.fx,
        case("recovery_execute", execute, &[&new]),
    ));

    // guardians_set, for a patient with none yet.
    let mut s = Scene::new();
    let other = s.w.register_patient();
    let mut args = g.args(&[0, 1, 2], 2);
    args.emergency_scope = only(&[s.record]);
    let set = ix::guardians_set(
        &s.w.program_id(),
        &other.authority.pubkey(),
        &other.key,
        args,
    );
    covered.insert(run(
        &mut s.w.fx,
        case("guardians_set", set, &[&other.authority]),
    ));

    // consent_update_key_grant (the other consent instructions are in attacks.rs).
    let p = s.patient_clone();
    let update = ix::consent_update_key_grant(
        &s.w.program_id(),
        &p.authority.pubkey(),
        &p.key,
        &s.consent,
        grant("new-grant"),
    );
    covered.insert(run(
        &mut s.w.fx,
        case("consent_update_key_grant", update, &[&p.authority]),
    ));

    // receipt_close and consent_close: a read, then the consent revoked.
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let (consent, record, doctor) = (s.consent, s.record, s.doctor.insecure_clone());
    let p = s.patient_clone();
    s.w.access(
        &doctor,
        &p.key,
        &consent,
        &record,
        rekam::Purpose::Treatment,
    )
    .expect("read");
    s.w.revoke_consent(&p, &consent).expect("revoke");
    let index = s.w.fx.fetch::<rekam::Consent>(&consent).index;
    let receipt = ix::receipt_close(
        &pid,
        &p.authority.pubkey(),
        &p.key,
        index,
        0,
        &doctor.pubkey(),
    );
    covered.insert(run(
        &mut s.w.fx,
        case("receipt_close", receipt, &[&p.authority]),
    ));
    let close = ix::consent_close(&pid, &p.authority.pubkey(), &p.key, &consent);
    covered.insert(run(
        &mut s.w.fx,
        case("consent_close", close, &[&p.authority]),
    ));

    // Batches: anchor a new one, revoke one anchored before, or one fact of it.
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let clinic = s.clinic.insecure_clone();
    let patient = s.patient.key;
    let (batch, _) = crate::batches::anchor(&mut s.w, &clinic, &patient, 8);
    let (_, args) = crate::batches::batch_of(&s.w, 8);
    let signer = clinic.authority.insecure_clone();
    let anchor = ix::batch_anchor(&pid, &signer.pubkey(), &clinic.key, &patient, args);
    let revoke = ix::batch_revoke(&pid, &signer.pubkey(), &clinic.key, &batch);
    let revoke_fact = ix::batch_revoke_fact(&pid, &signer.pubkey(), &clinic.key, &batch, 1);
    let fx = &mut s.w.fx;
    covered.insert(run(fx, case("batch_anchor", anchor, &[&signer])));
    covered.insert(run(fx, case("batch_revoke", revoke, &[&signer])));
    covered.insert(run(fx, case("batch_revoke_fact", revoke_fact, &[&signer])));
    covered
}

#[test]
fn every_instruction_refuses_a_missing_signer_and_none_is_left_out() {
    let mut covered = run_study_and_guardian_cases();
    assert_eq!(covered.len(), 22, "every case above ran: {covered:?}");
    // The instructions whose missing-signer cases live in `attacks.rs`.
    covered.extend(attacks_signer_cases().into_iter().map(String::from));
    covered.extend(NO_SIGNER.iter().map(|s| s.to_string()));
    covered.extend(super::shc_keys::covered().into_iter().map(String::from));
    let idl = idl();
    let all: BTreeSet<String> = idl["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    // SBF-shaped limit: every transaction fits the 1,232-byte packet.
    let sizes = SIZES.lock().unwrap().clone();
    println!("{:<26} {:>6}", "instruction", "bytes");
    for (name, size) in &sizes {
        println!("{name:<26} {size:>6}");
        assert!(*size <= 1_232, "{name}: {size} bytes exceed a packet");
    }
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "instructions without a missing-signer case: {missing:?}"
    );
    for name in NO_SIGNER {
        let entry = idl["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap();
        assert!(
            entry["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["signer"].as_bool() != Some(true)),
            "{name} really has no signer"
        );
    }
}

/// The names `attacks.rs::missing_signer_is_rejected_everywhere` covers, read from its
/// source so the list cannot drift from the cases it runs.
fn attacks_signer_cases() -> Vec<&'static str> {
    quoted_names(
        include_str!("attacks.rs"),
        "fn missing_signer_is_rejected_everywhere",
    )
}

/// Instructions that read no existing Rekam account, so they have no wrong-owner or
/// type-cosplay rows: `config_initialize` reads only the upgradeable loader's ProgramData
/// (its forged look-alikes are in `config.rs`) and creates the config; `patient_register`
/// only creates the profile.
const READS_NO_PROGRAM_ACCOUNT: [&str; 2] = ["config_initialize", "patient_register"];

#[test]
fn every_instruction_that_reads_program_accounts_has_owner_and_type_rows() {
    let all: BTreeSet<String> = idl()["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    let mut covered: BTreeSet<String> =
        quoted_names(include_str!("attacks.rs"), "fn every_instruction(")
            .into_iter()
            .map(String::from)
            .filter(|name| all.contains(name))
            .collect();
    assert_eq!(
        covered.len(),
        17,
        "attacks.rs every_instruction: {covered:?}"
    );
    covered.extend(super::attacks_more::covered().into_iter().map(String::from));
    covered.extend(super::shc_keys::covered().into_iter().map(String::from));
    covered.extend(
        super::batch_attacks::covered()
            .into_iter()
            .map(String::from),
    );
    covered.extend(READS_NO_PROGRAM_ACCOUNT.iter().map(|s| s.to_string()));
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "instructions without wrong-owner and type-cosplay rows: {missing:?}"
    );
}

/// The quoted snake_case names in the function of `source` that starts with `start`.
fn quoted_names(source: &'static str, start: &str) -> Vec<&'static str> {
    let from = source.find(start).expect("the function");
    let end = from + source[from..].find("\n}\n").expect("its end");
    source[from..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect()
}
