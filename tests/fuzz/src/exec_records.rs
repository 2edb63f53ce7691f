//! Issuers, attestations, consents and reads: accredit, suspend/reinstate, issue, revoke,
//! grant, revoke/extend/re-key, access_record, and clock jumps. Each function resolves
//! its operation against the model, predicts the outcome in the handler's check order,
//! submits, and applies the model's transition when the chain accepted it.

use anchor_lang::error::ErrorCode as Anchor;
use rekam::RekamError as E;
use rekam_tests::{ix, pda, random32};

use crate::exec::{patient_signer, wallet_of};
use crate::model::*;
use crate::ops::Op;
use crate::world::{Created, Ctx};

const ISSUER_DISC: u8 = 2;
const ATTESTATION_DISC: u8 = 4;
const CONSENT_DISC: u8 = 5;
const RECEIPT_DISC: u8 = 6;

pub fn clock_jump(cx: &mut Ctx, op: &Op) {
    let n = i64::from(op.a[1] % 1000);
    let seconds = match op.sub(0, 0, 10) {
        0..=4 => 1 + n % 120,
        5 | 6 => 60 * (1 + n % 60),
        7 => HOUR * (1 + n % 24),
        8 => DAY + n * 200,
        _ => 3 * DAY + n * 600,
    };
    cx.advance(seconds);
}

pub fn issuer_accredit(cx: &mut Ctx, op: &Op) {
    if cx.model.issuers.len() >= 8 {
        return;
    }
    let signer = if op.chance(0, 85) {
        wallet::GOV
    } else {
        wallet::STRANGER
    };
    const VALID: [u8; 8] = [1, 2, 4, 8, 16, 1 | 2, 1 | 4, 2 | 16];
    let roles = match op.sub(1, 0, 10) {
        8 => 0,
        9 => 0x20 | role::CLINIC,
        r => VALID[r as usize],
    };
    let zero_key = op.sub(1, 1, 20) == 19;
    let expect = req(signer == wallet::GOV, E::NotGovernanceAuthority)
        .and_then(|_| req(roles != 0 && roles & !role::ALL == 0, E::InvalidRoles))
        .and_then(|_| req(!zero_key, E::InvalidEncryptionKey));
    let auth = cx.new_wallet();
    let hash = random32();
    let args = rekam::IssuerAccreditArgs {
        registry_id_hash: hash,
        issuer_authority: cx.model.wallet(auth),
        encryption_key: if zero_key { [0; 32] } else { random32() },
        roles,
    };
    let key = pda::issuer(&cx.pid(), &hash);
    let tx = ix::issuer_accredit(&cx.pid(), &cx.payer(), &cx.model.wallet(signer), args);
    let created = [Created {
        addr: key,
        disc: Some(ISSUER_DISC),
    }];
    if cx.submit("issuer_accredit", tx, signer, expect, &created) {
        let now = cx.model.now;
        cx.model.issuers.push(Issuer {
            key,
            auth,
            roles,
            active: true,
            issued: 0,
            changed_at: now,
            void_from: 0,
            void_until: 0,
        });
    }
}

/// A `void_from` for a reinstatement, from a choice in `0..20`: half the time `None`
/// (restore all); else a time before, at the edges of, inside or after the valid range
/// `0..=suspended_at`, often the issue time of one of the issuer's attestations (the
/// window is half-open: `from == issued_at` voids it, `issued_at + 1` does not).
fn void_from(m: &Model, i: usize, op: &Op) -> Option<i64> {
    let issuer = &m.issuers[i];
    let mine: Vec<i64> = m
        .atts
        .iter()
        .filter(|a| a.issuer == i)
        .map(|a| a.issued_at)
        .collect();
    let issued = if mine.is_empty() {
        issuer.changed_at - HOUR
    } else {
        mine[(op.a[3] as usize / 256) % mine.len()]
    };
    let suspended_at = issuer.changed_at;
    Some(match op.sub(3, 0, 20) {
        0..=9 => return None,
        10 => -1 - i64::from(op.sub(3, 1, 100)) * DAY,
        11 => 0,
        12..=14 => issued,
        15 => issued + 1,
        16 => issued - 1,
        17 => suspended_at,
        18 => suspended_at + 1,
        _ => m.now + i64::from(op.sub(3, 1, 100)),
    })
}

