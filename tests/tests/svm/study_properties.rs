//! Property: across random sequences of open, top-up, contribute, close, revocations and
//! clock moves, the program agrees with an independent model on every outcome (success or
//! the exact error) and every balance, and at the end:
//! - tokens are conserved: deposited = paid + fees + refunded + still in escrow, for
//!   each study and in total;
//! - no attestation is paid twice for a study, and no patient more often than the
//!   study's per-patient limit (re-attested records included);
//! - no payment went out for an attestation that was revoked or outside the criteria.

use anchor_lang::prelude::Pubkey;
use proptest::prelude::*;
use rekam::{AttestationKind, Contribution, RekamError, Study};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_keypair::Keypair;
use solana_signer::Signer;

const FEE: u64 = PRICE / 100;

#[derive(Debug, Clone)]
enum Op {
    Open {
        budget: u64,
        max: u32,
        per_patient: u16,
    },
    TopUp {
        study: usize,
        amount: u64,
    },
    Contribute {
        study: usize,
        record: usize,
    },
    Close {
        study: usize,
        stranger: bool,
    },
    Revoke {
        record: usize,
    },
    Advance {
        days: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (prop_oneof![Just(0u64), 1..40_000u64], 1..4u32, 1..3u16)
            .prop_map(|(budget, max, per_patient)| Op::Open { budget, max, per_patient }),
        1 => (0..4usize, prop_oneof![Just(0u64), 1..25_000u64])
            .prop_map(|(study, amount)| Op::TopUp { study, amount }),
        3 => (0..4usize, 0..7usize).prop_map(|(study, record)| Op::Contribute { study, record }),
        1 => (0..4usize, any::<bool>()).prop_map(|(study, stranger)| Op::Close { study, stranger }),
        1 => (0..7usize).prop_map(|record| Op::Revoke { record }),
        1 => (1..12i64).prop_map(|days| Op::Advance { days }),
    ]
}

struct ModelStudy {
    key: Pubkey,
    max: u32,
    per_patient: usize,
    deadline: i64,
    escrow: u64,
    deposited: u64,
    contributions: u32,
    closed: bool,
}

struct Record {
    key: Pubkey,
    patient: usize,
    accepted_kind: bool,
    revoked: bool,
}

fn code(result: TxResult) -> Result<(), InstructionError> {
    result.map(|_| ()).map_err(|failed| match failed.err {
        solana_transaction_error::TransactionError::InstructionError(_, e) => e,
        other => panic!("unexpected transaction error {other:?}"),
    })
}

