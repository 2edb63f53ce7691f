//! Guardians, emergency access and social recovery: guardians set/change, emergency
//! request/approve/activate/end, recovery propose/approve/cancel/execute, from
//! guardians, clinics, strangers, the patient and the patient's former wallets.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::RekamError as E;
use rekam_tests::{ix, pda, random32};

use crate::exec::{guardian_signer, patient_signer, patient_where, recent};
use crate::exec_records::{key_grant_variant, scope_valid};
use crate::model::*;
use crate::ops::Op;
use crate::world::{Created, Ctx};

const CONSENT_DISC: u8 = 5;
const GUARDIANSHIP_DISC: u8 = 9;
const REQUEST_DISC: u8 = 10;
const RECOVERY_DISC: u8 = 11;
const MAX_EMERGENCY: i64 = 72 * HOUR;
const MAX_WINDOW: i64 = 24 * HOUR;

fn not_initialized() -> u32 {
    anchor(Anchor::AccountNotInitialized)
}

pub fn guardians_set(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let p = op.pick(0, m.patients.len());
    let mp = &m.patients[p];
    let signer = patient_signer(cx, p, op.sub(1, 0, 20));
    let exists = mp.guardians.is_some();
    let change = (op.sub(1, 1, 10) < 8) == exists;
    let pool: Vec<Pubkey> = (0..wallet::GUARDIANS)
        .map(|i| m.wallet(wallet::GUARDIAN0 + i))
        .chain([m.wallet(wallet::CLINIC), m.wallet(mp.auth)])
        .collect();
    let bits = op.sub(2, 0, 64);
    let mut guardians: Vec<Pubkey> = (0..pool.len())
        .filter(|i| bits & (1 << i) != 0 && (*i != 5 || op.sub(4, 3, 4) == 3))
        .map(|i| pool[i])
        .collect();
    if op.sub(2, 1, 15) == 14 && !guardians.is_empty() {
        guardians.push(guardians[0]);
    }
    let threshold = op.sub(2, 2, guardians.len() as u32 + 2) as u8;
    let own = m.atts_of(p);
    let (scope_kinds, scope_atts) = match op.sub(3, 0, 10) {
        0..=5 => (1 + op.sub(3, 1, 63) as u8, vec![]),
        6..=8 if !own.is_empty() => (0, vec![m.atts[own[op.a[3] as usize / 256 % own.len()]].key]),
        6..=8 => (kind_bit(0), vec![]),
        _ => (0, vec![]),
    };
    let max_secs = match op.sub(3, 2, 10) {
        9 => 0,
        8 => MAX_EMERGENCY + 1,
        5..=7 => MAX_EMERGENCY,
        _ => HOUR * i64::from(1 + op.sub(3, 3, 24)),
    };
    let timelock = match op.sub(4, 0, 10) {
        9 => 23 * HOUR,
        8 => 31 * DAY,
        _ => DAY * i64::from(1 + op.sub(4, 1, 4)),
    };
    let (key_grant, grant_ok) = key_grant_variant(op.sub(4, 2, 30));
    let me = m.wallet(mp.auth);
    let validate = || {
        let n = guardians.len();
        req(
            (1..=7).contains(&n) && threshold >= 1 && usize::from(threshold) <= n,
            E::InvalidGuardians,
        )?;
        for (i, g) in guardians.iter().enumerate() {
            req(
                *g != Pubkey::default() && *g != me && !guardians[..i].contains(g),
                E::InvalidGuardians,
            )?;
        }
        scope_valid(scope_kinds, &scope_atts)?;
        req(
            max_secs > 0 && max_secs <= MAX_EMERGENCY,
            E::InvalidEmergencyTerms,
        )?;
        req((DAY..=30 * DAY).contains(&timelock), E::InvalidTimelock)?;
        grant_ok
    };
    let expect = if change {
        if exists {
            req(signer == mp.auth, E::NotPatientAuthority).and_then(|_| validate())
        } else {
            Err(not_initialized())
        }
    } else {
        // The guardianship is created first thing in the handler (`create::pda`, audit
        // finding 9), after the patient's `has_one`.
        req(signer == mp.auth, E::NotPatientAuthority)
            .and(if exists { Err(IN_USE) } else { Ok(()) })
            .and_then(|_| validate())
    };
    let args = rekam::GuardiansArgs {
        guardians: guardians.clone(),
        threshold,
        emergency_scope: rekam::ConsentScope {
            kinds: scope_kinds,
            attestations: scope_atts.clone(),
        },
        emergency_max_seconds: max_secs,
        recovery_timelock_seconds: timelock,
        key_grant,
    };
    let (pid, auth, key) = (cx.pid(), m.wallet(signer), mp.key);
    let tx = if change {
        ix::guardians_change(&pid, &auth, &key, args)
    } else {
        ix::guardians_set(&pid, &auth, &key, args)
    };
    let created = [Created {
        addr: pda::guardianship(&pid, &key),
        disc: Some(GUARDIANSHIP_DISC),
    }];
    let creates: &[Created] = if change { &[] } else { &created };
    if cx.submit("guardians_set", tx, signer, expect, creates) {
        crate::invariants::check_authority(cx, p, signer, "guardians_set");
        let now = cx.model.now;
        let mp = &mut cx.model.patients[p];
        let requested = mp.guardians.as_ref().map_or(0, |g| g.requested);
        mp.guardians = Some(Guardians {
            guardians,
            threshold,
            scope_kinds,
            scope_atts,
            max_secs,
            timelock,
            updated_at: now,
            requested,
        });
    }
}

