//! Audit finding 9: predictable PDAs pre-funded by an attacker (lamports sent to the
//! next consent index, access receipt, emergency request, a recovery or a contribution:
//! at least the rent exemption of an empty account, 890,880 lamports, as the runtime
//! refuses less). Anchor 1.2.2's `init` creates an account that already holds lamports
//! with the System program's `CreateAccountAllowPrefund` (SIMD-0312). Verified here:
//! - with SIMD-0312 active (mainnet-beta since slot 422,928,004, per LiteSVM 0.16's
//!   mainnet feature list), a pre-funded PDA blocks nothing;
//! - without it, `init` of a pre-funded PDA fails. The addresses whose block would be
//!   permanent (a patient's next consent, a consent's next receipt, a patient's next
//!   emergency request, the patient's recovery) are created with `rekam::create::pda`
//!   (transfer, allocate, assign) and work on such clusters; the others still use `init`
//!   and are pinned as NOT fixed.

use agave_feature_set::FeatureSet;
use anchor_lang::prelude::Pubkey;
use litesvm::LiteSVM;
use rekam::{AttestationKind, ConsentScope, Patient, Purpose};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_signer::Signer;

/// Lamports from an attacker to `address`, before the victim's transaction: the least
/// the runtime lets a new System account hold (rent exemption of 0 bytes; one lamport is
/// refused with `InsufficientFundsForRent`).
fn prefund(fx: &mut Fixture, address: &Pubkey) {
    let least = fx.svm.minimum_balance_for_rent_exemption(0);
    fx.svm.airdrop(address, least).expect("attacker's lamports");
    assert_eq!(fx.account(address).unwrap().lamports, least);
}

fn without_prefund_feature(fx: &mut Fixture) {
    let mut features: FeatureSet = LiteSVM::mainnet_feature_set();
    features.deactivate(&agave_feature_set::create_account_allow_prefund::ID);
    let svm = std::mem::take(&mut fx.svm);
    fx.svm = svm.with_feature_set(features);
}

fn next_consent(s: &Scene) -> Pubkey {
    let index = s.w.fx.fetch::<Patient>(&s.patient.key).consents_created;
    pda::consent(&s.w.program_id(), &s.patient.key, index)
}

#[test]
fn a_prefunded_consent_index_does_not_block_a_grant() {
    let mut s = Scene::new();
    let target = next_consent(&s);
    prefund(&mut s.w.fx, &target);
    let patient = s.patient_clone();
    let doctor = s.doctor.pubkey();
    let consent = s.w.grant(
        &patient,
        &doctor,
        Purpose::Treatment,
        ConsentScope {
            kinds: AttestationKind::Diagnosis.bit(),
            attestations: vec![],
        },
    );
    assert_eq!(consent, target);
    let account = s.w.fx.account(&consent).unwrap();
    assert_eq!(account.owner, s.w.program_id());
    assert_eq!(
        account.lamports,
        s.w.fx
            .svm
            .minimum_balance_for_rent_exemption(account.data.len()),
        "topped up to rent exemption, the attacker's lamports included"
    );
}

#[test]
fn a_prefunded_contribution_and_recovery_do_not_block_either() {
    let mut m = Market::new();
    let clinic = m.s.clinic.key;
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    let study = m.study;
    let contribution = pda::contribution(&m.pid(), &study, &record);
    prefund(&mut m.s.w.fx, &contribution);
    m.contribute(&study, &p, &record, &clinic)
        .expect("paid despite the prefunded contribution");

    let mut g = Guarded::new();
    let new = g.s.w.fx.funded(SOL);
    let recovery = pda::recovery(&g.pid(), &g.s.patient.key);
    prefund(&mut g.s.w.fx, &recovery);
    g.propose(0, &new.pubkey())
        .expect("proposed despite the prefunded recovery");
    assert_eq!(g.recovery().unwrap().new_authority, new.pubkey());
}

