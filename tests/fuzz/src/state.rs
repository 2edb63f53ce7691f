//! The periodic full comparison: every account the model knows, read back from the chain
//! and compared field by field (and every modelled absence checked absent). A model that
//! drifts from the chain is caught here even before an outcome goes wrong.

use anchor_lang::prelude::Pubkey;
use rekam_tests::pda;

use crate::world::Ctx;

pub fn check_state(cx: &mut Ctx) {
    let mut problems: Vec<String> = Vec::new();
    let pid = cx.pid();
    let m = &cx.model;
    for i in &m.issuers {
        match cx.decode::<rekam::Issuer>(&i.key) {
            Some(c)
                if (c.status == rekam::IssuerStatus::Active) == i.active
                    && c.roles == i.roles
                    && c.authority == m.wallet(i.auth)
                    && c.attestations_issued == i.issued
                    && c.status_changed_at == i.changed_at
                    && (c.void_from, c.void_until) == (i.void_from, i.void_until) => {}
            other => problems.push(format!("issuer {}: chain {other:?}, model {i:?}", i.key)),
        }
    }
    for a in &m.atts {
        let patient = a.patient.map_or(Pubkey::default(), |p| m.patients[p].key);
        match cx.decode::<rekam::Attestation>(&a.key) {
            Some(c)
                if (c.revoked_at != 0) == a.revoked
                    && c.kind as u8 == a.kind
                    && c.patient == patient
                    && c.issuer == m.issuers[a.issuer].key
                    && c.expires_on_day == a.expires_on_day
                    && c.treatment_day == a.treatment_day
                    && c.issued_at == a.issued_at => {}
            other => problems.push(format!(
                "attestation {}: chain {other:?}, model {a:?}",
                a.key
            )),
        }
    }
    for k in &m.consents {
        // Receipts: each read's account, the reader's, until the patient closed it.
        for r in 0..k.accesses {
            let key = pda::access_receipt(&pid, &k.key, r);
            let chain = cx.decode::<rekam::AccessReceipt>(&key);
            match (k.receipts_closed.contains(&r), &chain) {
                (true, None) => {}
                (false, Some(c))
                    if c.consent == k.key && c.accessor == k.grantee && c.index == r => {}
                _ => problems.push(format!(
                    "receipt {key} ({r} of consent {}): chain {chain:?}, model closed {}",
                    k.key,
                    k.receipts_closed.contains(&r)
                )),
            }
        }
        if k.closed {
            if cx.m.s.w.fx.account(&k.key).is_some() {
                problems.push(format!(
                    "consent {} closed in the model, open on chain",
                    k.key
                ));
            }
            continue;
        }
        match cx.decode::<rekam::Consent>(&k.key) {
            Some(c)
                if c.revoked_at == k.revoked_at
                    && c.expires_at == k.expires_at
                    && c.starts_at == k.starts_at
                    && c.grantee == k.grantee
                    && c.patient == m.patients[k.patient].key
                    && c.index == k.index
                    && c.purpose as u8 == k.purpose
                    && c.scope.kinds == k.kinds
                    && c.scope.attestations == k.atts
                    && c.access_count == k.accesses
                    && (k.key_hash == [0; 32] || c.key_grant.hash == k.key_hash) => {}
            other => problems.push(format!("consent {}: chain {other:?}, model {k:?}", k.key)),
        }
    }
    for p in &m.patients {
        match cx.decode::<rekam::Patient>(&p.key) {
            Some(c)
                if c.authority == m.wallet(p.auth)
                    && c.consents_created == p.consents
                    && c.accesses == p.accesses => {}
            other => problems.push(format!("patient {}: chain {other:?}, model {p:?}", p.key)),
        }
        let gkey = pda::guardianship(&pid, &p.key);
        let chain = cx.decode::<rekam::Guardianship>(&gkey);
        match (&p.guardians, &chain) {
            (None, None) => {}
            (Some(g), Some(c))
                if c.guardians == g.guardians
                    && c.threshold == g.threshold
                    && c.emergency_scope.kinds == g.scope_kinds
                    && c.emergency_scope.attestations == g.scope_atts
                    && c.emergency_max_seconds == g.max_secs
                    && c.recovery_timelock_seconds == g.timelock
                    && c.updated_at == g.updated_at
                    && c.emergencies_requested == g.requested => {}
            _ => problems.push(format!(
                "guardianship {gkey}: chain {chain:?}, model {:?}",
                p.guardians
            )),
        }
        let rkey = pda::recovery(&pid, &p.key);
        let chain = cx.decode::<rekam::Recovery>(&rkey);
        match (&p.recovery, &chain) {
            (None, None) => {}
            (Some(r), Some(c))
                if c.proposer == r.proposer
                    && c.new_authority == m.wallet(r.new_auth)
                    && c.proposed_at == r.proposed_at
                    && c.unlocks_at == r.unlocks_at
                    && c.locked_at == r.locked_at
                    && c.approvals.iter().map(|a| a.guardian).collect::<Vec<_>>()
                        == r.approvals => {}
            _ => problems.push(format!(
                "recovery {rkey}: chain {chain:?}, model {:?}",
                p.recovery
            )),
        }
    }
    for r in &m.requests {
        let consent = r.consent.map_or(Pubkey::default(), |c| m.consents[c].key);
        match cx.decode::<rekam::EmergencyRequest>(&r.key) {
            Some(c)
                if c.approvals.iter().map(|a| a.guardian).collect::<Vec<_>>() == r.approvals
                    && c.consent == consent
                    && c.index == r.index
                    && (c.ended_at != 0) == r.ended
                    && c.requester == r.requester
                    && c.approve_by == r.approve_by
                    && c.duration_seconds == r.duration => {}
            other => problems.push(format!("request {}: chain {other:?}, model {r:?}", r.key)),
        }
    }
    for (wallet, amount) in &m.ata {
        let got = cx.m.wallet_balance(wallet);
        if got != *amount {
            problems.push(format!("wallet {wallet} holds {got}, model {amount}"));
        }
    }
    for p in problems {
        cx.flag("model agrees with chain", p);
    }
    crate::invariants::check_gone(cx);
}
