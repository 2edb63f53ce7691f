//! Audit finding 8: consent and receipt rent could never be reclaimed. The patient now
//! closes an ended consent (`consent_close`, rent to the patient) and its receipts
//! (`receipt_close`, rent back to each reader), and the trail stays reconstructible from
//! the `ConsentClosed` and `ReceiptClosed` events. Every refusal asserts its exact error
//! and that no lamport or account moved.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::events::{ConsentClosed, ReceiptClosed};
use rekam::{AccessReceipt, AttestationKind, Consent, Purpose, RekamError};
use rekam_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn lamports(s: &Scene, key: &Pubkey) -> u64 {
    s.w.fx.account(key).map_or(0, |a| a.lamports)
}

fn close_consent_ix(
    s: &Scene,
    signer: &Pubkey,
    consent: &Pubkey,
) -> solana_instruction::Instruction {
    ix::consent_close(&s.w.program_id(), signer, &s.patient.key, consent)
}

fn close_receipt_ix(
    s: &Scene,
    signer: &Pubkey,
    consent_index: u64,
    index: u64,
    accessor: &Pubkey,
) -> solana_instruction::Instruction {
    ix::receipt_close(
        &s.w.program_id(),
        signer,
        &s.patient.key,
        consent_index,
        index,
        accessor,
    )
}

/// A refusal: the exact error, and the consent, the receipts and every wallet unchanged.
fn refused(
    s: &mut Scene,
    ix: solana_instruction::Instruction,
    signer: &Keypair,
    watch: &[Pubkey],
) -> InstructionErrorOf {
    let before: Vec<_> = watch.iter().map(|k| s.w.fx.account(k)).collect();
    let (_, err) = instruction_error(s.w.fx.send(&[ix], &[signer]));
    let after: Vec<_> = watch.iter().map(|k| s.w.fx.account(k)).collect();
    assert_eq!(before, after, "a refused close moved something");
    err
}

type InstructionErrorOf = solana_instruction::error::InstructionError;

fn rekam_code(e: RekamError) -> InstructionErrorOf {
    InstructionErrorOf::Custom(e.code())
}

#[test]
fn an_ended_consent_and_its_receipts_close_for_their_rent() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let (consent, record) = (s.consent, s.record);
    let patient = s.patient_clone();
    let doctor = s.doctor.insecure_clone();
    let stranger = s.w.fx.funded(SOL);
    for _ in 0..2 {
        s.w.access(&doctor, &patient.key, &consent, &record, Purpose::Treatment)
            .expect("read");
    }
    let receipts = [
        pda::access_receipt(&pid, &consent, 0),
        pda::access_receipt(&pid, &consent, 1),
    ];
    let index = s.w.fx.fetch::<Consent>(&consent).index;
    let watch = [
        consent,
        receipts[0],
        receipts[1],
        patient.authority.pubkey(),
        doctor.pubkey(),
    ];

    // While the consent is active nothing closes; nobody but the patient closes anything.
    let ix = close_consent_ix(&s, &patient.authority.pubkey(), &consent);
    assert_eq!(
        refused(&mut s, ix, &patient.authority, &watch),
        rekam_code(RekamError::ConsentStillActive)
    );
    let ix = close_receipt_ix(&s, &patient.authority.pubkey(), index, 0, &doctor.pubkey());
    assert_eq!(
        refused(&mut s, ix, &patient.authority, &watch),
        rekam_code(RekamError::ConsentStillActive)
    );
    s.w.revoke_consent(&patient, &consent).expect("revoke");
    for who in [&doctor, &stranger] {
        let ix = close_consent_ix(&s, &who.pubkey(), &consent);
        assert_eq!(
            refused(&mut s, ix, who, &watch),
            rekam_code(RekamError::NotPatientAuthority)
        );
        // The reader cannot erase the record of its own reads, even to get its rent back.
        let ix = close_receipt_ix(&s, &who.pubkey(), index, 0, &doctor.pubkey());
        assert_eq!(
            refused(&mut s, ix, who, &watch),
            rekam_code(RekamError::NotPatientAuthority)
        );
    }
    // The rent goes to the reader who paid it, no one else.
    let ix = close_receipt_ix(
        &s,
        &patient.authority.pubkey(),
        index,
        0,
        &stranger.pubkey(),
    );
    assert_eq!(
        refused(&mut s, ix, &patient.authority, &watch),
        rekam_code(RekamError::AccessorMismatch)
    );

    // Receipt 0 while the consent exists: the doctor gets its rent back.
    let doctor_before = lamports(&s, &doctor.pubkey());
    let receipt_rent = lamports(&s, &receipts[0]);
    let stored: AccessReceipt = s.w.fx.fetch(&receipts[0]);
    let ix = close_receipt_ix(&s, &patient.authority.pubkey(), index, 0, &doctor.pubkey());
    let out =
        s.w.fx
            .send(&[ix], &[&patient.authority])
            .expect("close receipt 0");
    assert_eq!(lamports(&s, &doctor.pubkey()), doctor_before + receipt_rent);
    assert!(s.w.fx.account(&receipts[0]).is_none());
    let event = &out.events::<ReceiptClosed>(&pid)[0];
    assert_eq!(
        (
            event.receipt,
            event.consent,
            event.attestation,
            event.accessor,
            event.purpose,
            event.index,
            event.accessed_at
        ),
        (
            receipts[0],
            consent,
            stored.attestation,
            stored.accessor,
            stored.purpose,
            0,
            stored.accessed_at
        )
    );

    // The consent: its rent to the patient's wallet (which also pays the fee: the
    // fixture's payer pays fees here, so the wallet gains exactly the rent).
    let wallet_before = lamports(&s, &patient.authority.pubkey());
    let consent_rent = lamports(&s, &consent);
    let stored: Consent = s.w.fx.fetch(&consent);
    let ix = close_consent_ix(&s, &patient.authority.pubkey(), &consent);
    let out =
        s.w.fx
            .send(&[ix], &[&patient.authority])
            .expect("close consent");
    assert_eq!(
        lamports(&s, &patient.authority.pubkey()),
        wallet_before + consent_rent
    );
    assert!(s.w.fx.account(&consent).is_none());
    let event = &out.events::<ConsentClosed>(&pid)[0];
    assert_eq!(
        (
            event.consent,
            event.patient,
            event.grantee,
            event.purpose,
            event.access_count,
            event.revoked_at,
            event.expires_at
        ),
        (
            consent,
            patient.key,
            doctor.pubkey(),
            Purpose::Treatment,
            2,
            stored.revoked_at,
            stored.expires_at
        )
    );

    // Receipt 1 after its consent is gone: still the patient's to close, rent to the doctor.
    let doctor_before = lamports(&s, &doctor.pubkey());
    let receipt_rent = lamports(&s, &receipts[1]);
    let ix = close_receipt_ix(&s, &patient.authority.pubkey(), index, 1, &doctor.pubkey());
    s.w.fx
        .send(&[ix], &[&patient.authority])
        .expect("close receipt 1");
    assert_eq!(lamports(&s, &doctor.pubkey()), doctor_before + receipt_rent);

    // A closed consent records no more reads and is not revived; the next grant takes the
    // next index.
    let read = ix::access_record(
        &pid,
        &doctor.pubkey(),
        &patient.key,
        &consent,
        &record,
        &s.clinic.key,
        2,
        Purpose::Treatment,
    );
    assert_anchor_error(
        s.w.fx.send(&[read], &[&doctor]),
        Anchor::AccountNotInitialized,
    );
    let next = s.w.grant(
        &patient,
        &doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    assert_ne!(next, consent);
    assert_eq!(s.w.fx.fetch::<Consent>(&next).index, index + 1);
}

