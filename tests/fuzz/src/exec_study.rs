//! The research market: study open (with its ethics approval), top up, contribute,
//! close. Token movements are predicted to the base unit; the balances themselves are
//! compared after every step by `invariants::check_tokens`.

use anchor_lang::error::ErrorCode as Anchor;
use rekam::RekamError as E;
use rekam_tests::{ix, pda, Market};
use solana_signer::Signer;

use crate::exec::patient_signer;
use crate::model::*;
use crate::ops::Op;
use crate::world::{Created, Ctx};

const ATTESTATION_DISC: u8 = 4;
const CONSENT_DISC: u8 = 5;
const STUDY_DISC: u8 = 7;
const CONTRIBUTION_DISC: u8 = 8;
const TALLY_DISC: u8 = 12;
/// SPL Token errors: `InsufficientFunds`, `OwnerMismatch`.
const TOKEN_INSUFFICIENT: u32 = 1;
const TOKEN_OWNER_MISMATCH: u32 = 4;

/// Terms from `Market::terms()` (so fields added there keep their defaults), with the
/// fuzzed values over them; `invalid` in 0..10 breaks one rule, anything else none.
fn terms(m: &Market, model: &Model, op: &Op, invalid: u32) -> (rekam::StudyTerms, Terms) {
    let mut t = m.terms();
    let now = model.now;
    let today = model.today() as u16;
    const PRICES: [u64; 6] = [1, 50, 99, 1_000, 10_000, 12_345];
    t.price = PRICES[op.sub(2, 0, 6) as usize];
    t.max_contributions = 1 + op.sub(2, 1, 5);
    t.max_per_patient = 1 + op.sub(2, 2, 3) as u16;
    t.max_per_issuer = match op.sub(2, 3, 6) {
        0..=2 => 0,
        n => n - 2,
    };
    t.criteria.kinds = 1 + op.sub(3, 0, 63) as u8;
    t.criteria.issuer_roles =
        [0, 0, role::CLINIC, role::LAB, role::CLINIC | role::LAB][op.sub(3, 1, 5) as usize];
    let (from, until) = match op.sub(3, 2, 8) {
        0 => (today - 1, 0),
        1 => (today + 1, 0),
        2 => (0, today),
        3 => (today - 1, today + 2),
        _ => (0, 0),
    };
    t.criteria.issued_from_day = from;
    t.criteria.issued_until_day = until;
    t.deadline = now + [HOUR, DAY, 5 * DAY, 20 * DAY, 30 * DAY, 30 * DAY][op.sub(3, 3, 6) as usize];
    t.data_use_until = t.deadline + if op.chance(4, 50) { 0 } else { 10 * DAY };
    match invalid {
        0 => t.price = 0,
        1 => t.max_contributions = 0,
        2 => t.max_per_patient = 0,
        3 => t.criteria.kinds = 0,
        4 => t.criteria.kinds |= 0x40,
        5 => t.criteria.issuer_roles = 0x20,
        6 => (t.criteria.issued_from_day, t.criteria.issued_until_day) = (today, today - 1),
        7 => t.deadline = now,
        8 => t.data_use_until = t.deadline - 1,
        9 => t.encryption_key = [0; 32],
        _ => {}
    }
    let mine = Terms {
        price: t.price,
        max: t.max_contributions,
        per_patient: t.max_per_patient,
        per_issuer: t.max_per_issuer,
        kinds: t.criteria.kinds,
        roles: t.criteria.issuer_roles,
        from_day: t.criteria.issued_from_day,
        until_day: t.criteria.issued_until_day,
        deadline: t.deadline,
        data_use_until: t.data_use_until,
        key_set: t.encryption_key != [0; 32],
    };
    (t, mine)
}

