//! Access receipts and the audit trail rebuilt from chain state alone.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use rekam::events::AccessRecorded;
use rekam::{roles, AccessReceipt, AttestationKind, Consent, Patient, Purpose, RekamError};
use rekam_tests::*;
use solana_signer::Signer;

#[test]
fn a_receipt_is_recorded_counted_and_announced() {
    let Scene {
        mut w,
        patient,
        record,
        doctor,
        consent,
        ..
    } = Scene::new();
    let pid = w.program_id();

    w.fx.advance(100);
    let outcome = w
        .access(&doctor, &patient.key, &consent, &record, Purpose::Treatment)
        .expect("access");
    let receipt_key = pda::access_receipt(&pid, &consent, 0);
    let receipt: AccessReceipt = w.fx.fetch(&receipt_key);
    assert_eq!(
        receipt,
        AccessReceipt {
            version: 1,
            bump: AccessReceipt::find_address(&pid, &consent, 0).1,
            consent,
            attestation: record,
            accessor: doctor.pubkey(),
            purpose: Purpose::Treatment,
            index: 0,
            accessed_at: T0 + 100,
        }
    );
    let c: Consent = w.fx.fetch(&consent);
    assert_eq!((c.access_count, c.last_access_at), (1, T0 + 100));
    assert_eq!(w.fx.fetch::<Patient>(&patient.key).accesses, 1);
    let events = outcome.events::<AccessRecorded>(&pid);
    assert_eq!(
        (events[0].receipt, events[0].accessor, events[0].purpose),
        (receipt_key, doctor.pubkey(), Purpose::Treatment)
    );

    w.access(&doctor, &patient.key, &consent, &record, Purpose::Treatment)
        .expect("second access");
    assert_eq!(w.fx.fetch::<Consent>(&consent).access_count, 2);
    assert!(w
        .fx
        .account(&pda::access_receipt(&pid, &consent, 1))
        .is_some());
}

#[test]
fn access_is_refused_outside_an_active_in_scope_consent() {
    let mut w = World::new();
    let pid = w.program_id();
    let clinic = w.accredit(roles::CLINIC | roles::LAB);
    let patient = w.register_patient();
    let other_patient = w.register_patient();
    let diagnosis = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    let lab = w.issue(&clinic, &patient, AttestationKind::LabResult);
    let foreign = w.issue(&clinic, &other_patient, AttestationKind::Diagnosis);
    let doctor = w.fx.funded(SOL);
    let stranger = w.fx.funded(SOL);

    let mut args = w.grant_args(
        &doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    args.starts_at = T0 + DAY;
    args.expires_at = T0 + 2 * DAY;
    let consent = w.try_grant(&patient, args).expect("grant");

    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &diagnosis,
            Purpose::Treatment,
        ),
        RekamError::ConsentNotYetActive,
    );
    w.fx.set_time(T0 + DAY);
    w.access(
        &doctor,
        &patient.key,
        &consent,
        &diagnosis,
        Purpose::Treatment,
    )
    .expect("first second of the period");
    assert_rekam_error(
        w.access(
            &stranger,
            &patient.key,
            &consent,
            &diagnosis,
            Purpose::Treatment,
        ),
        RekamError::NotGrantee,
    );
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &diagnosis,
            Purpose::Research,
        ),
        RekamError::PurposeMismatch,
    );
    assert_rekam_error(
        w.access(&doctor, &patient.key, &consent, &lab, Purpose::Treatment),
        RekamError::OutOfScope,
    );
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &foreign,
            Purpose::Treatment,
        ),
        RekamError::PatientMismatch,
    );
    w.fx.set_time(T0 + 2 * DAY - 1);
    w.access(
        &doctor,
        &patient.key,
        &consent,
        &diagnosis,
        Purpose::Treatment,
    )
    .expect("last second of the period");
    w.fx.set_time(T0 + 2 * DAY);
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &diagnosis,
            Purpose::Treatment,
        ),
        RekamError::ConsentExpired,
    );
    assert_eq!(
        w.fx.fetch::<Consent>(&consent).access_count,
        2,
        "only the two valid reads counted"
    );

    // A specific-attestation scope covers exactly that record.
    let narrow = w.grant(&patient, &doctor.pubkey(), Purpose::Treatment, only(&[lab]));
    w.access(&doctor, &patient.key, &narrow, &lab, Purpose::Treatment)
        .expect("listed record");
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &narrow,
            &diagnosis,
            Purpose::Treatment,
        ),
        RekamError::OutOfScope,
    );
    let _ = pid;
}

