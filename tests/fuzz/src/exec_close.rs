//! Closing for rent: `consent_close` (an ended consent, rent to the patient's wallet) and
//! `receipt_close` (a receipt of an ended or closed consent, rent back to its reader),
//! from the patient, strangers, other patients, the reader and former wallets, on active,
//! not-yet-started, revoked, expired and closed consents, with the right and wrong rent
//! recipient, indexes and profiles. Every accepted close is checked to the lamport.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use rekam::RekamError as E;
use rekam_tests::{ix, pda};

use crate::exec::{patient_signer, wallet_of};
use crate::model::*;
use crate::ops::Op;
use crate::world::Ctx;

/// Who signs a close, from a choice in `0..20`: mostly the patient's current wallet
/// (`patient_signer`), 10% the consent's grantee (the reader, who would like its
/// rent back), a stranger, another patient or a former wallet.
fn close_signer(cx: &Ctx, c: usize, choice: u32) -> usize {
    let consent = &cx.model.consents[c];
    match choice {
        0..=1 => wallet_of(cx, &consent.grantee),
        n => patient_signer(cx, consent.patient, n),
    }
}

/// A consent: 65% of the time one for which `want` holds (closable now), when there is
/// one; else 70% of the rest one for which `near` holds (the right sort, perhaps still
/// active); else any (active, not yet started, closed).
fn closable(
    cx: &Ctx,
    op: &Op,
    want: impl Fn(&Consent) -> bool,
    near: impl Fn(&Consent) -> bool,
) -> usize {
    let m = &cx.model;
    let n = m.consents.len();
    let with: Vec<usize> = (0..n).filter(|&i| want(&m.consents[i])).collect();
    let nearly: Vec<usize> = (0..n).filter(|&i| near(&m.consents[i])).collect();
    let pick = op.a[0] as usize / 100;
    if op.chance(0, 65) && !with.is_empty() {
        with[pick % with.len()]
    } else if op.chance(4, 70) && !nearly.is_empty() {
        nearly[pick % nearly.len()]
    } else {
        pick % n
    }
}

pub fn consent_close(cx: &mut Ctx, op: &Op) {
    let now = cx.model.now;
    let c = closable(cx, op, |k| !k.closed && k.ended(now), |k| !k.closed);
    let signer = close_signer(cx, c, op.sub(1, 0, 20));
    let m = &cx.model;
    let consent = &m.consents[c];
    let p = consent.patient;
    // Another patient's profile, signed by its wallet: the consent's seeds do not match.
    let profile = if op.sub(1, 1, 12) == 11 {
        (p + 1) % m.patients.len()
    } else {
        p
    };
    let signer = if profile != p && op.chance(2, 50) {
        m.patients[profile].auth
    } else {
        signer
    };
    let expect = present(!consent.closed)
        .and_then(|_| req(signer == m.patients[profile].auth, E::NotPatientAuthority))
        .and_then(|_| {
            if profile == p {
                Ok(())
            } else {
                Err(anchor(Anchor::ConstraintSeeds))
            }
        })
        .and_then(|_| req(consent.ended(now), E::ConsentStillActive));
    let (pid, who, key) = (cx.pid(), m.wallet(signer), consent.key);
    let tx = ix::consent_close(&pid, &who, &m.patients[profile].key, &key);
    let (rent, before) = (cx.held(&key), cx.held(&who).0);
    if cx.submit("consent_close", tx, signer, expect, &[]) {
        crate::invariants::check_authority(cx, p, signer, "consent_close");
        crate::invariants::check_closed(cx, "consent_close", &key, &who, before, rent);
        cx.model.consents[c].closed = true;
        cx.model.gone.insert(key);
    }
}

pub fn receipt_close(cx: &mut Ctx, op: &Op) {
    let now = cx.model.now;
    let receipts = |k: &Consent| k.accesses > k.receipts_closed.len() as u64;
    let c = closable(
        cx,
        op,
        |k| receipts(k) && (k.closed || k.ended(now)),
        |k| receipts(k),
    );
    let signer = close_signer(cx, c, op.sub(1, 0, 20));
    let m = &cx.model;
    let consent = &m.consents[c];
    let p = consent.patient;
    // Mostly a receipt still open; else any index up to one past the last (never made).
    let open: Vec<u64> = (0..consent.accesses)
        .filter(|r| !consent.receipts_closed.contains(r))
        .collect();
    let index = if op.chance(2, 85) && !open.is_empty() {
        open[(op.a[2] as usize / 100) % open.len()]
    } else {
        (op.a[2] as u64 / 100) % (consent.accesses + 1)
    };
    let exists = index < consent.accesses && !consent.receipts_closed.contains(&index);
    // The reader, who receives the rent; or a wrong recipient.
    let reader = wallet_of(cx, &consent.grantee);
    let recipient = match op.sub(3, 0, 10) {
        0..=7 => reader,
        8 => wallet::STRANGER,
        _ => m.patients[p].auth,
    };
    // The seeds the instruction names: this patient's consent number `index`, or another
    // patient's profile (signed by its wallet) or a neighbouring consent number, with
    // this receipt's address put in place of the derived one.
    let (profile, consent_index) = match op.sub(3, 1, 20) {
        19 => ((p + 1) % m.patients.len(), consent.index),
        18 => (p, consent.index + 1),
        _ => (p, consent.index),
    };
    let signer = if profile != p && op.sub(4, 3, 2) == 0 {
        m.patients[profile].auth
    } else {
        signer
    };
    let seeds_match = profile == p && consent_index == consent.index;
    let expect = present(exists)
        .and_then(|_| req(signer == m.patients[profile].auth, E::NotPatientAuthority))
        .and_then(|_| {
            if seeds_match {
                Ok(())
            } else {
                Err(anchor(Anchor::ConstraintSeeds))
            }
        })
        .and_then(|_| req(recipient == reader, E::AccessorMismatch))
        .and_then(|_| req(consent.closed || consent.ended(now), E::ConsentStillActive));
    let pid = cx.pid();
    let receipt = pda::access_receipt(&pid, &consent.key, index);
    let (who, to) = (m.wallet(signer), m.wallet(recipient));
    let mut tx = ix::receipt_close(
        &pid,
        &who,
        &m.patients[profile].key,
        consent_index,
        index,
        &to,
    );
    let derived = pda::consent(&pid, &m.patients[profile].key, consent_index);
    replace_receipt(
        &mut tx,
        &pda::access_receipt(&pid, &derived, index),
        receipt,
    );
    let (rent, before) = (cx.held(&receipt), cx.held(&to).0);
    if cx.submit("receipt_close", tx, signer, expect, &[]) {
        crate::invariants::check_authority(cx, p, signer, "receipt_close");
        crate::invariants::check_closed(cx, "receipt_close", &receipt, &to, before, rent);
        cx.model.consents[c].receipts_closed.insert(index);
        cx.model.gone.insert(receipt);
    }
}

/// Puts `to` where the builder derived `from` (the receipt account).
fn replace_receipt(tx: &mut solana_instruction::Instruction, from: &Pubkey, to: Pubkey) {
    for meta in &mut tx.accounts {
        if meta.pubkey == *from {
            meta.pubkey = to;
        }
    }
}
