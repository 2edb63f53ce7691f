//! Batch-root attestations: one account anchors the root of a batch of a patient's facts,
//! each fact verifies alone on-chain (`batch_verify_fact`, asserted through its return
//! data) and off-chain (`claim_tree::verify` against the account), and a revoked fact or
//! a revoked batch fails. Every refusal asserts its exact error and that nothing changed.
//! The cost figures are in `batch_figures.rs`; owner and type rows in `batch_attacks.rs`.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AnchorDeserialize;
use litesvm::types::FailedTransactionMetadata;
use rekam::constants::{MAX_BATCH_FACTS, MAX_CLOCK_SKEW_SECONDS};
use rekam::{
    roles, Batch, BatchAnchorArgs, BatchKind, BatchVerifyFactArgs, Issuer, RekamError, VerifiedFact,
};
use rekam_client::claims::ClaimSet;
use rekam_client::commit::RecordSalt;
use rekam_client::fhir::facts::Fact;
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_signer::Signer;

/// `n` heart-rate readings, one a minute from `start`, as disclosable facts.
pub fn readings(n: u32, start: i64) -> Vec<Fact> {
    (0..n)
        .map(|i| Fact {
            name: format!("reading.{i}"),
            value: serde_json::json!({
                "code": "http://loinc.org|8867-4",
                "value": 60 + i % 40,
                "unit": "/min",
                "at": start + 60 * i64::from(i),
            }),
            entry: Some(i as usize),
        })
        .collect()
}

/// A batch of `n` readings ending a minute ago, salted and committed; its anchor args.
pub fn batch_of(w: &World, n: u32) -> (ClaimSet, BatchAnchorArgs) {
    let last_at = w.fx.now() - 60;
    let first_at = last_at - 60 * i64::from(n - 1);
    let claims = ClaimSet::issue(&RecordSalt::from_bytes(random32()), &readings(n, first_at))
        .expect("claims");
    let args = BatchAnchorArgs {
        root: claims.root(),
        count: claims.count(),
        kind: BatchKind::Readings,
        first_at,
        last_at,
    };
    (claims, args)
}

pub fn try_anchor(
    w: &mut World,
    issuer: &TestIssuer,
    patient: &Pubkey,
    args: BatchAnchorArgs,
) -> Result<Pubkey, FailedTransactionMetadata> {
    let key = pda::batch(&w.program_id(), &issuer.key, &args.root);
    let ix = ix::batch_anchor(
        &w.program_id(),
        &issuer.authority.pubkey(),
        &issuer.key,
        patient,
        args,
    );
    w.fx.send(&[ix], &[&issuer.authority]).map(|_| key)
}

/// Anchors a batch of `n` readings; returns its address and claims.
pub fn anchor(w: &mut World, issuer: &TestIssuer, patient: &Pubkey, n: u32) -> (Pubkey, ClaimSet) {
    let (claims, args) = batch_of(w, n);
    let key = try_anchor(w, issuer, patient, args).expect("batch_anchor");
    (key, claims)
}

pub fn fact_args(claims: &ClaimSet, index: u32) -> BatchVerifyFactArgs {
    BatchVerifyFactArgs {
        digest: claims.get(index).unwrap().digest(),
        index,
        proof: claims.proof(index).unwrap(),
    }
}

pub fn verify(
    w: &mut World,
    batch: &Pubkey,
    issuer: &Pubkey,
    args: BatchVerifyFactArgs,
) -> Result<VerifiedFact, FailedTransactionMetadata> {
    let ix = ix::batch_verify_fact(&w.program_id(), batch, issuer, args);
    w.fx.send(&[ix], &[]).map(|outcome| {
        let data = &outcome.meta.return_data;
        assert_eq!(data.program_id, w.program_id(), "return data set by Rekam");
        VerifiedFact::try_from_slice(&data.data).expect("decode return data")
    })
}

