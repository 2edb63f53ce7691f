//! Governance: two-step authority rotation; accrediting, suspending, reinstating issuers;
//! issuers rotating their keys.

use anchor_lang::prelude::Pubkey;
use rekam::events::{GovernanceRotated, IssuerAccredited, IssuerStatusChanged};
use rekam::{roles, Config, Issuer, IssuerStatus, RekamError};
use rekam_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

#[test]
fn authority_rotation_takes_a_proposal_and_an_acceptance() {
    let mut w = World::new();
    let pid = w.program_id();
    let next = w.fx.funded(SOL);
    let gov = w.governance.insecure_clone();

    // Accepting with nothing pending fails.
    let accept = ix::config_authority_accept(&pid, &next.pubkey());
    assert_rekam_error(
        w.fx.send(std::slice::from_ref(&accept), &[&next]),
        RekamError::NoPendingAuthority,
    );

    // Only the current authority proposes.
    let bad = ix::config_authority_propose(&pid, &next.pubkey(), next.pubkey());
    assert_rekam_error(
        w.fx.send(&[bad], &[&next]),
        RekamError::NotGovernanceAuthority,
    );
    let same = ix::config_authority_propose(&pid, &gov.pubkey(), gov.pubkey());
    assert_rekam_error(w.fx.send(&[same], &[&gov]), RekamError::SameAuthority);

    let propose = ix::config_authority_propose(&pid, &gov.pubkey(), next.pubkey());
    w.fx.send(&[propose], &[&gov]).expect("propose");
    let config: Config = w.fx.fetch(&pda::config(&pid));
    assert_eq!(
        (config.authority, config.pending_authority),
        (gov.pubkey(), next.pubkey())
    );

    // A third party cannot accept.
    let intruder = w.fx.funded(SOL);
    let steal = ix::config_authority_accept(&pid, &intruder.pubkey());
    assert_rekam_error(
        w.fx.send(&[steal], &[&intruder]),
        RekamError::NotPendingAuthority,
    );

    let outcome = w.fx.send(&[accept], &[&next]).expect("accept");
    let config: Config = w.fx.fetch(&pda::config(&pid));
    assert_eq!(
        (config.authority, config.pending_authority),
        (next.pubkey(), Pubkey::default())
    );
    let events = outcome.events::<GovernanceRotated>(&pid);
    assert_eq!(
        (events[0].previous, events[0].current),
        (gov.pubkey(), next.pubkey())
    );

    // The old authority has lost its powers.
    let args = w.accredit_args(&Keypair::new().pubkey(), roles::CLINIC);
    let ix = ix::issuer_accredit(&pid, &w.fx.payer.pubkey(), &gov.pubkey(), args);
    assert_rekam_error(
        w.fx.send(&[ix], &[&gov]),
        RekamError::NotGovernanceAuthority,
    );
}

#[test]
fn accredit_records_roles_keys_and_status() {
    let mut w = World::new();
    let pid = w.program_id();
    let authority = Keypair::new();
    let args = w.accredit_args(&authority.pubkey(), roles::CLINIC | roles::LAB);
    let expected = args.clone();
    let ix = ix::issuer_accredit(&pid, &w.fx.payer.pubkey(), &w.governance.pubkey(), args);
    let gov = w.governance.insecure_clone();
    let outcome = w.fx.send(&[ix], &[&gov]).expect("accredit");
    let key = pda::issuer(&pid, &expected.registry_id_hash);
    let issuer: Issuer = w.fx.fetch(&key);
    assert_eq!(
        issuer,
        Issuer {
            version: 1,
            bump: Issuer::find_address(&pid, &expected.registry_id_hash).1,
            authority: authority.pubkey(),
            encryption_key: expected.encryption_key,
            registry_id_hash: expected.registry_id_hash,
            roles: roles::CLINIC | roles::LAB,
            status: IssuerStatus::Active,
            accredited_at: T0,
            status_changed_at: T0,
            attestations_issued: 0,
            void_from: 0,
            void_until: 0,
        }
    );
    assert!(issuer.invariant());
    let events = outcome.events::<IssuerAccredited>(&pid);
    assert_eq!(
        (events[0].issuer, events[0].roles),
        (key, roles::CLINIC | roles::LAB)
    );
}

