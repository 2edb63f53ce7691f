//! The research marketplace in the real SVM, against the real SPL Token and Token-2022
//! programs: open with an ethics approval, top up, contribute (paid from escrow minus
//! the protocol fee, research consent granted in the same instruction), close and refund.
//! Every balance that can move is asserted after every step, and every failure asserts
//! its exact error and that no balance moved.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::events::{ContributionPaid, StudyFinished, StudyFunded, StudyOpened};
use rekam::{
    roles, AttestationKind, Consent, Contribution, Issuer, Patient, Purpose, RekamError, Study,
};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_signer::Signer;

/// 1% of the price (the World's fee is 100 bps).
const FEE: u64 = PRICE / 100;
const PAYOUT: u64 = PRICE - FEE;

fn lifecycle(token_program: Pubkey) {
    let mut m = Market::with_token_program(&token_program);
    let pid = m.pid();
    let study_key = m.study;
    let escrow = pda::escrow(&pid, &study_key);

    // Open: the budget left the researcher and sits in an escrow the study PDA owns.
    assert_eq!(
        m.balances(&study_key),
        Balances {
            researcher: RESEARCHER_FUNDS - BUDGET,
            escrow: BUDGET,
            treasury: 0
        }
    );
    let escrow_account = m.s.w.fx.token_account(&escrow);
    assert_eq!(escrow_account.owner, study_key);
    assert_eq!(escrow_account.mint, m.mint());
    assert_eq!(m.s.w.fx.account(&escrow).unwrap().owner, token_program);
    let study: Study = m.s.w.fx.fetch(&study_key);
    assert_eq!(study.researcher, m.researcher.pubkey());
    assert_eq!(study.escrow, escrow);
    assert_eq!(study.deposited, BUDGET);
    assert_eq!(study.terms_hash, m.terms_hash(1, &study.terms));
    assert_eq!(
        study.ethics_approval,
        pda::attestation(&pid, &m.board.key, &study.terms_hash)
    );
    assert!(study.conserves(BUDGET));

    // Top-up.
    let out = m.top_up(&study_key, 5_000).expect("top up");
    let funded = out.events::<StudyFunded>(&pid);
    assert_eq!(funded.len(), 1);
    assert_eq!(funded[0].deposited, BUDGET + 5_000);
    assert_eq!(
        m.balances(&study_key),
        Balances {
            researcher: RESEARCHER_FUNDS - BUDGET - 5_000,
            escrow: BUDGET + 5_000,
            treasury: 0
        }
    );

    // Contribute: the patient has no token account yet; the instruction creates it.
    let wallet = m.s.patient.authority.pubkey();
    let ata = pda::associated_token(&wallet, &m.mint(), &token_program);
    assert!(m.s.w.fx.account(&ata).is_none());
    let consents_before = m.s.w.fx.fetch::<Patient>(&m.s.patient.key).consents_created;
    let (patient_t, record, clinic) = (m.s.patient_clone(), m.s.record, m.s.clinic.key);
    let out = m
        .contribute(&study_key, &patient_t, &record, &clinic)
        .expect("contribute");
    assert_eq!(m.wallet_balance(&wallet), PAYOUT);
    assert_eq!(m.s.w.fx.token_account(&ata).owner, wallet);
    assert_eq!(
        m.balances(&study_key),
        Balances {
            researcher: RESEARCHER_FUNDS - BUDGET - 5_000,
            escrow: BUDGET + 5_000 - PRICE,
            treasury: FEE
        }
    );
    let paid = out.events::<ContributionPaid>(&pid);
    assert_eq!(paid.len(), 1);
    assert_eq!((paid[0].payout, paid[0].fee), (PAYOUT, FEE));

    // The research consent was granted in the same instruction, scoped to the record.
    let consent_key = pda::consent(&pid, &m.s.patient.key, consents_before);
    let consent: Consent = m.s.w.fx.fetch(&consent_key);
    assert_eq!(consent.purpose, Purpose::Research);
    assert_eq!(consent.grantee, m.researcher.pubkey());
    assert_eq!(consent.scope, only(&[record]));
    assert_eq!(consent.expires_at, study.terms.data_use_until);
    assert_eq!(consent.key_grant.locator, "local:deidentified-copy");
    let contribution: Contribution =
        m.s.w
            .fx
            .fetch(&pda::contribution(&pid, &study_key, &record));
    assert_eq!(contribution.consent, consent_key);
    assert_eq!(contribution.patient, m.s.patient.key);
    assert_eq!((contribution.payout, contribution.fee), (PAYOUT, FEE));
    let study: Study = m.s.w.fx.fetch(&study_key);
    assert_eq!(
        (study.contributions, study.paid, study.fees),
        (1, PAYOUT, FEE)
    );

    // A second patient, with a lab result.
    let (second, lab) = m.patient_with_record(AttestationKind::LabResult);
    m.contribute(&study_key, &second, &lab, &clinic)
        .expect("second contribution");
    assert_eq!(m.wallet_balance(&second.authority.pubkey()), PAYOUT);
    let escrow_left = BUDGET + 5_000 - 2 * PRICE;
    assert_eq!(m.balances(&study_key).escrow, escrow_left);
    assert_eq!(m.balances(&study_key).treasury, 2 * FEE);

    // The researcher reads under the research consent, with a receipt.
    let researcher = m.researcher.insecure_clone();
    m.s.w
        .access(
            &researcher,
            &m.s.patient.key,
            &consent_key,
            &record,
            Purpose::Research,
        )
        .expect("research access");

    // Close: the rest goes back, the escrow account is closed and its rent returned.
    let rent = m.s.w.fx.account(&escrow).unwrap().lamports;
    let lamports_before = m.s.w.fx.account(&researcher.pubkey()).unwrap().lamports;
    let out = m.close(&study_key, &researcher).expect("close");
    let finished = out.events::<StudyFinished>(&pid);
    assert_eq!(
        (finished[0].refunded, finished[0].contributions),
        (escrow_left, 2)
    );
    assert_eq!(
        m.balances(&study_key),
        Balances {
            researcher: RESEARCHER_FUNDS - 2 * PRICE,
            escrow: 0,
            treasury: 2 * FEE
        }
    );
    assert!(m.s.w.fx.account(&escrow).is_none(), "escrow closed");
    assert_eq!(
        m.s.w.fx.account(&researcher.pubkey()).unwrap().lamports,
        lamports_before + rent,
        "escrow rent returned (the fixture payer paid the fee)"
    );
    let study: Study = m.s.w.fx.fetch(&study_key);
    assert_ne!(study.closed_at, 0);
    assert_eq!(study.refunded, escrow_left);
    assert!(study.conserves(0));
    assert_eq!(
        study.deposited,
        study.paid + study.fees + study.refunded,
        "deposited = paid + fees + refunded"
    );

    // Consents for contributions already made keep their terms after the close.
    m.s.w
        .access(
            &researcher,
            &m.s.patient.key,
            &consent_key,
            &record,
            Purpose::Research,
        )
        .expect("consent outlives the study");
    assert_eq!(m.s.w.fx.fetch::<Consent>(&consent_key).access_count, 2);
}

