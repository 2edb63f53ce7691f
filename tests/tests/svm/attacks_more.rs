//! The wrong-owner and type-cosplay tables for the study, guardian, emergency and recovery
//! instructions (the audit found `attacks.rs` covered none of them). Each case brings its
//! instruction to the state where it succeeds (a control run asserts that), then every
//! program account it reads is, in a fresh world, either handed to another program or
//! replaced by a genuine Rekam account of another type; the exact Anchor error is
//! asserted and nothing the instruction would write has changed.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A case: its instruction, its signers, and the program accounts it reads, by role.
pub(crate) struct Case {
    pub name: &'static str,
    pub ix: Instruction,
    pub signers: Vec<Keypair>,
    pub reads: Vec<(&'static str, Pubkey)>,
}

/// A world a case runs in.
pub(crate) trait Host {
    fn fresh() -> Self;
    fn scene(&mut self) -> &mut Scene;
}

impl Host for Guarded {
    fn fresh() -> Self {
        Guarded::new()
    }
    fn scene(&mut self) -> &mut Scene {
        &mut self.s
    }
}

impl Host for Scene {
    fn fresh() -> Self {
        Scene::new()
    }
    fn scene(&mut self) -> &mut Scene {
        self
    }
}

impl Host for Market {
    fn fresh() -> Self {
        Market::new()
    }
    fn scene(&mut self) -> &mut Scene {
        &mut self.s
    }
}

fn grant() -> rekam::KeyGrant {
    rekam::KeyGrant {
        hash: random32(),
        locator: "local:grant".into(),
    }
}

fn patient_of(g: &Guarded) -> TestPatient {
    g.s.patient_clone()
}

fn guardianship(g: &Guarded) -> Pubkey {
    pda::guardianship(&g.pid(), &g.s.patient.key)
}

fn guardians_set(g: &mut Guarded) -> Case {
    // A second patient, who has no guardians yet.
    let p = g.s.w.register_patient();
    let args = g.args(&[0, 1], 2);
    Case {
        name: "guardians_set",
        ix: ix::guardians_set(&g.pid(), &p.authority.pubkey(), &p.key, args),
        signers: vec![p.authority.insecure_clone()],
        reads: vec![("patient", p.key)],
    }
}

fn guardians_change(g: &mut Guarded) -> Case {
    let p = patient_of(g);
    let args = g.args(&[0, 1, 2], 3);
    Case {
        name: "guardians_change",
        ix: ix::guardians_change(&g.pid(), &p.authority.pubkey(), &p.key, args),
        signers: vec![p.authority.insecure_clone()],
        reads: vec![("patient", p.key), ("guardianship", guardianship(g))],
    }
}

fn emergency_request(g: &mut Guarded) -> Case {
    let clinic = g.s.clinic.authority.insecure_clone();
    let ix = ix::emergency_request(
        &g.pid(),
        &clinic.pubkey(),
        &g.s.clinic.key,
        &g.s.patient.key,
        0,
        rekam::EmergencyRequestArgs {
            reason: rekam::EmergencyReason::EmergencyTreatment,
            duration_seconds: 12 * HOUR,
            approval_window_seconds: HOUR,
        },
    );
    Case {
        name: "emergency_request",
        ix,
        signers: vec![clinic],
        reads: vec![
            ("issuer", g.s.clinic.key),
            ("patient", g.s.patient.key),
            ("guardianship", guardianship(g)),
        ],
    }
}

fn emergency_approve(g: &mut Guarded) -> Case {
    let request = g.request();
    let guardian = g.guardians[0].insecure_clone();
    Case {
        name: "emergency_approve",
        ix: ix::emergency_approve(&g.pid(), &guardian.pubkey(), &g.s.patient.key, &request),
        signers: vec![guardian],
        reads: vec![("guardianship", guardianship(g)), ("request", request)],
    }
}

fn emergency_activate(g: &mut Guarded) -> Case {
    let request = g.request();
    g.approve(0, &request).expect("approve 0");
    g.approve(1, &request).expect("approve 1");
    let guardian = g.guardians[1].insecure_clone();
    let index =
        g.s.w
            .fx
            .fetch::<rekam::Patient>(&g.s.patient.key)
            .consents_created;
    let ix = ix::emergency_activate(
        &g.pid(),
        &guardian.pubkey(),
        &g.s.patient.key,
        &request,
        &g.s.clinic.key,
        index,
        grant(),
    );
    Case {
        name: "emergency_activate",
        ix,
        signers: vec![guardian],
        reads: vec![
            ("patient", g.s.patient.key),
            ("guardianship", guardianship(g)),
            ("request", request),
            ("issuer", g.s.clinic.key),
        ],
    }
}

fn emergency_end(g: &mut Guarded) -> Case {
    let (request, consent) = g.granted();
    let guardian = g.guardians[0].insecure_clone();
    let ix = ix::emergency_end(
        &g.pid(),
        &guardian.pubkey(),
        &g.s.patient.key,
        &request,
        &consent,
    );
    Case {
        name: "emergency_end",
        ix,
        signers: vec![guardian],
        reads: vec![
            ("patient", g.s.patient.key),
            ("guardianship", guardianship(g)),
            ("request", request),
            ("consent", consent),
        ],
    }
}

fn recovery_propose(g: &mut Guarded) -> Case {
    let guardian = g.guardians[0].insecure_clone();
    let ix = ix::recovery_propose(
        &g.pid(),
        &guardian.pubkey(),
        &g.s.patient.key,
        Pubkey::new_unique(),
    );
    Case {
        name: "recovery_propose",
        ix,
        signers: vec![guardian],
        reads: vec![
            ("patient", g.s.patient.key),
            ("guardianship", guardianship(g)),
        ],
    }
}

fn recovery_approve(g: &mut Guarded) -> Case {
    g.propose(0, &Pubkey::new_unique()).expect("propose");
    let guardian = g.guardians[1].insecure_clone();
    Case {
        name: "recovery_approve",
        ix: ix::recovery_approve(&g.pid(), &guardian.pubkey(), &g.s.patient.key),
        signers: vec![guardian],
        reads: vec![
            ("guardianship", guardianship(g)),
            ("recovery", pda::recovery(&g.pid(), &g.s.patient.key)),
        ],
    }
}

fn recovery_cancel(g: &mut Guarded) -> Case {
    g.propose(0, &Pubkey::new_unique()).expect("propose");
    let p = patient_of(g);
    let proposer = g.guardians[0].pubkey();
    Case {
        name: "recovery_cancel",
        ix: ix::recovery_cancel(&g.pid(), &p.authority.pubkey(), &p.key, &proposer),
        signers: vec![p.authority.insecure_clone()],
        reads: vec![
            ("patient", p.key),
            ("guardianship", guardianship(g)),
            ("recovery", pda::recovery(&g.pid(), &p.key)),
        ],
    }
}

fn recovery_execute(g: &mut Guarded) -> Case {
    let new = g.s.w.fx.funded(SOL);
    g.propose(0, &new.pubkey()).expect("propose");
    g.approve_recovery(1).expect("approve");
    g.s.w.fx.advance(48 * HOUR + 1);
    let proposer = g.guardians[0].pubkey();
    let ix = ix::recovery_execute(
        &g.pid(),
        &new.pubkey(),
        &g.s.patient.key,
        &proposer,
        random32(),
    );
    Case {
        name: "recovery_execute",
        ix,
        signers: vec![new],
        reads: vec![
            ("patient", g.s.patient.key),
            ("guardianship", guardianship(g)),
            ("recovery", pda::recovery(&g.pid(), &g.s.patient.key)),
        ],
    }
}

const GUARDIAN_CASES: [fn(&mut Guarded) -> Case; 10] = [
    guardians_set,
    guardians_change,
    emergency_request,
    emergency_approve,
    emergency_activate,
    emergency_end,
    recovery_propose,
    recovery_approve,
    recovery_cancel,
    recovery_execute,
];

fn study_open(m: &mut Market) -> Case {
    let terms = m.terms();
    let approval = m.approve(7, &terms);
    Case {
        name: "study_open",
        ix: m.open_ix(&approval, 7, terms, BUDGET),
        signers: vec![m.researcher.insecure_clone()],
        reads: vec![
            ("config", pda::config(&m.pid())),
            ("ethics_approval", approval),
            ("ethics_board", m.board.key),
        ],
    }
}

/// The study's approval accounts, as the study names them.
fn approval_reads(m: &Market) -> [(&'static str, Pubkey); 3] {
    let approval = m.approval_of(&m.study);
    [
        ("study", m.study),
        ("ethics_approval", approval.attestation),
        ("ethics_board", approval.board),
    ]
}

fn study_top_up(m: &mut Market) -> Case {
    let ix = ix::study_top_up(
        &m.pid(),
        &m.researcher.pubkey(),
        &m.study,
        m.approval_of(&m.study),
        &m.mint(),
        &m.token_program,
        &m.researcher_token,
        1_000,
    );
    Case {
        name: "study_top_up",
        ix,
        signers: vec![m.researcher.insecure_clone()],
        reads: approval_reads(m).to_vec(),
    }
}

fn study_contribute(m: &mut Market) -> Case {
    let p = m.s.patient_clone();
    let ix = m.contribute_ix(&m.study, &p, &m.s.record, &m.s.clinic.key);
    let mut reads = vec![
        ("patient", p.key),
        ("config", pda::config(&m.pid())),
        ("attestation", m.s.record),
        ("issuer", m.s.clinic.key),
    ];
    reads.extend(approval_reads(m));
    Case {
        name: "study_contribute",
        ix,
        signers: vec![p.authority.insecure_clone()],
        reads,
    }
}

fn study_close(m: &mut Market) -> Case {
    Case {
        name: "study_close",
        ix: m.close_ix(&m.study, &m.researcher.pubkey()),
        signers: vec![m.researcher.insecure_clone()],
        reads: approval_reads(m).to_vec(),
    }
}

const STUDY_CASES: [fn(&mut Market) -> Case; 4] =
    [study_open, study_top_up, study_contribute, study_close];

/// A read, then the consent revoked: what `receipt_close` and `consent_close` need.
fn ended_consent_with_a_receipt(s: &mut Scene) -> (TestPatient, u64) {
    let p = s.patient_clone();
    let doctor = s.doctor.insecure_clone();
    let (consent, record) = (s.consent, s.record);
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
    (p, index)
}

fn receipt_close(s: &mut Scene) -> Case {
    let (p, index) = ended_consent_with_a_receipt(s);
    let pid = s.w.program_id();
    Case {
        name: "receipt_close",
        ix: ix::receipt_close(
            &pid,
            &p.authority.pubkey(),
            &p.key,
            index,
            0,
            &s.doctor.pubkey(),
        ),
        signers: vec![p.authority.insecure_clone()],
        reads: vec![
            ("patient", p.key),
            ("receipt", pda::access_receipt(&pid, &s.consent, 0)),
        ],
    }
}

fn consent_close(s: &mut Scene) -> Case {
    let (p, _) = ended_consent_with_a_receipt(s);
    Case {
        name: "consent_close",
        ix: ix::consent_close(&s.w.program_id(), &p.authority.pubkey(), &p.key, &s.consent),
        signers: vec![p.authority.insecure_clone()],
        reads: vec![("patient", p.key), ("consent", s.consent)],
    }
}

const CLOSE_CASES: [fn(&mut Scene) -> Case; 2] = [receipt_close, consent_close];

/// The instruction names these tables cover, for the coverage test.
pub fn covered() -> Vec<&'static str> {
    let guardians = GUARDIAN_CASES
        .iter()
        .map(|setup| setup(&mut Guarded::new()).name);
    let studies = STUDY_CASES
        .iter()
        .map(|setup| setup(&mut Market::new()).name);
    let closes = CLOSE_CASES
        .iter()
        .map(|setup| setup(&mut Scene::new()).name);
    guardians.chain(studies).chain(closes).collect()
}

fn send(s: &mut Scene, case: &Case) -> TxResult {
    let refs: Vec<&Keypair> = case.signers.iter().collect();
    s.w.fx.send(std::slice::from_ref(&case.ix), &refs)
}

/// For every case and every account it reads: a control run succeeds, and the forged
/// account gives `expected` with every account of the instruction unchanged.
pub(crate) fn forge_each<H: Host>(
    cases: &[fn(&mut H) -> Case],
    expected: u32,
    forge: &impl Fn(&mut Scene, &str, &Pubkey),
) -> usize {
    let mut checked = 0;
    for setup in cases {
        let mut control = H::fresh();
        let case = setup(&mut control);
        send(control.scene(), &case)
            .unwrap_or_else(|e| panic!("{}: control run: {e:?}", case.name));
        for slot in 0..case.reads.len() {
            // Every world has its own keys: take the account from this world's case.
            let mut h = H::fresh();
            let case = setup(&mut h);
            let (role, key) = &case.reads[slot];
            let s = h.scene();
            forge(s, role, key);
            let snapshot = |s: &Scene| -> Vec<_> {
                case.ix
                    .accounts
                    .iter()
                    .map(|m| s.w.fx.account(&m.pubkey))
                    .collect()
            };
            let before = snapshot(s);
            let (_, err) = instruction_error(send(s, &case));
            assert_eq!(
                err,
                InstructionError::Custom(expected),
                "{}: forged {role}",
                case.name
            );
            assert_eq!(
                before,
                snapshot(s),
                "{}: forged {role} changed an account",
                case.name
            );
            checked += 1;
        }
    }
    checked
}

pub(crate) fn owned_elsewhere(s: &mut Scene, _: &str, key: &Pubkey) {
    let mut account = s.w.fx.account(key).expect("account exists");
    account.owner = anchor_lang::system_program::ID;
    s.w.fx.put(*key, account);
}

/// A genuine program account of a different type, put where this one was.
pub(crate) fn another_type(s: &mut Scene, role: &str, key: &Pubkey) {
    let impostor = match role {
        "patient" => s.clinic.key,
        "issuer" | "ethics_board" => s.patient.key,
        "consent" | "guardianship" | "config" | "study" => s.record,
        _ => s.consent,
    };
    let account = s.w.fx.account(&impostor).expect("impostor exists");
    s.w.fx.put(*key, account);
}

#[test]
fn every_guardian_account_owned_by_another_program_is_rejected() {
    let checked = forge_each(
        &GUARDIAN_CASES,
        Anchor::AccountOwnedByWrongProgram as u32,
        &owned_elsewhere,
    );
    assert_eq!(checked, 26, "instruction/account pairs");
}

#[test]
fn every_guardian_account_replaced_by_another_type_is_rejected() {
    let checked = forge_each(
        &GUARDIAN_CASES,
        Anchor::AccountDiscriminatorMismatch as u32,
        &another_type,
    );
    assert_eq!(checked, 26, "instruction/account pairs");
}

#[test]
fn every_study_account_owned_by_another_program_is_rejected() {
    let checked = forge_each(
        &STUDY_CASES,
        Anchor::AccountOwnedByWrongProgram as u32,
        &owned_elsewhere,
    );
    assert_eq!(checked, 16, "instruction/account pairs");
}

#[test]
fn every_study_account_replaced_by_another_type_is_rejected() {
    let checked = forge_each(
        &STUDY_CASES,
        Anchor::AccountDiscriminatorMismatch as u32,
        &another_type,
    );
    assert_eq!(checked, 16, "instruction/account pairs");
}

#[test]
fn every_closing_account_owned_by_another_program_or_of_another_type_is_rejected() {
    let owner = forge_each(
        &CLOSE_CASES,
        Anchor::AccountOwnedByWrongProgram as u32,
        &owned_elsewhere,
    );
    let kind = forge_each(
        &CLOSE_CASES,
        Anchor::AccountDiscriminatorMismatch as u32,
        &another_type,
    );
    assert_eq!((owner, kind), (4, 4), "instruction/account pairs");
}

/// An account of a later layout version (a program rolled back after an upgrade would
/// otherwise misread it): `UnsupportedVersion`, for every account every table reads.
pub(crate) fn later_version(s: &mut Scene, _: &str, key: &Pubkey) {
    let mut account = s.w.fx.account(key).expect("account exists");
    // The 1-byte discriminator, then the version byte.
    account.data[1] = rekam::ACCOUNT_VERSION + 1;
    s.w.fx.put(*key, account);
}

#[test]
fn every_account_of_a_later_version_is_rejected() {
    let code = rekam::RekamError::UnsupportedVersion.code();
    let checked = forge_each(&GUARDIAN_CASES, code, &later_version)
        + forge_each(&STUDY_CASES, code, &later_version)
        + forge_each(&CLOSE_CASES, code, &later_version);
    assert_eq!(checked, 26 + 16 + 4, "instruction/account pairs");
}