fn revoke_fact(w: &mut World, issuer: &TestIssuer, batch: &Pubkey, index: u32) -> TxResult {
    let ix = ix::batch_revoke_fact(
        &w.program_id(),
        &issuer.authority.pubkey(),
        &issuer.key,
        batch,
        index,
    );
    w.fx.send(&[ix], &[&issuer.authority])
}

fn revoke(w: &mut World, issuer: &TestIssuer, batch: &Pubkey) -> TxResult {
    let ix = ix::batch_revoke(
        &w.program_id(),
        &issuer.authority.pubkey(),
        &issuer.key,
        batch,
    );
    w.fx.send(&[ix], &[&issuer.authority])
}

/// A deployment with a device operator and a patient.
fn monitoring() -> (World, TestIssuer, TestPatient) {
    let mut w = World::new();
    let operator = w.accredit(roles::DEVICE_OPERATOR);
    let patient = w.register_patient();
    (w, operator, patient)
}

#[test]
fn a_thousand_facts_anchor_in_one_account_and_verify_one_by_one() {
    let (mut w, operator, patient) = monitoring();
    let pid = w.program_id();
    let (claims, args) = batch_of(&w, 1_000);
    let key = pda::batch(&pid, &operator.key, &args.root);
    let ix = ix::batch_anchor(
        &pid,
        &operator.authority.pubkey(),
        &operator.key,
        &patient.key,
        args.clone(),
    );
    let outcome = w.fx.send(&[ix], &[&operator.authority]).expect("anchor");

    let batch: Batch = w.fx.fetch(&key);
    assert_eq!(
        batch,
        Batch {
            version: rekam::ACCOUNT_VERSION,
            bump: Batch::find_address(&pid, &operator.key, &args.root).1,
            kind: BatchKind::Readings,
            issuer: operator.key,
            patient: patient.key,
            root: claims.root(),
            count: 1_000,
            first_at: args.first_at,
            last_at: args.last_at,
            anchored_at: w.fx.now(),
            revoked_at: 0,
            revoked: vec![0; 125],
        }
    );
    assert!(batch.invariant());
    let account = w.fx.account(&key).unwrap();
    assert_eq!(account.data.len(), Batch::space(1_000));
    assert_eq!(account.owner, pid);
    let events = outcome.events::<rekam::events::BatchAnchored>(&pid);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.batch, e.issuer, e.patient, e.kind, e.count),
        (key, operator.key, patient.key, BatchKind::Readings, 1_000)
    );
    // A batch is not an Attestation account: the issuer's attestation counter stays.
    assert_eq!(w.fx.fetch::<Issuer>(&operator.key).attestations_issued, 0);

    for index in [0, 1, 499, 777, 998, 999] {
        let args = fact_args(&claims, index);
        let steps = rekam::claim_tree::proof_len(index, 1_000).unwrap();
        assert_eq!(args.proof.len(), steps);
        assert!(steps <= 10, "at most ceil(log2 1000) siblings");
        // Off-chain: the same proof against the account's root, and its bit clear.
        rekam::claim_tree::verify(&batch.root, index, batch.count, &args.digest, &args.proof)
            .expect("verifies off-chain");
        assert_eq!(batch.fact_revoked(index), Some(false));
        let verified = verify(&mut w, &key, &operator.key, args.clone()).expect("on-chain");
        assert_eq!(
            verified,
            VerifiedFact {
                kind: BatchKind::Readings,
                index,
                digest: args.digest,
                first_at: batch.first_at,
                last_at: batch.last_at,
            }
        );
    }
    assert_eq!(
        w.fx.fetch::<Batch>(&key),
        batch,
        "verification writes nothing"
    );
}