pub fn emergency_request(cx: &mut Ctx, op: &Op) {
    let p = patient_where(cx, op, 0, |p| p.guardians.is_some());
    let m = &cx.model;
    let mp = &m.patients[p];
    let i = if op.sub(1, 0, 10) < 7 {
        0
    } else {
        op.pick(2, m.issuers.len())
    };
    let issuer = &m.issuers[i];
    let signer = if op.chance(3, 90) {
        issuer.auth
    } else {
        wallet::STRANGER
    };
    let limit = mp.guardians.as_ref().map_or(MAX_EMERGENCY, |g| g.max_secs);
    let duration = match op.sub(4, 0, 10) {
        9 => 0,
        8 => limit + 1,
        _ => HOUR * i64::from(1 + op.sub(4, 1, 12)),
    };
    let window = match op.sub(4, 2, 10) {
        9 => 0,
        8 => MAX_WINDOW + 1,
        _ => 60 * i64::from(10 + 11 * op.sub(4, 3, 120)),
    };
    let reason = if op.chance(1, 70) {
        rekam::EmergencyReason::EmergencyTreatment
    } else {
        rekam::EmergencyReason::BreakTheGlass
    };
    let expect = (|| {
        let Some(g) = &mp.guardians else {
            return Err(not_initialized());
        };
        req(signer == issuer.auth, E::NotIssuerAuthority)?;
        req(issuer.active, E::IssuerSuspended)?;
        req(issuer.roles & role::CLINIC != 0, E::NotAClinic)?;
        req(
            duration > 0 && duration <= g.max_secs && window > 0 && window <= MAX_WINDOW,
            E::InvalidEmergencyTerms,
        )
    })();
    let index = mp.guardians.as_ref().map_or(0, |g| g.requested);
    let pid = cx.pid();
    let key = pda::emergency_request(&pid, &mp.key, index);
    let args = rekam::EmergencyRequestArgs {
        reason,
        duration_seconds: duration,
        approval_window_seconds: window,
    };
    let tx = ix::emergency_request(&pid, &m.wallet(signer), &issuer.key, &mp.key, index, args);
    let created = [Created {
        addr: key,
        disc: Some(REQUEST_DISC),
    }];
    let requester = m.wallet(signer);
    if cx.submit("emergency_request", tx, signer, expect, &created) {
        let now = cx.model.now;
        if let Some(g) = cx.model.patients[p].guardians.as_mut() {
            g.requested += 1;
        }
        cx.model.requests.push(Request {
            key,
            patient: p,
            index,
            requester,
            issuer: i,
            duration,
            approve_by: now + window,
            approvals: vec![],
            consent: None,
            ended: false,
        });
    }
}

pub fn emergency_approve(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    if m.requests.is_empty() {
        return;
    }
    let r = recent(op, 0, m.requests.len(), 4);
    let rq = &m.requests[r];
    let signer = guardian_signer(cx, rq.patient, op.sub(1, 0, 10), op.sub(1, 1, 4));
    let who = m.wallet(signer);
    let Some(g) = m.patients[rq.patient].guardians.as_ref() else {
        return;
    };
    let mut approvals = rq.approvals.clone();
    let expect = (|| {
        req(g.guardians.contains(&who), E::NotGuardian)?;
        req(who != rq.requester, E::RequesterCannotApprove)?;
        req(rq.consent.is_none(), E::EmergencyAlreadyGranted)?;
        req(m.now < rq.approve_by, E::RequestExpired)?;
        add_approval(&mut approvals, g, who)
    })();
    let tx = ix::emergency_approve(&cx.pid(), &who, &m.patients[rq.patient].key, &rq.key);
    if cx.submit("emergency_approve", tx, signer, expect, &[]) {
        cx.model.requests[r].approvals = approvals;
    }
}

