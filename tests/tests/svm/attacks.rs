//! Sealevel attack classes, instruction by instruction. Each test forges one thing and
//! asserts the exact error, and that nothing changed.
//!
//! Classes: missing signer, wrong owner, type cosplay, foreign PDA / wrong seeds,
//! non-canonical bump, re-initialization, duplicate mutable accounts, arithmetic
//! overflow, arbitrary CPI. The study instructions (escrow, mint, treasury and token
//! program substitution, someone else's attestation, closing twice: the only account
//! ever closed is a study's escrow) are attacked in `studies.rs`.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::{roles, AttestationKind, Consent, Issuer, Patient, Purpose, RekamError};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_signer::Signer;

/// Sends `ix` with the account at `index` no longer marked as signer; `others` are the
/// instruction's remaining signers besides the fee payer.
fn without_signature(
    fx: &mut Fixture,
    mut ix: Instruction,
    index: usize,
    others: &[&solana_keypair::Keypair],
) -> TxResult {
    ix.accounts[index].is_signer = false;
    fx.send(&[ix], others)
}

fn set_owner(fx: &mut Fixture, key: &Pubkey, owner: Pubkey) {
    let mut account = fx.account(key).expect("exists");
    account.owner = owner;
    fx.put(*key, account);
}

/// A PDA of `seeds` with a valid but non-canonical bump.
fn non_canonical(program_id: &Pubkey, seeds: &[&[u8]]) -> Pubkey {
    let (_, canonical) = Pubkey::find_program_address(seeds, program_id);
    (0..canonical)
        .rev()
        .find_map(|bump| {
            let mut with_bump: Vec<&[u8]> = seeds.to_vec();
            let b = [bump];
            with_bump.push(&b);
            Pubkey::create_program_address(&with_bump, program_id).ok()
        })
        .expect("some lower bump is off-curve")
}

// ---- missing signer -------------------------------------------------------------------

#[test]
fn missing_signer_is_rejected_everywhere() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let gov = s.w.governance.pubkey();
    let p = &s.patient;
    let index = s.w.fx.fetch::<Consent>(&s.consent).access_count;
    let gov_kp = s.w.governance.insecure_clone();
    let cases: Vec<(&str, Instruction, usize, Vec<&solana_keypair::Keypair>)> = vec![
        (
            "config_authority_propose",
            ix::config_authority_propose(&pid, &gov, Pubkey::new_unique()),
            0,
            vec![],
        ),
        (
            "config_authority_accept",
            ix::config_authority_accept(&pid, &gov),
            0,
            vec![],
        ),
        (
            "issuer_accredit",
            ix::issuer_accredit(
                &pid,
                &s.w.fx.payer.pubkey(),
                &gov,
                s.w.accredit_args(&gov, roles::LAB),
            ),
            1,
            vec![],
        ),
        (
            "issuer_suspend",
            ix::issuer_suspend(&pid, &gov, &s.clinic.key),
            0,
            vec![],
        ),
        (
            "issuer_reinstate",
            ix::issuer_reinstate(&pid, &gov, &s.clinic.key),
            0,
            vec![],
        ),
        (
            "issuer_rotate_keys",
            ix::issuer_rotate_keys(
                &pid,
                &s.clinic.authority.pubkey(),
                &gov,
                &s.clinic.key,
                random32(),
            ),
            0,
            vec![&gov_kp],
        ),
        (
            "patient_register",
            ix::patient_register(
                &pid,
                &p.authority.pubkey(),
                rekam::PatientRegisterArgs {
                    pseudonym: random32(),
                    encryption_key: random32(),
                },
            ),
            0,
            vec![],
        ),
        (
            "patient_rotate_key",
            ix::patient_rotate_key(&pid, &p.authority.pubkey(), &p.key, random32()),
            0,
            vec![],
        ),
        (
            "attestation_issue",
            s.w.issue_ix(
                &s.clinic,
                &p.key,
                s.w.issue_args(AttestationKind::Diagnosis),
            ),
            1,
            vec![],
        ),
        (
            "attestation_revoke",
            ix::attestation_revoke(&pid, &s.clinic.authority.pubkey(), &s.clinic.key, &s.record),
            0,
            vec![],
        ),
        (
            "consent_grant",
            ix::consent_grant(
                &pid,
                &p.authority.pubkey(),
                &p.key,
                1,
                s.w.grant_args(&gov, Purpose::Treatment, kinds(&[AttestationKind::Other])),
            ),
            0,
            vec![],
        ),
        (
            "consent_extend",
            ix::consent_extend(
                &pid,
                &p.authority.pubkey(),
                &p.key,
                &s.consent,
                T0 + 99 * DAY,
            ),
            0,
            vec![],
        ),
        (
            "consent_revoke",
            ix::consent_revoke(&pid, &p.authority.pubkey(), &p.key, &s.consent),
            0,
            vec![],
        ),
        (
            "access_record",
            ix::access_record(
                &pid,
                &s.doctor.pubkey(),
                &p.key,
                &s.consent,
                &s.record,
                &s.clinic.key,
                index,
                Purpose::Treatment,
            ),
            0,
            vec![],
        ),
    ];
    for (name, ix, signer_index, others) in cases {
        let (_, err) = instruction_error(without_signature(&mut s.w.fx, ix, signer_index, &others));
        assert_eq!(
            err,
            InstructionError::Custom(Anchor::AccountNotSigner as u32),
            "{name}"
        );
    }
    assert_eq!(s.w.fx.fetch::<Consent>(&s.consent).revoked_at, 0);
    assert_eq!(s.w.fx.fetch::<Consent>(&s.consent).access_count, 0);
}