#[test]
fn a_study_in_spl_token_pays_patients_and_refunds_the_rest() {
    lifecycle(TOKEN);
}

#[test]
fn a_study_in_token_2022_pays_patients_and_refunds_the_rest() {
    lifecycle(TOKEN_2022);
}

#[test]
fn opening_emits_the_terms_and_needs_a_budget() {
    let mut m = Market::new();
    let terms = m.terms();
    let approval = m.approve(2, &terms);
    let ix = m.open_ix(&approval, 2, terms, 0);
    let researcher = m.researcher.insecure_clone();
    let before = m.balances(&m.study);
    assert_rekam_error(m.s.w.fx.send(&[ix], &[&researcher]), RekamError::ZeroAmount);
    let ix = m.open_ix(&approval, 2, terms, 7);
    let out = m.s.w.fx.send(&[ix], &[&researcher]).expect("open");
    let opened = out.events::<StudyOpened>(&m.pid());
    assert_eq!(opened.len(), 1);
    assert_eq!(
        (opened[0].budget, opened[0].price, opened[0].ethics_approval),
        (7, PRICE, approval)
    );
    assert_eq!(
        m.balances(&m.study).researcher,
        before.researcher - 7,
        "only the second open moved tokens"
    );
    // The same id again: the study exists already, and nothing moves.
    let balance = m.balances(&m.study).researcher;
    let ix = m.open_ix(&approval, 2, terms, 7);
    let (_, err) = instruction_error(m.s.w.fx.send(&[ix], &[&researcher]));
    assert_eq!(
        err,
        InstructionError::Custom(0),
        "study account already in use"
    );
    assert_eq!(m.balances(&m.study).researcher, balance);
}