pub fn issuer_govern(cx: &mut Ctx, op: &Op) {
    let i = op.pick(0, cx.model.issuers.len());
    let active = cx.model.issuers[i].active;
    // Mostly the real transition (suspend an active issuer, reinstate a suspended one).
    let suspend = (op.sub(1, 0, 100) < 80) == active;
    let signer = if op.chance(2, 90) {
        wallet::GOV
    } else {
        wallet::STRANGER
    };
    let void = if suspend {
        None
    } else {
        void_from(&cx.model, i, op)
    };
    let changed_at = cx.model.issuers[i].changed_at;
    let expect = req(signer == wallet::GOV, E::NotGovernanceAuthority).and_then(|_| {
        if suspend {
            req(active, E::IssuerSuspended)
        } else {
            req(!active, E::IssuerNotSuspended).and_then(|_| match void {
                Some(t) => req((0..=changed_at).contains(&t), E::InvalidVoidWindow),
                None => Ok(()),
            })
        }
    });
    let (pid, gov, key) = (cx.pid(), cx.model.wallet(signer), cx.model.issuers[i].key);
    let tx = if suspend {
        ix::issuer_suspend(&pid, &gov, &key)
    } else {
        ix::issuer_reinstate_voiding(&pid, &gov, &key, void)
    };
    if cx.submit("issuer_govern", tx, signer, expect, &[]) {
        let now = cx.model.now;
        let issuer = &mut cx.model.issuers[i];
        if let Some(t) = void {
            issuer.void_since(t);
        }
        issuer.active = !suspend;
        issuer.changed_at = now;
    }
}

pub fn attestation_issue(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let i = op.pick(0, m.issuers.len());
    let p = op.pick(1, m.patients.len());
    let roles = m.issuers[i].roles;
    let allowed: Vec<u8> = (0..6).filter(|k| allowed_roles(*k) & roles != 0).collect();
    let kind = if op.chance(2, 85) && !allowed.is_empty() {
        allowed[(op.a[2] as usize / 100) % allowed.len()]
    } else {
        (op.a[2] / 100 % 7) as u8
    };
    let signer = if op.chance(3, 92) {
        m.issuers[i].auth
    } else {
        wallet::STRANGER
    };
    let today = m.today() as u16;
    let future = op.sub(4, 2, 100) >= 96;
    let treatment_day = if future { today + 1 } else { today - 1 };
    let expires_on_day = match op.sub(4, 0, 10) {
        0..=5 => 0,
        6 => today,
        7 => today + 1,
        8 => today + 3,
        _ => today + 40,
    };
    let dup = (0..m.atts.len())
        .rev()
        .find(|&a| m.atts[a].issuer == i && m.atts[a].evidence != [0; 32])
        .filter(|_| op.sub(4, 1, 25) == 24);
    let evidence = dup.map(|a| m.atts[a].evidence).unwrap_or_else(random32);
    let issuer = &m.issuers[i];
    // Anchor creates `init` accounts before it checks the other accounts' constraints.
    let expect = (if dup.is_some() { Err(IN_USE) } else { Ok(()) })
        .and_then(|_| req(signer == issuer.auth, E::NotIssuerAuthority))
        .and_then(|_| req(issuer.active, E::IssuerSuspended))
        .and_then(|_| req(allowed_roles(kind) & roles != 0, E::RoleNotAllowedForKind))
        .and_then(|_| req(kind != ETHICS, E::SubjectMismatch))
        .and_then(|_| req(!future, E::TreatmentDateInFuture))
        .and_then(|_| {
            req(
                expires_on_day == 0 || expires_on_day > today,
                E::ExpiryNotInFuture,
            )
        });
    let args = rekam::AttestationIssueArgs {
        evidence_commitment: evidence,
        kind: kind_of(kind),
        diagnosis_commitment: random32(),
        claims_root: random32(),
        treatment_day,
        expires_on_day,
    };
    let (pid, issuer_key, patient_key) = (cx.pid(), m.issuers[i].key, m.patients[p].key);
    let key = pda::attestation(&pid, &issuer_key, &evidence);
    let tx = ix::attestation_issue(
        &pid,
        &cx.payer(),
        &m.wallet(signer),
        &issuer_key,
        &patient_key,
        args,
    );
    let created = [Created {
        addr: key,
        disc: Some(ATTESTATION_DISC),
    }];
    if cx.submit("attestation_issue", tx, signer, expect, &created) {
        let now = cx.model.now;
        cx.model.issuers[i].issued += 1;
        cx.model.atts.push(Att {
            key,
            kind,
            issuer: i,
            patient: Some(p),
            evidence,
            expires_on_day,
            treatment_day,
            issued_at: now,
            revoked: false,
        });
    }
}