pub fn emergency_activate(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    if m.requests.is_empty() {
        return;
    }
    let r = recent(op, 0, m.requests.len(), 4);
    let rq = &m.requests[r];
    let p = rq.patient;
    let signer = guardian_signer(cx, p, op.sub(1, 0, 10), op.sub(1, 1, 4));
    let who = m.wallet(signer);
    let Some(g) = m.patients[p].guardians.as_ref() else {
        return;
    };
    let (key_grant, grant_ok) = key_grant_variant(op.sub(2, 0, 30));
    let issuer = &m.issuers[rq.issuer];
    let expect = (|| {
        req(g.guardians.contains(&who), E::NotGuardian)?;
        req(rq.consent.is_none(), E::EmergencyAlreadyGranted)?;
        req(m.now < rq.approve_by, E::RequestExpired)?;
        req(g.met(&rq.approvals), E::ThresholdNotMet)?;
        req(who != rq.requester, E::RequesterCannotApprove)?;
        req(issuer.active, E::IssuerSuspended)?;
        req(
            rq.requester == m.wallet(issuer.auth),
            E::RequesterNotIssuerAuthority,
        )?;
        grant_ok
    })();
    let pid = cx.pid();
    let mp = &m.patients[p];
    let index = mp.consents;
    let consent = pda::consent(&pid, &mp.key, index);
    let key_hash = key_grant.hash;
    let tx = ix::emergency_activate(&pid, &who, &mp.key, &rq.key, &issuer.key, index, key_grant);
    let created = [Created {
        addr: consent,
        disc: Some(CONSENT_DISC),
    }];
    let new = Consent::new(
        consent,
        p,
        index,
        rq.requester,
        ETREAT,
        (g.scope_kinds, g.scope_atts.clone()),
        (m.now, m.now + rq.duration.min(g.max_secs)),
        key_hash,
    );
    if cx.submit("emergency_activate", tx, signer, expect, &created) {
        let model = &mut cx.model;
        model.patients[p].consents += 1;
        model.consents.push(new);
        model.requests[r].consent = Some(model.consents.len() - 1);
    }
}

pub fn emergency_end(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    if m.requests.is_empty() {
        return;
    }
    let r = recent(op, 0, m.requests.len(), 4);
    let rq = &m.requests[r];
    let p = rq.patient;
    let mp = &m.patients[p];
    let signer = match op.sub(1, 0, 10) {
        0..=3 => mp.auth,
        4..=6 => wallet::GUARDIAN0 + op.sub(1, 1, 4) as usize,
        7 => wallet::STRANGER,
        8 => mp.old.last().copied().unwrap_or(wallet::STRANGER2),
        _ => wallet::CLINIC,
    };
    let who = m.wallet(signer);
    let Some(g) = mp.guardians.as_ref() else {
        return;
    };
    // Before a grant the request names no consent: any consent is the wrong one.
    let c = rq.consent.unwrap_or(0);
    let consent = &m.consents[c];
    let expect = (|| {
        present(!consent.closed)?;
        req(rq.consent.is_some(), E::EmergencyNotActive)?;
        req(
            who == m.wallet(mp.auth) || g.guardians.contains(&who),
            E::NotPatientOrGuardian,
        )?;
        req(
            !rq.ended && consent.active(m.now).is_ok(),
            E::EmergencyNotActive,
        )
    })();
    let tx = ix::emergency_end(&cx.pid(), &who, &mp.key, &rq.key, &consent.key);
    if cx.submit("emergency_end", tx, signer, expect, &[]) {
        let now = cx.model.now;
        cx.model.consents[c].revoked_at = now;
        cx.model.requests[r].ended = true;
    }
}

pub fn recovery_propose(cx: &mut Ctx, op: &Op) {
    let p = patient_where(cx, op, 0, |p| p.guardians.is_some() && p.recovery.is_none());
    let signer = guardian_signer(cx, p, op.sub(1, 0, 10), op.sub(1, 1, 4));
    let mp = &cx.model.patients[p];
    let new_auth = match op.sub(2, 0, 10) {
        9 => mp.auth,
        8 if !mp.old.is_empty() => mp.old[0],
        _ => cx.new_wallet(),
    };
    let m = &cx.model;
    let mp = &m.patients[p];
    let who = m.wallet(signer);
    let mut rec = Recovery {
        proposer: who,
        new_auth,
        proposed_at: m.now,
        approvals: vec![],
        unlocks_at: 0,
        locked_at: 0,
    };
    let expect = (|| {
        let Some(g) = &mp.guardians else {
            return Err(not_initialized());
        };
        req(new_auth != mp.auth, E::SameWallet)?;
        add_approval(&mut rec.approvals, g, who)?;
        rec.relock(g, m.now);
        if mp.recovery.is_some() {
            return Err(IN_USE);
        }
        Ok(())
    })();
    let pid = cx.pid();
    let tx = ix::recovery_propose(&pid, &who, &mp.key, m.wallet(new_auth));
    let created = [Created {
        addr: pda::recovery(&pid, &mp.key),
        disc: Some(RECOVERY_DISC),
    }];
    if cx.submit("recovery_propose", tx, signer, expect, &created) {
        cx.model.patients[p].recovery = Some(rec);
    }
}