fn rekam(e: RekamError) -> Result<(), InstructionError> {
    Err(InstructionError::Custom(e.code()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(24)))]

    #[test]
    fn escrow_accounting_matches_the_model(ops in prop::collection::vec(op(), 1..30)) {
        let mut m = Market::new();
        let pid = m.pid();
        let clinic = m.s.clinic.key;
        let clinic_kp = m.s.clinic.authority.insecure_clone();
        let stranger: Keypair = m.s.w.fx.funded(SOL);
        let researcher = m.researcher.insecure_clone();

        // Three patients; records 0..6 are diagnoses, record 6 a vaccination (outside
        // the criteria).
        let mut patients: Vec<TestPatient> = Vec::new();
        let mut records: Vec<Record> = Vec::new();
        for i in 0..3 {
            let (p, r) = m.patient_with_record(AttestationKind::Diagnosis);
            records.push(Record { key: r, patient: i, accepted_kind: true, revoked: false });
            patients.push(p);
        }
        for (i, p) in patients.iter().enumerate() {
            let r = m.s.w.issue(&m.s.clinic.insecure_clone(), p, AttestationKind::Diagnosis);
            records.push(Record { key: r, patient: i, accepted_kind: true, revoked: false });
        }
        let vaccination = m.s.w.issue(&m.s.clinic.insecure_clone(), &patients[0], AttestationKind::Vaccination);
        records.push(Record { key: vaccination, patient: 0, accepted_kind: false, revoked: false });

        let first: Study = m.s.w.fx.fetch(&m.study);
        let mut studies = vec![ModelStudy {
            key: m.study, max: 3, per_patient: 1, deadline: first.terms.deadline, escrow: BUDGET,
            deposited: BUDGET, contributions: 0, closed: false,
        }];
        let mut researcher_balance = RESEARCHER_FUNDS - BUDGET;
        let mut treasury = 0u64;
        let mut wallets = [0u64; 3];
        let mut paid: Vec<(usize, usize)> = Vec::new();
        let mut next_id = 2u64;

        for op in ops {
            let now = m.s.w.fx.now();
            match op {
                Op::Open { budget, max, per_patient } => {
                    let mut terms = m.terms();
                    terms.max_contributions = max;
                    terms.max_per_patient = per_patient;
                    let id = next_id;
                    next_id += 1;
                    let result = m.open(id, terms, budget);
                    if budget == 0 {
                        prop_assert_eq!(code(result.map(|_| unreachable!())), rekam(RekamError::ZeroAmount));
                    } else {
                        let key = result.expect("open");
                        researcher_balance -= budget;
                        studies.push(ModelStudy { key, max, per_patient: usize::from(per_patient), deadline: terms.deadline, escrow: budget, deposited: budget, contributions: 0, closed: false });
                    }
                }
                Op::TopUp { study, amount } => {
                    let Some(s) = studies.get_mut(study) else { continue };
                    let expected = if s.closed { rekam(RekamError::StudyClosed) }
                        else if now >= s.deadline { rekam(RekamError::StudyDeadlinePassed) }
                        else if amount == 0 { rekam(RekamError::ZeroAmount) }
                        else { Ok(()) };
                    let key = s.key;
                    prop_assert_eq!(code(m.top_up(&key, amount)), expected.clone());
                    if expected.is_ok() {
                        s.escrow += amount;
                        s.deposited += amount;
                        researcher_balance -= amount;
                    }
                }
                Op::Contribute { study, record } => {
                    let Some(s) = studies.get_mut(study) else { continue };
                    let r = &records[record];
                    let by_patient = paid.iter().filter(|(ps, pr)| *ps == study && records[*pr].patient == r.patient).count();
                    let expected = if paid.contains(&(study, record)) { Err(InstructionError::Custom(0)) }
                        else if s.closed { rekam(RekamError::StudyClosed) }
                        else if now >= s.deadline { rekam(RekamError::StudyDeadlinePassed) }
                        else if s.contributions >= s.max { rekam(RekamError::StudyFull) }
                        else if s.escrow < PRICE { rekam(RekamError::EscrowShort) }
                        else if r.revoked { rekam(RekamError::AttestationRevoked) }
                        else if !r.accepted_kind { rekam(RekamError::CriteriaNotMet) }
                        else if by_patient >= s.per_patient { rekam(RekamError::PatientContributionLimit) }
                        else { Ok(()) };
                    let key = s.key;
                    let result = m.contribute(&key, &patients[r.patient], &r.key, &clinic);
                    prop_assert_eq!(code(result), expected.clone(), "contribute record {} to study {}", record, study);
                    if expected.is_ok() {
                        s.escrow -= PRICE;
                        s.contributions += 1;
                        treasury += FEE;
                        wallets[r.patient] += PRICE - FEE;
                        paid.push((study, record));
                    }
                }
                Op::Close { study, stranger: by_stranger } => {
                    let Some(s) = studies.get_mut(study) else { continue };
                    let expected = if s.closed { rekam(RekamError::StudyClosed) }
                        else if by_stranger && now < s.deadline { rekam(RekamError::StudyNotEnded) }
                        else { Ok(()) };
                    let key = s.key;
                    let closer = if by_stranger { &stranger } else { &researcher };
                    prop_assert_eq!(code(m.close(&key, closer)), expected.clone());
                    if expected.is_ok() {
                        researcher_balance += s.escrow;
                        s.escrow = 0;
                        s.closed = true;
                    }
                }
                Op::Revoke { record } => {
                    let r = &mut records[record];
                    if r.revoked { continue; }
                    let ix = ix::attestation_revoke(&pid, &clinic_kp.pubkey(), &clinic, &r.key);
                    m.s.w.fx.send(&[ix], &[&clinic_kp]).expect("revoke");
                    r.revoked = true;
                }
                Op::Advance { days } => m.s.w.fx.advance(days * DAY),
            }

            // Every balance after every step.
            prop_assert_eq!(m.balance(&m.researcher_token), researcher_balance);
            prop_assert_eq!(m.balance(&pda::treasury(&pid, &m.mint())), treasury);
            for s in &studies {
                prop_assert_eq!(m.balance(&pda::escrow(&pid, &s.key)), s.escrow);
            }
            for (i, p) in patients.iter().enumerate() {
                prop_assert_eq!(m.wallet_balance(&p.authority.pubkey()), wallets[i]);
            }
        }

        // Conservation, per study from the chain's own accounting and in total.
        let escrowed: u64 = studies.iter().map(|s| s.escrow).sum();
        let paid_out: u64 = wallets.iter().sum();
        let mut deposited_total = 0u64;
        for s in &studies {
            let chain: Study = m.s.w.fx.fetch(&s.key);
            let paid_here = paid.iter().filter(|(ps, _)| studies[*ps].key == s.key).count() as u64;
            prop_assert_eq!((chain.paid, chain.fees), (paid_here * (PRICE - FEE), paid_here * FEE));
            prop_assert_eq!(
                u128::from(chain.deposited),
                u128::from(chain.paid) + u128::from(chain.fees) + u128::from(chain.refunded) + u128::from(s.escrow),
                "study {} conserves tokens", s.key
            );
            prop_assert_eq!(chain.deposited, s.deposited);
            prop_assert_eq!(chain.contributions, s.contributions);
            deposited_total += s.deposited;
        }
        let refunded: u64 = studies.iter().map(|s| m.s.w.fx.fetch::<Study>(&s.key).refunded).sum();
        prop_assert_eq!(deposited_total, paid_out + treasury + refunded + escrowed, "deposited = paid + fees + refunded + escrowed");
        prop_assert_eq!(
            RESEARCHER_FUNDS - researcher_balance,
            paid_out + treasury + escrowed,
            "what left the researcher = paid + fees + still escrowed"
        );
        // Exactly one contribution account per paid (study, record); none for the rest,
        // so nothing revoked or outside the criteria was ever paid.
        for (si, s) in studies.iter().enumerate() {
            for (ri, r) in records.iter().enumerate() {
                let exists = m.s.w.fx.account(&pda::contribution(&pid, &s.key, &r.key)).is_some();
                prop_assert_eq!(exists, paid.contains(&(si, ri)));
                if exists {
                    let c: Contribution = m.s.w.fx.fetch(&pda::contribution(&pid, &s.key, &r.key));
                    prop_assert!(r.accepted_kind);
                    prop_assert_eq!(c.payout + c.fee, PRICE);
                }
            }
        }
    }
}