#[test]
fn revocation_takes_effect_in_the_same_slot() {
    let Scene {
        mut w,
        patient,
        record,
        doctor,
        consent,
        ..
    } = Scene::new();
    w.access(&doctor, &patient.key, &consent, &record, Purpose::Treatment)
        .expect("before revoke");
    let slot = w.fx.svm.get_sysvar::<anchor_lang::prelude::Clock>().slot;
    w.revoke_consent(&patient, &consent).expect("revoke");
    assert_eq!(
        w.fx.svm.get_sysvar::<anchor_lang::prelude::Clock>().slot,
        slot,
        "no time passed"
    );
    assert_rekam_error(
        w.access(&doctor, &patient.key, &consent, &record, Purpose::Treatment),
        RekamError::ConsentRevoked,
    );
}

/// One line of a patient's audit trail.
#[derive(Debug, PartialEq, Eq)]
struct AuditLine {
    at: i64,
    accessor: Pubkey,
    attestation: Pubkey,
    purpose: Purpose,
}

/// Rebuilds a patient's audit trail from program accounts only: the patient's consents
/// (by the `patient` field) and the receipts under them, ordered by time.
fn audit_trail(w: &World, patient: &Pubkey) -> Vec<AuditLine> {
    let accounts: Vec<_> =
        w.fx.svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, a)| solana_account::ReadableAccount::owner(*a) == &w.program_id())
            .map(|(k, a)| (*k, solana_account::ReadableAccount::data(a).to_vec()))
            .collect();
    let consents: Vec<Pubkey> = accounts
        .iter()
        .filter(|(_, d)| d.starts_with(Consent::DISCRIMINATOR))
        .filter(|(_, d)| {
            Consent::try_deserialize(&mut d.as_slice())
                .map(|c| c.patient == *patient)
                .unwrap_or(false)
        })
        .map(|(k, _)| *k)
        .collect();
    let mut lines: Vec<AuditLine> = accounts
        .iter()
        .filter(|(_, d)| d.starts_with(AccessReceipt::DISCRIMINATOR))
        .filter_map(|(_, d)| AccessReceipt::try_deserialize(&mut d.as_slice()).ok())
        .filter(|r| consents.contains(&r.consent))
        .map(|r| AuditLine {
            at: r.accessed_at,
            accessor: r.accessor,
            attestation: r.attestation,
            purpose: r.purpose,
        })
        .collect();
    lines.sort_by_key(|l| l.at);
    lines
}

