//! SMART Health Card keys anchored on-chain (`shc_key_anchor`, `shc_key_retire`) with the
//! real secp256r1 precompile of the SVM: the account at the key's thumbprint, the proof of
//! possession and every way to fake it, the issuer checks, retirement, and the
//! missing-signer, wrong-owner, type-cosplay and later-version rows for both
//! instructions (the coverage tests in `attack_coverage.rs` count them through
//! [`covered`]).

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::events::{ShcKeyAnchored, ShcKeyRetired};
use rekam::{RekamError, ShcKey};
use rekam_client::flows::shc::{anchor_ixs, thumbprint_of};
use rekam_client::passport::shc::SigningKey;
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

const ISS: &str = "https://clinic.example";

fn key_address(pid: &Pubkey, key: &SigningKey) -> Pubkey {
    pda::shc_key(pid, &thumbprint_of(&key.kid()).unwrap())
}

fn anchor(s: &mut Scene, key: &SigningKey) -> TxResult {
    let c = s.clinic.insecure_clone();
    let ixs = anchor_ixs(&s.w.program_id(), &c.authority.pubkey(), &c.key, key, ISS);
    s.w.fx.send(&ixs, &[&c.authority])
}

/// A scene whose clinic has anchored `key`.
fn anchored() -> (Scene, SigningKey, Pubkey) {
    let mut s = Scene::new();
    let key = SigningKey::generate();
    anchor(&mut s, &key).expect("shc_key_anchor");
    let address = key_address(&s.w.program_id(), &key);
    (s, key, address)
}

#[test]
fn an_issuer_anchors_its_key_at_the_thumbprint_and_pays_the_rent() {
    let mut s = Scene::new();
    let key = SigningKey::generate();
    let pid = s.w.program_id();
    let address = key_address(&pid, &key);
    let before =
        s.w.fx
            .svm
            .get_balance(&s.clinic.authority.pubkey())
            .unwrap();
    let outcome = anchor(&mut s, &key).expect("shc_key_anchor");
    let stored: ShcKey = s.w.fx.fetch(&address);
    let point = key.point();
    assert_eq!(stored.issuer, s.clinic.key);
    assert_eq!(
        (&stored.x[..], &stored.y[..]),
        (&point[1..33], &point[33..])
    );
    assert_eq!(Some(stored.thumbprint), thumbprint_of(&key.kid()));
    assert_eq!(stored.iss, ISS);
    assert_eq!((stored.anchored_at, stored.retired_at), (s.w.fx.now(), 0));
    let rent = s.w.fx.svm.minimum_balance_for_rent_exemption(ShcKey::SIZE);
    let after =
        s.w.fx
            .svm
            .get_balance(&s.clinic.authority.pubkey())
            .unwrap();
    assert_eq!(
        before - after,
        rent,
        "the authority paid the rent, the payer the fee"
    );
    let events = outcome.events::<ShcKeyAnchored>(&pid);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].issuer, events[0].shc_key),
        (s.clinic.key, address)
    );
    println!("ShcKey: {} bytes, rent {rent} lamports", ShcKey::SIZE);
}

#[test]
fn a_key_is_anchored_once_by_one_issuer() {
    let (mut s, key, address) = anchored();
    let first: ShcKey = s.w.fx.fetch(&address);
    // Again by the same issuer: the address is in use (System: AccountAlreadyInUse).
    s.w.fx.advance(1);
    let (_, err) = instruction_error(anchor(&mut s, &key));
    assert_eq!(err, InstructionError::Custom(0));
    // Another issuer holding the key too (a shared HSM): still the first issuer's.
    let other = s.w.accredit(rekam::roles::CLINIC);
    let ixs = anchor_ixs(
        &s.w.program_id(),
        &other.authority.pubkey(),
        &other.key,
        &key,
        ISS,
    );
    let (_, err) = instruction_error(s.w.fx.send(&ixs, &[&other.authority]));
    assert_eq!(err, InstructionError::Custom(0));
    assert_eq!(s.w.fx.fetch::<ShcKey>(&address), first);
}