/// Every address `create::pda` guards, pre-funded on a cluster without SIMD-0312: the
/// patient's next consent, the consent's next access receipt, the patient's next
/// emergency request and the patient's recovery are all still created.
#[test]
fn without_simd_0312_the_predictable_addresses_still_work() {
    // Consent and access receipt.
    let mut s = Scene::new();
    without_prefund_feature(&mut s.w.fx);
    let target = next_consent(&s);
    prefund(&mut s.w.fx, &target);
    let patient = s.patient_clone();
    let doctor = s.doctor.insecure_clone();
    let consent = s.w.grant(
        &patient,
        &doctor.pubkey(),
        Purpose::Treatment,
        ConsentScope {
            kinds: AttestationKind::Diagnosis.bit(),
            attestations: vec![],
        },
    );
    assert_eq!(consent, target);
    let receipt = pda::access_receipt(&s.w.program_id(), &consent, 0);
    prefund(&mut s.w.fx, &receipt);
    let record = s.record;
    s.w.access(&doctor, &patient.key, &consent, &record, Purpose::Treatment)
        .expect("read despite the prefunded receipt");
    let account = s.w.fx.account(&receipt).unwrap();
    assert_eq!(account.owner, s.w.program_id());
    let r: rekam::AccessReceipt = s.w.fx.fetch(&receipt);
    assert_eq!((r.consent, r.attestation, r.index), (consent, record, 0));

    // Emergency request and recovery.
    let mut g = Guarded::new();
    without_prefund_feature(&mut g.s.w.fx);
    let request = pda::emergency_request(&g.pid(), &g.s.patient.key, 0);
    prefund(&mut g.s.w.fx, &request);
    assert_eq!(g.request(), request);
    let new = g.s.w.fx.funded(SOL);
    let recovery = pda::recovery(&g.pid(), &g.s.patient.key);
    prefund(&mut g.s.w.fx, &recovery);
    g.propose(0, &new.pubkey())
        .expect("proposed despite the prefunded recovery");
    assert_eq!(g.recovery().unwrap().new_authority, new.pubkey());
}

/// The addresses converted in this session, pre-funded on a cluster without SIMD-0312:
/// a contribution and its research consent, an emergency consent, an issuer (its address
/// follows the public registry id) and a guardianship (it follows the public profile).
/// Before, each was Anchor's `init` and failed with `InvalidInstructionData`.
#[test]
fn without_simd_0312_contributions_emergencies_issuers_and_guardians_still_work() {
    // A contribution and the research consent it grants.
    let mut m = Market::new();
    without_prefund_feature(&mut m.s.w.fx);
    let clinic = m.s.clinic.key;
    let (p, record) = m.patient_with_record(AttestationKind::Diagnosis);
    let study = m.study;
    let contribution = pda::contribution(&m.pid(), &study, &record);
    let index = m.s.w.fx.fetch::<rekam::Patient>(&p.key).consents_created;
    let research_consent = pda::consent(&m.pid(), &p.key, index);
    prefund(&mut m.s.w.fx, &contribution);
    prefund(&mut m.s.w.fx, &research_consent);
    m.contribute(&study, &p, &record, &clinic)
        .expect("contributed despite both prefunded addresses");
    let c: rekam::Contribution = m.s.w.fx.fetch(&contribution);
    assert_eq!((c.attestation, c.consent), (record, research_consent));
    assert_eq!(
        m.s.w.fx.fetch::<rekam::Consent>(&research_consent).purpose,
        Purpose::Research
    );

    // An emergency consent.
    let mut g = Guarded::new();
    without_prefund_feature(&mut g.s.w.fx);
    let request = g.request();
    g.approve(0, &request).expect("approve 0");
    g.approve(1, &request).expect("approve 1");
    let next = next_consent(&g.s);
    prefund(&mut g.s.w.fx, &next);
    g.activate(1, &request)
        .expect("activated despite the prefunded consent");
    let granted: rekam::EmergencyRequest = g.s.w.fx.fetch(&request);
    assert_eq!(granted.consent, next);
    assert_eq!(
        g.s.w.fx.fetch::<rekam::Consent>(&next).purpose,
        Purpose::EmergencyTreatment
    );

    // An issuer, and a patient's first guardians.
    let pid = g.pid();
    let gov = g.s.w.governance.insecure_clone();
    let authority = g.s.w.fx.funded(SOL);
    let args = g.s.w.accredit_args(&authority.pubkey(), rekam::roles::LAB);
    let issuer = pda::issuer(&pid, &args.registry_id_hash);
    prefund(&mut g.s.w.fx, &issuer);
    let ix = ix::issuer_accredit(&pid, &g.s.w.fx.payer.pubkey(), &gov.pubkey(), args);
    g.s.w
        .fx
        .send(&[ix], &[&gov])
        .expect("accredited despite the prefunded issuer");
    assert_eq!(
        g.s.w.fx.fetch::<rekam::Issuer>(&issuer).authority,
        authority.pubkey()
    );
    let other = g.s.w.register_patient();
    let guardianship = pda::guardianship(&pid, &other.key);
    prefund(&mut g.s.w.fx, &guardianship);
    let settings = g.args(&[0, 1], 2);
    let ix = ix::guardians_set(&pid, &other.authority.pubkey(), &other.key, settings);
    g.s.w
        .fx
        .send(&[ix], &[&other.authority])
        .expect("guardians set despite the prefunded guardianship");
    assert_eq!(
        g.s.w
            .fx
            .fetch::<rekam::Guardianship>(&guardianship)
            .threshold,
        2
    );
}