#[test]
fn accredit_rejects_bad_roles_and_keys_and_non_governance() {
    let mut w = World::new();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    for bad_roles in [0, roles::ALL + 1, 1 << 7] {
        let args = w.accredit_args(&Keypair::new().pubkey(), bad_roles);
        let ix = ix::issuer_accredit(&pid, &w.fx.payer.pubkey(), &gov.pubkey(), args);
        assert_rekam_error(w.fx.send(&[ix], &[&gov]), RekamError::InvalidRoles);
    }
    let mut args = w.accredit_args(&Keypair::new().pubkey(), roles::LAB);
    args.encryption_key = [0; 32];
    let ix = ix::issuer_accredit(&pid, &w.fx.payer.pubkey(), &gov.pubkey(), args);
    assert_rekam_error(w.fx.send(&[ix], &[&gov]), RekamError::InvalidEncryptionKey);

    let intruder = w.fx.funded(SOL);
    let args = w.accredit_args(&intruder.pubkey(), roles::CLINIC);
    let key = pda::issuer(&pid, &args.registry_id_hash);
    let ix = ix::issuer_accredit(&pid, &w.fx.payer.pubkey(), &intruder.pubkey(), args);
    assert_rekam_error(
        w.fx.send(&[ix], &[&intruder]),
        RekamError::NotGovernanceAuthority,
    );
    assert!(w.fx.account(&key).is_none());
}

#[test]
fn suspend_and_reinstate_change_status_once_each() {
    let mut w = World::new();
    let pid = w.program_id();
    let gov = w.governance.insecure_clone();
    let clinic = w.accredit(roles::CLINIC);

    let reinstate = ix::issuer_reinstate(&pid, &gov.pubkey(), &clinic.key);
    assert_rekam_error(
        w.fx.send(std::slice::from_ref(&reinstate), &[&gov]),
        RekamError::IssuerNotSuspended,
    );

    w.fx.advance(60);
    let suspend = ix::issuer_suspend(&pid, &gov.pubkey(), &clinic.key);
    let outcome =
        w.fx.send(std::slice::from_ref(&suspend), &[&gov])
            .expect("suspend");
    let issuer: Issuer = w.fx.fetch(&clinic.key);
    assert_eq!(
        (issuer.status, issuer.status_changed_at),
        (IssuerStatus::Suspended, T0 + 60)
    );
    assert_eq!(
        outcome.events::<IssuerStatusChanged>(&pid)[0].status,
        IssuerStatus::Suspended
    );
    assert_rekam_error(w.fx.send(&[suspend], &[&gov]), RekamError::IssuerSuspended);

    // The issuer itself cannot lift its suspension.
    let own = ix::issuer_reinstate(&pid, &clinic.authority.pubkey(), &clinic.key);
    assert_rekam_error(
        w.fx.send(&[own], &[&clinic.authority]),
        RekamError::NotGovernanceAuthority,
    );

    w.fx.send(&[reinstate], &[&gov]).expect("reinstate");
    assert_eq!(
        w.fx.fetch::<Issuer>(&clinic.key).status,
        IssuerStatus::Active
    );
}

#[test]
fn issuer_rotates_keys_with_both_signatures() {
    let mut w = World::new();
    let pid = w.program_id();
    let clinic = w.accredit(roles::CLINIC);
    let patient = w.register_patient();
    let next = w.fx.funded(SOL);
    let new_key = random32();

    // Someone else cannot rotate the issuer's keys.
    let intruder = w.fx.funded(SOL);
    let ix = ix::issuer_rotate_keys(
        &pid,
        &intruder.pubkey(),
        &intruder.pubkey(),
        &clinic.key,
        new_key,
    );
    assert_rekam_error(
        w.fx.send(&[ix], &[&intruder]),
        RekamError::NotIssuerAuthority,
    );

    // The new wallet must sign too.
    let mut ix = ix::issuer_rotate_keys(
        &pid,
        &clinic.authority.pubkey(),
        &next.pubkey(),
        &clinic.key,
        new_key,
    );
    ix.accounts[1].is_signer = false;
    assert_anchor_error(
        w.fx.send(&[ix], &[&clinic.authority]),
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );

    let ix = ix::issuer_rotate_keys(
        &pid,
        &clinic.authority.pubkey(),
        &next.pubkey(),
        &clinic.key,
        new_key,
    );
    w.fx.send(&[ix], &[&clinic.authority, &next])
        .expect("rotate");
    let issuer: Issuer = w.fx.fetch(&clinic.key);
    assert_eq!(
        (issuer.authority, issuer.encryption_key),
        (next.pubkey(), new_key)
    );

    // The old wallet can no longer issue; the new one can, at the same issuer address.
    let args = w.issue_args(rekam::AttestationKind::Diagnosis);
    assert_rekam_error(
        w.try_issue(&clinic, &patient.key, args),
        RekamError::NotIssuerAuthority,
    );
    let rotated = TestIssuer {
        authority: next,
        key: clinic.key,
        registry_id_hash: clinic.registry_id_hash,
    };
    w.issue(&rotated, &patient, rekam::AttestationKind::Diagnosis);
}