pub fn kind_of(kind: u8) -> rekam::AttestationKind {
    use rekam::AttestationKind::*;
    [
        Diagnosis,
        LabResult,
        Prescription,
        Vaccination,
        Imaging,
        Other,
        EthicsApproval,
    ][usize::from(kind)]
}

pub fn purpose_of(purpose: u8) -> rekam::Purpose {
    use rekam::Purpose::*;
    [
        Treatment,
        EmergencyTreatment,
        Research,
        Payment,
        Operations,
        PublicHealth,
        PatientRequested,
        Coverage,
    ][usize::from(purpose)]
}

pub fn attestation_revoke(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let a = op.pick(0, m.atts.len());
    let att = &m.atts[a];
    let (issuer, signer) = match op.sub(1, 0, 10) {
        0..=7 => (att.issuer, m.issuers[att.issuer].auth),
        8 => (att.issuer, wallet::STRANGER),
        _ => {
            let j = (att.issuer + 1) % m.issuers.len();
            (j, m.issuers[j].auth)
        }
    };
    let expect = req(signer == m.issuers[issuer].auth, E::NotIssuerAuthority)
        .and_then(|_| req(issuer == att.issuer, E::IssuerMismatch))
        .and_then(|_| req(!att.revoked, E::AttestationAlreadyRevoked));
    let tx = ix::attestation_revoke(
        &cx.pid(),
        &m.wallet(signer),
        &m.issuers[issuer].key,
        &att.key,
    );
    if cx.submit("attestation_revoke", tx, signer, expect, &[]) {
        cx.model.atts[a].revoked = true;
    }
}

/// A key grant from a choice in `0..30`: 27 zero hash, 28 empty locator, 29 a 129-byte
/// locator, else valid. Returns it with its prediction.
pub fn key_grant_variant(choice: u32) -> (rekam::KeyGrant, Pred) {
    let mut g = rekam::KeyGrant {
        hash: random32(),
        locator: "fuzz:grant".into(),
    };
    let expect = match choice {
        27 => {
            g.hash = [0; 32];
            Err(E::InvalidKeyGrant.code())
        }
        28 => {
            g.locator.clear();
            Err(E::LocatorTooLong.code())
        }
        29 => {
            g.locator = "x".repeat(129);
            Err(E::LocatorTooLong.code())
        }
        _ => Ok(()),
    };
    (g, expect)
}

/// The scope rules: not empty, defined kinds, at most 8 distinct attestations.
pub fn scope_valid(kinds: u8, atts: &[anchor_lang::prelude::Pubkey]) -> Pred {
    req(kinds != 0 || !atts.is_empty(), E::EmptyScope)?;
    req(kinds & !RECORD_KINDS == 0, E::InvalidKinds)?;
    req(atts.len() <= 8, E::TooManyAttestations)?;
    for (i, a) in atts.iter().enumerate() {
        req(!atts[..i].contains(a), E::DuplicateAttestationInScope)?;
    }
    Ok(())
}