#[test]
fn refusals_at_anchoring_create_nothing() {
    let (mut w, operator, patient) = monitoring();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    let before: Issuer = w.fx.fetch(&operator.key);
    let refused = |w: &mut World, issuer: &TestIssuer, args: BatchAnchorArgs, expected: u32| {
        let key = pda::batch(&w.program_id(), &issuer.key, &args.root);
        let (_, err) = instruction_error(try_anchor(w, issuer, &patient.key, args));
        assert_eq!(err, InstructionError::Custom(expected));
        assert!(w.fx.account(&key).is_none(), "no batch was created");
    };
    let code = |e: RekamError| e.code();

    // Another wallet signing as the operator's authority.
    let thief = TestIssuer {
        authority: w.fx.funded(SOL),
        ..operator.insecure_clone()
    };
    let (_, args) = batch_of(&w, 10);
    refused(&mut w, &thief, args, code(RekamError::NotIssuerAuthority));

    // Counts, window, clock and root.
    for count in [0, MAX_BATCH_FACTS + 1, u32::MAX] {
        let (_, mut args) = batch_of(&w, 10);
        args.count = count;
        refused(&mut w, &operator, args, code(RekamError::InvalidBatchCount));
    }
    let (_, mut args) = batch_of(&w, 10);
    args.first_at = args.last_at + 1;
    refused(
        &mut w,
        &operator,
        args,
        code(RekamError::InvalidBatchWindow),
    );
    let (_, mut args) = batch_of(&w, 10);
    args.last_at = w.fx.now() + MAX_CLOCK_SKEW_SECONDS + 1;
    refused(
        &mut w,
        &operator,
        args,
        code(RekamError::BatchWindowInFuture),
    );
    let (_, mut args) = batch_of(&w, 10);
    args.root = [0; 32];
    refused(&mut w, &operator, args, code(RekamError::ZeroBatchRoot));

    // Roles: an ethics board anchors nothing; a pharmacy doses but not readings.
    let board = w.accredit(roles::ETHICS_BOARD);
    let pharmacy = w.accredit(roles::PHARMACY);
    for kind in [
        BatchKind::Readings,
        BatchKind::DoseEvents,
        BatchKind::Claims,
    ] {
        let (_, mut args) = batch_of(&w, 10);
        args.kind = kind;
        refused(
            &mut w,
            &board,
            args,
            code(RekamError::RoleNotAllowedForKind),
        );
    }
    let (_, args) = batch_of(&w, 10);
    refused(
        &mut w,
        &pharmacy,
        args,
        code(RekamError::RoleNotAllowedForKind),
    );
    let (_, mut args) = batch_of(&w, 10);
    args.kind = BatchKind::DoseEvents;
    try_anchor(&mut w, &pharmacy, &patient.key, args).expect("a pharmacy anchors doses");

    // A fake patient: another program's account, and a genuine account of another type.
    let (_, args) = batch_of(&w, 10);
    let ix = ix::batch_anchor(
        &pid,
        &operator.authority.pubkey(),
        &operator.key,
        &operator.key,
        args.clone(),
    );
    assert_anchor_error(
        w.fx.send(&[ix], &[&operator.authority]),
        Anchor::AccountDiscriminatorMismatch,
    );
    let forged = Pubkey::new_unique();
    let mut account = w.fx.account(&patient.key).unwrap();
    account.owner = anchor_lang::system_program::ID;
    w.fx.put(forged, account);
    let ix = ix::batch_anchor(
        &pid,
        &operator.authority.pubkey(),
        &operator.key,
        &forged,
        args.clone(),
    );
    assert_anchor_error(
        w.fx.send(&[ix], &[&operator.authority]),
        Anchor::AccountOwnedByWrongProgram,
    );
    assert!(w
        .fx
        .account(&pda::batch(&pid, &operator.key, &args.root))
        .is_none());

    // The skew allowance itself is accepted; the same root again is refused.
    let (_, mut args) = batch_of(&w, 10);
    args.last_at = w.fx.now() + MAX_CLOCK_SKEW_SECONDS;
    let key = try_anchor(&mut w, &operator, &patient.key, args.clone()).expect("within skew");
    let anchored = w.fx.account(&key).unwrap();
    let (_, err) = instruction_error(try_anchor(&mut w, &operator, &patient.key, args));
    assert_eq!(err, InstructionError::Custom(0), "System: address in use");
    assert_eq!(
        w.fx.account(&key).unwrap(),
        anchored,
        "the batch is unchanged"
    );

    // A suspended issuer anchors nothing.
    w.fx.send(
        &[ix::issuer_suspend(&pid, &gov.pubkey(), &operator.key)],
        &[&gov],
    )
    .unwrap();
    let (_, args) = batch_of(&w, 10);
    refused(&mut w, &operator, args, code(RekamError::IssuerSuspended));
    let after: Issuer = w.fx.fetch(&operator.key);
    assert_eq!(
        after.attestations_issued, before.attestations_issued,
        "no counter moved"
    );
}

