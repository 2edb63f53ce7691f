//! Audit finding 4: one record paid several times. A contribution is unique per (study,
//! attestation), so before the fix a patient re-attested the same record (a new salt, or
//! a second clinic) and was paid again, and nothing capped what one patient or one issuer
//! drew from a study. The terms now carry a per-patient limit and a per-issuer cap,
//! counted in tallies (`["participant", study, patient]`, `["study_issuer", study,
//! issuer]`). Every refusal asserts its exact error and that no balance or account moved.

use anchor_lang::prelude::Pubkey;
use rekam::{roles, AttestationKind, RekamError, Study, StudyTally};
use rekam_tests::*;
use solana_signer::Signer;

const FEE: u64 = PRICE / 100;
const PAYOUT: u64 = PRICE - FEE;

/// Opens study `id` with `terms` adjusted by `edit` and a budget for ten contributions.
fn open_with(m: &mut Market, id: u64, edit: impl FnOnce(&mut rekam::StudyTerms)) -> Pubkey {
    let mut terms = m.terms();
    terms.max_contributions = 10;
    edit(&mut terms);
    m.open(id, terms, 10 * PRICE).expect("study_open")
}

fn tally(m: &Market, key: &Pubkey) -> StudyTally {
    m.s.w.fx.fetch(key)
}

/// A refused contribution: exact error, and nothing moved (balances, the study's
/// counters, the contribution account, the patient's wallet).
fn assert_refused(
    m: &mut Market,
    study: &Pubkey,
    patient: &TestPatient,
    record: &Pubkey,
    issuer: &Pubkey,
    error: RekamError,
) {
    let before = m.balances(study);
    let wallet = m.wallet_balance(&patient.authority.pubkey());
    let counted: Study = m.s.w.fx.fetch(study);
    let result = m.contribute(study, patient, record, issuer);
    assert_rekam_error(result, error);
    assert_eq!(m.balances(study), before);
    assert_eq!(m.wallet_balance(&patient.authority.pubkey()), wallet);
    let after: Study = m.s.w.fx.fetch(study);
    assert_eq!(after.contributions, counted.contributions);
    assert_eq!(after.paid, counted.paid);
    let contribution = pda::contribution(&m.pid(), study, record);
    assert!(m.s.w.fx.account(&contribution).is_none());
}

#[test]
fn a_record_re_attested_with_a_new_salt_or_by_a_second_clinic_is_not_paid_again() {
    let mut m = Market::new();
    let study = open_with(&mut m, 20, |_| {});
    let patient = m.s.patient_clone();
    let clinic = m.s.clinic.insecure_clone();
    let first = m.s.record;
    m.contribute(&study, &patient, &first, &clinic.key)
        .expect("first contribution");
    assert_eq!(m.wallet_balance(&patient.authority.pubkey()), PAYOUT);

    // The same clinic attests the same record again under a new salt (a new evidence
    // commitment, so a new attestation and a new contribution address).
    let again = m.s.w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    assert_ne!(again, first);
    assert_refused(
        &mut m,
        &study,
        &patient,
        &again,
        &clinic.key,
        RekamError::PatientContributionLimit,
    );

    // A second clinic attests it too.
    let other = m.s.w.accredit(roles::CLINIC);
    let by_other = m.s.w.issue(&other, &patient, AttestationKind::Diagnosis);
    assert_refused(
        &mut m,
        &study,
        &patient,
        &by_other,
        &other.key,
        RekamError::PatientContributionLimit,
    );

    let participant = pda::participant(&m.pid(), &study, &patient.key);
    let t = tally(&m, &participant);
    assert_eq!(
        (t.study, t.subject, t.contributions),
        (study, patient.key, 1)
    );
    assert_eq!(m.wallet_balance(&patient.authority.pubkey()), PAYOUT);
    // No per-issuer cap in these terms: no issuer tally was created.
    assert!(m
        .s
        .w
        .fx
        .account(&pda::study_issuer(&m.pid(), &study, &clinic.key))
        .is_none());
}

