//! Audit finding 3: a study's ethics approval is re-checked on every top-up and
//! contribution, not only when the study opens; once it is withdrawn (revoked by the
//! board, expired, or the board suspended) the study pays nothing, collects no research
//! consent, and anyone may close it so its escrow goes back to the researcher.

use anchor_lang::prelude::Pubkey;
use rekam::{AttestationKind, RekamError, Study};
use rekam_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// How an approval stops holding.
#[derive(Clone, Copy, Debug)]
enum Withdrawal {
    Revoked,
    Expired,
    BoardSuspended,
}

/// A market whose study's approval expires in `days` days (0: never).
fn market_with_expiring_approval(days: u16) -> (Market, Pubkey) {
    let mut m = Market::new();
    let terms = m.terms();
    let hash = m.terms_hash(7, &terms);
    let today = day_of(m.s.w.fx.now());
    let ix = ix::ethics_approval_issue(
        &m.pid(),
        &m.s.w.fx.payer.pubkey(),
        &m.board.authority.pubkey(),
        &m.board.key,
        hash,
        today,
        if days == 0 { 0 } else { today + days },
    );
    let board = m.board.authority.insecure_clone();
    m.s.w.fx.send(&[ix], &[&board]).expect("approval");
    let approval = pda::attestation(&m.pid(), &m.board.key, &hash);
    let open = m.open_ix(&approval, 7, terms, BUDGET);
    let researcher = m.researcher.insecure_clone();
    m.s.w.fx.send(&[open], &[&researcher]).expect("open");
    let study = pda::study(&m.pid(), &researcher.pubkey(), 7);
    (m, study)
}

fn withdraw(m: &mut Market, study: &Pubkey, how: Withdrawal) {
    let approval = m.s.w.fx.fetch::<Study>(study).ethics_approval;
    match how {
        Withdrawal::Revoked => {
            let ix = ix::attestation_revoke(
                &m.pid(),
                &m.board.authority.pubkey(),
                &m.board.key,
                &approval,
            );
            let board = m.board.authority.insecure_clone();
            m.s.w.fx.send(&[ix], &[&board]).expect("board revokes");
        }
        Withdrawal::Expired => {
            let now = m.s.w.fx.now();
            m.s.w.fx.set_time(now + 3 * 86_400);
        }
        Withdrawal::BoardSuspended => {
            let gov = m.s.w.governance.insecure_clone();
            let ix = ix::issuer_suspend(&m.pid(), &gov.pubkey(), &m.board.key);
            m.s.w.fx.send(&[ix], &[&gov]).expect("suspend board");
        }
    }
}

fn halted_study_pays_nothing_and_anyone_refunds_it(how: Withdrawal) {
    let (mut m, study) = market_with_expiring_approval(2);
    let clinic = m.s.clinic.key;
    let (paid, paid_record) = m.patient_with_record(AttestationKind::Diagnosis);
    m.contribute(&study, &paid, &paid_record, &clinic)
        .expect("paid while approved");
    let (late, late_record) = m.patient_with_record(AttestationKind::Diagnosis);
    let stranger = m.s.w.fx.funded(SOL);
    // While approved, a stranger cannot close before the deadline.
    assert_rekam_error(m.close(&study, &stranger), RekamError::StudyNotEnded);

    withdraw(&mut m, &study, how);
    let before = m.balances(&study);
    let consents_before = m.s.w.fx.fetch::<rekam::Patient>(&late.key).consents_created;
    assert_rekam_error(
        m.contribute(&study, &late, &late_record, &clinic),
        RekamError::StudyApprovalWithdrawn,
    );
    assert_rekam_error(m.top_up(&study, 1_000), RekamError::StudyApprovalWithdrawn);
    assert_eq!(m.balances(&study), before, "{how:?}: nothing moved");
    assert_eq!(m.wallet_balance(&late.authority.pubkey()), 0);
    assert_eq!(
        m.s.w.fx.fetch::<rekam::Patient>(&late.key).consents_created,
        consents_before,
        "{how:?}: no research consent collected"
    );
    assert!(m
        .s
        .w
        .fx
        .account(&pda::contribution(&m.pid(), &study, &late_record))
        .is_none());

    // The permissionless halt: anyone closes; the rest goes back to the researcher.
    m.close(&study, &stranger)
        .unwrap_or_else(|e| panic!("{how:?}: halt refused: {e:?}"));
    let after = m.balances(&study);
    let s: Study = m.s.w.fx.fetch(&study);
    assert_eq!(after.escrow, 0);
    assert_eq!(after.researcher, before.researcher + before.escrow);
    assert_eq!(s.refunded, before.escrow);
    assert!(s.is_closed());
    assert_eq!(
        s.deposited,
        s.paid + s.fees + s.refunded,
        "{how:?}: conservation after the halt"
    );
    assert_eq!(
        m.wallet_balance(&paid.authority.pubkey()),
        PRICE - PRICE / 100
    );
}

#[test]
fn a_revoked_approval_halts_the_study() {
    halted_study_pays_nothing_and_anyone_refunds_it(Withdrawal::Revoked);
}

#[test]
fn an_expired_approval_halts_the_study() {
    halted_study_pays_nothing_and_anyone_refunds_it(Withdrawal::Expired);
}

#[test]
fn a_suspended_board_halts_the_study() {
    halted_study_pays_nothing_and_anyone_refunds_it(Withdrawal::BoardSuspended);
}

#[test]
fn the_approval_accounts_must_be_the_studys() {
    let (mut m, study) = market_with_expiring_approval(0);
    let clinic = m.s.clinic.key;
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    // Another active approval (of another study) in place of this study's.
    let other_terms = m.terms();
    let other = m.approve(99, &other_terms);
    let before = m.balances(&study);
    for swap in 0..2 {
        let mut ix = m.contribute_ix(&study, &p, &record, &clinic);
        let n = ix.accounts.len();
        // The approval and the board come before the two tallies and the event CPI pair.
        let (approval_slot, board_slot) = (n - 6, n - 5);
        let expected = if swap == 0 {
            ix.accounts[approval_slot].pubkey = other;
            RekamError::ApprovalMismatch
        } else {
            // An active issuer that did not issue the approval.
            ix.accounts[board_slot].pubkey = clinic;
            RekamError::IssuerMismatch
        };
        let signer: &Keypair = &p.authority;
        assert_rekam_error(m.s.w.fx.send(&[ix], &[signer]), expected);
    }
    assert_eq!(m.balances(&study), before);
    m.contribute(&study, &p, &record, &clinic)
        .expect("with the study's own approval");
}