#[test]
fn wrong_proofs_indexes_and_issuers_are_refused() {
    let (mut w, operator, patient) = monitoring();
    let (key, claims) = anchor(&mut w, &operator, &patient.key, 1_000);
    let (other, other_claims) = anchor(&mut w, &operator, &patient.key, 1_000);
    let batch: Batch = w.fx.fetch(&key);
    let refused = |w: &mut World, args: BatchVerifyFactArgs, issuer: &Pubkey, e: RekamError| {
        assert_rekam_error(verify(w, &key, issuer, args), e);
    };
    let op = operator.key;

    let mut wrong = fact_args(&claims, 10);
    wrong.digest = claims.get(11).unwrap().digest();
    refused(&mut w, wrong, &op, RekamError::ClaimNotInRoot);
    let mut moved = fact_args(&claims, 10);
    moved.index = 12;
    refused(&mut w, moved, &op, RekamError::ClaimNotInRoot);
    let mut past = fact_args(&claims, 999);
    past.index = 1_000;
    refused(&mut w, past, &op, RekamError::ClaimIndexOutOfRange);
    let mut short = fact_args(&claims, 10);
    short.proof.pop();
    refused(&mut w, short, &op, RekamError::ClaimProofLength);
    let mut long = fact_args(&claims, 10);
    long.proof.push([9; 32]);
    refused(&mut w, long, &op, RekamError::ClaimProofLength);
    // The same position of another batch (other salts, other root).
    refused(
        &mut w,
        fact_args(&other_claims, 10),
        &op,
        RekamError::ClaimNotInRoot,
    );
    verify(&mut w, &other, &op, fact_args(&other_claims, 10)).expect("in its own batch");
    // Another issuer's account in the issuer slot.
    let lab = w.accredit(roles::LAB);
    refused(
        &mut w,
        fact_args(&claims, 10),
        &lab.key,
        RekamError::IssuerMismatch,
    );
    assert_eq!(w.fx.fetch::<Batch>(&key), batch);
}

#[test]
fn a_revoked_fact_fails_and_the_others_still_verify() {
    let (mut w, operator, patient) = monitoring();
    let pid = w.program_id();
    let (key, claims) = anchor(&mut w, &operator, &patient.key, 1_000);
    let outcome = revoke_fact(&mut w, &operator, &key, 7).expect("revoke fact 7");
    let events = outcome.events::<rekam::events::BatchFactRevoked>(&pid);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].batch,
            events[0].issuer,
            events[0].index,
            events[0].at
        ),
        (key, operator.key, 7, w.fx.now())
    );
    let batch: Batch = w.fx.fetch(&key);
    assert_eq!(batch.revoked[0], 1 << 7);
    assert!(batch.revoked[1..].iter().all(|b| *b == 0));
    assert_eq!(batch.fact_revoked(7), Some(true));

    assert_rekam_error(
        verify(&mut w, &key, &operator.key, fact_args(&claims, 7)),
        RekamError::FactRevoked,
    );
    for index in [6, 8, 999] {
        let v = verify(&mut w, &key, &operator.key, fact_args(&claims, index)).expect("valid");
        assert_eq!(v.index, index);
    }

    // Twice, past the end, by another wallet, by another issuer: refused, bitmap as it was.
    assert_rekam_error(
        revoke_fact(&mut w, &operator, &key, 7),
        RekamError::FactAlreadyRevoked,
    );
    assert_rekam_error(
        revoke_fact(&mut w, &operator, &key, 1_000),
        RekamError::ClaimIndexOutOfRange,
    );
    let thief = TestIssuer {
        authority: w.fx.funded(SOL),
        ..operator.insecure_clone()
    };
    assert_rekam_error(
        revoke_fact(&mut w, &thief, &key, 8),
        RekamError::NotIssuerAuthority,
    );
    let lab = w.accredit(roles::LAB);
    assert_rekam_error(
        revoke_fact(&mut w, &lab, &key, 8),
        RekamError::IssuerMismatch,
    );
    assert_eq!(w.fx.fetch::<Batch>(&key), batch);

    // The last fact's bit is the top bit of the last byte.
    revoke_fact(&mut w, &operator, &key, 999).expect("revoke the last fact");
    assert_eq!(w.fx.fetch::<Batch>(&key).revoked[124], 1 << 7);
    assert_rekam_error(
        verify(&mut w, &key, &operator.key, fact_args(&claims, 999)),
        RekamError::FactRevoked,
    );
}

