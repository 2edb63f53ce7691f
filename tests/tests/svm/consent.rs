//! Consent: grant, update the key grant, extend, revoke; only the patient signs.

use anchor_lang::prelude::Pubkey;
use rekam::events::{ConsentExtended, ConsentGranted, ConsentKeyGrantUpdated, ConsentRevoked};
use rekam::{AttestationKind, Consent, ConsentScope, KeyGrant, Patient, Purpose, RekamError};
use rekam_tests::*;
use solana_signer::Signer;

#[test]
fn grant_records_scope_purpose_period_and_key_grant() {
    let mut w = World::new();
    let pid = w.program_id();
    let patient = w.register_patient();
    let doctor = w.fx.funded(SOL).pubkey();
    let args = w.grant_args(
        &doctor,
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis, AttestationKind::LabResult]),
    );
    let expected = args.clone();
    let ix = ix::consent_grant(&pid, &patient.authority.pubkey(), &patient.key, 0, args);
    let outcome = w.fx.send(&[ix], &[&patient.authority]).expect("grant");
    let key = pda::consent(&pid, &patient.key, 0);
    let consent: Consent = w.fx.fetch(&key);
    assert_eq!(
        consent,
        Consent {
            version: 1,
            bump: Consent::find_address(&pid, &patient.key, 0).1,
            patient: patient.key,
            grantee: doctor,
            index: 0,
            purpose: Purpose::Treatment,
            scope: expected.scope,
            starts_at: expected.starts_at,
            expires_at: expected.expires_at,
            revoked_at: 0,
            key_grant: expected.key_grant,
            created_at: T0,
            updated_at: T0,
            access_count: 0,
            last_access_at: 0,
        }
    );
    assert_eq!(w.fx.fetch::<Patient>(&patient.key).consents_created, 1);
    let events = outcome.events::<ConsentGranted>(&pid);
    assert_eq!(
        (events[0].consent, events[0].grantee, events[0].purpose),
        (key, doctor, Purpose::Treatment)
    );

    // A second consent to the same grantee gets the next index.
    let second = w.grant(
        &patient,
        &doctor,
        Purpose::Research,
        kinds(&[AttestationKind::Imaging]),
    );
    assert_eq!(second, pda::consent(&pid, &patient.key, 1));
}

#[test]
fn grant_validates_scope_period_and_key_grant() {
    let mut w = World::new();
    let patient = w.register_patient();
    let g = Pubkey::new_unique();
    let cases: Vec<(rekam::ConsentGrantArgs, RekamError)> = vec![
        (
            w.grant_args(
                &g,
                Purpose::Treatment,
                ConsentScope {
                    kinds: 0,
                    attestations: vec![],
                },
            ),
            RekamError::EmptyScope,
        ),
        (
            w.grant_args(
                &g,
                Purpose::Treatment,
                ConsentScope {
                    kinds: 1 << 6,
                    attestations: vec![],
                },
            ),
            RekamError::InvalidKinds,
        ),
        (
            w.grant_args(&g, Purpose::Treatment, only(&[Pubkey::new_unique(); 2])),
            RekamError::DuplicateAttestationInScope,
        ),
        (
            w.grant_args(
                &g,
                Purpose::Treatment,
                only(&(0..9).map(|_| Pubkey::new_unique()).collect::<Vec<_>>()),
            ),
            RekamError::TooManyAttestations,
        ),
        (
            {
                let mut a = w.grant_args(&g, Purpose::Treatment, kinds(&[AttestationKind::Other]));
                a.expires_at = a.starts_at;
                a
            },
            RekamError::InvalidPeriod,
        ),
        (
            {
                let mut a = w.grant_args(&g, Purpose::Treatment, kinds(&[AttestationKind::Other]));
                a.starts_at = T0 - 100;
                a.expires_at = T0;
                a
            },
            RekamError::InvalidPeriod,
        ),
        (
            {
                let mut a = w.grant_args(&g, Purpose::Treatment, kinds(&[AttestationKind::Other]));
                a.key_grant.hash = [0; 32];
                a
            },
            RekamError::InvalidKeyGrant,
        ),
        (
            {
                let mut a = w.grant_args(&g, Purpose::Treatment, kinds(&[AttestationKind::Other]));
                a.key_grant.locator = "x".repeat(129);
                a
            },
            RekamError::LocatorTooLong,
        ),
        (
            {
                let mut a = w.grant_args(&g, Purpose::Treatment, kinds(&[AttestationKind::Other]));
                a.key_grant.locator = String::new();
                a
            },
            RekamError::LocatorTooLong,
        ),
    ];
    for (args, expected) in cases {
        assert_rekam_error(w.try_grant(&patient, args), expected);
    }
    assert_eq!(
        w.fx.fetch::<Patient>(&patient.key).consents_created,
        0,
        "nothing was granted"
    );
}