pub fn open(cx: &mut Ctx, op: &Op) {
    if !cx.room(2) || cx.model.studies.len() >= 8 {
        return;
    }
    let model = &cx.model;
    let reuse = (op.sub(0, 0, 20) == 19).then(|| op.pick(1, model.studies.len()));
    let id = reuse.map_or(model.next_study_id, |s| model.studies[s].id);
    let invalid = if op.sub(0, 1, 100) >= 88 {
        op.sub(0, 3, 10)
    } else {
        10
    };
    let (terms, mine) = terms(&cx.m, model, op, invalid);
    let budget = match op.sub(0, 2, 20) {
        19 => 0,
        18 => model.researcher_tokens + 1,
        n => 1_000 * u64::from(5 + n * 3),
    };
    let variant = op.sub(1, 2, 20);
    let today = model.today() as u16;
    let expires = if op.sub(1, 0, 4) == 3 {
        today + 1 + op.sub(1, 1, 10) as u16
    } else {
        0
    };
    let pid = cx.pid();
    let board = &model.issuers[1];
    // The approval the open names: a fresh one for these terms, another study's, or a
    // patient record (not an ethics approval, and by another issuer).
    let approval: Option<usize> = match variant {
        18 => Some(model.studies[op.pick(4, model.studies.len())].approval),
        19 => Some(0),
        _ => {
            let hash = cx.m.terms_hash(id, &terms);
            let key = pda::attestation(&pid, &board.key, &hash);
            let tx = ix::ethics_approval_issue(
                &pid,
                &cx.payer(),
                &model.wallet(board.auth),
                &board.key,
                hash,
                today,
                expires,
            );
            let expect = req(board.active, E::IssuerSuspended);
            let created = [Created {
                addr: key,
                disc: Some(ATTESTATION_DISC),
            }];
            let board_auth = board.auth;
            if cx.submit("ethics_approval_issue", tx, board_auth, expect, &created) {
                let now = cx.model.now;
                cx.model.issuers[1].issued += 1;
                cx.model.atts.push(Att {
                    key,
                    kind: ETHICS,
                    issuer: 1,
                    patient: None,
                    evidence: hash,
                    expires_on_day: expires,
                    treatment_day: today,
                    issued_at: now,
                    revoked: false,
                });
                Some(cx.model.atts.len() - 1)
            } else {
                return open_with(cx, id, terms, mine, budget, None, key, reuse);
            }
        }
    };
    let fresh = variant < 18;
    let key = cx.model.atts[approval.unwrap_or(0)].key;
    open_with(
        cx,
        id,
        terms,
        mine,
        budget,
        approval.map(|a| (a, fresh)),
        key,
        reuse,
    );
}

#[allow(clippy::too_many_arguments)]
fn open_with(
    cx: &mut Ctx,
    id: u64,
    terms: rekam::StudyTerms,
    mine: Terms,
    budget: u64,
    approval: Option<(usize, bool)>,
    approval_key: anchor_lang::prelude::Pubkey,
    reuse: Option<usize>,
) {
    let model = &cx.model;
    let expect = (|| {
        let Some((a, fresh)) = approval else {
            return Err(anchor(Anchor::AccountNotInitialized));
        };
        let att = &model.atts[a];
        req(att.issuer == 1, E::IssuerMismatch)?;
        // The study is created first thing in the handler (`create::pda`, audit finding
        // 9): after the account constraints, before the handler's checks.
        if reuse.is_some() {
            return Err(IN_USE);
        }
        req(mine.valid(model.now), E::InvalidStudyTerms)?;
        req(budget > 0, E::ZeroAmount)?;
        req(att.kind == ETHICS, E::NotEthicsApproval)?;
        req(fresh, E::ApprovalMismatch)?;
        model.att_active(att)?;
        // SPL Token's InsufficientFunds.
        if budget > model.researcher_tokens {
            return Err(TOKEN_INSUFFICIENT);
        }
        Ok(())
    })();
    let pid = cx.pid();
    let study = pda::study(&pid, &cx.m.researcher.pubkey(), id);
    let created = [
        Created {
            addr: study,
            disc: Some(STUDY_DISC),
        },
        Created {
            addr: pda::escrow(&pid, &study),
            disc: None,
        },
    ];
    let tx = cx.m.open_ix(&approval_key, id, terms, budget);
    if cx.submit("study_open", tx, wallet::RESEARCHER, expect, &created) {
        let model = &mut cx.model;
        model.researcher_tokens -= budget;
        model.next_study_id = model.next_study_id.max(id + 1);
        model.studies.push(Study {
            key: study,
            id,
            approval: approval.map_or(0, |a| a.0),
            terms: mine,
            contributions: 0,
            closed: false,
            deposited: budget,
            paid: 0,
            fees: 0,
            refunded: 0,
            escrow: budget,
            paid_atts: Default::default(),
            per_patient: Default::default(),
            per_issuer: Default::default(),
        });
    }
}

