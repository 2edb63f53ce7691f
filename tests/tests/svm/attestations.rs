//! Attestations: issue (single and batch), revoke, verify with return data.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AnchorDeserialize;
use rekam::events::{AttestationIssued, AttestationRevoked};
use rekam::{roles, Attestation, AttestationKind, Issuer, RekamError, VerifiedAttestation};
use rekam_tests::*;
use solana_signer::Signer;

#[test]
fn issue_stores_the_commitments_and_nothing_identifying() {
    let mut w = World::new();
    let pid = w.program_id();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let mut args = w.issue_args(AttestationKind::Diagnosis);
    args.expires_on_day = day_of(T0) + 365;
    let expected = args.clone();
    let key = pda::attestation(&pid, &clinic.key, &args.evidence_commitment);
    let ix = w.issue_ix(&clinic, &patient.key, args);
    let outcome = w.fx.send(&[ix], &[&clinic.authority]).expect("issue");

    let account = w.fx.account(&key).expect("attestation exists");
    assert_eq!(account.owner, pid);
    assert_eq!(account.data.len(), Attestation::SIZE);
    let attestation: Attestation = w.fx.fetch(&key);
    assert_eq!(
        attestation,
        Attestation {
            version: 1,
            bump: Attestation::find_address(&pid, &clinic.key, &expected.evidence_commitment).1,
            kind: AttestationKind::Diagnosis,
            issuer: clinic.key,
            patient: patient.key,
            diagnosis_commitment: expected.diagnosis_commitment,
            claims_root: expected.claims_root,
            treatment_day: expected.treatment_day,
            expires_on_day: expected.expires_on_day,
            issued_at: T0,
            revoked_at: 0,
        }
    );
    assert_eq!(w.fx.fetch::<Issuer>(&clinic.key).attestations_issued, 1);
    let events = outcome.events::<AttestationIssued>(&pid);
    assert_eq!(
        (events[0].attestation, events[0].kind),
        (key, AttestationKind::Diagnosis)
    );
}

#[test]
fn roles_decide_which_kinds_an_issuer_may_attest() {
    let mut w = World::new();
    let patient = w.register_patient();
    let pharmacy = w.accredit(roles::PHARMACY);
    let lab = w.accredit(roles::LAB);
    let ethics = w.accredit(roles::ETHICS_BOARD);
    w.issue(&pharmacy, &patient, AttestationKind::Prescription);
    w.issue(&pharmacy, &patient, AttestationKind::Vaccination);
    w.issue(&lab, &patient, AttestationKind::LabResult);
    w.issue(&lab, &patient, AttestationKind::Imaging);
    w.issue(&ethics, &patient, AttestationKind::Other);
    for (issuer, kind) in [
        (&pharmacy, AttestationKind::Diagnosis),
        (&lab, AttestationKind::Prescription),
        (&ethics, AttestationKind::Diagnosis),
    ] {
        let args = w.issue_args(kind);
        assert_rekam_error(
            w.try_issue(issuer, &patient.key, args),
            RekamError::RoleNotAllowedForKind,
        );
    }
}

#[test]
fn issue_rejects_future_dates_past_expiry_suspension_and_duplicates() {
    let mut w = World::new();
    let pid = w.program_id();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();

    let mut args = w.issue_args(AttestationKind::Diagnosis);
    args.treatment_day = day_of(T0) + 1;
    assert_rekam_error(
        w.try_issue(&clinic, &patient.key, args),
        RekamError::TreatmentDateInFuture,
    );

    let mut args = w.issue_args(AttestationKind::Diagnosis);
    args.expires_on_day = day_of(T0);
    assert_rekam_error(
        w.try_issue(&clinic, &patient.key, args),
        RekamError::ExpiryNotInFuture,
    );

    // The same record (evidence commitment) cannot be attested twice by one issuer.
    let args = w.issue_args(AttestationKind::Diagnosis);
    w.try_issue(&clinic, &patient.key, args.clone())
        .expect("first");
    let (_, err) = instruction_error(w.try_issue(&clinic, &patient.key, args));
    assert_eq!(
        err,
        solana_instruction::error::InstructionError::Custom(0),
        "System: AccountAlreadyInUse"
    );

    let gov = w.governance.insecure_clone();
    w.fx.send(
        &[ix::issuer_suspend(&pid, &gov.pubkey(), &clinic.key)],
        &[&gov],
    )
    .expect("suspend");
    let args = w.issue_args(AttestationKind::Diagnosis);
    assert_rekam_error(
        w.try_issue(&clinic, &patient.key, args),
        RekamError::IssuerSuspended,
    );
}