#[test]
fn only_the_patient_grants_changes_or_revokes() {
    let mut w = World::new();
    let pid = w.program_id();
    let patient = w.register_patient();
    let intruder = w.fx.funded(SOL);
    let doctor = Pubkey::new_unique();

    let args = w.grant_args(
        &intruder.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    let ix = ix::consent_grant(&pid, &intruder.pubkey(), &patient.key, 0, args);
    assert_rekam_error(
        w.fx.send(&[ix], &[&intruder]),
        RekamError::NotPatientAuthority,
    );

    let consent = w.grant(
        &patient,
        &doctor,
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    let grant = KeyGrant {
        hash: random32(),
        locator: "bafkrei-other".into(),
    };
    for ix in [
        ix::consent_update_key_grant(
            &pid,
            &intruder.pubkey(),
            &patient.key,
            &consent,
            grant.clone(),
        ),
        ix::consent_extend(
            &pid,
            &intruder.pubkey(),
            &patient.key,
            &consent,
            T0 + 90 * DAY,
        ),
        ix::consent_revoke(&pid, &intruder.pubkey(), &patient.key, &consent),
    ] {
        assert_rekam_error(
            w.fx.send(&[ix], &[&intruder]),
            RekamError::NotPatientAuthority,
        );
    }
    assert_eq!(w.fx.fetch::<Consent>(&consent).revoked_at, 0);
}

#[test]
fn update_extend_and_revoke_follow_the_rules() {
    let mut w = World::new();
    let pid = w.program_id();
    let patient = w.register_patient();
    let a = patient.authority.pubkey();
    let consent = w.grant(
        &patient,
        &Pubkey::new_unique(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    let before: Consent = w.fx.fetch(&consent);

    w.fx.advance(10);
    let grant = KeyGrant {
        hash: random32(),
        locator: "s3://rekam/grants/abc".into(),
    };
    let outcome =
        w.fx.send(
            &[ix::consent_update_key_grant(
                &pid,
                &a,
                &patient.key,
                &consent,
                grant.clone(),
            )],
            &[&patient.authority],
        )
        .expect("update");
    let after: Consent = w.fx.fetch(&consent);
    assert_eq!(
        (after.key_grant.clone(), after.updated_at),
        (grant.clone(), T0 + 10)
    );
    assert_eq!(
        outcome.events::<ConsentKeyGrantUpdated>(&pid)[0].key_grant_hash,
        grant.hash
    );

    let same = ix::consent_extend(&pid, &a, &patient.key, &consent, before.expires_at);
    assert_rekam_error(
        w.fx.send(&[same], &[&patient.authority]),
        RekamError::ExtensionNotLater,
    );
    let later = before.expires_at + DAY;
    let outcome =
        w.fx.send(
            &[ix::consent_extend(&pid, &a, &patient.key, &consent, later)],
            &[&patient.authority],
        )
        .expect("extend");
    assert_eq!(w.fx.fetch::<Consent>(&consent).expires_at, later);
    assert_eq!(outcome.events::<ConsentExtended>(&pid)[0].expires_at, later);

    w.fx.advance(10);
    let outcome = w.revoke_consent(&patient, &consent).expect("revoke");
    assert_eq!(w.fx.fetch::<Consent>(&consent).revoked_at, T0 + 20);
    assert_eq!(outcome.events::<ConsentRevoked>(&pid)[0].consent, consent);

    // Revocation is final.
    assert_rekam_error(
        w.revoke_consent(&patient, &consent),
        RekamError::ConsentRevoked,
    );
    let ix = ix::consent_extend(&pid, &a, &patient.key, &consent, later + DAY);
    assert_rekam_error(
        w.fx.send(&[ix], &[&patient.authority]),
        RekamError::ConsentRevoked,
    );
    let ix = ix::consent_update_key_grant(&pid, &a, &patient.key, &consent, grant);
    assert_rekam_error(
        w.fx.send(&[ix], &[&patient.authority]),
        RekamError::ConsentRevoked,
    );
}