#[test]
fn a_pre_funded_key_address_still_anchors() {
    let mut s = Scene::new();
    let key = SigningKey::generate();
    let address = key_address(&s.w.program_id(), &key);
    s.w.fx.put(
        address,
        solana_account::Account {
            lamports: 890_880,
            owner: anchor_lang::system_program::ID,
            ..Default::default()
        },
    );
    anchor(&mut s, &key).expect("a pre-funded address cannot block the anchor");
    assert_eq!(s.w.fx.fetch::<ShcKey>(&address).issuer, s.clinic.key);
}

/// Sends `ixs` as the clinic and asserts `expected` at instruction `index`, with no key
/// account created.
fn refused(s: &mut Scene, ixs: &[Instruction], index: u8, expected: InstructionError) {
    let c = s.clinic.insecure_clone();
    let address = ixs
        .iter()
        .find(|i| i.program_id == s.w.program_id())
        .map(|i| i.accounts[2].pubkey)
        .unwrap();
    let (at, err) = instruction_error(s.w.fx.send(ixs, &[&c.authority]));
    assert_eq!((at, err), (index, expected));
    assert!(s.w.fx.account(&address).is_none(), "no key account");
}

fn rekam(e: RekamError) -> InstructionError {
    InstructionError::Custom(e.code())
}

#[test]
fn the_proof_of_possession_cannot_be_left_out_moved_or_borrowed() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let c = s.clinic.insecure_clone();
    let key = SigningKey::generate();
    let ixs = anchor_ixs(&pid, &c.authority.pubkey(), &c.key, &key, ISS);

    // No proof at all.
    refused(&mut s, &ixs[1..], 0, rekam(RekamError::ShcKeyProofMissing));
    // A proof, but not right before the anchor.
    let memo = Instruction {
        program_id: rekam_client::record::MEMO_V1_PROGRAM,
        accounts: vec![],
        data: b"between".to_vec(),
    };
    let moved = [ixs[0].clone(), memo, ixs[1].clone()];
    refused(&mut s, &moved, 2, rekam(RekamError::ShcKeyProofMissing));

    // Another key's valid proof (an attacker's own key) for the victim's public key.
    let attacker = SigningKey::generate();
    let theirs = anchor_ixs(&pid, &c.authority.pubkey(), &c.key, &attacker, ISS);
    let borrowed = [theirs[0].clone(), ixs[1].clone()];
    refused(&mut s, &borrowed, 1, rekam(RekamError::ShcKeyProofMismatch));

    // The victim's proof for another issuer, replayed by this one.
    let victim = s.w.accredit(rekam::roles::CLINIC);
    let victims = anchor_ixs(&pid, &victim.authority.pubkey(), &victim.key, &key, ISS);
    let replayed = [victims[0].clone(), ixs[1].clone()];
    refused(&mut s, &replayed, 1, rekam(RekamError::ShcKeyProofMismatch));

    // A proof whose offsets point at another instruction's data (index 1: the anchor).
    let mut elsewhere = ixs[0].clone();
    elsewhere.data[2 + 2..2 + 4].copy_from_slice(&0u16.to_le_bytes());
    let pointed = [elsewhere, ixs[1].clone()];
    let (at, _) = instruction_error(s.w.fx.send(&pointed, &[&c.authority]));
    assert!(at <= 1, "refused by the precompile or the program");
    assert!(s.w.fx.account(&key_address(&pid, &key)).is_none());

    // A forged signature: the precompile itself fails the transaction.
    let mut forged = ixs[0].clone();
    forged.data[2 + 14 + 33] ^= 1;
    let forged = [forged, ixs[1].clone()];
    let (at, err) = instruction_error(s.w.fx.send(&forged, &[&c.authority]));
    // PrecompileError::InvalidSignature, from the precompile, instruction 0.
    assert_eq!((at, err), (0, InstructionError::Custom(2)));
    assert!(s.w.fx.account(&key_address(&pid, &key)).is_none());

    // The real proof anchors.
    s.w.fx.send(&ixs, &[&c.authority]).expect("shc_key_anchor");
}