#[test]
fn a_study_opens_only_with_an_ethics_approval_of_its_exact_terms() {
    let mut m = Market::new();
    let pid = m.pid();
    let researcher = m.researcher.insecure_clone();
    let before = m.balances(&m.study);

    // Approved terms, but the researcher opens with a higher... lower price.
    let terms = m.terms();
    let approval = m.approve(2, &terms);
    let mut cheaper = terms;
    cheaper.price -= 1;
    let ix = m.open_ix(&approval, 2, cheaper, BUDGET);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::ApprovalMismatch,
    );
    // The approval of study 2 does not open study 3 with the same terms.
    let ix = m.open_ix(&approval, 3, terms, BUDGET);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::ApprovalMismatch,
    );
    // A patient's diagnosis is not an ethics approval.
    let mut ix = m.open_ix(&m.s.record, 2, terms, BUDGET);
    ix.accounts[3].pubkey = m.s.clinic.key;
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::NotEthicsApproval,
    );
    // The approval with the wrong issuer account.
    let mut ix = m.open_ix(&approval, 2, terms, BUDGET);
    ix.accounts[3].pubkey = m.s.clinic.key;
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::IssuerMismatch,
    );
    // An issuer that no longer holds the ethics-board role.
    let board = m.board.key;
    m.s.w.fx.edit::<Issuer>(&board, |i| i.roles = roles::CLINIC);
    let ix = m.open_ix(&approval, 2, terms, BUDGET);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::NotEthicsBoard,
    );
    m.s.w
        .fx
        .edit::<Issuer>(&board, |i| i.roles = roles::ETHICS_BOARD);
    // A suspended board.
    let gov = m.s.w.governance.insecure_clone();
    m.s.w
        .fx
        .send(&[ix::issuer_suspend(&pid, &gov.pubkey(), &board)], &[&gov])
        .expect("suspend");
    let ix = m.open_ix(&approval, 2, terms, BUDGET);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::IssuerSuspended,
    );
    m.s.w
        .fx
        .send(
            &[ix::issuer_reinstate(&pid, &gov.pubkey(), &board)],
            &[&gov],
        )
        .expect("reinstate");
    // A revoked approval.
    let board_kp = m.board.authority.insecure_clone();
    m.s.w
        .fx
        .send(
            &[ix::attestation_revoke(
                &pid,
                &board_kp.pubkey(),
                &board,
                &approval,
            )],
            &[&board_kp],
        )
        .expect("revoke approval");
    let ix = m.open_ix(&approval, 2, terms, BUDGET);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::AttestationRevoked,
    );
    // An expired approval.
    let terms = m.terms();
    let hash = m.terms_hash(4, &terms);
    let today = day_of(m.s.w.fx.now());
    let ix = ix::ethics_approval_issue(
        &pid,
        &m.s.w.fx.payer.pubkey(),
        &board_kp.pubkey(),
        &board,
        hash,
        today,
        today + 1,
    );
    m.s.w.fx.send(&[ix], &[&board_kp]).expect("approval");
    m.s.w.fx.advance(DAY);
    let approval = pda::attestation(&pid, &board, &hash);
    let ix = m.open_ix(&approval, 4, terms, BUDGET);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::AttestationExpired,
    );
    assert_eq!(m.balances(&m.study), before, "no failed open moved tokens");
}

#[test]
fn only_ethics_boards_issue_approvals_and_approvals_name_no_patient() {
    let mut m = Market::new();
    let pid = m.pid();
    let hash = random32();
    let today = day_of(m.s.w.fx.now());
    // A clinic cannot approve a study.
    let clinic = m.s.clinic.authority.insecure_clone();
    let ix = ix::ethics_approval_issue(
        &pid,
        &m.s.w.fx.payer.pubkey(),
        &clinic.pubkey(),
        &m.s.clinic.key,
        hash,
        today,
        0,
    );
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&clinic]),
        RekamError::RoleNotAllowedForKind,
    );
    // An approval about a patient, and a diagnosis about nobody, are both malformed.
    let board = m.board.authority.insecure_clone();
    let mut args = m.s.w.issue_args(AttestationKind::EthicsApproval);
    args.evidence_commitment = hash;
    let ix = ix::attestation_issue(
        &pid,
        &m.s.w.fx.payer.pubkey(),
        &board.pubkey(),
        &m.board.key,
        &m.s.patient.key,
        args,
    );
    assert_rekam_error(m.s.w.fx.send(&[ix], &[&board]), RekamError::SubjectMismatch);
    let mut ix = m.s.w.issue_ix(
        &m.s.clinic,
        &m.s.patient.key,
        m.s.w.issue_args(AttestationKind::Diagnosis),
    );
    ix.accounts[3].pubkey = pid; // Anchor's "absent optional account"
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&clinic]),
        RekamError::SubjectMismatch,
    );
}

