//! The wrong-owner, type-cosplay and later-version rows of the batch instructions, run
//! through `attacks_more`'s table runner: each case first succeeds unforged, then every
//! program account it reads is handed to another program, replaced by a genuine Rekam
//! account of another type, or given a later layout version, and the exact error comes
//! back with every account of the instruction unchanged.

use anchor_lang::error::ErrorCode as Anchor;
use rekam_tests::*;
use solana_signer::Signer;

use crate::attacks_more::{another_type, forge_each, later_version, owned_elsewhere, Case};
use crate::batches::{anchor, batch_of, fact_args};

fn batch_anchor(s: &mut Scene) -> Case {
    let (_, args) = batch_of(&s.w, 16);
    let c = &s.clinic;
    Case {
        name: "batch_anchor",
        ix: ix::batch_anchor(
            &s.w.program_id(),
            &c.authority.pubkey(),
            &c.key,
            &s.patient.key,
            args,
        ),
        signers: vec![c.authority.insecure_clone()],
        reads: vec![("issuer", c.key), ("patient", s.patient.key)],
    }
}

fn batch_revoke(s: &mut Scene) -> Case {
    let clinic = s.clinic.insecure_clone();
    let (batch, _) = anchor(&mut s.w, &clinic, &s.patient.key, 16);
    Case {
        name: "batch_revoke",
        ix: ix::batch_revoke(
            &s.w.program_id(),
            &clinic.authority.pubkey(),
            &clinic.key,
            &batch,
        ),
        signers: vec![clinic.authority.insecure_clone()],
        reads: vec![("issuer", clinic.key), ("batch", batch)],
    }
}

fn batch_revoke_fact(s: &mut Scene) -> Case {
    let clinic = s.clinic.insecure_clone();
    let (batch, _) = anchor(&mut s.w, &clinic, &s.patient.key, 16);
    Case {
        name: "batch_revoke_fact",
        ix: ix::batch_revoke_fact(
            &s.w.program_id(),
            &clinic.authority.pubkey(),
            &clinic.key,
            &batch,
            3,
        ),
        signers: vec![clinic.authority.insecure_clone()],
        reads: vec![("issuer", clinic.key), ("batch", batch)],
    }
}

fn batch_verify_fact(s: &mut Scene) -> Case {
    let clinic = s.clinic.insecure_clone();
    let (batch, claims) = anchor(&mut s.w, &clinic, &s.patient.key, 16);
    Case {
        name: "batch_verify_fact",
        ix: ix::batch_verify_fact(
            &s.w.program_id(),
            &batch,
            &clinic.key,
            fact_args(&claims, 5),
        ),
        signers: vec![],
        reads: vec![("batch", batch), ("issuer", clinic.key)],
    }
}

const BATCH_CASES: [fn(&mut Scene) -> Case; 4] = [
    batch_anchor,
    batch_revoke,
    batch_revoke_fact,
    batch_verify_fact,
];

/// The instruction names this table covers, for the coverage test.
pub fn covered() -> Vec<&'static str> {
    BATCH_CASES
        .iter()
        .map(|setup| setup(&mut Scene::new()).name)
        .collect()
}

#[test]
fn every_batch_account_owned_by_another_program_is_rejected() {
    let checked = forge_each(
        &BATCH_CASES,
        Anchor::AccountOwnedByWrongProgram as u32,
        &owned_elsewhere,
    );
    assert_eq!(checked, 8, "instruction/account pairs");
}

#[test]
fn every_batch_account_replaced_by_another_type_is_rejected() {
    let checked = forge_each(
        &BATCH_CASES,
        Anchor::AccountDiscriminatorMismatch as u32,
        &another_type,
    );
    assert_eq!(checked, 8, "instruction/account pairs");
}

#[test]
fn every_batch_account_of_a_later_version_is_rejected() {
    let checked = forge_each(
        &BATCH_CASES,
        rekam::RekamError::UnsupportedVersion.code(),
        &later_version,
    );
    assert_eq!(checked, 8, "instruction/account pairs");
}
