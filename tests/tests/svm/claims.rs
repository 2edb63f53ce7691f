//! Claims on-chain: `attestation_verify_claim` called directly, and by CPI from a second
//! program (`programs/claim-gate`), over the claims tree of real FHIR fixtures.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, InstructionData, ToAccountMetas};
use rekam::{roles, AttestationKind, AttestationVerifyClaimArgs, RekamError, VerifiedClaim};
use rekam_client::claims::ClaimSet;
use rekam_client::fhir::facts::Fact;
use rekam_client::record;
use rekam_client::{commit::RecordSalt, ix};
use rekam_tests::*;
use solana_instruction::Instruction;
use solana_signer::Signer;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/fhir/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Issued {
    key: Pubkey,
    claims: ClaimSet,
    treatment_day: u16,
}

fn issue_record(
    w: &mut World,
    clinic: &TestIssuer,
    patient: &Pubkey,
    file: &str,
    expires_on_day: u16,
) -> Issued {
    let prepared = record::prepare_with_salt(&fixture(file), random32()).expect("valid fixture");
    let mut args = w.issue_args(prepared.summary.kind);
    args.evidence_commitment = prepared.commitments.evidence;
    args.diagnosis_commitment = prepared.commitments.diagnosis;
    args.claims_root = prepared.commitments.claims_root;
    args.treatment_day = prepared.summary.treatment_day;
    args.expires_on_day = expires_on_day;
    let key = w.try_issue(clinic, patient, args).expect("issue");
    Issued {
        key,
        claims: prepared.envelope.claim_set().expect("claims"),
        treatment_day: prepared.summary.treatment_day,
    }
}

fn claim_args(claims: &ClaimSet, index: u32) -> AttestationVerifyClaimArgs {
    AttestationVerifyClaimArgs {
        digest: claims.get(index).unwrap().digest(),
        index,
        count: claims.count(),
        proof: claims.proof(index).unwrap(),
    }
}

fn verify_claim(
    w: &mut World,
    attestation: &Pubkey,
    issuer: &Pubkey,
    args: AttestationVerifyClaimArgs,
) -> Result<VerifiedClaim, litesvm::types::FailedTransactionMetadata> {
    let ix = ix::attestation_verify_claim(&w.program_id(), attestation, issuer, args);
    w.fx.send(&[ix], &[]).map(|outcome| {
        let data = &outcome.meta.return_data;
        assert_eq!(data.program_id, w.program_id(), "return data set by Rekam");
        VerifiedClaim::try_from_slice(&data.data).expect("decode return data")
    })
}

#[test]
fn verify_claim_proves_one_fact_while_active() {
    let mut w = World::new();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    let lab = w.accredit(roles::LAB);
    let patient = w.register_patient();
    let expiry = day_of(T0) + 10;
    let rec = issue_record(&mut w, &lab, &patient.key, "lab-hba1c.json", expiry);
    let other = issue_record(&mut w, &lab, &patient.key, "lab-hba1c.json", 0);
    let hba1c = rec
        .claims
        .position("observation.0")
        .expect("an HbA1c claim");

    let ok = verify_claim(&mut w, &rec.key, &lab.key, claim_args(&rec.claims, hba1c)).unwrap();
    assert_eq!(
        ok,
        VerifiedClaim {
            kind: AttestationKind::LabResult,
            treatment_day: rec.treatment_day,
            digest: rec.claims.get(hba1c).unwrap().digest(),
        }
    );

    // Another claim's digest at this index, a short proof, an index past the end, and the
    // same fact from another record (other salts) each fail with their own error.
    let mut swapped = claim_args(&rec.claims, hba1c);
    swapped.digest = rec.claims.get(hba1c + 1).unwrap().digest();
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, swapped),
        RekamError::ClaimNotInRoot,
    );
    let mut short = claim_args(&rec.claims, hba1c);
    short.proof.pop();
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, short),
        RekamError::ClaimProofLength,
    );
    let mut past = claim_args(&rec.claims, hba1c);
    past.index = rec.claims.count();
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, past),
        RekamError::ClaimIndexOutOfRange,
    );
    let mut moved = claim_args(&rec.claims, hba1c);
    moved.index = hba1c + 2;
    moved.proof = rec.claims.proof(hba1c + 2).unwrap();
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, moved),
        RekamError::ClaimNotInRoot,
    );
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, claim_args(&other.claims, hba1c)),
        RekamError::ClaimNotInRoot,
    );
    let stranger = w.accredit(roles::LAB);
    assert_rekam_error(
        verify_claim(
            &mut w,
            &rec.key,
            &stranger.key,
            claim_args(&rec.claims, hba1c),
        ),
        RekamError::IssuerMismatch,
    );

    // Suspension, expiry and revocation each stop it.
    w.fx.send(
        &[ix::issuer_suspend(&pid, &gov.pubkey(), &lab.key)],
        &[&gov],
    )
    .unwrap();
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, claim_args(&rec.claims, hba1c)),
        RekamError::IssuerSuspended,
    );
    w.fx.send(
        &[ix::issuer_reinstate(&pid, &gov.pubkey(), &lab.key)],
        &[&gov],
    )
    .unwrap();
    w.fx.send(
        &[ix::attestation_revoke(
            &pid,
            &lab.authority.pubkey(),
            &lab.key,
            &other.key,
        )],
        &[&lab.authority],
    )
    .unwrap();
    assert_rekam_error(
        verify_claim(
            &mut w,
            &other.key,
            &lab.key,
            claim_args(&other.claims, hba1c),
        ),
        RekamError::AttestationRevoked,
    );
    w.fx.advance(11 * DAY);
    assert_rekam_error(
        verify_claim(&mut w, &rec.key, &lab.key, claim_args(&rec.claims, hba1c)),
        RekamError::AttestationExpired,
    );
}