#[test]
fn invalid_terms_are_refused() {
    let mut m = Market::new();
    let researcher = m.researcher.insecure_clone();
    let base = m.terms();
    let now = m.s.w.fx.now();
    let cases: Vec<(&str, rekam::StudyTerms)> = vec![
        ("zero price", rekam::StudyTerms { price: 0, ..base }),
        (
            "zero size",
            rekam::StudyTerms {
                max_contributions: 0,
                ..base
            },
        ),
        (
            "no contribution per patient",
            rekam::StudyTerms {
                max_per_patient: 0,
                ..base
            },
        ),
        ("no kinds", {
            let mut t = base;
            t.criteria.kinds = 0;
            t
        }),
        ("ethics approvals as data", {
            let mut t = base;
            t.criteria.kinds = AttestationKind::EthicsApproval.bit();
            t
        }),
        ("undefined role", {
            let mut t = base;
            t.criteria.issuer_roles = 0x80;
            t
        }),
        ("reversed window", {
            let mut t = base;
            t.criteria.issued_from_day = 20_000;
            t.criteria.issued_until_day = 19_000;
            t
        }),
        (
            "deadline now",
            rekam::StudyTerms {
                deadline: now,
                ..base
            },
        ),
        (
            "data use ends before the deadline",
            rekam::StudyTerms {
                data_use_until: base.deadline - 1,
                ..base
            },
        ),
        (
            "no researcher key",
            rekam::StudyTerms {
                encryption_key: [0; 32],
                ..base
            },
        ),
    ];
    for (i, (name, terms)) in cases.into_iter().enumerate() {
        let id = 10 + i as u64;
        let approval = m.approve(id, &terms);
        let ix = m.open_ix(&approval, id, terms, BUDGET);
        let (_, err) = instruction_error(m.s.w.fx.send(&[ix], &[&researcher]));
        assert_eq!(
            err,
            InstructionError::Custom(RekamError::InvalidStudyTerms.code()),
            "{name}"
        );
    }
}

#[test]
fn a_study_pays_only_in_the_deployment_fee_mint() {
    let mut m = Market::new();
    let other = m.s.w.fx.create_mint(&TOKEN, 6);
    let researcher = m.researcher.insecure_clone();
    let source =
        m.s.w
            .fx
            .create_token_account(&other, &researcher.pubkey(), &TOKEN);
    m.s.w.fx.mint_to(&other, &source, BUDGET, &TOKEN);
    let terms = m.terms();
    let hash = terms.hash(&m.pid(), &researcher.pubkey(), 2, &other);
    let board = m.board.authority.insecure_clone();
    let ix = ix::ethics_approval_issue(
        &m.pid(),
        &m.s.w.fx.payer.pubkey(),
        &board.pubkey(),
        &m.board.key,
        hash,
        day_of(m.s.w.fx.now()),
        0,
    );
    m.s.w.fx.send(&[ix], &[&board]).expect("approval");
    let approval = pda::attestation(&m.pid(), &m.board.key, &hash);
    let ix = ix::study_open(
        &m.pid(),
        &researcher.pubkey(),
        &other,
        &TOKEN,
        &source,
        &approval,
        &m.board.key,
        rekam::StudyOpenArgs {
            id: 2,
            terms,
            budget: BUDGET,
        },
    );
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::TreasuryMintMismatch,
    );
    assert_eq!(m.s.w.fx.token_balance(&source), BUDGET);
}

#[test]
fn top_ups_follow_the_study_state() {
    let mut m = Market::new();
    let study = m.study;
    let before = m.balances(&study);
    assert_rekam_error(m.top_up(&study, 0), RekamError::ZeroAmount);
    let deadline = m.s.w.fx.fetch::<Study>(&study).terms.deadline;
    m.s.w.fx.set_time(deadline);
    assert_rekam_error(m.top_up(&study, 1), RekamError::StudyDeadlinePassed);
    m.s.w.fx.set_time(deadline - 1);
    m.top_up(&study, 1).expect("one second before the deadline");
    let researcher = m.researcher.insecure_clone();
    m.close(&study, &researcher).expect("close");
    let after_close = m.balances(&study);
    assert_eq!(after_close.researcher, before.researcher + BUDGET);
    assert_rekam_error(m.top_up(&study, 1), RekamError::StudyClosed);
    assert_eq!(m.balances(&study), after_close);
}

#[test]
fn the_same_attestation_is_never_paid_twice() {
    let mut m = Market::new();
    let study = m.study;
    let clinic = m.s.clinic.key;
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    m.contribute(&study, &p, &record, &clinic).expect("first");
    let before = m.balances(&study);
    let wallet_before = m.wallet_balance(&p.authority.pubkey());
    let (_, err) = instruction_error(m.contribute(&study, &p, &record, &clinic));
    assert_eq!(err, InstructionError::Custom(0), "contribution exists");
    assert_eq!(m.balances(&study), before);
    assert_eq!(m.wallet_balance(&p.authority.pubkey()), wallet_before);
    assert_eq!(m.s.w.fx.fetch::<Study>(&study).contributions, 1);

    // Another study may pay for the same record: it is a different purchase.
    let terms = m.terms();
    let second = m.open(2, terms, BUDGET).expect("second study");
    m.contribute(&second, &p, &record, &clinic)
        .expect("other study");
    assert_eq!(m.wallet_balance(&p.authority.pubkey()), 2 * PAYOUT);
}

