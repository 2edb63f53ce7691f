//! Refusals the audit found untested: each with its exact error and the state it leaves
//! unchanged (patient_register, issuer_rotate_keys, treasury_withdraw,
//! consent_update_key_grant, study_top_up, recovery_execute), and the effects a success
//! must have (the recovered profile's new key, a third party's top-up).

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::{Consent, Issuer, Patient, RekamError, Study};
use rekam_tests::*;
use solana_signer::Signer;

#[test]
fn patient_register_refuses_a_zero_pseudonym_or_key() {
    let mut w = World::new();
    let wallet = w.fx.funded(SOL);
    for (pseudonym, key, expected) in [
        ([0u8; 32], random32(), RekamError::InvalidPseudonym),
        (random32(), [0u8; 32], RekamError::InvalidEncryptionKey),
    ] {
        let ix = ix::patient_register(
            &w.program_id(),
            &wallet.pubkey(),
            rekam::PatientRegisterArgs {
                pseudonym,
                encryption_key: key,
            },
        );
        assert_rekam_error(w.fx.send(&[ix], &[&wallet]), expected);
        assert!(w
            .fx
            .account(&pda::patient(&w.program_id(), &pseudonym))
            .is_none());
    }
}

#[test]
fn issuer_rotate_keys_refuses_a_zero_key() {
    let mut s = Scene::new();
    let before: Issuer = s.w.fx.fetch(&s.clinic.key);
    let next = s.w.fx.funded(SOL);
    let ix = ix::issuer_rotate_keys(
        &s.w.program_id(),
        &s.clinic.authority.pubkey(),
        &next.pubkey(),
        &s.clinic.key,
        [0; 32],
    );
    let old = s.clinic.authority.insecure_clone();
    assert_rekam_error(
        s.w.fx.send(&[ix], &[&old, &next]),
        RekamError::InvalidEncryptionKey,
    );
    assert_eq!(s.w.fx.fetch::<Issuer>(&s.clinic.key), before);
}

#[test]
fn treasury_withdraw_refuses_another_mint_and_a_destination_of_another_mint() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let mint = s.w.mint;
    let treasury = pda::treasury(&pid, &mint);
    s.w.fx.mint_to(&mint, &treasury, 1_000, &TOKEN);
    let gov = s.w.governance.insecure_clone();
    let other_mint = s.w.fx.create_mint(&TOKEN, 6);
    let other_dest =
        s.w.fx
            .create_token_account(&other_mint, &gov.pubkey(), &TOKEN);

    // The config's treasury with another mint (and a destination of that mint).
    let mut ix = ix::treasury_withdraw(&pid, &gov.pubkey(), &mint, &other_dest, &TOKEN, 10);
    ix.accounts[3].pubkey = other_mint;
    assert_rekam_error(
        s.w.fx.send(&[ix], &[&gov]),
        RekamError::TreasuryMintMismatch,
    );
    // The right mint, a destination of another mint.
    let ix = ix::treasury_withdraw(&pid, &gov.pubkey(), &mint, &other_dest, &TOKEN, 10);
    assert_anchor_error(s.w.fx.send(&[ix], &[&gov]), Anchor::ConstraintTokenMint);
    assert_eq!(s.w.fx.token_balance(&treasury), 1_000);
    assert_eq!(s.w.fx.token_balance(&other_dest), 0);
}

#[test]
fn consent_update_key_grant_refuses_an_invalid_grant() {
    let mut s = Scene::new();
    let before: Consent = s.w.fx.fetch(&s.consent);
    let p = s.patient_clone();
    for (grant, expected) in [
        (
            rekam::KeyGrant {
                hash: [0; 32],
                locator: "local:x".into(),
            },
            RekamError::InvalidKeyGrant,
        ),
        (
            rekam::KeyGrant {
                hash: random32(),
                locator: String::new(),
            },
            RekamError::LocatorTooLong,
        ),
    ] {
        let ix = ix::consent_update_key_grant(
            &s.w.program_id(),
            &p.authority.pubkey(),
            &p.key,
            &s.consent,
            grant,
        );
        assert_rekam_error(s.w.fx.send(&[ix], &[&p.authority]), expected);
    }
    assert_eq!(s.w.fx.fetch::<Consent>(&s.consent), before);
}