/// Checks shared by top-up and contribution: open, before the deadline, approved.
fn study_live(model: &Model, s: &Study) -> Pred {
    req(!s.closed, E::StudyClosed)?;
    req(model.now < s.terms.deadline, E::StudyDeadlinePassed)?;
    req(model.approval_active(s), E::StudyApprovalWithdrawn)
}

/// A study, 70% of the time one that still takes money (when there is one).
fn live_study(model: &Model, op: &Op) -> usize {
    let live: Vec<usize> = (0..model.studies.len())
        .filter(|&s| study_live(model, &model.studies[s]).is_ok())
        .collect();
    if op.chance(0, 70) && !live.is_empty() {
        live[(op.a[0] as usize / 100) % live.len()]
    } else {
        (op.a[0] as usize / 100) % model.studies.len()
    }
}

pub fn top_up(cx: &mut Ctx, op: &Op) {
    let model = &cx.model;
    let s = live_study(model, op);
    let study = &model.studies[s];
    let amount = match op.sub(1, 0, 10) {
        9 => 0,
        8 => model.researcher_tokens + 1,
        n => 1_000 * u64::from(1 + n + op.sub(1, 1, 20)),
    };
    let stranger = !op.chance(2, 85);
    let expect = study_live(model, study)
        .and_then(|_| req(amount > 0, E::ZeroAmount))
        // SPL Token checks the balance before the owner.
        .and(if amount > model.researcher_tokens {
            Err(TOKEN_INSUFFICIENT)
        } else if stranger {
            Err(TOKEN_OWNER_MISMATCH)
        } else {
            Ok(())
        });
    let key = study.key;
    let ok = if stranger {
        // A stranger funding from the researcher's account: the token program refuses.
        let m = &cx.m;
        let tx = ix::study_top_up(
            &m.pid(),
            &model.wallet(wallet::STRANGER),
            &key,
            m.approval_of(&key),
            &m.mint(),
            &m.token_program,
            &m.researcher_token,
            amount,
        );
        cx.submit("study_top_up", tx, wallet::STRANGER, expect, &[])
    } else {
        cx.submit_with("study_top_up", expect, &[], |m| m.top_up(&key, amount))
    };
    if ok {
        let model = &mut cx.model;
        model.researcher_tokens -= amount;
        let study = &mut model.studies[s];
        study.deposited += amount;
        study.escrow += amount;
    }
}