#[test]
fn contributions_stop_when_the_study_is_full_closed_or_late() {
    let mut m = Market::new();
    let clinic = m.s.clinic.key;
    let mut terms = m.terms();
    terms.max_contributions = 1;
    let small = m.open(2, terms, 2 * PRICE).expect("study of one");
    let (a, ra) = m.patient_with_record(AttestationKind::Diagnosis);
    let (b, rb) = m.patient_with_record(AttestationKind::Diagnosis);
    m.contribute(&small, &a, &ra, &clinic).expect("first");
    let before = m.balances(&small);
    assert_rekam_error(
        m.contribute(&small, &b, &rb, &clinic),
        RekamError::StudyFull,
    );
    assert_eq!(m.balances(&small), before);

    let study = m.study;
    let deadline = m.s.w.fx.fetch::<Study>(&study).terms.deadline;
    m.s.w.fx.set_time(deadline);
    let before = m.balances(&study);
    assert_rekam_error(
        m.contribute(&study, &b, &rb, &clinic),
        RekamError::StudyDeadlinePassed,
    );
    assert_eq!(m.balances(&study), before);
    m.s.w.fx.set_time(deadline - 1);
    m.contribute(&study, &b, &rb, &clinic)
        .expect("the last second counts");

    let researcher = m.researcher.insecure_clone();
    m.close(&study, &researcher).expect("close");
    let (c, rc) = m.patient_with_record(AttestationKind::Diagnosis);
    assert_rekam_error(
        m.contribute(&study, &c, &rc, &clinic),
        RekamError::StudyClosed,
    );
    assert_eq!(m.wallet_balance(&c.authority.pubkey()), 0);
}

#[test]
fn a_short_escrow_pays_nothing_until_topped_up() {
    let mut m = Market::new();
    let clinic = m.s.clinic.key;
    let terms = m.terms();
    let study = m.open(2, terms, PRICE - 1).expect("underfunded study");
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    assert_rekam_error(
        m.contribute(&study, &p, &record, &clinic),
        RekamError::EscrowShort,
    );
    assert_eq!(m.balances(&study).escrow, PRICE - 1);
    m.top_up(&study, 1).expect("top up");
    m.contribute(&study, &p, &record, &clinic)
        .expect("now paid");
    assert_eq!(m.balances(&study).escrow, 0);
    assert_eq!(m.wallet_balance(&p.authority.pubkey()), PAYOUT);
}

#[test]
fn only_valid_attestations_that_meet_the_criteria_are_paid() {
    let mut m = Market::new();
    let pid = m.pid();
    let study = m.study;
    let clinic = m.s.clinic.key;
    let clinic_kp = m.s.clinic.authority.insecure_clone();
    let before = m.balances(&study);

    // Revoked.
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    m.s.w
        .fx
        .send(
            &[ix::attestation_revoke(
                &pid,
                &clinic_kp.pubkey(),
                &clinic,
                &record,
            )],
            &[&clinic_kp],
        )
        .expect("revoke");
    assert_rekam_error(
        m.contribute(&study, &p, &record, &clinic),
        RekamError::AttestationRevoked,
    );

    // Expired.
    let patient = m.s.w.register_patient();
    let mut args = m.s.w.issue_args(AttestationKind::Diagnosis);
    args.expires_on_day = day_of(m.s.w.fx.now()) + 1;
    let expiring =
        m.s.w
            .try_issue(&m.s.clinic, &patient.key, args)
            .expect("issue");
    m.s.w.fx.advance(DAY);
    assert_rekam_error(
        m.contribute(&study, &patient, &expiring, &clinic),
        RekamError::AttestationExpired,
    );

    // From a suspended issuer.
    let (p2, r2) = m.patient_with_record(AttestationKind::Diagnosis);
    let gov = m.s.w.governance.insecure_clone();
    m.s.w
        .fx
        .send(&[ix::issuer_suspend(&pid, &gov.pubkey(), &clinic)], &[&gov])
        .expect("suspend");
    assert_rekam_error(
        m.contribute(&study, &p2, &r2, &clinic),
        RekamError::IssuerSuspended,
    );
    m.s.w
        .fx
        .send(
            &[ix::issuer_reinstate(&pid, &gov.pubkey(), &clinic)],
            &[&gov],
        )
        .expect("reinstate");

    // A kind the study did not ask for.
    let (p3, vaccination) = m.patient_with_record(AttestationKind::Vaccination);
    assert_rekam_error(
        m.contribute(&study, &p3, &vaccination, &clinic),
        RekamError::CriteriaNotMet,
    );
    assert_eq!(m.balances(&study), before, "nothing paid so far");

    // Issuer-role and issue-date criteria.
    let mut terms = m.terms();
    terms.criteria.issuer_roles = roles::LAB;
    let labs_only = m.open(2, terms, BUDGET).expect("labs-only study");
    assert_rekam_error(
        m.contribute(&labs_only, &p2, &r2, &clinic),
        RekamError::CriteriaNotMet,
    );
    let mut terms = m.terms();
    let today = day_of(m.s.w.fx.now());
    terms.criteria.issued_from_day = today + 1;
    let future_window = m.open(3, terms, BUDGET).expect("window study");
    assert_rekam_error(
        m.contribute(&future_window, &p2, &r2, &clinic),
        RekamError::CriteriaNotMet,
    );
    let mut terms = m.terms();
    terms.criteria.issued_from_day = today - 5;
    terms.criteria.issued_until_day = today;
    let window = m.open(4, terms, BUDGET).expect("window study");
    m.contribute(&window, &p2, &r2, &clinic)
        .expect("issued inside the window");
    assert_eq!(m.wallet_balance(&p2.authority.pubkey()), PAYOUT);
}