// ---- wrong owner ----------------------------------------------------------------------

#[test]
fn accounts_owned_by_another_program_are_rejected() {
    let system = anchor_lang::system_program::ID;
    // An Issuer whose owner is not Rekam (e.g. forged in a program the attacker controls).
    let mut s = Scene::new();
    let pid = s.w.program_id();
    set_owner(&mut s.w.fx, &s.clinic.key, system);
    let args = s.w.issue_args(AttestationKind::Diagnosis);
    assert_anchor_error(
        s.w.try_issue(&s.clinic, &s.patient.key, args),
        Anchor::AccountOwnedByWrongProgram,
    );

    let mut s = Scene::new();
    set_owner(&mut s.w.fx, &s.patient.key, system);
    assert_anchor_error(
        s.w.revoke_consent(&s.patient, &s.consent),
        Anchor::AccountOwnedByWrongProgram,
    );

    let mut s = Scene::new();
    set_owner(&mut s.w.fx, &s.consent, system);
    let ix = ix::access_record(
        &pid,
        &s.doctor.pubkey(),
        &s.patient.key,
        &s.consent,
        &s.record,
        &s.clinic.key,
        0,
        Purpose::Treatment,
    );
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.doctor]),
        Anchor::AccountOwnedByWrongProgram,
    );

    let mut s = Scene::new();
    set_owner(&mut s.w.fx, &s.record, system);
    let ix = ix::attestation_verify(&pid, &s.record, &s.clinic.key);
    assert_anchor_error(s.w.fx.send(&[ix], &[]), Anchor::AccountOwnedByWrongProgram);

    let mut s = Scene::new();
    set_owner(&mut s.w.fx, &pda::config(&pid), system);
    let gov = s.w.governance.insecure_clone();
    let ix = ix::issuer_suspend(&pid, &gov.pubkey(), &s.clinic.key);
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&gov]),
        Anchor::AccountOwnedByWrongProgram,
    );
}

// ---- type cosplay ---------------------------------------------------------------------

#[test]
fn an_account_of_another_type_is_rejected() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    // A Patient passed as the Issuer of attestation_verify.
    let ix = ix::attestation_verify(&pid, &s.record, &s.patient.key);
    assert_anchor_error(
        s.w.fx.send(&[ix], &[]),
        Anchor::AccountDiscriminatorMismatch,
    );
    // A Consent passed as the Attestation of an access.
    let ix = ix::access_record(
        &pid,
        &s.doctor.pubkey(),
        &s.patient.key,
        &s.consent,
        &s.consent,
        &s.clinic.key,
        0,
        Purpose::Treatment,
    );
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.doctor]),
        Anchor::AccountDiscriminatorMismatch,
    );
    // The Config passed as an Issuer to be suspended.
    let gov = s.w.governance.insecure_clone();
    let ix = ix::issuer_suspend(&pid, &gov.pubkey(), &pda::config(&pid));
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&gov]),
        Anchor::AccountDiscriminatorMismatch,
    );
    // Every account type has its own one-byte discriminator.
    use anchor_lang::Discriminator;
    let discs = [
        rekam::Config::DISCRIMINATOR,
        Issuer::DISCRIMINATOR,
        Patient::DISCRIMINATOR,
        rekam::Attestation::DISCRIMINATOR,
        Consent::DISCRIMINATOR,
        rekam::AccessReceipt::DISCRIMINATOR,
        rekam::Batch::DISCRIMINATOR,
    ];
    for (i, a) in discs.iter().enumerate() {
        for b in &discs[i + 1..] {
            assert!(
                !a.starts_with(b) && !b.starts_with(a),
                "discriminators collide"
            );
        }
    }
}