pub fn contribute(cx: &mut Ctx, op: &Op) {
    let model = &cx.model;
    let s = live_study(model, op);
    let p = op.pick(1, model.patients.len());
    let signer = patient_signer(cx, p, op.sub(2, 0, 20));
    let own = model.atts_of(p);
    let pick = op.a[3] as usize;
    let a = if op.sub(2, 1, 10) < 8 && !own.is_empty() {
        own[pick % own.len()]
    } else {
        pick % model.atts.len()
    };
    let att = &model.atts[a];
    let issuer = if op.sub(2, 2, 20) == 19 {
        (att.issuer + 1) % model.issuers.len()
    } else {
        att.issuer
    };
    let study = &model.studies[s];
    let t = study.terms;
    let expect = (|| {
        req(signer == model.patients[p].auth, E::NotPatientAuthority)?;
        req(issuer == att.issuer, E::IssuerMismatch)?;
        req(att.patient == Some(p), E::PatientMismatch)?;
        // The contribution is created first thing in the handler (`create::pda`, audit
        // finding 9): after every account constraint, before every other check.
        if study.paid_atts.contains(&att.key) {
            return Err(IN_USE);
        }
        study_live(model, study)?;
        req(study.contributions < t.max, E::StudyFull)?;
        req(study.escrow >= t.price, E::EscrowShort)?;
        model.att_active(att)?;
        req(
            t.accepts(att, model.issuers[att.issuer].roles),
            E::CriteriaNotMet,
        )?;
        let mine = study.per_patient.get(&p).copied().unwrap_or(0);
        req(mine < u32::from(t.per_patient), E::PatientContributionLimit)?;
        let theirs = study.per_issuer.get(&att.issuer).copied().unwrap_or(0);
        req(
            t.per_issuer == 0 || theirs < t.per_issuer,
            E::IssuerContributionCap,
        )
    })();
    let pid = cx.pid();
    let mp = &model.patients[p];
    let wallet_key = model.wallet(signer);
    let mut created = vec![
        Created {
            addr: pda::contribution(&pid, &study.key, &att.key),
            disc: Some(CONTRIBUTION_DISC),
        },
        Created {
            addr: pda::consent(&pid, &mp.key, mp.consents),
            disc: Some(CONSENT_DISC),
        },
        Created {
            addr: pda::participant(&pid, &study.key, &mp.key),
            disc: Some(TALLY_DISC),
        },
        Created {
            addr: pda::associated_token(&wallet_key, &cx.m.mint(), &cx.m.token_program),
            disc: None,
        },
    ];
    if t.per_issuer != 0 {
        created.push(Created {
            addr: pda::study_issuer(&pid, &study.key, &model.issuers[issuer].key),
            disc: Some(TALLY_DISC),
        });
    }
    let tp = cx.test_patient(p, signer);
    let (study_key, att_key, issuer_key) = (study.key, att.key, model.issuers[issuer].key);
    let approval_ok = model.approval_active(study);
    let already = study.paid_atts.contains(&att_key);
    let tx = cx.m.contribute_ix(&study_key, &tp, &att_key, &issuer_key);
    if !cx.submit("study_contribute", tx, signer, expect, &created) {
        return;
    }
    // Invariant 3, stated directly: a payout is never a second one for this attestation
    // and never made while the study's ethics approval is withdrawn.
    if already {
        cx.flag(
            "3 contribution paid twice",
            format!("{att_key} in {study_key}"),
        );
    }
    if !approval_ok {
        cx.flag(
            "3 payout without an active ethics approval",
            format!("study {study_key}"),
        );
    }
    crate::invariants::check_authority(cx, p, signer, "study_contribute");
    let model = &mut cx.model;
    let fee = model.fee(t.price);
    let payout = t.price - fee;
    *model.ata.entry(wallet_key).or_default() += payout;
    model.treasury += fee;
    let index = model.patients[p].consents;
    model.patients[p].consents += 1;
    let grantee = model.wallet(wallet::RESEARCHER);
    model.consents.push(Consent::new(
        pda::consent(&pid, &model.patients[p].key, index),
        p,
        index,
        grantee,
        RESEARCH,
        (0, vec![att_key]),
        (model.now, t.data_use_until),
        [0; 32],
    ));
    let att_issuer = model.atts[a].issuer;
    let study = &mut model.studies[s];
    study.contributions += 1;
    study.paid += payout;
    study.fees += fee;
    study.escrow -= t.price;
    study.paid_atts.insert(att_key);
    *study.per_patient.entry(p).or_default() += 1;
    if t.per_issuer != 0 {
        *study.per_issuer.entry(att_issuer).or_default() += 1;
    }
}

pub fn close(cx: &mut Ctx, op: &Op) {
    let model = &cx.model;
    let s = op.pick(0, model.studies.len());
    let study = &model.studies[s];
    let closer = if op.chance(1, 30) {
        wallet::RESEARCHER
    } else {
        wallet::STRANGER
    };
    let expect = req(!study.closed, E::StudyClosed).and_then(|_| {
        req(
            closer == wallet::RESEARCHER
                || model.now >= study.terms.deadline
                || !model.approval_active(study),
            E::StudyNotEnded,
        )
    });
    let key = study.key;
    let tx = cx.m.close_ix(&key, &model.wallet(closer));
    if cx.submit("study_close", tx, closer, expect, &[]) {
        let escrow = pda::escrow(&cx.pid(), &key);
        if cx.exists(&escrow) {
            cx.flag(
                "1 tokens",
                format!("escrow {escrow} still open after close"),
            );
        }
        let model = &mut cx.model;
        let study = &mut model.studies[s];
        model.researcher_tokens += study.escrow;
        study.refunded += study.escrow;
        study.escrow = 0;
        study.closed = true;
    }
}