// ---- attacks -------------------------------------------------------------------------

#[test]
fn nobody_is_paid_for_someone_elses_attestation() {
    let mut m = Market::new();
    let study = m.study;
    let clinic = m.s.clinic.key;
    let (thief, _) = m.patient_with_record(AttestationKind::Diagnosis);
    let before = m.balances(&study);
    // The thief's own profile with the victim's record.
    assert_rekam_error(
        m.contribute(&study, &thief, &m.s.record.clone(), &clinic),
        RekamError::PatientMismatch,
    );
    // The victim's profile, signed by the thief.
    let victim = TestPatient {
        authority: thief.authority.insecure_clone(),
        key: m.s.patient.key,
        pseudonym: m.s.patient.pseudonym,
    };
    let record = m.s.record;
    assert_rekam_error(
        m.contribute(&study, &victim, &record, &clinic),
        RekamError::NotPatientAuthority,
    );
    // The victim's signature missing altogether.
    let mut ix = m.contribute_ix(&study, &m.s.patient_clone(), &record, &clinic);
    ix.accounts[0].is_signer = false;
    assert_anchor_error(m.s.w.fx.send(&[ix], &[]), Anchor::AccountNotSigner);
    // The right record with the wrong issuer account.
    let board = m.board.key;
    let p = m.s.patient_clone();
    assert_rekam_error(
        m.contribute(&study, &p, &record, &board),
        RekamError::IssuerMismatch,
    );
    assert_eq!(m.balances(&study), before);
    assert_eq!(m.wallet_balance(&thief.authority.pubkey()), 0);
}

/// `ix` with the account at `index` replaced by `key`.
fn with_account(
    ix: &solana_instruction::Instruction,
    index: usize,
    key: Pubkey,
) -> solana_instruction::Instruction {
    let mut ix = ix.clone();
    ix.accounts[index].pubkey = key;
    ix
}

/// Account positions in `study_contribute` (see `rekam::accounts::StudyContribute`).
const C_ESCROW: usize = 4;
const C_MINT: usize = 5;
const C_PATIENT_TOKEN: usize = 10;
const C_TREASURY: usize = 11;
const C_TOKEN_PROGRAM: usize = 12;

#[test]
fn fake_mints_escrows_treasuries_and_token_programs_are_refused() {
    let mut m = Market::new();
    let study = m.study;
    let clinic = m.s.clinic.key;
    let record = m.s.record;
    let p = m.s.patient_clone();
    let before = m.balances(&study);
    let base = m.contribute_ix(&study, &p, &record, &clinic);
    assert_eq!(
        base.accounts[C_ESCROW].pubkey,
        pda::escrow(&m.pid(), &study)
    );
    assert_eq!(
        base.accounts[C_TOKEN_PROGRAM].pubkey, TOKEN,
        "account order as expected"
    );

    // A fake mint the attacker controls (and its ATA for the patient).
    let fake_mint = m.s.w.fx.create_mint(&TOKEN, 6);
    let mut ix = base.clone();
    ix.accounts[C_MINT].pubkey = fake_mint;
    ix.accounts[C_PATIENT_TOKEN].pubkey =
        pda::associated_token(&p.authority.pubkey(), &fake_mint, &TOKEN);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&p.authority]),
        RekamError::MintMismatch,
    );

    // A fake escrow: a token account of the right mint that the attacker owns.
    let attacker = m.s.w.fx.funded(SOL);
    let mint = m.mint();
    let fake_escrow =
        m.s.w
            .fx
            .create_token_account(&mint, &attacker.pubkey(), &TOKEN);
    m.s.w.fx.mint_to(&mint, &fake_escrow, BUDGET, &TOKEN);
    assert_rekam_error(
        m.s.w.fx.send(
            &[with_account(&base, C_ESCROW, fake_escrow)],
            &[&p.authority],
        ),
        RekamError::EscrowMismatch,
    );

    // The fee diverted to the attacker instead of the treasury.
    assert_anchor_error(
        m.s.w.fx.send(
            &[with_account(&base, C_TREASURY, fake_escrow)],
            &[&p.authority],
        ),
        Anchor::ConstraintHasOne,
    );

    // The payout to the attacker's token account instead of the patient's.
    assert_anchor_error(
        m.s.w.fx.send(
            &[with_account(&base, C_PATIENT_TOKEN, fake_escrow)],
            &[&p.authority],
        ),
        Anchor::AccountNotAssociatedTokenAccount,
    );
    // Or to a token account of the patient that is not their associated one.
    let side =
        m.s.w
            .fx
            .create_token_account(&mint, &p.authority.pubkey(), &TOKEN);
    assert_anchor_error(
        m.s.w.fx.send(
            &[with_account(&base, C_PATIENT_TOKEN, side)],
            &[&p.authority],
        ),
        Anchor::AccountNotAssociatedTokenAccount,
    );

    // A token program the attacker wrote, to "transfer" out of escrow.
    assert_anchor_error(
        m.s.w.fx.send(
            &[with_account(&base, C_TOKEN_PROGRAM, Pubkey::new_unique())],
            &[&p.authority],
        ),
        Anchor::InvalidProgramId,
    );
    // The other real token program, which does not own the mint.
    assert_anchor_error(
        m.s.w.fx.send(
            &[with_account(&base, C_TOKEN_PROGRAM, TOKEN_2022)],
            &[&p.authority],
        ),
        Anchor::ConstraintMintTokenProgram,
    );

    assert_eq!(m.balances(&study), before);
    assert_eq!(m.balance(&fake_escrow), BUDGET);
    m.s.w
        .fx
        .send(&[base], &[&p.authority])
        .expect("the genuine contribution still works");
}