#[test]
fn an_expired_consent_closes_and_another_patients_receipts_never_match() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let (consent, record) = (s.consent, s.record);
    let patient = s.patient_clone();
    let doctor = s.doctor.insecure_clone();
    s.w.access(&doctor, &patient.key, &consent, &record, Purpose::Treatment)
        .expect("read");
    // Another patient with a consent and a receipt of their own, both ended.
    let other = s.w.register_patient();
    let clinic = s.clinic.insecure_clone();
    let theirs = s.w.issue(&clinic, &other, AttestationKind::Diagnosis);
    let their_consent = s.w.grant(
        &other,
        &doctor.pubkey(),
        Purpose::Treatment,
        only(&[theirs]),
    );
    s.w.access(
        &doctor,
        &other.key,
        &their_consent,
        &theirs,
        Purpose::Treatment,
    )
    .expect("their read");
    let expires_at = s.w.fx.fetch::<Consent>(&consent).expires_at;
    s.w.fx.set_time(expires_at);

    // Our patient names the other patient's consent index: the seeds never match theirs.
    let their_index = s.w.fx.fetch::<Consent>(&their_consent).index;
    let their_receipt = pda::access_receipt(&pid, &their_consent, 0);
    let mut ix = close_receipt_ix(
        &s,
        &patient.authority.pubkey(),
        their_index,
        0,
        &doctor.pubkey(),
    );
    ix.accounts[3].pubkey = their_receipt;
    let watch = [their_receipt, their_consent];
    assert_eq!(
        refused(&mut s, ix, &patient.authority, &watch),
        InstructionErrorOf::Custom(Anchor::ConstraintSeeds as u32)
    );

    // Expired, not revoked: closable.
    let index = s.w.fx.fetch::<Consent>(&consent).index;
    let ixs = [
        close_receipt_ix(&s, &patient.authority.pubkey(), index, 0, &doctor.pubkey()),
        close_consent_ix(&s, &patient.authority.pubkey(), &consent),
    ];
    s.w.fx
        .send(&ixs, &[&patient.authority])
        .expect("close the expired consent");
    assert!(s.w.fx.account(&consent).is_none());
    assert!(s
        .w
        .fx
        .account(&pda::access_receipt(&pid, &consent, 0))
        .is_none());
    assert!(s.w.fx.account(&their_receipt).is_some());
}

#[test]
fn a_consent_that_has_not_started_is_not_closable() {
    let mut s = Scene::new();
    let patient = s.patient_clone();
    let mut args = s.w.grant_args(
        &s.doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::LabResult]),
    );
    args.starts_at = s.w.fx.now() + DAY;
    args.expires_at = s.w.fx.now() + 2 * DAY;
    let consent = s.w.try_grant(&patient, args).expect("future consent");
    let ix = close_consent_ix(&s, &patient.authority.pubkey(), &consent);
    let watch = [consent, patient.authority.pubkey()];
    assert_eq!(
        refused(&mut s, ix, &patient.authority, &watch),
        rekam_code(RekamError::ConsentStillActive)
    );
}