#[test]
fn a_patient_limit_of_two_pays_two_records_and_never_one_record_twice() {
    let mut m = Market::new();
    let study = open_with(&mut m, 21, |t| t.max_per_patient = 2);
    let patient = m.s.patient_clone();
    let clinic = m.s.clinic.insecure_clone();
    let first = m.s.record;
    m.contribute(&study, &patient, &first, &clinic.key)
        .expect("first record");
    // The same attestation again: its contribution exists (Anchor's `init` refuses it).
    let before = m.balances(&study);
    assert!(m.contribute(&study, &patient, &first, &clinic.key).is_err());
    assert_eq!(m.balances(&study), before);
    let lab = m.s.w.issue(&clinic, &patient, AttestationKind::LabResult);
    m.contribute(&study, &patient, &lab, &clinic.key)
        .expect("second record");
    let third = m.s.w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    assert_refused(
        &mut m,
        &study,
        &patient,
        &third,
        &clinic.key,
        RekamError::PatientContributionLimit,
    );
    assert_eq!(m.wallet_balance(&patient.authority.pubkey()), 2 * PAYOUT);
    let t = tally(&m, &pda::participant(&m.pid(), &study, &patient.key));
    assert_eq!(t.contributions, 2);
    // The limit is per study: the same record is paid once in another study.
    let elsewhere = open_with(&mut m, 22, |_| {});
    m.contribute(&elsewhere, &patient, &third, &clinic.key)
        .expect("another study");
    assert_eq!(m.wallet_balance(&patient.authority.pubkey()), 3 * PAYOUT);
}

#[test]
fn a_per_issuer_cap_stops_one_clinic_and_not_the_others() {
    let mut m = Market::new();
    let study = open_with(&mut m, 23, |t| t.max_per_issuer = 2);
    let clinic = m.s.clinic.insecure_clone();
    let patient = m.s.patient_clone();
    let record = m.s.record;
    m.contribute(&study, &patient, &record, &clinic.key)
        .expect("first of the clinic");
    let (second, second_record) = m.patient_with_record(AttestationKind::Diagnosis);
    m.contribute(&study, &second, &second_record, &clinic.key)
        .expect("second of the clinic");
    let (third, third_record) = m.patient_with_record(AttestationKind::Diagnosis);
    assert_refused(
        &mut m,
        &study,
        &third,
        &third_record,
        &clinic.key,
        RekamError::IssuerContributionCap,
    );
    // The refused patient left no tally behind.
    assert!(m
        .s
        .w
        .fx
        .account(&pda::participant(&m.pid(), &study, &third.key))
        .is_none());

    // Another clinic's patient is still paid, and the third patient too, through a record
    // of that other clinic.
    let other = m.s.w.accredit(roles::LAB);
    let lab = m.s.w.issue(&other, &third, AttestationKind::LabResult);
    m.contribute(&study, &third, &lab, &other.key)
        .expect("another issuer");
    let clinic_tally = tally(&m, &pda::study_issuer(&m.pid(), &study, &clinic.key));
    assert_eq!(
        (clinic_tally.subject, clinic_tally.contributions),
        (clinic.key, 2)
    );
    let other_tally = tally(&m, &pda::study_issuer(&m.pid(), &study, &other.key));
    assert_eq!(other_tally.contributions, 1);
    let s: Study = m.s.w.fx.fetch(&study);
    assert_eq!((s.contributions, s.paid, s.fees), (3, 3 * PAYOUT, 3 * FEE));
    assert!(s.conserves(m.balances(&study).escrow));
}

#[test]
fn a_pre_funded_tally_address_does_not_block_a_contribution() {
    let mut m = Market::new();
    let study = open_with(&mut m, 24, |t| t.max_per_issuer = 5);
    let patient = m.s.patient_clone();
    let clinic = m.s.clinic.insecure_clone();
    let participant = pda::participant(&m.pid(), &study, &patient.key);
    let issuer_tally = pda::study_issuer(&m.pid(), &study, &clinic.key);
    for address in [participant, issuer_tally] {
        m.s.w.fx.put(
            address,
            solana_account::Account {
                lamports: 890_880,
                data: vec![],
                owner: anchor_lang::system_program::ID,
                executable: false,
                rent_epoch: 0,
            },
        );
    }
    let record = m.s.record;
    m.contribute(&study, &patient, &record, &clinic.key)
        .expect("pre-funded tallies");
    assert_eq!(tally(&m, &participant).contributions, 1);
    assert_eq!(tally(&m, &issuer_tally).contributions, 1);
    assert_eq!(m.s.w.fx.account(&participant).unwrap().owner, m.pid());
}