#[test]
fn closing_is_the_researchers_until_the_deadline_and_happens_once() {
    let mut m = Market::new();
    let study = m.study;
    let stranger = m.s.w.fx.funded(SOL);
    let before = m.balances(&study);
    assert_rekam_error(m.close(&study, &stranger), RekamError::StudyNotEnded);

    // A refund account that is not the researcher's.
    let mint = m.mint();
    let theirs =
        m.s.w
            .fx
            .create_token_account(&mint, &stranger.pubkey(), &TOKEN);
    let deadline = m.s.w.fx.fetch::<Study>(&study).terms.deadline;
    m.s.w.fx.set_time(deadline);
    let mut ix = m.close_ix(&study, &stranger.pubkey());
    ix.accounts[5].pubkey = theirs;
    assert_anchor_error(
        m.s.w.fx.send(&[ix], &[&stranger]),
        Anchor::ConstraintTokenOwner,
    );
    // The escrow's rent sent to the stranger instead of the researcher.
    let mut ix = m.close_ix(&study, &stranger.pubkey());
    ix.accounts[2].pubkey = stranger.pubkey();
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&stranger]),
        RekamError::NotResearcher,
    );
    assert_eq!(m.balances(&study), before);

    // After the deadline anyone may close, and the refund still goes to the researcher.
    m.close(&study, &stranger)
        .expect("close after the deadline");
    let closed = m.balances(&study);
    assert_eq!(closed.researcher, before.researcher + BUDGET);
    assert_eq!(closed.escrow, 0);
    assert_eq!(m.balance(&theirs), 0);

    // Twice: refused, nothing moves.
    let researcher = m.researcher.insecure_clone();
    assert_rekam_error(m.close(&study, &researcher), RekamError::StudyClosed);
    assert_rekam_error(m.close(&study, &stranger), RekamError::StudyClosed);
    assert_eq!(m.balances(&study), closed);
    assert_eq!(m.s.w.fx.fetch::<Study>(&study).refunded, BUDGET);
}

#[test]
fn study_accounts_owned_elsewhere_or_of_another_type_are_refused() {
    let mut m = Market::new();
    let study = m.study;
    let clinic = m.s.clinic.key;
    let record = m.s.record;
    let p = m.s.patient_clone();
    let researcher = m.researcher.insecure_clone();
    let consent = m.s.consent;
    let original = m.s.w.fx.account(&study).unwrap();

    // Owned by another program.
    let mut forged = original.clone();
    forged.owner = anchor_lang::system_program::ID;
    m.s.w.fx.put(study, forged);
    let ixs = [
        m.contribute_ix(&study, &p, &record, &clinic),
        m.close_ix(&study, &researcher.pubkey()),
    ];
    for ix in ixs {
        let signer = if ix.accounts[0].pubkey == researcher.pubkey() {
            &researcher
        } else {
            &p.authority
        };
        assert_anchor_error(
            m.s.w.fx.send(&[ix], &[signer]),
            Anchor::AccountOwnedByWrongProgram,
        );
    }
    assert_anchor_error(m.top_up(&study, 1), Anchor::AccountOwnedByWrongProgram);

    // A consent (a genuine program account) in the study's place.
    let impostor = m.s.w.fx.account(&consent).unwrap();
    m.s.w.fx.put(study, impostor);
    assert_anchor_error(m.top_up(&study, 1), Anchor::AccountDiscriminatorMismatch);
    let ix = m.close_ix(&study, &researcher.pubkey());
    assert_anchor_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        Anchor::AccountDiscriminatorMismatch,
    );
    m.s.w.fx.put(study, original);

    // A study passed as the attestation of a contribution.
    let ix = m.contribute_ix(&study, &p, &study, &clinic);
    assert_anchor_error(
        m.s.w.fx.send(&[ix], &[&p.authority]),
        Anchor::AccountDiscriminatorMismatch,
    );
}