#[test]
fn a_revoked_batch_fails_and_cannot_be_revoked_twice() {
    let (mut w, operator, patient) = monitoring();
    let pid = w.program_id();
    let (key, claims) = anchor(&mut w, &operator, &patient.key, 1_000);
    let lab = w.accredit(roles::LAB);
    assert_rekam_error(revoke(&mut w, &lab, &key), RekamError::IssuerMismatch);
    w.fx.advance(60);
    let outcome = revoke(&mut w, &operator, &key).expect("revoke");
    let events = outcome.events::<rekam::events::BatchRevoked>(&pid);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].batch, events[0].issuer, events[0].at),
        (key, operator.key, w.fx.now())
    );
    let batch: Batch = w.fx.fetch(&key);
    assert_eq!(batch.revoked_at, w.fx.now());
    for index in [0, 500, 999] {
        assert_rekam_error(
            verify(&mut w, &key, &operator.key, fact_args(&claims, index)),
            RekamError::BatchRevoked,
        );
    }
    w.fx.advance(60);
    assert_rekam_error(
        revoke(&mut w, &operator, &key),
        RekamError::BatchAlreadyRevoked,
    );
    assert_eq!(w.fx.fetch::<Batch>(&key), batch, "revoked_at kept");
}

#[test]
fn suspension_and_a_void_window_stop_verification() {
    let (mut w, operator, patient) = monitoring();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    let (early, early_claims) = anchor(&mut w, &operator, &patient.key, 100);
    w.fx.advance(DAY);
    let theft = w.fx.now();
    let (forged, forged_claims) = anchor(&mut w, &operator, &patient.key, 100);
    w.fx.advance(HOUR);
    w.fx.send(
        &[ix::issuer_suspend(&pid, &gov.pubkey(), &operator.key)],
        &[&gov],
    )
    .unwrap();
    assert_rekam_error(
        verify(&mut w, &early, &operator.key, fact_args(&early_claims, 3)),
        RekamError::IssuerSuspended,
    );
    let reinstate = ix::issuer_reinstate_voiding(&pid, &gov.pubkey(), &operator.key, Some(theft));
    w.fx.send(&[reinstate], &[&gov]).unwrap();
    verify(&mut w, &early, &operator.key, fact_args(&early_claims, 3)).expect("before the theft");
    assert_rekam_error(
        verify(&mut w, &forged, &operator.key, fact_args(&forged_claims, 3)),
        RekamError::AttestationVoided,
    );
}

fn admit_from_batch_ix(
    holder: &Pubkey,
    patient: &Pubkey,
    batch: &Pubkey,
    issuer: &Pubkey,
    claims: &ClaimSet,
    index: u32,
) -> solana_instruction::Instruction {
    use anchor_lang::{InstructionData, ToAccountMetas};
    let admission = Pubkey::find_program_address(
        &[claim_gate::ADMISSION_SEED, batch.as_ref()],
        &claim_gate::ID,
    )
    .0;
    solana_instruction::Instruction {
        program_id: claim_gate::ID,
        accounts: claim_gate::accounts::AdmitFromBatch {
            holder: *holder,
            patient: *patient,
            batch: *batch,
            issuer: *issuer,
            admission,
            rekam_program: rekam::ID,
            system_program: anchor_lang::system_program::ID,
        }
        .to_account_metas(None),
        data: claim_gate::instruction::AdmitFromBatch {
            args: claim_gate::AdmitFromBatchArgs {
                disclosure: claims.get(index).unwrap().encoded().to_string(),
                index,
                proof: claims.proof(index).unwrap(),
            },
        }
        .data(),
    }
}