/// Studies and their escrows (a study id like the demo's `1` is guessable), and the
/// deployment's config and treasury (one predictable address each), pre-funded on a
/// cluster without SIMD-0312: all created.
#[test]
fn without_simd_0312_studies_escrows_and_the_config_still_work() {
    let mut m = Market::new();
    without_prefund_feature(&mut m.s.w.fx);
    let terms = m.terms();
    let study = pda::study(&m.pid(), &m.researcher.pubkey(), 9);
    let escrow = pda::escrow(&m.pid(), &study);
    prefund(&mut m.s.w.fx, &study);
    prefund(&mut m.s.w.fx, &escrow);
    let before = m.balances(&study).researcher;
    assert_eq!(m.open(9, terms, BUDGET).expect("opened"), study);
    assert_eq!(m.s.w.fx.fetch::<rekam::Study>(&study).escrow, escrow);
    let account = m.s.w.fx.token_account(&escrow);
    assert_eq!(
        (account.owner, account.mint, account.amount),
        (study, m.mint(), BUDGET)
    );
    assert_eq!(m.balances(&study).researcher, before - BUDGET);

    let mut fx = Fixture::new();
    without_prefund_feature(&mut fx);
    let mint = fx.create_mint(&TOKEN, 6);
    let config = pda::config(&fx.program_id);
    let treasury = pda::treasury(&fx.program_id, &mint);
    prefund(&mut fx, &config);
    prefund(&mut fx, &treasury);
    let payer = fx.payer.pubkey();
    let ix = ix::config_initialize(
        &fx.program_id,
        &payer,
        &mint,
        &TOKEN,
        rekam::ConfigInitializeArgs {
            authority: payer,
            protocol_fee_bps: 100,
            accept_freeze_authority: false,
        },
    );
    fx.send(&[ix], &[])
        .expect("initialized despite both prefunded addresses");
    let c: rekam::Config = fx.fetch(&config);
    assert_eq!((c.treasury, c.treasury_mint), (treasury, mint));
    let t = fx.token_account(&treasury);
    assert_eq!((t.owner, t.mint), (config, mint));
}

/// What remains of the finding: addresses still created by Anchor's `init` are blocked
/// on a cluster without SIMD-0312. Attestations and patient profiles keep `init` (NOT
/// converted): their seeds are secret until their creator sends them (a salted evidence
/// commitment, a random pseudonym), so a stranger cannot aim at them. This test pins it so
/// a conversion flips it.
#[test]
fn without_simd_0312_an_init_address_is_still_blocked() {
    let mut s = Scene::new();
    without_prefund_feature(&mut s.w.fx);
    let clinic = s.clinic.insecure_clone();
    let patient = s.patient.key;
    let args = s.w.issue_args(AttestationKind::Diagnosis);
    let attestation = pda::attestation(&s.w.program_id(), &clinic.key, &args.evidence_commitment);
    prefund(&mut s.w.fx, &attestation);
    let (_, err) = instruction_error(s.w.try_issue(&clinic, &patient, args));
    assert_eq!(
        err,
        InstructionError::InvalidInstructionData,
        "the System program of such a cluster does not know CreateAccountAllowPrefund"
    );
}