#[test]
fn payout_and_fee_arithmetic_is_checked() {
    // The largest price with the largest fee: no overflow in the fee, exact split.
    let mut m = Market::new();
    let study = m.study;
    m.s.w.fx.edit::<rekam::Config>(&pda::config(&m.pid()), |c| {
        c.protocol_fee_bps = rekam::MAX_PROTOCOL_FEE_BPS
    });
    m.s.w
        .fx
        .edit::<Study>(&study, |s| s.terms.price = u64::MAX / 2);
    let mint = m.mint();
    let escrow = pda::escrow(&m.pid(), &study);
    m.s.w
        .fx
        .mint_to(&mint, &escrow, u64::MAX / 2 - BUDGET, &TOKEN);
    m.s.w
        .fx
        .edit::<Study>(&study, |s| s.deposited = u64::MAX / 2);
    let p = m.s.patient_clone();
    let (record, clinic) = (m.s.record, m.s.clinic.key);
    m.contribute(&study, &p, &record, &clinic)
        .expect("huge price");
    let fee = (u64::MAX / 2).div_ceil(10);
    assert_eq!(m.balances(&study).treasury, fee);
    assert_eq!(m.wallet_balance(&p.authority.pubkey()), u64::MAX / 2 - fee);
    // The paid counter at its limit fails cleanly instead of wrapping.
    let (q, rq) = m.patient_with_record(AttestationKind::Diagnosis);
    // (A price of 2 at 10%: a fee of 1, rounded up, and a payout of 1 to overflow with.)
    m.s.w.fx.edit::<Study>(&study, |s| {
        s.terms.price = 2;
        s.paid = u64::MAX;
    });
    m.s.w.fx.mint_to(&mint, &escrow, 2, &TOKEN);
    assert_rekam_error(
        m.contribute(&study, &q, &rq, &clinic),
        RekamError::ArithmeticOverflow,
    );
    assert_eq!(m.wallet_balance(&q.authority.pubkey()), 0);
}

/// Audit finding 8: the fee rounded down to zero for prices below 10000 / bps. It is
/// rounded up now, and the split still adds up to the price.
#[test]
fn a_small_price_still_pays_its_fee() {
    let mut m = Market::new();
    let study = m.study;
    // 100 bps of 50 is 0.5: the treasury gets 1, the patient 49.
    m.s.w.fx.edit::<Study>(&study, |s| s.terms.price = 50);
    let before = m.balances(&study).treasury;
    let p = m.s.patient_clone();
    let (record, clinic) = (m.s.record, m.s.clinic.key);
    m.contribute(&study, &p, &record, &clinic)
        .expect("contribute");
    assert_eq!(m.balances(&study).treasury - before, 1);
    assert_eq!(m.wallet_balance(&p.authority.pubkey()), 49);
    let c: rekam::Contribution =
        m.s.w
            .fx
            .fetch(&pda::contribution(&m.pid(), &study, &record));
    assert_eq!((c.payout, c.fee), (49, 1));
    // The copy paid for is on record: the research consent's key grant at payment.
    let consent: rekam::Consent = m.s.w.fx.fetch(&c.consent);
    assert_eq!(c.copy_hash, consent.key_grant.hash);
    assert_ne!(c.copy_hash, [0; 32]);
}

#[test]
fn a_zero_fee_deployment_pays_the_whole_price_and_moves_nothing_to_the_treasury() {
    let mut m = Market::new();
    let study = m.study;
    m.s.w
        .fx
        .edit::<rekam::Config>(&pda::config(&m.pid()), |c| c.protocol_fee_bps = 0);
    let before = m.balances(&study);
    let p = m.s.patient_clone();
    let (record, clinic) = (m.s.record, m.s.clinic.key);
    let out = m
        .contribute(&study, &p, &record, &clinic)
        .expect("zero-fee contribution");
    assert_eq!(m.wallet_balance(&p.authority.pubkey()), PRICE);
    assert_eq!(
        m.balances(&study),
        Balances {
            researcher: before.researcher,
            escrow: before.escrow - PRICE,
            treasury: before.treasury,
        }
    );
    let c: Contribution =
        m.s.w
            .fx
            .fetch(&pda::contribution(&m.pid(), &study, &record));
    assert_eq!((c.payout, c.fee), (PRICE, 0));
    let s: Study = m.s.w.fx.fetch(&study);
    assert_eq!((s.paid, s.fees), (PRICE, 0));
    let paid = out.events::<ContributionPaid>(&m.pid());
    assert_eq!((paid[0].payout, paid[0].fee), (PRICE, 0));
}