// ---- foreign PDA / wrong seeds ----------------------------------------------------------

#[test]
fn accounts_at_the_wrong_address_are_rejected() {
    let mut s = Scene::new();
    let pid = s.w.program_id();

    // Another patient's consent, presented with our patient's profile.
    let other = s.w.register_patient();
    let foreign_consent = s.w.grant(
        &other,
        &s.doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Diagnosis]),
    );
    let ix = ix::access_record(
        &pid,
        &s.doctor.pubkey(),
        &s.patient.key,
        &foreign_consent,
        &s.record,
        &s.clinic.key,
        0,
        Purpose::Treatment,
    );
    assert_anchor_error(s.w.fx.send(&[ix], &[&s.doctor]), Anchor::ConstraintSeeds);
    let ix = ix::consent_revoke(
        &pid,
        &s.patient.authority.pubkey(),
        &s.patient.key,
        &foreign_consent,
    );
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.patient.authority]),
        Anchor::ConstraintSeeds,
    );

    // A genuine Issuer copied to an address that is not its PDA.
    let copy = Pubkey::new_unique();
    let account = s.w.fx.account(&s.clinic.key).unwrap();
    s.w.fx.put(copy, account);
    let forged = TestIssuer {
        authority: s.clinic.authority.insecure_clone(),
        key: copy,
        registry_id_hash: s.clinic.registry_id_hash,
    };
    let args = s.w.issue_args(AttestationKind::Diagnosis);
    assert_anchor_error(
        s.w.try_issue(&forged, &s.patient.key, args),
        Anchor::ConstraintSeeds,
    );

    // New accounts at an address that does not match the arguments.
    let mut ix = s.w.issue_ix(
        &s.clinic,
        &s.patient.key,
        s.w.issue_args(AttestationKind::Diagnosis),
    );
    ix.accounts[4].pubkey = pda::attestation(&pid, &s.clinic.key, &random32());
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.clinic.authority]),
        Anchor::ConstraintSeeds,
    );
    let mut ix = ix::patient_register(
        &pid,
        &s.patient.authority.pubkey(),
        rekam::PatientRegisterArgs {
            pseudonym: random32(),
            encryption_key: random32(),
        },
    );
    ix.accounts[1].pubkey = pda::patient(&pid, &random32());
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.patient.authority]),
        Anchor::ConstraintSeeds,
    );
    // A consent index other than the patient's counter (replaying a stale index).
    let args = s.w.grant_args(
        &s.doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Other]),
    );
    let ix = ix::consent_grant(&pid, &s.patient.authority.pubkey(), &s.patient.key, 5, args);
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.patient.authority]),
        Anchor::ConstraintSeeds,
    );
}

// ---- non-canonical bump ------------------------------------------------------------------

#[test]
fn accounts_are_only_created_at_canonical_bumps() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let pseudonym = random32();
    let mut ix = ix::patient_register(
        &pid,
        &s.patient.authority.pubkey(),
        rekam::PatientRegisterArgs {
            pseudonym,
            encryption_key: random32(),
        },
    );
    ix.accounts[1].pubkey = non_canonical(&pid, &[rekam::PATIENT_SEED, &pseudonym]);
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.patient.authority]),
        Anchor::ConstraintSeeds,
    );

    let args = s.w.issue_args(AttestationKind::Diagnosis);
    let evidence = args.evidence_commitment;
    let mut ix = s.w.issue_ix(&s.clinic, &s.patient.key, args);
    ix.accounts[4].pubkey = non_canonical(
        &pid,
        &[rekam::ATTESTATION_SEED, s.clinic.key.as_ref(), &evidence],
    );
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.clinic.authority]),
        Anchor::ConstraintSeeds,
    );

    let index = 0u64.to_le_bytes();
    let mut ix = ix::access_record(
        &pid,
        &s.doctor.pubkey(),
        &s.patient.key,
        &s.consent,
        &s.record,
        &s.clinic.key,
        0,
        Purpose::Treatment,
    );
    ix.accounts[5].pubkey = non_canonical(&pid, &[rekam::ACCESS_SEED, s.consent.as_ref(), &index]);
    assert_anchor_error(s.w.fx.send(&[ix], &[&s.doctor]), Anchor::ConstraintSeeds);
    assert_eq!(s.w.fx.fetch::<Consent>(&s.consent).access_count, 0);
}

