//! Issuer key rotation and attestation verification: `issuer_rotate_keys` (from the
//! issuer's wallet or a stranger, to a fresh wallet, the same one or another issuer's,
//! with a zero encryption key now and then) and `attestation_verify` (any attestation,
//! with its issuer or another, or an account that is not an attestation), whose return
//! data must be the model's kind and treatment day.

use anchor_lang::error::ErrorCode as Anchor;
use rekam::RekamError as E;
use rekam_tests::{ix, random32};
use solana_signer::Signer;

use crate::model::*;
use crate::ops::Op;
use crate::world::Ctx;

pub fn issuer_rotate_keys(cx: &mut Ctx, op: &Op) {
    let i = op.pick(0, cx.model.issuers.len());
    let auth = cx.model.issuers[i].auth;
    let signer = if op.chance(1, 88) {
        auth
    } else {
        wallet::STRANGER
    };
    let new = match op.sub(2, 0, 10) {
        0..=5 => cx.new_wallet(),
        6 | 7 => auth,
        _ => {
            let j = op.pick(3, cx.model.issuers.len());
            cx.model.issuers[j].auth
        }
    };
    let zero_key = op.sub(2, 1, 20) == 19;
    let expect = req(signer == auth, E::NotIssuerAuthority)
        .and_then(|_| req(!zero_key, E::InvalidEncryptionKey));
    let m = &cx.model;
    let tx = ix::issuer_rotate_keys(
        &cx.pid(),
        &m.wallet(signer),
        &m.wallet(new),
        &m.issuers[i].key,
        if zero_key { [0; 32] } else { random32() },
    );
    let (a, b) = (
        cx.keys[signer].insecure_clone(),
        cx.keys[new].insecure_clone(),
    );
    let signers: Vec<&solana_keypair::Keypair> = if a.pubkey() == b.pubkey() {
        vec![&a]
    } else {
        vec![&a, &b]
    };
    if cx.submit_with("issuer_rotate_keys", expect, &[], |m| {
        m.s.w.fx.send(&[tx], &signers)
    }) {
        cx.model.issuers[i].auth = new;
    }
}

pub fn attestation_verify(cx: &mut Ctx, op: &Op) {
    let m = &cx.model;
    let a = op.pick(0, m.atts.len());
    let att = &m.atts[a];
    let issuer = if op.sub(1, 0, 10) == 9 {
        (att.issuer + 1) % m.issuers.len()
    } else {
        att.issuer
    };
    // Now and then a consent (open or closed) where the attestation goes.
    let not_att = (op.sub(1, 1, 20) == 19).then(|| op.pick(2, m.consents.len()));
    let expect = match not_att {
        Some(c) => {
            present(!m.consents[c].closed).and(Err(anchor(Anchor::AccountDiscriminatorMismatch)))
        }
        None => req(issuer == att.issuer, E::IssuerMismatch).and_then(|_| m.att_active(att)),
    };
    let key = not_att.map_or(att.key, |c| m.consents[c].key);
    let tx = ix::attestation_verify(&cx.pid(), &key, &m.issuers[issuer].key);
    let want = [
        att.kind,
        att.treatment_day.to_le_bytes()[0],
        att.treatment_day.to_le_bytes()[1],
    ];
    let mut returned = None;
    let ok = cx.submit_with("attestation_verify", expect, &[], |m| {
        let r = m.s.w.fx.send(&[tx], &[]);
        if let Ok(out) = &r {
            returned = Some(out.meta.return_data.data.clone());
        }
        r
    });
    if ok && returned.as_deref() != Some(&want[..]) {
        cx.flag(
            "verify returns the model's attestation",
            format!("{key}: returned {returned:?}, model (kind, treatment day) {want:?}"),
        );
    }
}