#[test]
fn the_audit_trail_is_rebuilt_from_chain_state() {
    let mut w = World::new();
    let clinic = w.accredit(roles::CLINIC | roles::LAB);
    let patient = w.register_patient();
    let bystander = w.register_patient();
    let dx = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    let lab = w.issue(&clinic, &patient, AttestationKind::LabResult);
    let other = w.issue(&clinic, &bystander, AttestationKind::Diagnosis);
    let gp = w.fx.funded(SOL);
    let researcher = w.fx.funded(SOL);
    let c1 = w.grant(
        &patient,
        &gp.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis, AttestationKind::LabResult]),
    );
    let c2 = w.grant(
        &patient,
        &researcher.pubkey(),
        Purpose::Research,
        only(&[lab]),
    );
    let c3 = w.grant(
        &bystander,
        &gp.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );

    w.fx.advance(10);
    w.access(&gp, &patient.key, &c1, &dx, Purpose::Treatment)
        .unwrap();
    w.fx.advance(10);
    w.access(&gp, &bystander.key, &c3, &other, Purpose::Treatment)
        .unwrap();
    w.fx.advance(10);
    w.access(&researcher, &patient.key, &c2, &lab, Purpose::Research)
        .unwrap();
    w.fx.advance(10);
    w.access(&gp, &patient.key, &c1, &lab, Purpose::Treatment)
        .unwrap();

    let trail = audit_trail(&w, &patient.key);
    assert_eq!(
        trail,
        vec![
            AuditLine {
                at: T0 + 10,
                accessor: gp.pubkey(),
                attestation: dx,
                purpose: Purpose::Treatment
            },
            AuditLine {
                at: T0 + 30,
                accessor: researcher.pubkey(),
                attestation: lab,
                purpose: Purpose::Research
            },
            AuditLine {
                at: T0 + 40,
                accessor: gp.pubkey(),
                attestation: lab,
                purpose: Purpose::Treatment
            },
        ]
    );
    assert_eq!(
        w.fx.fetch::<Patient>(&patient.key).accesses,
        3,
        "counter agrees with the receipts"
    );
    assert_eq!(audit_trail(&w, &bystander.key).len(), 1);
}

/// Audit finding 7: a read of a revoked or expired attestation, or of one whose issuer is
/// suspended, was recorded as valid. Now every purpose but emergency treatment needs the
/// attestation active (docs/program.md); a refused read leaves no receipt.
#[test]
fn a_read_needs_an_active_attestation() {
    let mut w = World::new();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    let clinic = w.accredit(roles::CLINIC);
    let other = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let revoked = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
    let mut args = w.issue_args(AttestationKind::Diagnosis);
    args.expires_on_day = day_of(T0) + 2;
    let expiring = w.try_issue(&clinic, &patient.key, args).unwrap();
    let doctor = w.fx.funded(SOL);
    let consent = w.grant(
        &patient,
        &doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    let receipts = |w: &World| w.fx.fetch::<Consent>(&consent).access_count;

    // The issuer account must be the attestation's own.
    let mut ix = w.access_ix(
        &doctor.pubkey(),
        &patient.key,
        &consent,
        &revoked,
        Purpose::Treatment,
    );
    ix.accounts[4].pubkey = other.key;
    assert_rekam_error(w.fx.send(&[ix], &[&doctor]), RekamError::IssuerMismatch);

    w.fx.send(
        &[ix::attestation_revoke(
            &pid,
            &clinic.authority.pubkey(),
            &clinic.key,
            &revoked,
        )],
        &[&clinic.authority],
    )
    .unwrap();
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &revoked,
            Purpose::Treatment,
        ),
        RekamError::AttestationRevoked,
    );
    w.access(
        &doctor,
        &patient.key,
        &consent,
        &expiring,
        Purpose::Treatment,
    )
    .expect("active");
    assert_eq!(receipts(&w), 1);

    w.fx.send(
        &[ix::issuer_suspend(&pid, &gov.pubkey(), &clinic.key)],
        &[&gov],
    )
    .unwrap();
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &expiring,
            Purpose::Treatment,
        ),
        RekamError::IssuerSuspended,
    );
    w.fx.send(
        &[ix::issuer_reinstate(&pid, &gov.pubkey(), &clinic.key)],
        &[&gov],
    )
    .unwrap();
    w.fx.advance(3 * DAY);
    assert_rekam_error(
        w.access(
            &doctor,
            &patient.key,
            &consent,
            &expiring,
            Purpose::Treatment,
        ),
        RekamError::AttestationExpired,
    );
    assert_eq!(receipts(&w), 1, "refused reads leave no receipt");
}