// ---- re-initialization ------------------------------------------------------------------

#[test]
fn existing_accounts_cannot_be_initialized_again() {
    let already_in_use = InstructionError::Custom(0); // SystemError::AccountAlreadyInUse
    let mut s = Scene::new();
    let pid = s.w.program_id();

    let ix = ix::patient_register(
        &pid,
        &s.patient.authority.pubkey(),
        rekam::PatientRegisterArgs {
            pseudonym: s.patient.pseudonym,
            encryption_key: random32(),
        },
    );
    let before: Patient = s.w.fx.fetch(&s.patient.key);
    assert_eq!(
        instruction_error(s.w.fx.send(&[ix], &[&s.patient.authority])).1,
        already_in_use
    );
    assert_eq!(
        s.w.fx.fetch::<Patient>(&s.patient.key),
        before,
        "profile untouched"
    );

    let gov = s.w.governance.insecure_clone();
    let mut args = s.w.accredit_args(&gov.pubkey(), roles::ALL);
    args.registry_id_hash = s.clinic.registry_id_hash;
    let before: Issuer = s.w.fx.fetch(&s.clinic.key);
    let ix = ix::issuer_accredit(&pid, &s.w.fx.payer.pubkey(), &gov.pubkey(), args);
    assert_eq!(
        instruction_error(s.w.fx.send(&[ix], &[&gov])).1,
        already_in_use
    );
    assert_eq!(
        s.w.fx.fetch::<Issuer>(&s.clinic.key),
        before,
        "issuer untouched"
    );
}

// ---- duplicate mutable accounts -----------------------------------------------------------

#[test]
fn one_account_cannot_fill_two_mutable_roles() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    // The patient profile passed again as the consent of an access.
    let ix = ix::access_record(
        &pid,
        &s.doctor.pubkey(),
        &s.patient.key,
        &s.patient.key,
        &s.record,
        &s.clinic.key,
        0,
        Purpose::Treatment,
    );
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&s.doctor]),
        Anchor::AccountDiscriminatorMismatch,
    );
    // The treasury as its own withdrawal destination: Anchor refuses the same account in
    // two mutable slots before the handler runs.
    let treasury = pda::treasury(&pid, &s.w.mint);
    let mint = s.w.mint;
    s.w.fx.mint_to(&mint, &treasury, 10, &TOKEN);
    let gov = s.w.governance.insecure_clone();
    let ix = ix::treasury_withdraw(&pid, &gov.pubkey(), &mint, &treasury, &TOKEN, 1);
    assert_anchor_error(
        s.w.fx.send(&[ix], &[&gov]),
        Anchor::ConstraintDuplicateMutableAccount,
    );
    assert_eq!(s.w.fx.token_balance(&treasury), 10);
}

// ---- arithmetic overflow -------------------------------------------------------------------

#[test]
fn counters_saturating_their_type_fail_cleanly() {
    let mut s = Scene::new();
    s.w.fx
        .edit::<Consent>(&s.consent, |c| c.access_count = u64::MAX);
    assert_rekam_error(
        s.w.access(
            &s.doctor,
            &s.patient.key,
            &s.consent,
            &s.record,
            Purpose::Treatment,
        ),
        RekamError::ArithmeticOverflow,
    );

    let mut s = Scene::new();
    s.w.fx
        .edit::<Patient>(&s.patient.key, |p| p.accesses = u64::MAX);
    assert_rekam_error(
        s.w.access(
            &s.doctor,
            &s.patient.key,
            &s.consent,
            &s.record,
            Purpose::Treatment,
        ),
        RekamError::ArithmeticOverflow,
    );

    let mut s = Scene::new();
    s.w.fx
        .edit::<Patient>(&s.patient.key, |p| p.consents_created = u64::MAX);
    let args = s.w.grant_args(
        &s.doctor.pubkey(),
        Purpose::Treatment,
        kinds(&[AttestationKind::Other]),
    );
    assert_rekam_error(
        s.w.try_grant(&s.patient, args),
        RekamError::ArithmeticOverflow,
    );

    let mut s = Scene::new();
    s.w.fx
        .edit::<Issuer>(&s.clinic.key, |i| i.attestations_issued = u64::MAX);
    let args = s.w.issue_args(AttestationKind::Diagnosis);
    assert_rekam_error(
        s.w.try_issue(&s.clinic, &s.patient.key, args),
        RekamError::ArithmeticOverflow,
    );
}

