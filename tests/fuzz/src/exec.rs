//! Runs one operation: dispatches it to its domain file, then checks the invariants that
//! hold after every step (tokens) and, periodically, the full model/chain agreement.

use anchor_lang::prelude::Pubkey;

use crate::model::wallet;
use crate::ops::{Kind, Op};
use crate::world::Ctx;
use crate::{exec_close as close, exec_guard as guard, exec_issuers as issuers};
use crate::{exec_records as records, exec_study as study, invariants};

/// Compare every modelled account with the chain every this many steps (and at the end
/// of every world).
pub const FULL_CHECK_EVERY: usize = 25;

pub fn run(cx: &mut Ctx, op: Op) {
    cx.op = op;
    cx.step += 1;
    match op.kind {
        Kind::IssuerAccredit => records::issuer_accredit(cx, &op),
        Kind::IssuerGovern => records::issuer_govern(cx, &op),
        Kind::AttestationIssue => records::attestation_issue(cx, &op),
        Kind::AttestationRevoke => records::attestation_revoke(cx, &op),
        Kind::ConsentGrant => records::consent_grant(cx, &op),
        Kind::ConsentChange => records::consent_change(cx, &op),
        Kind::IssuerRotate => issuers::issuer_rotate_keys(cx, &op),
        Kind::AttestationVerify => issuers::attestation_verify(cx, &op),
        Kind::AccessRecord => records::access_record(cx, &op),
        Kind::ConsentClose => close::consent_close(cx, &op),
        Kind::ReceiptClose => close::receipt_close(cx, &op),
        Kind::ClockJump => records::clock_jump(cx, &op),
        Kind::StudyOpen => study::open(cx, &op),
        Kind::StudyTopUp => study::top_up(cx, &op),
        Kind::StudyContribute => study::contribute(cx, &op),
        Kind::StudyClose => study::close(cx, &op),
        Kind::GuardiansSet => guard::guardians_set(cx, &op),
        Kind::EmergencyRequest => guard::emergency_request(cx, &op),
        Kind::EmergencyApprove => guard::emergency_approve(cx, &op),
        Kind::EmergencyActivate => guard::emergency_activate(cx, &op),
        Kind::EmergencyEnd => guard::emergency_end(cx, &op),
        Kind::RecoveryPropose => guard::recovery_propose(cx, &op),
        Kind::RecoveryApprove => guard::recovery_approve(cx, &op),
        Kind::RecoveryCancel => guard::recovery_cancel(cx, &op),
        Kind::RecoveryExecute => guard::recovery_execute(cx, &op),
    }
    invariants::check_tokens(cx);
    if cx.step.is_multiple_of(FULL_CHECK_EVERY) {
        crate::state::check_state(cx);
    }
}

/// Who signs a patient's instruction, from a choice in `0..20`: mostly the current
/// wallet; else a stranger, another patient's wallet, or a wallet that controlled this
/// profile before a recovery (which must now fail).
pub fn patient_signer(cx: &Ctx, p: usize, choice: u32) -> usize {
    let m = &cx.model;
    let mp = &m.patients[p];
    match choice {
        0..=16 => mp.auth,
        17 => wallet::STRANGER,
        18 => m.patients[(p + 1) % m.patients.len()].auth,
        _ => mp.old.last().copied().unwrap_or(wallet::STRANGER2),
    }
}

/// A guardian-side signer from a choice in `0..10`: one of the patient's current
/// guardians, any pool guardian, the clinic's wallet (which may be a guardian too), a
/// stranger, or the patient.
pub fn guardian_signer(cx: &Ctx, p: usize, choice: u32, which: u32) -> usize {
    let current = cx.model.patients[p]
        .guardians
        .as_ref()
        .map(|g| &g.guardians);
    match (choice, current) {
        (0..=5, Some(g)) if !g.is_empty() => wallet_of(cx, &g[which as usize % g.len()]),
        (0..=6, _) => wallet::GUARDIAN0 + which as usize % wallet::GUARDIANS,
        (7, _) => wallet::CLINIC,
        (8, _) => wallet::STRANGER,
        _ => cx.model.patients[p].auth,
    }
}

/// A patient for a guardian-side operation: 80% of the time one for which `has` holds
/// (when there is one), so the flows get deep enough to matter.
pub fn patient_where(
    cx: &Ctx,
    op: &Op,
    i: usize,
    has: impl Fn(&crate::model::Patient) -> bool,
) -> usize {
    let ps = &cx.model.patients;
    let with: Vec<usize> = (0..ps.len()).filter(|&p| has(&ps[p])).collect();
    if op.chance(i, 80) && !with.is_empty() {
        with[(op.a[i] as usize / 100) % with.len()]
    } else {
        (op.a[i] as usize / 100) % ps.len()
    }
}

/// The wallet index of `key` (every grantee and requester is one of ours).
pub fn wallet_of(cx: &Ctx, key: &Pubkey) -> usize {
    cx.model
        .wallets
        .iter()
        .position(|w| w == key)
        .unwrap_or(wallet::STRANGER)
}

/// An index into `n` items biased towards the last `recent` of them.
pub fn recent(op: &Op, i: usize, n: usize, recent: usize) -> usize {
    if n == 0 {
        return 0;
    }
    if op.chance(i, 70) {
        let r = recent.min(n);
        n - 1 - (op.a[i] as usize / 100) % r
    } else {
        (op.a[i] as usize / 100) % n
    }
}