#[test]
fn batch_issue_fits_several_attestations_in_one_transaction() {
    let mut w = World::new();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    // Grow the batch until the transaction no longer fits the 1232-byte packet.
    let mut fitted = 0;
    for n in 1..=16 {
        let args: Vec<_> = (0..n)
            .map(|_| w.issue_args(AttestationKind::LabResult))
            .collect();
        let ixs: Vec<_> = args
            .iter()
            .map(|a| w.issue_ix(&clinic, &patient.key, a.clone()))
            .collect();
        if !fits_in_packet(&ixs, &w.fx.payer.pubkey(), 2) {
            break;
        }
        w.fx.send(&ixs, &[&clinic.authority]).expect("batch issue");
        for a in &args {
            let key = pda::attestation(&w.program_id(), &clinic.key, &a.evidence_commitment);
            assert_eq!(w.fx.fetch::<Attestation>(&key).patient, patient.key);
        }
        fitted = n;
    }
    println!("attestations per transaction (batch issue): {fitted}");
    assert!(
        fitted >= 3,
        "only {fitted} attestations fit in one transaction"
    );
}

fn verify(
    w: &mut World,
    attestation: &Pubkey,
    issuer: &Pubkey,
) -> Result<VerifiedAttestation, litesvm::types::FailedTransactionMetadata> {
    let ix = ix::attestation_verify(&w.program_id(), attestation, issuer);
    w.fx.send(&[ix], &[]).map(|outcome| {
        let data = &outcome.meta.return_data;
        assert_eq!(data.program_id, w.program_id(), "return data set by Rekam");
        VerifiedAttestation::try_from_slice(&data.data).expect("decode return data")
    })
}

#[test]
fn verify_returns_kind_and_date_only_while_active() {
    let mut w = World::new();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    let clinic = w.accredit(roles::CLINIC);
    let other = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let mut args = w.issue_args(AttestationKind::Diagnosis);
    args.expires_on_day = day_of(T0) + 10;
    let treatment_day = args.treatment_day;
    let key = w.try_issue(&clinic, &patient.key, args).expect("issue");

    assert_eq!(
        verify(&mut w, &key, &clinic.key).expect("active"),
        VerifiedAttestation {
            kind: AttestationKind::Diagnosis,
            treatment_day
        }
    );
    assert_rekam_error(verify(&mut w, &key, &other.key), RekamError::IssuerMismatch);

    // Suspension stops verification from then on; reinstatement restores it.
    w.fx.send(
        &[ix::issuer_suspend(&pid, &gov.pubkey(), &clinic.key)],
        &[&gov],
    )
    .unwrap();
    assert_rekam_error(
        verify(&mut w, &key, &clinic.key),
        RekamError::IssuerSuspended,
    );
    w.fx.send(
        &[ix::issuer_reinstate(&pid, &gov.pubkey(), &clinic.key)],
        &[&gov],
    )
    .unwrap();
    verify(&mut w, &key, &clinic.key).expect("active again");

    // Expiry: the last second of the day before still verifies; 00:00 of the day fails.
    let expiry = i64::from(day_of(T0) + 10) * DAY;
    w.fx.set_time(expiry - 1);
    verify(&mut w, &key, &clinic.key).expect("not yet expired");
    w.fx.set_time(expiry);
    assert_rekam_error(
        verify(&mut w, &key, &clinic.key),
        RekamError::AttestationExpired,
    );
}

#[test]
fn revoke_is_final_and_only_for_the_issuer() {
    let mut w = World::new();
    let pid = w.program_id();
    let clinic = w.accredit(roles::CLINIC);
    let other = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let key = w.issue(&clinic, &patient, AttestationKind::Diagnosis);

    let foreign = ix::attestation_revoke(&pid, &other.authority.pubkey(), &other.key, &key);
    assert_rekam_error(
        w.fx.send(&[foreign], &[&other.authority]),
        RekamError::IssuerMismatch,
    );
    let impostor = ix::attestation_revoke(&pid, &other.authority.pubkey(), &clinic.key, &key);
    assert_rekam_error(
        w.fx.send(&[impostor], &[&other.authority]),
        RekamError::NotIssuerAuthority,
    );

    w.fx.advance(5);
    let revoke = ix::attestation_revoke(&pid, &clinic.authority.pubkey(), &clinic.key, &key);
    let outcome =
        w.fx.send(std::slice::from_ref(&revoke), &[&clinic.authority])
            .expect("revoke");
    assert_eq!(w.fx.fetch::<Attestation>(&key).revoked_at, T0 + 5);
    assert_eq!(
        outcome.events::<AttestationRevoked>(&pid)[0].attestation,
        key
    );
    assert_rekam_error(
        w.fx.send(&[revoke], &[&clinic.authority]),
        RekamError::AttestationAlreadyRevoked,
    );
    assert_rekam_error(
        verify(&mut w, &key, &clinic.key),
        RekamError::AttestationRevoked,
    );
}
