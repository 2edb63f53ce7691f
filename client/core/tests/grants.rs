//! Key grants moved between holders: a holder re-wraps a granted record for another
//! reader without ever holding the record, and nobody else can. (The guardians' threshold
//! grant is tested in `threshold.rs`.)

use anchor_lang::prelude::Pubkey;
use rekam_client::crypto::Identity;
use rekam_client::record::{self, KeyGrantObject};

fn bundle() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/fhir/emergency-summary.json"
    ))
    .unwrap()
}

#[test]
fn a_holder_rewraps_a_granted_record_for_another_reader() {
    let (patient, issuing_clinic, holder, reader, stranger) = (
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

    // The patient grants the holder the summary.
    let mut to_holder = KeyGrantObject::new(&holder.public_key());
    to_holder
        .add(&attestation, "local:summary", &sealed, &patient)
        .unwrap();
    let to_holder = KeyGrantObject::from_bytes(&to_holder.to_bytes()).unwrap();
    let entry = to_holder.entry(&attestation).unwrap();

    // The holder re-wraps the entry for the reader, which then opens the record.
    let mut for_reader = KeyGrantObject::new(&reader.public_key());
    for_reader.add_from(entry, &holder).unwrap();
    let (envelope, _) = for_reader.open(&attestation, &sealed, &reader).unwrap();
    assert_eq!(envelope.content().unwrap(), bundle());
    // Nobody else can re-wrap it, and the reader's grant opens nothing for the holder.
    let mut by_stranger = KeyGrantObject::new(&reader.public_key());
    assert_eq!(
        by_stranger
            .add_from(entry, &stranger)
            .unwrap_err()
            .to_string(),
        "this record is not encrypted to your key (no matching recipient)",
        "the per-record key id tells the stranger the stanza is not theirs"
    );
    assert_eq!(
        for_reader
            .open(&attestation, &sealed, &holder)
            .unwrap_err()
            .to_string(),
        "this record is not encrypted to your key (no matching recipient)"
    );
    // A re-encrypted version of the record is not opened by the old grant.
    let (resealed, _) = record::seal(&prepared.envelope, &[patient.public_key()]).unwrap();
    assert_eq!(
        for_reader
            .open(&attestation, &resealed, &reader)
            .unwrap_err()
            .to_string(),
        "key grant is malformed: the grant belongs to another version of this record"
    );
}
