//! Audit finding 5 (and the `unlocks_at` part of 8): social recovery cannot get stuck or
//! be delayed for ever. A recovery to a lost or mistyped wallet lapses 7 days after its
//! time lock and guardians recover again; a stale proposal is cleared and replaced in one
//! transaction, so a rogue guardian cannot slip a new one in between; a time lock never
//! outlives the guardian set or the approvals it was started on.

use rekam::constants::RECOVERY_EXECUTION_WINDOW_SECONDS as WINDOW;
use rekam::{Patient, RekamError};
use rekam_tests::*;
use solana_signer::Signer;

const LOCK: i64 = 48 * HOUR;

#[test]
fn a_recovery_to_a_lost_wallet_lapses_and_guardians_recover_again() {
    let mut g = Guarded::new();
    let lost = g.s.w.fx.funded(SOL);
    let right = g.s.w.fx.funded(SOL);
    let proposer = g.guardians[0].pubkey();
    g.propose(0, &lost.pubkey())
        .expect("propose to a wallet later lost");
    g.approve_recovery(1).expect("threshold");
    let unlocks_at = g.recovery().unwrap().unlocks_at;

    // Within the window the lock holds: guardians cannot clear it.
    let honest = g.guardians[2].insecure_clone();
    g.s.w.fx.set_time(unlocks_at + WINDOW);
    assert_rekam_error(
        g.cancel_as(&honest, &proposer),
        RekamError::RecoveryStillPending,
    );
    // One second later the new wallet can no longer execute...
    g.s.w.fx.set_time(unlocks_at + WINDOW + 1);
    let before = g.s.w.fx.fetch::<Patient>(&g.s.patient.key);
    assert_rekam_error(g.execute(&lost, &proposer), RekamError::RecoveryExpired);
    assert_eq!(g.s.w.fx.fetch::<Patient>(&g.s.patient.key), before);
    // ...and any current guardian clears it; the rent goes back to the proposer.
    let proposer_lamports = g.s.w.fx.account(&proposer).unwrap().lamports;
    g.cancel_as(&honest, &proposer)
        .expect("clear the lapsed recovery");
    assert!(g.recovery().is_none());
    assert!(g.s.w.fx.account(&proposer).unwrap().lamports > proposer_lamports);

    // A fresh recovery to the right wallet runs its full lock and succeeds.
    g.propose(2, &right.pubkey()).expect("propose again");
    g.approve_recovery(0).expect("threshold");
    let proposer = g.guardians[2].pubkey();
    let unlocks_at = g.recovery().unwrap().unlocks_at;
    assert_eq!(unlocks_at, g.s.w.fx.now() + LOCK);
    g.s.w.fx.set_time(unlocks_at);
    g.execute(&right, &proposer).expect("recovered");
    assert_eq!(
        g.s.w.fx.fetch::<Patient>(&g.s.patient.key).authority,
        right.pubkey()
    );
}

#[test]
fn a_stale_proposal_is_cleared_and_replaced_in_one_transaction() {
    let mut g = Guarded::new();
    let wrong = g.s.w.fx.funded(SOL);
    let right = g.s.w.fx.funded(SOL);
    let rogue = g.guardians[2].pubkey();
    g.propose(2, &wrong.pubkey()).expect("a rogue proposal");
    let proposed_at = g.recovery().unwrap().proposed_at;
    g.s.w.fx.set_time(proposed_at + LOCK);

    // The honest guardian cancels the stale proposal and proposes in one transaction,
    // so no other proposal can come between the two.
    let honest = g.guardians[0].insecure_clone();
    let (pid, patient) = (g.pid(), g.s.patient.key);
    let cancel = ix::recovery_cancel(&pid, &honest.pubkey(), &patient, &rogue);
    let propose = ix::recovery_propose(&pid, &honest.pubkey(), &patient, right.pubkey());
    g.s.w
        .fx
        .send(&[cancel, propose], &[&honest])
        .expect("cancel and propose atomically");
    let recovery = g.recovery().expect("the honest proposal");
    assert_eq!(recovery.new_authority, right.pubkey());
    assert_eq!(recovery.proposer, honest.pubkey());
    assert_eq!(recovery.approvals.len(), 1);
    assert_eq!(recovery.unlocks_at, 0);

    // The rogue cannot clear the honest proposal while it may still gather approvals.
    let rogue_kp = g.guardians[2].insecure_clone();
    assert_rekam_error(
        g.cancel_as(&rogue_kp, &honest.pubkey()),
        RekamError::RecoveryStillPending,
    );
    g.approve_recovery(1).expect("threshold");
    g.s.w.fx.advance(LOCK);
    g.execute(&right, &honest.pubkey()).expect("recovered");
}

#[test]
fn a_lock_never_outlives_the_guardians_or_the_approvals_it_started_on() {
    let mut g = Guarded::new();
    let new = g.s.w.fx.funded(SOL);
    let proposer = g.guardians[0].pubkey();
    g.propose(0, &new.pubkey()).expect("propose");
    g.approve_recovery(1).expect("threshold: the lock starts");
    let first = g.recovery().unwrap();
    assert_eq!(first.locked_at, g.s.w.fx.now());

    // An hour later the patient changes the guardian set (same guardians, threshold 3).
    g.s.w.fx.advance(HOUR);
    g.change(g.args(&[0, 1, 2], 3)).expect("change");
    g.s.w.fx.set_time(first.unlocks_at);
    assert_rekam_error(g.execute(&new, &proposer), RekamError::RecoveryLockVoid);
    let clearer = g.guardians[2].insecure_clone();
    // The third approval restarts the lock from now, in full, on the current set.
    g.approve_recovery(2).expect("third approval");
    let second = g.recovery().unwrap();
    assert_eq!(second.locked_at, g.s.w.fx.now());
    assert_eq!(second.unlocks_at, g.s.w.fx.now() + LOCK);
    assert_rekam_error(g.execute(&new, &proposer), RekamError::TimelockActive);

    // Approvals falling below the threshold (a guardian removed) void it again.
    g.s.w.fx.advance(HOUR);
    g.change(g.args(&[0, 2], 2)).expect("remove guardian 1");
    g.change(g.args(&[0, 1, 2], 3))
        .expect("and bring back a threshold of 3");
    assert!(!g.recovery().unwrap().lock_holds(&g.guardianship()));
    g.s.w.fx.set_time(second.unlocks_at);
    assert_rekam_error(g.execute(&new, &proposer), RekamError::RecoveryLockVoid);
    g.cancel_as(&clearer, &proposer)
        .expect("a void lock is stale for guardians");
    assert!(g.recovery().is_none());
}
