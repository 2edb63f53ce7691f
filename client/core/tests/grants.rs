//! Key grants moved between holders: a guardian re-wraps the emergency scope for a
//! clinic without ever holding the record, and nobody else can.

use anchor_lang::prelude::Pubkey;
use rekam_client::crypto::Identity;
use rekam_client::record::{self, GuardianGrants, KeyGrantObject};

fn bundle() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/fhir/emergency-summary.json"
    ))
    .unwrap()
}

#[test]
fn a_guardian_regrants_the_emergency_scope_to_a_clinic() {
    let (patient, issuing_clinic, guardian, er_clinic, stranger) = (
        Identity::generate(),
        Identity::generate(),
        Identity::generate(),
        Identity::generate(),
        Identity::generate(),
    );
    let prepared = record::prepare(&bundle()).unwrap();
    let (sealed, _) = record::seal(
        &prepared.envelope,
        &[patient.public_key(), issuing_clinic.public_key()],
    )
    .unwrap();
    let attestation = Pubkey::new_unique();

    // The patient gives the guardian a grant over the summary.
    let mut to_guardian = KeyGrantObject::new(&guardian.public_key());
    to_guardian
        .add(&attestation, "local:summary", &sealed, &patient)
        .unwrap();
    let grants = GuardianGrants::new(vec![to_guardian]);
    let grants = GuardianGrants::from_bytes(&grants.to_bytes()).unwrap();
    let mine = grants
        .for_key(&guardian.public_key())
        .expect("guardian's grant");
    assert!(grants.for_key(&stranger.public_key()).is_none());

    // The guardian re-wraps for the emergency clinic, which then opens the record.
    let for_clinic = mine.regrant(&guardian, &er_clinic.public_key()).unwrap();
    let (envelope, _) = for_clinic.open(&attestation, &sealed, &er_clinic).unwrap();
    assert_eq!(envelope.content().unwrap(), bundle());
    // The guardian's own grant opens the record too (that is what they hold), but
    // nobody else can re-wrap it, and the clinic's grant opens nothing for the guardian.
    assert!(mine.regrant(&stranger, &er_clinic.public_key()).is_err());
    assert!(for_clinic.open(&attestation, &sealed, &guardian).is_err());
    // A re-encrypted version of the record is not opened by the old grant.
    let (resealed, _) = record::seal(&prepared.envelope, &[patient.public_key()]).unwrap();
    assert!(for_clinic
        .open(&attestation, &resealed, &er_clinic)
        .is_err());
}
