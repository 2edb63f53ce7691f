//! SBF-shaped limit: the heaviest instructions with their largest realistic arguments
//! (8 listed attestations, 7 guardians, 128-byte locators) and the compute-budget pair in
//! front still fit one 1,232-byte transaction; each case is also executed, so the
//! arguments are ones the program accepts. The other instructions' sizes are printed and
//! bounded by `attack_coverage.rs`.

use rekam::constants::{MAX_CONSENT_ATTESTATIONS, MAX_GUARDIANS, MAX_LOCATOR_LEN};
use rekam::{AttestationKind, ConsentScope, KeyGrant, Patient, Purpose};
use rekam_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::attack_coverage::wire_size;

fn long_grant() -> KeyGrant {
    KeyGrant {
        hash: random32(),
        locator: format!("s3:{}", "f".repeat(MAX_LOCATOR_LEN - 3)),
    }
}

#[test]
fn the_heaviest_instructions_fit_one_transaction() {
    let mut sizes = Vec::new();

    // consent_grant listing the most attestations, with the longest locator.
    let mut s = Scene::new();
    let clinic = s.clinic.insecure_clone();
    let patient = s.patient_clone();
    let records: Vec<_> = (0..MAX_CONSENT_ATTESTATIONS)
        .map(|_| s.w.issue(&clinic, &patient, AttestationKind::LabResult))
        .collect();
    let mut args = s.w.grant_args(
        &s.doctor.pubkey(),
        Purpose::Treatment,
        ConsentScope {
            kinds: 0,
            attestations: records.clone(),
        },
    );
    args.key_grant = long_grant();
    let index = s.w.fx.fetch::<Patient>(&patient.key).consents_created;
    let grant = ix::consent_grant(
        &s.w.program_id(),
        &patient.authority.pubkey(),
        &patient.key,
        index,
        args,
    );
    sizes.push((
        "consent_grant (8 attestations)",
        wire_size(&s.w.fx.payer.pubkey(), std::slice::from_ref(&grant), 1),
    ));
    s.w.fx
        .send(&[grant], &[&patient.authority])
        .expect("accepted");

    // guardians_set with the most guardians and an 8-record emergency scope.
    let guardians: Vec<Keypair> = (0..MAX_GUARDIANS).map(|_| Keypair::new()).collect();
    let set = ix::guardians_set(
        &s.w.program_id(),
        &patient.authority.pubkey(),
        &patient.key,
        rekam::GuardiansArgs {
            guardians: guardians.iter().map(|g| g.pubkey()).collect(),
            threshold: 4,
            emergency_scope: only(&records),
            emergency_max_seconds: 24 * HOUR,
            recovery_timelock_seconds: 48 * HOUR,
            key_grant: long_grant(),
        },
    );
    sizes.push((
        "guardians_set (7 guardians, 8 records)",
        wire_size(&s.w.fx.payer.pubkey(), std::slice::from_ref(&set), 1),
    ));
    s.w.fx
        .send(&[set], &[&patient.authority])
        .expect("accepted");

    // study_contribute (the longest account list) with the longest copy locator.
    let mut m = Market::new();
    let clinic = m.s.clinic.key;
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    let study = m.study;
    let index = m.s.w.fx.fetch::<Patient>(&p.key).consents_created;
    let contribute = ix::study_contribute(
        &m.pid(),
        ix::Contribute {
            authority: &p.authority.pubkey(),
            patient: &p.key,
            consent_index: index,
            study: &study,
            approval: m.approval_of(&study),
            mint: &m.mint(),
            token_program: &m.token_program,
            attestation: &record,
            issuer: &clinic,
        },
        long_grant(),
    );
    sizes.push((
        "study_contribute (128-byte locator)",
        wire_size(
            &m.s.w.fx.payer.pubkey(),
            std::slice::from_ref(&contribute),
            1,
        ),
    ));
    m.s.w
        .fx
        .send(&[contribute], &[&p.authority])
        .expect("accepted");

    println!("{:<40} {:>6}", "transaction", "bytes");
    for (name, size) in &sizes {
        println!("{name:<40} {size:>6}");
        assert!(*size <= 1_232, "{name}: {size} bytes exceed a packet");
    }
}

#[test]
fn the_instructions_of_the_attack_tables_fit_one_transaction() {
    // The 17 instructions whose cases live in `attacks.rs` (the others are sized by
    // `attack_coverage.rs` and above), each with the compute-budget pair in front.
    let s = Scene::new();
    let mut names = std::collections::BTreeSet::new();
    println!("{:<26} {:>6}", "instruction", "bytes");
    for (name, ix, signers, _) in crate::attacks::every_instruction(&s) {
        let size = wire_size(&s.w.fx.payer.pubkey(), &[ix], signers.len());
        println!("{name:<26} {size:>6}");
        assert!(size <= 1_232, "{name}: {size} bytes exceed a packet");
        names.insert(name);
    }
    assert_eq!(names.len(), 17, "{names:?}");
}
