//! `--self-test`: shows that every invariant check can fail. Each case corrupts either
//! the model (a wrong expectation) or the chain (a forged account) in a fresh world and
//! asserts that the matching check reports a break.

use rekam_tests::{ix, pda, T0};

use crate::invariants;
use crate::model::wallet;
use crate::ops::{Kind, Op};
use crate::say;
use crate::world::{Created, Ctx, Template};

fn op(kind: Kind, a: [u32; 5]) -> Op {
    Op { kind, a }
}

/// Runs one case; true when a break whose invariant starts with `prefix` was reported.
fn case(t: &Template, name: &str, prefix: &str, f: impl FnOnce(&mut Ctx)) -> bool {
    let mut cx = t.fresh(u64::MAX);
    f(&mut cx);
    let hit = cx.breaks.iter().any(|b| b.invariant.starts_with(prefix));
    say!(
        "self-test {}: {name} -> {}",
        if hit { "ok  " } else { "FAIL" },
        cx.breaks
            .first()
            .map_or("no break".to_string(), |b| format!(
                "[{}] {}",
                b.invariant, b.detail
            ))
    );
    hit
}

/// Every case; returns how many detected their break, and how many there are.
pub fn run(t: &Template) -> (usize, usize) {
    let access = op(Kind::AccessRecord, [0; 5]);
    let contribute = op(Kind::StudyContribute, [0; 5]);
    let results = [
        case(t, "model expects one more deposited token", "1 ", |cx| {
            cx.model.studies[0].deposited += 1;
            invariants::check_tokens(cx);
        }),
        case(
            t,
            "a forged study that paid one token from nowhere",
            "1 ",
            |cx| {
                let key = cx.model.studies[0].key;
                cx.m.s.w.fx.edit::<rekam::Study>(&key, |s| s.paid += 1);
                cx.model.studies[0].paid += 1;
                invariants::check_tokens(cx);
            },
        ),
        case(
            t,
            "model believes the consent revoked, chain reads",
            "2 access receipt",
            |cx| {
                cx.model.consents[0].revoked_at = T0;
                crate::exec::run(cx, access);
            },
        ),
        case(
            t,
            "consent revoked behind the model's back",
            "2 access refused",
            |cx| {
                let p = cx.model.patients[0].key;
                let c = cx.model.consents[0].key;
                let auth = cx.keys[wallet::PATIENT0].insecure_clone();
                let tx = ix::consent_revoke(&cx.pid(), &cx.model.wallet(wallet::PATIENT0), &p, &c);
                cx.m.s.w.fx.send(&[tx], &[&auth]).expect("revoke");
                crate::exec::run(cx, access);
            },
        ),
        case(
            t,
            "model believes the attestation already paid",
            "3 contribution paid twice",
            |cx| {
                let record = cx.model.atts[0].key;
                cx.model.studies[0].paid_atts.insert(record);
                crate::exec::run(cx, contribute);
            },
        ),
        case(
            t,
            "model believes the approval revoked",
            "3 payout without",
            |cx| {
                cx.model.atts[1].revoked = true;
                crate::exec::run(cx, contribute);
            },
        ),
        case(
            t,
            "model believes a recovery moved the wallet",
            "4 consent changed",
            |cx| {
                cx.model.patients[0].auth = wallet::STRANGER2;
                cx.model.patients[0].old = vec![wallet::PATIENT0];
                // ConsentChange: revoke consent 0, signed by the "old" wallet (choice 19).
                crate::exec::run(cx, op(Kind::ConsentChange, [0, 19 << 8, 0, 0, 0]));
            },
        ),
        case(
            t,
            "an account left where a failed transaction tried to create one",
            "5 ",
            |cx| {
                let addr = pda::consent(&cx.pid(), &cx.model.patients[0].key, 1);
                forge(cx, addr, 5);
                let c = [Created {
                    addr,
                    disc: Some(5),
                }];
                invariants::check_created(cx, "self-test", false, &c, &[false]);
            },
        ),
        case(
            t,
            "a created account with the wrong discriminator",
            "5 ",
            |cx| {
                let addr = pda::consent(&cx.pid(), &cx.model.patients[0].key, 1);
                forge(cx, addr, 4);
                let c = [Created {
                    addr,
                    disc: Some(5),
                }];
                invariants::check_created(cx, "self-test", true, &c, &[false]);
            },
        ),
        case(
            t,
            "a consent closed for rent exists again",
            "6 closed account reappeared",
            |cx| {
                let key = close_scene_consent(cx);
                cx.model.consents[0].closed = true;
                cx.model.gone.insert(key);
                forge(cx, key, 5);
                crate::state::check_state(cx);
            },
        ),
        case(
            t,
            "a close that returned one lamport less than the account held",
            "6 rent",
            |cx| {
                let wallet = cx.model.wallet(wallet::PATIENT0);
                let before = cx.held(&wallet).0;
                let held = cx.held(&cx.model.consents[0].key);
                let key = close_scene_consent(cx);
                invariants::check_closed(
                    cx,
                    "self-test",
                    &key,
                    &wallet,
                    before,
                    (held.0 + 1, held.1),
                );
            },
        ),
        case(
            t,
            "governance voided the record's window behind the model's back",
            "2 access refused",
            |cx| {
                let (pid, gov, clinic) = (
                    cx.pid(),
                    cx.model.wallet(wallet::GOV),
                    cx.model.issuers[0].key,
                );
                cx.advance(10);
                let key = cx.keys[wallet::GOV].insecure_clone();
                let txs = [
                    ix::issuer_suspend(&pid, &gov, &clinic),
                    ix::issuer_reinstate_voiding(&pid, &gov, &clinic, Some(T0)),
                ];
                cx.m.s
                    .w
                    .fx
                    .send(&txs, &[&key])
                    .expect("suspend, reinstate voiding");
                crate::exec::run(cx, access);
            },
        ),
        case(
            t,
            "model believes the record revoked",
            "model agrees",
            |cx| {
                cx.model.atts[0].revoked = true;
                crate::state::check_state(cx);
            },
        ),
    ];
    (results.iter().filter(|r| **r).count(), results.len())
}

/// Revokes and closes the scene's consent (consent 0) behind the model's back; its key.
fn close_scene_consent(cx: &mut Ctx) -> anchor_lang::prelude::Pubkey {
    let (pid, p, c) = (cx.pid(), cx.model.patients[0].key, cx.model.consents[0].key);
    let auth = cx.keys[wallet::PATIENT0].insecure_clone();
    let me = cx.model.wallet(wallet::PATIENT0);
    let txs = [
        ix::consent_revoke(&pid, &me, &p, &c),
        ix::consent_close(&pid, &me, &p, &c),
    ];
    cx.m.s.w.fx.send(&txs, &[&auth]).expect("revoke and close");
    c
}

/// Writes a program-owned account whose first byte is `disc` at `addr`.
fn forge(cx: &mut Ctx, addr: anchor_lang::prelude::Pubkey, disc: u8) {
    let mut data = vec![0u8; 64];
    data[0] = disc;
    cx.m.s.w.fx.put(
        addr,
        solana_account::Account {
            lamports: 1_000_000,
            data,
            owner: cx.pid(),
            executable: false,
            rent_epoch: 0,
        },
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_invariant_check_detects_its_break() {
        let (ok, all) = super::run(&crate::world::Template::build());
        assert_eq!(ok, all, "a deliberate break went unnoticed");
    }
}
