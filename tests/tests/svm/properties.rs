//! Property: across random sequences of grant, revoke, access and clock moves, from
//! random signers, an access receipt is accepted exactly when an independent model says
//! the consent is active, in scope, for the right purpose and grantee.

use anchor_lang::prelude::Pubkey;
use proptest::prelude::*;
use rekam::{roles, AttestationKind, Consent, Purpose};
use rekam_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

#[derive(Debug, Clone)]
enum Op {
    Grant {
        grantee: usize,
        kinds: u8,
        purpose: usize,
        starts_in: i64,
        lasts: i64,
    },
    Revoke {
        consent: usize,
        signer: usize,
    },
    Access {
        consent: usize,
        signer: usize,
        record: usize,
        purpose: usize,
    },
    Advance {
        seconds: i64,
    },
}

const PURPOSES: [Purpose; 3] = [
    Purpose::Treatment,
    Purpose::Research,
    Purpose::EmergencyTreatment,
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..64u8, 0..3usize, -50..200i64, 1..400i64).prop_map(
            |(grantee, kinds, purpose, starts_in, lasts)| Op::Grant {
                grantee,
                kinds,
                purpose,
                starts_in,
                lasts
            }
        ),
        (0..8usize, 0..4usize).prop_map(|(consent, signer)| Op::Revoke { consent, signer }),
        (0..8usize, 0..4usize, 0..4usize, 0..3usize).prop_map(
            |(consent, signer, record, purpose)| Op::Access {
                consent,
                signer,
                record,
                purpose
            }
        ),
        (1..150i64).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// What the model knows of a consent.
struct ModelConsent {
    key: Pubkey,
    grantee: usize,
    kinds: u8,
    purpose: Purpose,
    starts_at: i64,
    expires_at: i64,
    revoked: bool,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn receipts_only_exist_under_active_in_scope_consent(ops in prop::collection::vec(op(), 1..40)) {
        let mut w = World::new();
        let clinic = w.accredit(roles::ALL);
        let patient = w.register_patient();
        let other = w.register_patient();
        // Records 0..3 are the patient's (three kinds), record 3 is someone else's.
        let records: Vec<(Pubkey, AttestationKind, bool)> = vec![
            (w.issue(&clinic, &patient, AttestationKind::Diagnosis), AttestationKind::Diagnosis, true),
            (w.issue(&clinic, &patient, AttestationKind::LabResult), AttestationKind::LabResult, true),
            (w.issue(&clinic, &patient, AttestationKind::Imaging), AttestationKind::Imaging, true),
            (w.issue(&clinic, &other, AttestationKind::Diagnosis), AttestationKind::Diagnosis, false),
        ];
        // Signers 0..3 are potential grantees; signer 3 is the patient.
        let mut signers: Vec<Keypair> = (0..3).map(|_| w.fx.funded(10 * SOL)).collect();
        signers.push(patient.authority.insecure_clone());
        let mut consents: Vec<ModelConsent> = Vec::new();
        let mut accepted = 0u64;

        for op in ops {
            let now = w.fx.now();
            match op {
                Op::Grant { grantee, kinds: mask, purpose, starts_in, lasts } => {
                    let scope = rekam::ConsentScope { kinds: mask, attestations: vec![] };
                    let mut args = w.grant_args(&signers[grantee].pubkey(), PURPOSES[purpose], scope);
                    args.starts_at = now + starts_in;
                    args.expires_at = now + starts_in + lasts;
                    let valid = mask != 0 && args.expires_at > now;
                    let (starts_at, expires_at) = (args.starts_at, args.expires_at);
                    match w.try_grant(&patient, args) {
                        Ok(key) => {
                            prop_assert!(valid);
                            consents.push(ModelConsent { key, grantee, kinds: mask, purpose: PURPOSES[purpose], starts_at, expires_at, revoked: false });
                        }
                        Err(_) => prop_assert!(!valid, "a valid grant was refused"),
                    }
                }
                Op::Revoke { consent, signer } => {
                    let Some(c) = consents.get_mut(consent) else { continue };
                    let ix = ix::consent_revoke(&w.program_id(), &signers[signer].pubkey(), &patient.key, &c.key);
                    let ok = w.fx.send(&[ix], &[&signers[signer]]).is_ok();
                    prop_assert_eq!(ok, signer == 3 && !c.revoked, "revoke by signer {}", signer);
                    c.revoked |= ok;
                }
                Op::Access { consent, signer, record, purpose } => {
                    let Some(c) = consents.get(consent) else { continue };
                    let (record_key, kind, own) = records[record];
                    let expected = signer == c.grantee
                        && !c.revoked
                        && c.starts_at <= now
                        && now < c.expires_at
                        && PURPOSES[purpose] == c.purpose
                        && own
                        && c.kinds & kind.bit() != 0;
                    let ok = w.access(&signers[signer], &patient.key, &c.key, &record_key, PURPOSES[purpose]).is_ok();
                    prop_assert_eq!(ok, expected, "access: signer {} record {} purpose {:?}", signer, record, PURPOSES[purpose]);
                    accepted += u64::from(ok);
                }
                Op::Advance { seconds } => w.fx.advance(seconds),
            }
        }
        let counted: u64 = consents.iter().map(|c| w.fx.fetch::<Consent>(&c.key).access_count).sum();
        prop_assert_eq!(counted, accepted, "receipts counted = accesses accepted");
        for c in &consents {
            let n = w.fx.fetch::<Consent>(&c.key).access_count;
            for i in 0..n {
                prop_assert!(w.fx.account(&pda::access_receipt(&w.program_id(), &c.key, i)).is_some());
            }
            prop_assert!(w.fx.account(&pda::access_receipt(&w.program_id(), &c.key, n)).is_none());
        }
    }
}