pub fn consent_grant(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let p = op.pick(0, m.patients.len());
    let signer = patient_signer(cx, p, op.sub(1, 0, 20));
    const GRANTEES: [usize; 5] = [
        wallet::DOCTOR,
        wallet::RESEARCHER,
        wallet::CLINIC,
        wallet::LAB,
        wallet::STRANGER,
    ];
    let grantee = m.wallet(GRANTEES[op.sub(1, 1, 5) as usize]);
    let purpose = op.sub(1, 2, u32::from(PURPOSES)) as u8;
    let kinds = match op.sub(2, 0, 10) {
        0..=5 => op.sub(2, 1, 64) as u8,
        6 => 0,
        7 => 0x40 | op.sub(2, 1, 64) as u8,
        _ => 0,
    };
    let own = m.atts_of(p);
    let mut atts = Vec::new();
    let n = if op.sub(2, 3, 30) == 29 {
        9
    } else {
        op.sub(2, 2, 4)
    };
    for j in 0..n {
        let pick = (op.a[3] as usize).wrapping_add(j as usize * 7919);
        let key = if !own.is_empty() && op.sub(4, 1, 10) < 7 {
            m.atts[own[pick % own.len()]].key
        } else {
            m.atts[pick % m.atts.len()].key
        };
        atts.push(key);
    }
    if op.sub(4, 2, 25) == 24 && !atts.is_empty() {
        atts.push(atts[0]);
    }
    let now = m.now;
    let x = i64::from(op.a[4] % 1000);
    let (starts_at, expires_at) = match op.sub(3, 1, 10) {
        0..=5 => (now - x % 100, now + HOUR + x * 800),
        6 => (now + HOUR, now + 2 * DAY),
        7 => (now - 10, now),
        8 => (now, now),
        _ => (now, now + 60 + x % 540),
    };
    let (key_grant, grant_ok) = key_grant_variant(op.sub(4, 0, 30));
    let mp = &m.patients[p];
    let expect = req(signer == mp.auth, E::NotPatientAuthority)
        .and_then(|_| scope_valid(kinds, &atts))
        .and(grant_ok)
        .and_then(|_| req(starts_at < expires_at && expires_at > now, E::InvalidPeriod));
    let index = mp.consents;
    let key = pda::consent(&cx.pid(), &mp.key, index);
    let key_hash = key_grant.hash;
    let args = rekam::ConsentGrantArgs {
        grantee,
        purpose: purpose_of(purpose),
        scope: rekam::ConsentScope {
            kinds,
            attestations: atts.clone(),
        },
        starts_at,
        expires_at,
        key_grant,
    };
    let tx = ix::consent_grant(&cx.pid(), &m.wallet(signer), &mp.key, index, args);
    let created = [Created {
        addr: key,
        disc: Some(CONSENT_DISC),
    }];
    if cx.submit("consent_grant", tx, signer, expect, &created) {
        crate::invariants::check_authority(cx, p, signer, "consent_grant");
        cx.model.patients[p].consents += 1;
        cx.model.consents.push(Consent::new(
            key,
            p,
            index,
            grantee,
            purpose,
            (kinds, atts),
            (starts_at, expires_at),
            key_hash,
        ));
    }
}

pub fn consent_change(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let c = op.pick(0, m.consents.len());
    let consent = &m.consents[c];
    let p = consent.patient;
    let wrong_profile = op.sub(1, 2, 15) == 14;
    let profile = if wrong_profile {
        (p + 1) % m.patients.len()
    } else {
        p
    };
    let signer = if wrong_profile {
        m.patients[profile].auth
    } else {
        patient_signer(cx, p, op.sub(1, 1, 20))
    };
    let action = op.sub(1, 0, 3);
    let new_expiry = consent.expires_at - 2 * DAY
        + i64::from(op.sub(2, 0, 12)) * DAY
        + i64::from(op.sub(2, 1, 100));
    let (key_grant, grant_ok) = key_grant_variant(op.sub(2, 2, 30));
    let open = req(consent.revoked_at == 0, E::ConsentRevoked);
    // A closed consent fails to deserialize, before any constraint is checked.
    let expect = present(!consent.closed)
        .and_then(|_| req(signer == m.patients[profile].auth, E::NotPatientAuthority))
        .and_then(|_| {
            if profile == p {
                Ok(())
            } else {
                Err(anchor(Anchor::ConstraintSeeds))
            }
        })
        .and_then(|_| match action {
            0 => open,
            1 => open.and_then(|_| req(new_expiry > consent.expires_at, E::ExtensionNotLater)),
            _ => grant_ok.and(open),
        });
    let (pid, auth, profile_key, key) = (
        cx.pid(),
        m.wallet(signer),
        m.patients[profile].key,
        consent.key,
    );
    let key_hash = key_grant.hash;
    let tx = match action {
        0 => ix::consent_revoke(&pid, &auth, &profile_key, &key),
        1 => ix::consent_extend(&pid, &auth, &profile_key, &key, new_expiry),
        _ => ix::consent_update_key_grant(&pid, &auth, &profile_key, &key, key_grant),
    };
    if cx.submit("consent_change", tx, signer, expect, &[]) {
        crate::invariants::check_authority(cx, p, signer, "consent_change");
        let now = cx.model.now;
        let c = &mut cx.model.consents[c];
        match action {
            0 => c.revoked_at = now,
            1 => c.expires_at = new_expiry,
            _ => c.key_hash = key_hash,
        }
    }
}

