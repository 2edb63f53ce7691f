//! Audit finding 8: reinstating an issuer silently revalidated everything it had attested
//! before its suspension (a clinic suspended for a stolen key got the forger's
//! attestations back). Reinstatement now says what happens: `void_from: None` restores
//! everything, `Some(t)` voids for good what was issued from `t` up to the suspension.
//! Verification, access and study payouts all refuse a voided attestation; the client's
//! own checks read the same window.

use anchor_lang::prelude::Pubkey;
use rekam::events::IssuerStatusChanged;
use rekam::{roles, AttestationKind, Issuer, IssuerStatus, Purpose, RekamError};
use rekam_tests::*;
use solana_signer::Signer;

fn verify(w: &mut World, attestation: &Pubkey, issuer: &Pubkey) -> TxResult {
    let ix = ix::attestation_verify(&w.program_id(), attestation, issuer);
    w.fx.send(&[ix], &[])
}

fn suspend(w: &mut World, issuer: &Pubkey) {
    let gov = w.governance.insecure_clone();
    let ix = ix::issuer_suspend(&w.program_id(), &gov.pubkey(), issuer);
    w.fx.send(&[ix], &[&gov]).expect("suspend");
}

fn reinstate(w: &mut World, issuer: &Pubkey, void_from: Option<i64>) -> TxResult {
    let gov = w.governance.insecure_clone();
    let ix = ix::issuer_reinstate_voiding(&w.program_id(), &gov.pubkey(), issuer, void_from);
    w.fx.send(&[ix], &[&gov])
}

/// A clinic with an old record (day 0), a record from the day its key was stolen (day 1),
/// suspended on day 2. Returns the world, the clinic, the patient, both records and the
/// times of the theft and the suspension.
fn stolen_key() -> (World, TestIssuer, TestPatient, Pubkey, Pubkey, i64, i64) {
    let mut w = World::new();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let old = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    w.fx.advance(DAY);
    let stolen_at = w.fx.now();
    let forged = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    w.fx.advance(DAY);
    let suspended_at = w.fx.now();
    suspend(&mut w, &clinic.key);
    w.fx.advance(DAY);
    (w, clinic, patient, old, forged, stolen_at, suspended_at)
}

#[test]
fn reinstating_with_a_void_window_keeps_the_forged_records_void_for_good() {
    let (mut w, clinic, patient, old, forged, stolen_at, suspended_at) = stolen_key();
    let pid = w.program_id();
    let outcome = reinstate(&mut w, &clinic.key, Some(stolen_at)).expect("reinstate");
    let issuer: Issuer = w.fx.fetch(&clinic.key);
    assert_eq!(issuer.status, IssuerStatus::Active);
    assert_eq!(
        (issuer.void_from, issuer.void_until),
        (stolen_at, suspended_at)
    );
    let event = &outcome.events::<IssuerStatusChanged>(&pid)[0];
    assert_eq!(
        (event.status, event.void_from, event.void_until),
        (IssuerStatus::Active, stolen_at, suspended_at)
    );

    verify(&mut w, &old, &clinic.key).expect("the record from before the theft");
    assert_rekam_error(
        verify(&mut w, &forged, &clinic.key),
        RekamError::AttestationVoided,
    );
    // A record made after the reinstatement is valid.
    let fresh = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    verify(&mut w, &fresh, &clinic.key).expect("a record after the reinstatement");

    // A provider with a consent over diagnoses reads the old record, not the forged one.
    let doctor = w.fx.funded(SOL);
    let consent = w.grant(
        &patient,
        &doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    w.access(&doctor, &patient.key, &consent, &old, Purpose::Treatment)
        .expect("old record");
    assert_rekam_error(
        w.access(&doctor, &patient.key, &consent, &forged, Purpose::Treatment),
        RekamError::AttestationVoided,
    );
    assert_eq!(w.fx.fetch::<rekam::Consent>(&consent).access_count, 1);

    // The client's own check agrees.
    let attestation: rekam::Attestation = w.fx.fetch(&forged);
    assert!(issuer.voids(attestation.issued_at));
    assert!(!issuer.voids(w.fx.fetch::<rekam::Attestation>(&old).issued_at));
}

#[test]
fn restore_all_revalidates_and_an_impossible_window_is_refused() {
    let (mut w, clinic, _, old, forged, _, suspended_at) = stolen_key();
    for bad in [suspended_at + 1, -1] {
        assert_rekam_error(
            reinstate(&mut w, &clinic.key, Some(bad)),
            RekamError::InvalidVoidWindow,
        );
        assert_eq!(
            w.fx.fetch::<Issuer>(&clinic.key).status,
            IssuerStatus::Suspended
        );
    }
    reinstate(&mut w, &clinic.key, None).expect("restore all");
    let issuer: Issuer = w.fx.fetch(&clinic.key);
    assert_eq!((issuer.void_from, issuer.void_until), (0, 0));
    verify(&mut w, &old, &clinic.key).expect("old");
    verify(&mut w, &forged, &clinic.key).expect("restored");
}

#[test]
fn a_second_void_window_only_widens_the_first() {
    let (mut w, clinic, patient, old, forged, stolen_at, _) = stolen_key();
    reinstate(&mut w, &clinic.key, Some(stolen_at)).expect("first reinstatement");
    w.fx.advance(DAY);
    let between = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    w.fx.advance(DAY);
    let second_theft = w.fx.now();
    let forged_again = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    w.fx.advance(DAY);
    let second_suspension = w.fx.now();
    suspend(&mut w, &clinic.key);
    reinstate(&mut w, &clinic.key, Some(second_theft)).expect("second reinstatement");
    let issuer: Issuer = w.fx.fetch(&clinic.key);
    // One window covering both: the record issued between them is void too (the cost of
    // one window per issuer: it can only void more, never revalidate).
    assert_eq!(
        (issuer.void_from, issuer.void_until),
        (stolen_at, second_suspension)
    );
    verify(&mut w, &old, &clinic.key).expect("old");
    for voided in [forged, between, forged_again] {
        assert_rekam_error(
            verify(&mut w, &voided, &clinic.key),
            RekamError::AttestationVoided,
        );
    }
    // Restoring all at a later reinstatement keeps the window: nothing is revalidated.
    suspend(&mut w, &clinic.key);
    reinstate(&mut w, &clinic.key, None).expect("third reinstatement");
    assert_rekam_error(
        verify(&mut w, &forged, &clinic.key),
        RekamError::AttestationVoided,
    );
}

#[test]
fn a_voided_ethics_approval_halts_its_study() {
    let mut m = Market::new();
    let study = m.study;
    let board = m.board.key;
    let approval = m.approval_of(&study).attestation;
    let approved_at = m.s.w.fx.fetch::<rekam::Attestation>(&approval).issued_at;
    m.s.w.fx.advance(DAY);
    suspend(&mut m.s.w, &board);
    reinstate(&mut m.s.w, &board, Some(approved_at)).expect("reinstate the board");
    let p = m.s.patient_clone();
    let (record, clinic) = (m.s.record, m.s.clinic.key);
    let before = m.balances(&study);
    assert_rekam_error(
        m.contribute(&study, &p, &record, &clinic),
        RekamError::StudyApprovalWithdrawn,
    );
    assert_eq!(m.balances(&study), before);
}