#[test]
fn the_anchor_checks_its_thumbprint_url_issuer_and_authority() {
    let mut s = Scene::new();
    let pid = s.w.program_id();
    let c = s.clinic.insecure_clone();
    let key = SigningKey::generate();
    let with = |edit: &dyn Fn(&mut rekam::ShcKeyAnchorArgs)| {
        let ixs = anchor_ixs(&pid, &c.authority.pubkey(), &c.key, &key, ISS);
        let mut args = rekam::ShcKeyAnchorArgs {
            thumbprint: thumbprint_of(&key.kid()).unwrap(),
            x: key.point()[1..33].try_into().unwrap(),
            y: key.point()[33..].try_into().unwrap(),
            iss: ISS.into(),
        };
        edit(&mut args);
        vec![
            ixs[0].clone(),
            ix::shc_key_anchor(&pid, &c.authority.pubkey(), &c.key, args),
        ]
    };
    // A thumbprint of another key (its own, free address): refused.
    let other = thumbprint_of(&SigningKey::generate().kid()).unwrap();
    let ixs = with(&|a| a.thumbprint = other);
    refused(&mut s, &ixs, 1, rekam(RekamError::ShcKeyThumbprintMismatch));
    for iss in [
        "http://clinic.example",
        "https://clinic.example/",
        "https://a b",
    ] {
        let ixs = with(&|a| a.iss = iss.into());
        refused(&mut s, &ixs, 1, rekam(RekamError::InvalidIssuerUrl));
    }
    // Another wallet than the issuer's authority.
    let stranger = s.w.fx.funded(SOL);
    let mut ixs = anchor_ixs(&pid, &stranger.pubkey(), &c.key, &key, ISS);
    let (_, err) = instruction_error(s.w.fx.send(&ixs, &[&stranger]));
    assert_eq!(err, rekam(RekamError::NotIssuerAuthority));
    // A suspended issuer.
    let gov = s.w.governance.insecure_clone();
    let suspend = ix::issuer_suspend(&pid, &gov.pubkey(), &c.key);
    s.w.fx.send(&[suspend], &[&gov]).expect("issuer_suspend");
    ixs = anchor_ixs(&pid, &c.authority.pubkey(), &c.key, &key, ISS);
    refused(&mut s, &ixs, 1, rekam(RekamError::IssuerSuspended));
}

#[test]
fn retiring_a_key_marks_it_once_and_only_its_issuer_may() {
    let (mut s, _key, address) = anchored();
    let pid = s.w.program_id();
    let c = s.clinic.insecure_clone();
    // Another issuer cannot retire it.
    let other = s.w.accredit(rekam::roles::CLINIC);
    let theirs = ix::shc_key_retire(&pid, &other.authority.pubkey(), &other.key, &address);
    let (_, err) = instruction_error(s.w.fx.send(&[theirs], &[&other.authority]));
    assert_eq!(err, rekam(RekamError::IssuerMismatch));
    assert_eq!(s.w.fx.fetch::<ShcKey>(&address).retired_at, 0);
    // A suspended issuer can (a compromise is a reason to be suspended).
    let gov = s.w.governance.insecure_clone();
    let suspend = ix::issuer_suspend(&pid, &gov.pubkey(), &c.key);
    s.w.fx.send(&[suspend], &[&gov]).expect("issuer_suspend");
    s.w.fx.advance(60);
    let retire = ix::shc_key_retire(&pid, &c.authority.pubkey(), &c.key, &address);
    let outcome =
        s.w.fx
            .send(std::slice::from_ref(&retire), &[&c.authority])
            .expect("retire");
    assert_eq!(s.w.fx.fetch::<ShcKey>(&address).retired_at, s.w.fx.now());
    let events = outcome.events::<ShcKeyRetired>(&pid);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].shc_key, events[0].at), (address, s.w.fx.now()));
    // Once.
    s.w.fx.advance(1);
    let (_, err) = instruction_error(s.w.fx.send(&[retire], &[&c.authority]));
    assert_eq!(err, rekam(RekamError::ShcKeyRetired));
}

