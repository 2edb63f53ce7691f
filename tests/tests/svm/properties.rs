//! Property: across random sequences of grant, revoke, access, record revocation and clock
//! moves, from random signers, with random (often invalid) kind masks and attestation-list
//! scopes, every outcome of the program (success or the exact error) is what an
//! independent model predicts, and an access receipt exists exactly for the accesses the
//! model accepted. The model keeps its own kind bits and its own rules, written from
//! docs/program.md, not from the program's helpers.

use anchor_lang::prelude::Pubkey;
use proptest::prelude::*;
use rekam::{roles, AttestationKind, Consent, Purpose, RekamError};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// The kind bits of the ABI (docs/program.md): Diagnosis 1, LabResult 2, Prescription 4,
/// Vaccination 8, Imaging 16, Other 32; bits 64 and 128 are undefined.
const DEFINED_KINDS: u8 = 0b0011_1111;
const RECORD_KINDS: [(AttestationKind, u8); 4] = [
    (AttestationKind::Diagnosis, 1),
    (AttestationKind::LabResult, 2),
    (AttestationKind::Imaging, 16),
    (AttestationKind::Diagnosis, 1),
];
/// Most attestations a consent scope may list (docs/program.md).
const MAX_LISTED: usize = 8;

#[derive(Debug, Clone)]
enum Op {
    Grant {
        signer: usize,
        grantee: usize,
        kinds: u8,
        listed: Vec<usize>,
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
    RevokeRecord {
        record: usize,
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
        3 => (
            prop_oneof![9 => Just(3usize), 1 => 0..3usize],
            0..3usize,
            prop_oneof![Just(0u8), any::<u8>(), 1..64u8],
            prop_oneof![2 => Just(vec![]), 1 => prop::collection::vec(0..4usize, 0..11)],
            0..3usize,
            -50..200i64,
            -20..400i64,
        )
            .prop_map(|(signer, grantee, kinds, listed, purpose, starts_in, lasts)| Op::Grant {
                signer,
                grantee,
                kinds,
                listed,
                purpose,
                starts_in,
                lasts
            }),
        1 => (0..8usize, 0..4usize).prop_map(|(consent, signer)| Op::Revoke { consent, signer }),
        4 => (0..8usize, 0..4usize, 0..4usize, 0..3usize).prop_map(
            |(consent, signer, record, purpose)| Op::Access {
                consent,
                signer,
                record,
                purpose
            }
        ),
        1 => (0..4usize).prop_map(|record| Op::RevokeRecord { record }),
        1 => (1..150i64).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// What the model knows of a consent.
struct ModelConsent {
    key: Pubkey,
    grantee: usize,
    kinds: u8,
    listed: Vec<usize>,
    purpose: Purpose,
    starts_at: i64,
    expires_at: i64,
    revoked: bool,
    receipts: u64,
}

/// What the model knows of a record.
struct ModelRecord {
    key: Pubkey,
    bit: u8,
    /// The patient's own (record 3 is another patient's).
    own: bool,
    revoked: bool,
}

fn rekam(e: RekamError) -> Result<(), InstructionError> {
    Err(InstructionError::Custom(e.code()))
}

fn outcome(result: TxResult) -> Result<(), InstructionError> {
    result.map(|_| ()).map_err(|failed| match failed.err {
        solana_transaction_error::TransactionError::InstructionError(_, e) => e,
        other => panic!("unexpected transaction error {other:?}"),
    })
}

/// The model's verdict on a grant (docs/program.md, consent_grant).
fn grant_verdict(
    signer_is_patient: bool,
    kinds: u8,
    listed: &[usize],
    starts_at: i64,
    expires_at: i64,
    now: i64,
) -> Result<(), InstructionError> {
    let distinct = listed
        .iter()
        .enumerate()
        .all(|(i, r)| !listed[..i].contains(r));
    if !signer_is_patient {
        rekam(RekamError::NotPatientAuthority)
    } else if kinds == 0 && listed.is_empty() {
        rekam(RekamError::EmptyScope)
    } else if kinds & !DEFINED_KINDS != 0 {
        rekam(RekamError::InvalidKinds)
    } else if listed.len() > MAX_LISTED {
        rekam(RekamError::TooManyAttestations)
    } else if !distinct {
        rekam(RekamError::DuplicateAttestationInScope)
    } else if !(starts_at < expires_at && expires_at > now) {
        rekam(RekamError::InvalidPeriod)
    } else {
        Ok(())
    }
}

/// The model's verdict on an access (docs/program.md, access_record and audit finding 7).
fn access_verdict(
    c: &ModelConsent,
    signer: usize,
    r: &ModelRecord,
    record: usize,
    purpose: Purpose,
    now: i64,
) -> Result<(), InstructionError> {
    if signer != c.grantee {
        rekam(RekamError::NotGrantee)
    } else if !r.own {
        rekam(RekamError::PatientMismatch)
    } else if c.revoked {
        rekam(RekamError::ConsentRevoked)
    } else if now < c.starts_at {
        rekam(RekamError::ConsentNotYetActive)
    } else if now >= c.expires_at {
        rekam(RekamError::ConsentExpired)
    } else if purpose != c.purpose {
        rekam(RekamError::PurposeMismatch)
    } else if r.revoked && purpose != Purpose::EmergencyTreatment {
        rekam(RekamError::AttestationRevoked)
    } else if c.kinds & r.bit == 0 && !c.listed.contains(&record) {
        rekam(RekamError::OutOfScope)
    } else {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(24)))]

    #[test]
    fn every_consent_outcome_is_the_models(ops in prop::collection::vec(op(), 1..40)) {
        let mut w = World::new();
        let pid = w.program_id();
        let clinic = w.accredit(roles::ALL);
        let patient = w.register_patient();
        let other = w.register_patient();
        let mut records: Vec<ModelRecord> = RECORD_KINDS
            .iter()
            .enumerate()
            .map(|(i, &(kind, bit))| {
                let owner = if i == 3 { &other } else { &patient };
                ModelRecord { key: w.issue(&clinic, owner, kind), bit, own: i != 3, revoked: false }
            })
            .collect();
        // Signers 0..3 are potential grantees (and strangers); signer 3 is the patient.
        let mut signers: Vec<Keypair> = (0..3).map(|_| w.fx.funded(10 * SOL)).collect();
        signers.push(patient.authority.insecure_clone());
        let mut consents: Vec<ModelConsent> = Vec::new();

        for op in ops {
            let now = w.fx.now();
            match op {
                Op::Grant { signer, grantee, kinds: mask, listed, purpose, starts_in, lasts } => {
                    let scope = rekam::ConsentScope { kinds: mask, attestations: listed.iter().map(|&r| records[r].key).collect() };
                    let mut args = w.grant_args(&signers[grantee].pubkey(), PURPOSES[purpose], scope);
                    args.starts_at = now + starts_in;
                    args.expires_at = now + starts_in + lasts;
                    let expected = grant_verdict(signer == 3, mask, &listed, args.starts_at, args.expires_at, now);
                    let (starts_at, expires_at) = (args.starts_at, args.expires_at);
                    let index = w.fx.fetch::<rekam::Patient>(&patient.key).consents_created;
                    let ix = ix::consent_grant(&pid, &signers[signer].pubkey(), &patient.key, index, args);
                    prop_assert_eq!(outcome(w.fx.send(&[ix], &[&signers[signer]])), expected.clone(), "grant {:#04x} {:?}", mask, listed);
                    let key = pda::consent(&pid, &patient.key, index);
                    prop_assert_eq!(w.fx.account(&key).is_some(), expected.is_ok(), "a refused grant leaves no account");
                    if expected.is_ok() {
                        consents.push(ModelConsent { key, grantee, kinds: mask, listed, purpose: PURPOSES[purpose], starts_at, expires_at, revoked: false, receipts: 0 });
                    }
                }
                Op::Revoke { consent, signer } => {
                    let Some(c) = consents.get_mut(consent) else { continue };
                    let ix = ix::consent_revoke(&pid, &signers[signer].pubkey(), &patient.key, &c.key);
                    let expected = if signer != 3 { rekam(RekamError::NotPatientAuthority) }
                        else if c.revoked { rekam(RekamError::ConsentRevoked) }
                        else { Ok(()) };
                    prop_assert_eq!(outcome(w.fx.send(&[ix], &[&signers[signer]])), expected.clone(), "revoke by signer {}", signer);
                    c.revoked |= expected.is_ok();
                }
                Op::Access { consent, signer, record, purpose } => {
                    let Some(c) = consents.get_mut(consent) else { continue };
                    let r = &records[record];
                    let expected = access_verdict(c, signer, r, record, PURPOSES[purpose], now);
                    let result = w.access(&signers[signer], &patient.key, &c.key, &r.key, PURPOSES[purpose]);
                    prop_assert_eq!(outcome(result), expected.clone(), "access: signer {} record {} purpose {:?}", signer, record, PURPOSES[purpose]);
                    c.receipts += u64::from(expected.is_ok());
                }
                Op::RevokeRecord { record } => {
                    let r = &mut records[record];
                    if r.revoked { continue; }
                    let ix = ix::attestation_revoke(&pid, &clinic.authority.pubkey(), &clinic.key, &r.key);
                    w.fx.send(&[ix], &[&clinic.authority]).expect("revoke record");
                    r.revoked = true;
                }
                Op::Advance { seconds } => w.fx.advance(seconds),
            }
        }
        // Receipts: exactly the accepted accesses, numbered from 0, none beyond.
        for c in &consents {
            prop_assert_eq!(w.fx.fetch::<Consent>(&c.key).access_count, c.receipts);
            for i in 0..c.receipts {
                prop_assert!(w.fx.account(&pda::access_receipt(&pid, &c.key, i)).is_some());
            }
            prop_assert!(w.fx.account(&pda::access_receipt(&pid, &c.key, c.receipts)).is_none());
        }
    }
}