pub fn recovery_approve(cx: &mut Ctx, op: &Op) {
    let p = patient_where(cx, op, 0, |p| p.recovery.is_some());
    let m = &cx.model;
    let mp = &m.patients[p];
    let signer = guardian_signer(cx, p, op.sub(1, 0, 10), op.sub(1, 1, 4));
    let who = m.wallet(signer);
    let mut rec = mp.recovery.clone();
    let expect = (|| {
        let (Some(g), Some(rec)) = (&mp.guardians, rec.as_mut()) else {
            return Err(not_initialized());
        };
        add_approval(&mut rec.approvals, g, who)?;
        rec.relock(g, m.now);
        Ok(())
    })();
    let tx = ix::recovery_approve(&cx.pid(), &who, &mp.key);
    if cx.submit("recovery_approve", tx, signer, expect, &[]) {
        cx.model.patients[p].recovery = rec;
    }
}

pub fn recovery_cancel(cx: &mut Ctx, op: &Op) {
    let p = patient_where(cx, op, 0, |p| p.recovery.is_some());
    let m = &cx.model;
    let mp = &m.patients[p];
    let signer = match op.sub(1, 0, 10) {
        0..=3 => mp.auth,
        4..=7 => wallet::GUARDIAN0 + op.sub(1, 1, 4) as usize,
        8 => wallet::STRANGER,
        _ => mp.old.last().copied().unwrap_or(wallet::CLINIC),
    };
    let who = m.wallet(signer);
    let expect = (|| {
        let (Some(g), Some(rec)) = (&mp.guardians, &mp.recovery) else {
            return Err(not_initialized());
        };
        if signer != mp.auth {
            req(g.guardians.contains(&who), E::NotPatientOrGuardian)?;
            req(rec.stale(g, m.now), E::RecoveryStillPending)?;
        }
        Ok(())
    })();
    let proposer = mp.recovery.as_ref().map_or(who, |r| r.proposer);
    let pid = cx.pid();
    let tx = ix::recovery_cancel(&pid, &who, &mp.key, &proposer);
    let key = pda::recovery(&pid, &mp.key);
    if cx.submit("recovery_cancel", tx, signer, expect, &[]) {
        if cx.exists(&key) {
            cx.flag(
                "5 half-initialized",
                format!("recovery {key} open after cancel"),
            );
        }
        cx.model.patients[p].recovery = None;
    }
}

pub fn recovery_execute(cx: &mut Ctx, op: &Op) {
    let p = patient_where(cx, op, 0, |p| p.recovery.is_some());
    let m = &cx.model;
    let mp = &m.patients[p];
    let signer = match (op.sub(1, 0, 10), &mp.recovery) {
        (0..=7, Some(r)) => r.new_auth,
        (9, _) => mp.auth,
        _ => wallet::STRANGER,
    };
    let who = m.wallet(signer);
    let expect = (|| {
        let (Some(g), Some(rec)) = (&mp.guardians, &mp.recovery) else {
            return Err(not_initialized());
        };
        req(signer == rec.new_auth, E::NotNewAuthority)?;
        req(rec.unlocks_at != 0, E::ThresholdNotMet)?;
        req(rec.holds(g), E::RecoveryLockVoid)?;
        req(m.now >= rec.unlocks_at, E::TimelockActive)?;
        req(
            m.now <= rec.unlocks_at + EXECUTION_WINDOW,
            E::RecoveryExpired,
        )
    })();
    let proposer = mp.recovery.as_ref().map_or(who, |r| r.proposer);
    let pid = cx.pid();
    let tx = ix::recovery_execute(&pid, &who, &mp.key, &proposer, random32());
    let key = pda::recovery(&pid, &mp.key);
    if cx.submit("recovery_execute", tx, signer, expect, &[]) {
        if cx.exists(&key) {
            cx.flag(
                "5 half-initialized",
                format!("recovery {key} open after execute"),
            );
        }
        let mp = &mut cx.model.patients[p];
        let old = mp.auth;
        mp.old.retain(|w| *w != signer);
        mp.old.push(old);
        mp.auth = signer;
        mp.recovery = None;
    }
}