#[test]
fn a_second_program_gates_on_one_fact_of_a_batch_through_cpi() {
    let mut w = World::new();
    w.fx.add_claim_gate();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let holder = patient.authority.insecure_clone();
    // A batch of claims: 99 readings and, at index 42, age_over_18 = true.
    let mut batch_of_claims = || {
        let now = w.fx.now();
        let mut facts = readings(99, now - 99 * 60);
        facts.insert(
            42,
            Fact {
                name: "age_over_18".into(),
                value: serde_json::json!(true),
                entry: None,
            },
        );
        let claims = ClaimSet::issue(&RecordSalt::from_bytes(random32()), &facts).unwrap();
        let args = BatchAnchorArgs {
            root: claims.root(),
            count: claims.count(),
            kind: BatchKind::Claims,
            first_at: now - 99 * 60,
            last_at: now - 60,
        };
        let key = try_anchor(&mut w, &clinic, &patient.key, args).expect("anchor");
        (key, claims)
    };
    let (key, claims) = batch_of_claims();
    let (revoked, revoked_claims) = batch_of_claims();
    let admission_of = |batch: &Pubkey| {
        Pubkey::find_program_address(
            &[claim_gate::ADMISSION_SEED, batch.as_ref()],
            &claim_gate::ID,
        )
        .0
    };
    let gate = |e: claim_gate::GateError| u32::from(e);

    // A reading is not the claim; a stranger is not the holder.
    let ix = admit_from_batch_ix(
        &holder.pubkey(),
        &patient.key,
        &key,
        &clinic.key,
        &claims,
        41,
    );
    assert_custom(
        w.fx.send(&[ix], &[&holder]),
        gate(claim_gate::GateError::WrongClaim),
    );
    let stranger = w.fx.funded(SOL);
    let ix = admit_from_batch_ix(
        &stranger.pubkey(),
        &patient.key,
        &key,
        &clinic.key,
        &claims,
        42,
    );
    assert_custom(
        w.fx.send(&[ix], &[&stranger]),
        gate(claim_gate::GateError::NotHolder),
    );
    assert!(w.fx.account(&admission_of(&key)).is_none());

    // The fact verifies by CPI into batch_verify_fact and the gate records it.
    let ix = admit_from_batch_ix(
        &holder.pubkey(),
        &patient.key,
        &key,
        &clinic.key,
        &claims,
        42,
    );
    w.fx.send(&[ix], &[&holder]).expect("admitted");
    let admission: claim_gate::Admission = w.fx.fetch(&admission_of(&key));
    let batch: Batch = w.fx.fetch(&key);
    assert_eq!(admission.attestation, key);
    assert_eq!(admission.holder, holder.pubkey());
    assert_eq!(admission.digest, claims.get(42).unwrap().digest());
    assert_eq!(i64::from(admission.treatment_day), batch.last_at / DAY);
    assert_eq!(admission.admitted_at, w.fx.now());

    // The same fact revoked in the other batch: Rekam's refusal comes back through the CPI.
    revoke_fact(&mut w, &clinic, &revoked, 42).expect("revoke the fact");
    let ix = admit_from_batch_ix(
        &holder.pubkey(),
        &patient.key,
        &revoked,
        &clinic.key,
        &revoked_claims,
        42,
    );
    assert_rekam_error(w.fx.send(&[ix], &[&holder]), RekamError::FactRevoked);
    assert!(w.fx.account(&admission_of(&revoked)).is_none());
}