pub fn access_record(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let now = m.now;
    let active: Vec<usize> = (0..m.consents.len())
        .filter(|&i| !m.consents[i].closed && m.consents[i].active(now).is_ok())
        .collect();
    let c = if op.chance(0, 60) && !active.is_empty() {
        active[(op.a[0] as usize / 100) % active.len()]
    } else {
        (op.a[0] as usize / 100) % m.consents.len()
    };
    let consent = &m.consents[c];
    let accessor = match op.sub(1, 0, 10) {
        0..=6 => wallet_of(cx, &consent.grantee),
        7 => wallet::STRANGER,
        8 => wallet::DOCTOR,
        _ => wallet::RESEARCHER,
    };
    let own = m.atts_of(consent.patient);
    let in_scope: Vec<usize> = own
        .iter()
        .copied()
        .filter(|&a| consent.covers(&m.atts[a]))
        .collect();
    let pick = op.a[2] as usize;
    let a = match op.sub(1, 1, 10) {
        0..=6 if !in_scope.is_empty() => in_scope[pick % in_scope.len()],
        0..=8 if !own.is_empty() => own[pick % own.len()],
        _ => pick % m.atts.len(),
    };
    let att = &m.atts[a];
    let purpose = if op.sub(1, 2, 10) < 8 {
        consent.purpose
    } else {
        op.sub(1, 3, u32::from(PURPOSES)) as u8
    };
    let profile = if op.sub(3, 0, 20) == 19 {
        (consent.patient + 1) % m.patients.len()
    } else {
        consent.patient
    };
    let issuer = if op.sub(3, 1, 20) == 19 {
        (att.issuer + 1) % m.issuers.len()
    } else {
        att.issuer
    };
    let expect = (|| {
        // A closed consent: AccountNotInitialized (3012), and no receipt.
        present(!consent.closed)?;
        if profile != consent.patient {
            return Err(anchor(Anchor::ConstraintSeeds));
        }
        req(m.wallet(accessor) == consent.grantee, E::NotGrantee)?;
        req(issuer == att.issuer, E::IssuerMismatch)?;
        req(att.patient == Some(profile), E::PatientMismatch)?;
        consent.active(now)?;
        req(purpose == consent.purpose, E::PurposeMismatch)?;
        if purpose != ETREAT {
            m.att_active(att)?;
        }
        req(consent.covers(att), E::OutOfScope)
    })();
    let pid = cx.pid();
    let receipt = pda::access_receipt(&pid, &consent.key, consent.accesses);
    let tx = ix::access_record(
        &pid,
        &m.wallet(accessor),
        &m.patients[profile].key,
        &consent.key,
        &att.key,
        &m.issuers[issuer].key,
        consent.accesses,
        purpose_of(purpose),
    );
    let created = [Created {
        addr: receipt,
        disc: Some(RECEIPT_DISC),
    }];
    let accessor_key = m.wallet(accessor);
    if cx.submit("access_record", tx, accessor, expect, &created) {
        crate::invariants::check_receipt(cx, c, a, &receipt, &accessor_key);
        let p = cx.model.consents[c].patient;
        cx.model.consents[c].accesses += 1;
        cx.model.patients[p].accesses += 1;
    }
}
