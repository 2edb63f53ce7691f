//! `patient_rotate_key`: a patient moves its profile to a new encryption key; a stranger,
//! a zero key and the current key are refused, each with its exact error, and leave the
//! profile unchanged. Everything else on the profile stays as it was.

use rekam::{Patient, RekamError};
use rekam_tests::*;
use solana_signer::Signer;

#[test]
fn the_patient_rotates_its_encryption_key() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let before: Patient = s.w.fx.fetch(&s.patient.key);
    let next = random32();
    let ix = ix::patient_rotate_key(&pid, &s.patient.authority.pubkey(), &s.patient.key, next);
    let wallet = s.patient.authority.insecure_clone();
    s.w.fx.send(&[ix], &[&wallet]).unwrap();
    let after: Patient = s.w.fx.fetch(&s.patient.key);
    assert_eq!(after.encryption_key, next);
    assert_eq!(
        Patient {
            encryption_key: before.encryption_key,
            ..after
        },
        before,
        "only the key changed"
    );
}

#[test]
fn a_rotation_is_refused_for_a_stranger_a_zero_key_and_the_current_key() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let before: Patient = s.w.fx.fetch(&s.patient.key);
    let stranger = s.w.fx.funded(SOL);
    let wallet = s.patient.authority.insecure_clone();
    for (signer, key, expected) in [
        (&stranger, random32(), RekamError::NotPatientAuthority),
        (&wallet, [0; 32], RekamError::InvalidEncryptionKey),
        (
            &wallet,
            before.encryption_key,
            RekamError::EncryptionKeyUnchanged,
        ),
    ] {
        let ix = ix::patient_rotate_key(&pid, &signer.pubkey(), &s.patient.key, key);
        assert_rekam_error(s.w.fx.send(&[ix], &[signer]), expected);
        assert_eq!(
            s.w.fx.fetch::<Patient>(&s.patient.key),
            before,
            "{expected:?}"
        );
    }
}