#[test]
fn one_claim_of_a_thousand_fits_one_legacy_transaction() {
    let mut w = World::new();
    let lab = w.accredit(roles::LAB);
    let patient = w.register_patient();
    let facts: Vec<Fact> = (0..1000)
        .map(|i| Fact {
            name: format!("observation.{i}"),
            value: serde_json::json!({"code": "http://loinc.org|8867-4", "value": 60 + i % 40, "unit": "/min"}),
            entry: Some(i),
        })
        .collect();
    let claims = ClaimSet::issue(&RecordSalt::from_bytes(random32()), &facts).unwrap();
    let mut args = w.issue_args(AttestationKind::LabResult);
    args.claims_root = claims.root();
    let key = w.try_issue(&lab, &patient.key, args).unwrap();

    let index = 777;
    let claim = claim_args(&claims, index);
    let proof_bytes = 32 * claim.proof.len();
    let ix = ix::attestation_verify_claim(&w.program_id(), &key, &lab.key, claim.clone());
    let disclosure_len = claims.get(index).unwrap().encoded().len();
    println!(
        "one claim of 1000: {} proof steps, {proof_bytes} proof bytes (+ {disclosure_len} bytes of disclosure off-chain); attestation_verify_claim data {} bytes",
        claim.proof.len(),
        ix.data.len()
    );
    assert_eq!(claim.proof.len(), 10, "ceil(log2 1000) steps");
    assert!(fits_in_packet(&[ix], &w.fx.payer.pubkey(), 1));
    verify_claim(&mut w, &key, &lab.key, claim).expect("verifies on-chain");
}

fn admit_ix(
    holder: &Pubkey,
    patient: &Pubkey,
    rec: &Issued,
    issuer: &Pubkey,
    index: u32,
) -> Instruction {
    let d = rec.claims.get(index).unwrap();
    Instruction {
        program_id: claim_gate::ID,
        accounts: claim_gate::accounts::Admit {
            holder: *holder,
            patient: *patient,
            attestation: rec.key,
            issuer: *issuer,
            admission: admission_of(&rec.key),
            rekam_program: rekam::ID,
            system_program: anchor_lang::system_program::ID,
        }
        .to_account_metas(None),
        data: claim_gate::instruction::Admit {
            args: claim_gate::AdmitArgs {
                disclosure: d.encoded().to_string(),
                index,
                count: rec.claims.count(),
                proof: rec.claims.proof(index).unwrap(),
            },
        }
        .data(),
    }
}

fn admission_of(attestation: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[claim_gate::ADMISSION_SEED, attestation.as_ref()],
        &claim_gate::ID,
    )
    .0
}

#[test]
fn a_second_program_gates_on_a_claim_through_cpi() {
    let mut w = World::new();
    w.fx.add_claim_gate();
    let pid = w.program_id();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let rec = issue_record(
        &mut w,
        &clinic,
        &patient.key,
        "vaccination-influenza.json",
        0,
    );
    let revoked = issue_record(&mut w, &clinic, &patient.key, "diagnosis-diabetes.json", 0);
    let adult = rec.claims.position("age_over_18").unwrap();
    let senior = rec.claims.position("age_over_65").unwrap();
    let gate = |e: claim_gate::GateError| u32::from(e);

    // The wrong claim, and the right claim shown by someone else, are refused.
    let holder = patient.authority.insecure_clone();
    let ix = admit_ix(&holder.pubkey(), &patient.key, &rec, &clinic.key, senior);
    assert_custom(
        w.fx.send(&[ix], &[&holder]),
        gate(claim_gate::GateError::WrongClaim),
    );
    let stranger = w.fx.funded(SOL);
    let ix = admit_ix(&stranger.pubkey(), &patient.key, &rec, &clinic.key, adult);
    assert_custom(
        w.fx.send(&[ix], &[&stranger]),
        gate(claim_gate::GateError::NotHolder),
    );
    assert!(w.fx.account(&admission_of(&rec.key)).is_none());

    // The patient shows age_over_18: Rekam verifies it by CPI and the gate records it.
    let ix = admit_ix(&holder.pubkey(), &patient.key, &rec, &clinic.key, adult);
    w.fx.send(&[ix], &[&holder]).expect("admitted");
    let admission: claim_gate::Admission = w.fx.fetch(&admission_of(&rec.key));
    assert_eq!(admission.attestation, rec.key);
    assert_eq!(admission.holder, holder.pubkey());
    assert_eq!(admission.digest, rec.claims.get(adult).unwrap().digest());
    assert_eq!(admission.treatment_day, rec.treatment_day);
    assert_eq!(admission.admitted_at, w.fx.now());

    // A revoked attestation: Rekam's refusal comes back through the CPI, nothing is made.
    w.fx.send(
        &[ix::attestation_revoke(
            &pid,
            &clinic.authority.pubkey(),
            &clinic.key,
            &revoked.key,
        )],
        &[&clinic.authority],
    )
    .unwrap();
    let adult = revoked.claims.position("age_over_18").unwrap();
    let ix = admit_ix(&holder.pubkey(), &patient.key, &revoked, &clinic.key, adult);
    assert_rekam_error(w.fx.send(&[ix], &[&holder]), RekamError::AttestationRevoked);
    assert!(w.fx.account(&admission_of(&revoked.key)).is_none());
}