// ---- arbitrary CPI ---------------------------------------------------------------------------

#[test]
fn a_fake_token_program_is_never_invoked() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let treasury = pda::treasury(&pid, &s.w.mint);
    let owner = Pubkey::new_unique();
    let mint = s.w.mint;
    let destination = s.w.fx.create_token_account(&mint, &owner, &TOKEN);
    s.w.fx.mint_to(&mint, &treasury, 100, &TOKEN);
    let gov = s.w.governance.insecure_clone();
    // Any program id other than SPL Token / Token-2022 is refused before any CPI.
    let fake = anchor_lang::system_program::ID;
    let ix = ix::treasury_withdraw(&pid, &gov.pubkey(), &mint, &destination, &fake, 50);
    let (_, err) = instruction_error(s.w.fx.send(&[ix], &[&gov]));
    println!("fake token program error: {err:?}");
    assert_eq!(
        err,
        InstructionError::Custom(Anchor::InvalidProgramId as u32)
    );
    assert_eq!(s.w.fx.token_balance(&treasury), 100);
}

// ---- every instruction x every program account: wrong owner and type cosplay -------------

/// An instruction, the signers it needs besides the payer, and the program accounts it
/// reads, by role.
pub(crate) type Case = (
    &'static str,
    Instruction,
    Vec<solana_keypair::Keypair>,
    Vec<(&'static str, Pubkey)>,
);

/// Every instruction that reads program accounts.
pub(crate) fn every_instruction(s: &Scene) -> Vec<Case> {
    let pid = s.w.program_id();
    let gov = s.w.governance.insecure_clone();
    let config = pda::config(&pid);
    let p = &s.patient;
    let c = &s.clinic;
    vec![
        (
            "config_authority_propose",
            ix::config_authority_propose(&pid, &gov.pubkey(), Pubkey::new_unique()),
            vec![gov.insecure_clone()],
            vec![("config", config)],
        ),
        (
            "config_authority_accept",
            ix::config_authority_accept(&pid, &gov.pubkey()),
            vec![gov.insecure_clone()],
            vec![("config", config)],
        ),
        (
            "treasury_withdraw",
            ix::treasury_withdraw(&pid, &gov.pubkey(), &s.w.mint, &s.dest, &TOKEN, 1),
            vec![gov.insecure_clone()],
            vec![("config", config)],
        ),
        (
            "issuer_accredit",
            ix::issuer_accredit(
                &pid,
                &s.w.fx.payer.pubkey(),
                &gov.pubkey(),
                s.w.accredit_args(&gov.pubkey(), roles::LAB),
            ),
            vec![gov.insecure_clone()],
            vec![("config", config)],
        ),
        (
            "issuer_suspend",
            ix::issuer_suspend(&pid, &gov.pubkey(), &c.key),
            vec![gov.insecure_clone()],
            vec![("config", config), ("issuer", c.key)],
        ),
        (
            "issuer_reinstate",
            ix::issuer_reinstate(&pid, &gov.pubkey(), &c.key),
            vec![gov.insecure_clone()],
            vec![("config", config), ("issuer", c.key)],
        ),
        (
            "issuer_rotate_keys",
            ix::issuer_rotate_keys(
                &pid,
                &c.authority.pubkey(),
                &c.authority.pubkey(),
                &c.key,
                random32(),
            ),
            vec![c.authority.insecure_clone()],
            vec![("issuer", c.key)],
        ),
        (
            "patient_rotate_key",
            ix::patient_rotate_key(&pid, &p.authority.pubkey(), &p.key, random32()),
            vec![p.authority.insecure_clone()],
            vec![("patient", p.key)],
        ),
        (
            "attestation_issue",
            s.w.issue_ix(c, &p.key, s.w.issue_args(AttestationKind::Diagnosis)),
            vec![c.authority.insecure_clone()],
            vec![("issuer", c.key), ("patient", p.key)],
        ),
        (
            "attestation_revoke",
            ix::attestation_revoke(&pid, &c.authority.pubkey(), &c.key, &s.record),
            vec![c.authority.insecure_clone()],
            vec![("issuer", c.key), ("attestation", s.record)],
        ),
        (
            "attestation_verify",
            ix::attestation_verify(&pid, &s.record, &c.key),
            vec![],
            vec![("attestation", s.record), ("issuer", c.key)],
        ),
        (
            "attestation_verify_claim",
            ix::attestation_verify_claim(
                &pid,
                &s.record,
                &c.key,
                rekam::AttestationVerifyClaimArgs {
                    digest: [1; 32],
                    index: 0,
                    count: 1,
                    proof: vec![],
                },
            ),
            vec![],
            vec![("attestation", s.record), ("issuer", c.key)],
        ),
        (
            "consent_grant",
            ix::consent_grant(
                &pid,
                &p.authority.pubkey(),
                &p.key,
                1,
                s.w.grant_args(
                    &s.doctor.pubkey(),
                    Purpose::Treatment,
                    kinds(&[AttestationKind::Other]),
                ),
            ),
            vec![p.authority.insecure_clone()],
            vec![("patient", p.key)],
        ),
        (
            "consent_update_key_grant",
            ix::consent_update_key_grant(
                &pid,
                &p.authority.pubkey(),
                &p.key,
                &s.consent,
                rekam::KeyGrant {
                    hash: random32(),
                    locator: "local:00".into(),
                },
            ),
            vec![p.authority.insecure_clone()],
            vec![("patient", p.key), ("consent", s.consent)],
        ),
        (
            "consent_extend",
            ix::consent_extend(
                &pid,
                &p.authority.pubkey(),
                &p.key,
                &s.consent,
                T0 + 99 * DAY,
            ),
            vec![p.authority.insecure_clone()],
            vec![("patient", p.key), ("consent", s.consent)],
        ),
        (
            "consent_revoke",
            ix::consent_revoke(&pid, &p.authority.pubkey(), &p.key, &s.consent),
            vec![p.authority.insecure_clone()],
            vec![("patient", p.key), ("consent", s.consent)],
        ),
        (
            "access_record",
            ix::access_record(
                &pid,
                &s.doctor.pubkey(),
                &p.key,
                &s.consent,
                &s.record,
                &s.clinic.key,
                0,
                Purpose::Treatment,
            ),
            vec![s.doctor.insecure_clone()],
            vec![
                ("patient", p.key),
                ("consent", s.consent),
                ("attestation", s.record),
                ("issuer", c.key),
            ],
        ),
    ]
}

fn forge_each_account(expected: u32, forge: impl Fn(&mut Scene, &str, &Pubkey)) {
    let cases = every_instruction(&Scene::new()).len();
    let mut checked = 0;
    for case in 0..cases {
        let roles: Vec<(&str, Pubkey)> = every_instruction(&Scene::new())[case].3.clone();
        for (role, _) in roles {
            let mut s = Scene::new();
            let (name, ix, signers, accounts) = every_instruction(&s).swap_remove(case);
            let key = accounts.iter().find(|(r, _)| *r == role).expect("role").1;
            forge(&mut s, role, &key);
            let refs: Vec<&solana_keypair::Keypair> = signers.iter().collect();
            let result = s.w.fx.send(&[ix], &refs);
            assert!(result.is_err(), "{name}: forged {role} was accepted");
            let (_, err) = instruction_error(result);
            assert_eq!(
                err,
                InstructionError::Custom(expected),
                "{name}: forged {role}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 25,
        "only {checked} instruction/account pairs checked"
    );
}

#[test]
fn every_program_account_owned_by_another_program_is_rejected() {
    forge_each_account(Anchor::AccountOwnedByWrongProgram as u32, |s, _, key| {
        set_owner(&mut s.w.fx, key, anchor_lang::system_program::ID)
    });
}

#[test]
fn every_program_account_replaced_by_another_type_is_rejected() {
    forge_each_account(
        Anchor::AccountDiscriminatorMismatch as u32,
        |s, role, key| {
            // A genuine program account of a different type, put where this one was.
            let impostor = match role {
                "patient" => s.clinic.key,
                "consent" | "config" => s.record,
                _ => s.patient.key,
            };
            let account = s.w.fx.account(&impostor).expect("impostor exists");
            s.w.fx.put(*key, account);
        },
    );
}

#[test]
fn every_program_account_of_a_later_version_is_rejected() {
    // The version byte follows the 1-byte discriminator; a later layout is refused rather
    // than misread (docs/program.md, Errors).
    forge_each_account(RekamError::UnsupportedVersion.code(), |s, _, key| {
        let mut account = s.w.fx.account(key).expect("account exists");
        account.data[1] = rekam::ACCOUNT_VERSION + 1;
        s.w.fx.put(*key, account);
    });
}