#[test]
fn study_top_up_refuses_a_foreign_escrow_or_mint_and_takes_a_third_partys_money() {
    let mut m = Market::new();
    let pid = m.pid();
    let study = m.study;
    let researcher = m.researcher.insecure_clone();
    let terms = m.terms();
    let second = m.open(2, terms, BUDGET).expect("second study");
    let before = m.balances(&study);
    let top_up = |m: &Market| {
        ix::study_top_up(
            &pid,
            &researcher.pubkey(),
            &study,
            m.approval_of(&study),
            &m.mint(),
            &m.token_program,
            &m.researcher_token,
            500,
        )
    };
    // Another study's escrow.
    let mut ix = top_up(&m);
    ix.accounts[2].pubkey = pda::escrow(&pid, &second);
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::EscrowMismatch,
    );
    // Another mint.
    let other_mint = m.s.w.fx.create_mint(&TOKEN, 6);
    let mut ix = top_up(&m);
    ix.accounts[3].pubkey = other_mint;
    assert_rekam_error(
        m.s.w.fx.send(&[ix], &[&researcher]),
        RekamError::MintMismatch,
    );
    assert_eq!(m.balances(&study), before);

    // A third party funds the study from its own account: allowed, and counted.
    let sponsor = m.s.w.fx.funded(SOL);
    let mint = m.mint();
    let sponsor_token =
        m.s.w
            .fx
            .create_token_account(&mint, &sponsor.pubkey(), &TOKEN);
    m.s.w.fx.mint_to(&mint, &sponsor_token, 700, &TOKEN);
    let deposited = m.s.w.fx.fetch::<Study>(&study).deposited;
    let ix = ix::study_top_up(
        &pid,
        &sponsor.pubkey(),
        &study,
        m.approval_of(&study),
        &mint,
        &TOKEN,
        &sponsor_token,
        700,
    );
    m.s.w.fx.send(&[ix], &[&sponsor]).expect("sponsor top-up");
    assert_eq!(m.balances(&study).escrow, before.escrow + 700);
    assert_eq!(m.s.w.fx.token_balance(&sponsor_token), 0);
    assert_eq!(m.s.w.fx.fetch::<Study>(&study).deposited, deposited + 700);
    // But not from the researcher's account without the researcher's signature.
    let ix = ix::study_top_up(
        &pid,
        &sponsor.pubkey(),
        &study,
        m.approval_of(&study),
        &mint,
        &TOKEN,
        &m.researcher_token,
        1,
    );
    let (_, err) = instruction_error(m.s.w.fx.send(&[ix], &[&sponsor]));
    assert_eq!(
        err,
        solana_instruction::error::InstructionError::Custom(4),
        "SPL Token OwnerMismatch"
    );
    assert_eq!(m.balances(&study).escrow, before.escrow + 700);
}

#[test]
fn recovery_execute_checks_the_proposer_and_the_key_and_sets_the_key() {
    let mut g = Guarded::new();
    let new = g.s.w.fx.funded(SOL);
    let proposer = g.guardians[0].pubkey();
    g.propose(0, &new.pubkey()).expect("propose");
    g.approve_recovery(1).expect("threshold");
    g.s.w.fx.advance(48 * HOUR);
    let pid = g.pid();
    let patient = g.s.patient.key;
    let before: Patient = g.s.w.fx.fetch(&patient);

    // The rent refund sent to someone other than the proposer.
    let thief = Pubkey::new_unique();
    let ix = ix::recovery_execute(&pid, &new.pubkey(), &patient, &thief, random32());
    assert_anchor_error(g.s.w.fx.send(&[ix], &[&new]), Anchor::ConstraintHasOne);
    // A zero key.
    let ix = ix::recovery_execute(&pid, &new.pubkey(), &patient, &proposer, [0; 32]);
    assert_rekam_error(
        g.s.w.fx.send(&[ix], &[&new]),
        RekamError::InvalidEncryptionKey,
    );
    assert_eq!(g.s.w.fx.fetch::<Patient>(&patient), before);
    assert!(g.recovery().is_some());

    // Success: the new wallet and the new key, the rent back to the proposer.
    let key = random32();
    let refund_before = g.s.w.fx.account(&proposer).unwrap().lamports;
    let ix = ix::recovery_execute(&pid, &new.pubkey(), &patient, &proposer, key);
    g.s.w.fx.send(&[ix], &[&new]).expect("execute");
    let after: Patient = g.s.w.fx.fetch(&patient);
    assert_eq!(after.authority, new.pubkey());
    assert_eq!(after.encryption_key, key);
    assert!(g.recovery().is_none());
    assert!(g.s.w.fx.account(&proposer).unwrap().lamports > refund_before);
}