// ---- missing signer, wrong owner, type cosplay, later version ------------------------

/// The instructions these rows cover, for `attack_coverage.rs`.
pub fn covered() -> Vec<&'static str> {
    vec!["shc_key_anchor", "shc_key_retire"]
}

type Case = (Vec<Instruction>, Vec<(&'static str, Pubkey)>);

/// Each instruction ready to succeed in `s` (a fresh key to anchor; `address` to retire)
/// and the program accounts it reads, by role.
fn cases(s: &Scene, address: &Pubkey) -> Vec<Case> {
    let pid = s.w.program_id();
    let c = &s.clinic;
    let fresh = SigningKey::generate();
    vec![
        (
            anchor_ixs(&pid, &c.authority.pubkey(), &c.key, &fresh, ISS),
            vec![("issuer", c.key)],
        ),
        (
            vec![ix::shc_key_retire(
                &pid,
                &c.authority.pubkey(),
                &c.key,
                address,
            )],
            vec![("issuer", c.key), ("shc_key", *address)],
        ),
    ]
}

fn snapshot(s: &Scene, ixs: &[Instruction]) -> Vec<Option<solana_account::Account>> {
    ixs.iter()
        .flat_map(|i| i.accounts.iter())
        .filter(|m| m.pubkey != s.w.fx.payer.pubkey() && m.pubkey != s.clinic.authority.pubkey())
        .map(|m| s.w.fx.account(&m.pubkey))
        .collect()
}

#[test]
fn both_instructions_refuse_a_missing_signer() {
    for case in 0..2 {
        let (mut s, _, address) = anchored();
        let (mut ixs, _) = cases(&s, &address).swap_remove(case);
        let last = ixs.len() - 1;
        for meta in &mut ixs[last].accounts {
            if meta.pubkey == s.clinic.authority.pubkey() {
                meta.is_signer = false;
            }
        }
        let before = snapshot(&s, &ixs);
        let (_, err) = instruction_error(s.w.fx.send(&ixs, &[]));
        assert_eq!(
            err,
            InstructionError::Custom(Anchor::AccountNotSigner as u32)
        );
        assert_eq!(before, snapshot(&s, &ixs), "case {case} changed an account");
    }
}

#[test]
fn every_account_they_read_is_checked_for_owner_type_and_version() {
    type Forge = fn(&mut Scene, &Pubkey);
    let forges: [(u32, Forge); 3] = [
        (Anchor::AccountOwnedByWrongProgram as u32, |s, key| {
            let mut account = s.w.fx.account(key).unwrap();
            account.owner = anchor_lang::system_program::ID;
            s.w.fx.put(*key, account);
        }),
        (Anchor::AccountDiscriminatorMismatch as u32, |s, key| {
            let impostor = if *key == s.clinic.key {
                s.patient.key
            } else {
                s.record
            };
            let account = s.w.fx.account(&impostor).unwrap();
            s.w.fx.put(*key, account);
        }),
        (RekamError::UnsupportedVersion.code(), |s, key| {
            let mut account = s.w.fx.account(key).unwrap();
            account.data[1] = rekam::ACCOUNT_VERSION + 1;
            s.w.fx.put(*key, account);
        }),
    ];
    let mut checked = 0;
    for (expected, forge) in forges {
        for case in 0..2 {
            let roles = {
                let (s, _, address) = anchored();
                cases(&s, &address).swap_remove(case).1.len()
            };
            for role in 0..roles {
                let (mut s, _, address) = anchored();
                let (ixs, reads) = cases(&s, &address).swap_remove(case);
                forge(&mut s, &reads[role].1);
                let signer: Keypair = s.clinic.authority.insecure_clone();
                let before = snapshot(&s, &ixs);
                let (_, err) = instruction_error(s.w.fx.send(&ixs, &[&signer]));
                assert_eq!(
                    err,
                    InstructionError::Custom(expected),
                    "case {case} {}",
                    reads[role].0
                );
                assert_eq!(before, snapshot(&s, &ixs));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 3, "instruction/account pairs");
}
