//! The invariants, checked against the chain after every step:
//! 1. tokens are conserved per study (escrow + paid + fees + refunds = deposited, on the
//!    real balances), and every balance is the model's;
//! 2. no access receipt outside an active, in-scope consent (and no refusal inside one);
//! 3. no contribution paid twice, no payout without an active ethics approval;
//! 4. only the patient's current wallet changes the patient's consents;
//! 5. no half-initialized account: a failed transaction leaves nothing at the addresses
//!    it tried to create, a successful one leaves each a decodable account;
//! 6. a closed consent or receipt never reappears, and its rent (exactly what it held,
//!    the rent-exempt minimum) went to the patient's wallet or the reader.
//!
//! Every outcome (success, or the exact error) is also compared with the model's
//! prediction, and every modelled account with the chain periodically.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anchor_spl::token_interface::TokenAccount;
use rekam_tests::pda;

use crate::model::Pred;
use crate::ops::Kind;
use crate::world::{Created, Ctx, Got};

/// Which invariant a wrong outcome breaks.
pub fn outcome_invariant(kind: Kind, expect: Pred, got: &Got) -> String {
    let label = match (kind, expect.is_ok(), got == &Got::Ok) {
        (Kind::AccessRecord, false, true) => "2 access receipt outside an active, in-scope consent",
        (Kind::AccessRecord, true, _) => "2 access refused inside an active, in-scope consent",
        (Kind::AccessRecord, _, _) => "2 access refused with another error",
        (Kind::StudyContribute, _, _) => "3 contribution outcome",
        (Kind::ConsentGrant | Kind::ConsentChange, _, _) => "4 consent change outcome",
        (Kind::ConsentClose | Kind::ReceiptClose, _, _) => "6 close outcome",
        _ => "outcome",
    };
    format!("{label} ({})", kind.name())
}

/// Invariant 5 for one submitted instruction.
pub fn check_created(cx: &mut Ctx, what: &str, ok: bool, creates: &[Created], before: &[bool]) {
    let pid = cx.pid();
    for (c, existed) in creates.iter().zip(before) {
        if cx.model.gone.contains(&c.addr) {
            cx.flag(
                "6 closed account reappeared",
                format!("{what} tries to create {}, closed before", c.addr),
            );
        }
        if *existed {
            continue;
        }
        let account = cx.m.s.w.fx.account(&c.addr);
        let problem = match (&account, ok) {
            (Some(a), false) if a.lamports > 0 || !a.data.is_empty() => {
                Some("exists after a failed transaction".to_string())
            }
            (_, false) => None,
            (None, true) => Some("missing after success".to_string()),
            (Some(a), true) => match c.disc {
                Some(d) if a.owner != pid => Some(format!("owner {} (disc {d})", a.owner)),
                Some(d) if a.data.first() != Some(&d) => {
                    Some(format!("discriminator {:?}, expected {d}", a.data.first()))
                }
                Some(d) if !decodes(d, &a.data) => Some(format!("does not decode (disc {d})")),
                None if a.owner != cx.m.token_program
                    || TokenAccount::try_deserialize(&mut a.data.as_slice()).is_err() =>
                {
                    Some("not a token account".to_string())
                }
                _ => None,
            },
        };
        if let Some(problem) = problem {
            cx.flag(
                "5 half-initialized account",
                format!("{what}: {} {problem}", c.addr),
            );
        }
    }
}

/// Whether `data` decodes as the program account type of discriminator `disc`.
pub fn decodes(disc: u8, data: &[u8]) -> bool {
    fn ok<T: AccountDeserialize>(mut data: &[u8]) -> bool {
        T::try_deserialize(&mut data).is_ok()
    }
    match disc {
        2 => ok::<rekam::Issuer>(data),
        4 => ok::<rekam::Attestation>(data),
        5 => ok::<rekam::Consent>(data),
        6 => ok::<rekam::AccessReceipt>(data),
        7 => ok::<rekam::Study>(data),
        8 => ok::<rekam::Contribution>(data),
        9 => ok::<rekam::Guardianship>(data),
        10 => ok::<rekam::EmergencyRequest>(data),
        11 => ok::<rekam::Recovery>(data),
        12 => ok::<rekam::StudyTally>(data),
        _ => false,
    }
}

/// Invariant 1 (and the token side of 3): every study's books balance on the real
/// escrow balance, and every number is the model's.
pub fn check_tokens(cx: &mut Ctx) {
    let pid = cx.pid();
    let mut problems = Vec::new();
    for s in &cx.model.studies {
        let Some(chain) = cx.decode::<rekam::Study>(&s.key) else {
            problems.push(format!("study {} missing", s.key));
            continue;
        };
        let escrow = cx.m.balance(&pda::escrow(&pid, &s.key));
        let out = u128::from(escrow)
            + u128::from(chain.paid)
            + u128::from(chain.fees)
            + u128::from(chain.refunded);
        if out != u128::from(chain.deposited) {
            problems.push(format!(
                "study {}: escrow {escrow} + paid {} + fees {} + refunded {} != deposited {}",
                s.key, chain.paid, chain.fees, chain.refunded, chain.deposited
            ));
        }
        let got = (
            escrow,
            chain.deposited,
            chain.paid,
            chain.fees,
            chain.refunded,
            chain.contributions,
            chain.closed_at != 0,
        );
        let want = (
            s.escrow,
            s.deposited,
            s.paid,
            s.fees,
            s.refunded,
            s.contributions,
            s.closed,
        );
        if got != want {
            problems.push(format!(
                "study {}: chain (escrow, deposited, paid, fees, refunded, contributions, closed) {got:?}, model {want:?}",
                s.key
            ));
        }
    }
    let researcher = cx.m.balance(&cx.m.researcher_token);
    if researcher != cx.model.researcher_tokens {
        problems.push(format!(
            "researcher holds {researcher}, model {}",
            cx.model.researcher_tokens
        ));
    }
    let treasury = cx.m.balance(&pda::treasury(&pid, &cx.m.mint()));
    if treasury != cx.model.treasury {
        problems.push(format!(
            "treasury holds {treasury}, model {}",
            cx.model.treasury
        ));
    }
    for p in problems {
        cx.flag("1 tokens conserved", p);
    }
}

/// After an accepted close: the account is gone (invariant 6 from then on), and
/// `recipient` (which held `before`) gained exactly what it held, `rent` (lamports, data
/// length): the rent-exempt minimum for its size, nothing more, nothing less.
pub fn check_closed(
    cx: &mut Ctx,
    what: &str,
    key: &Pubkey,
    recipient: &Pubkey,
    before: u64,
    rent: (u64, usize),
) {
    let mut problems = Vec::new();
    if cx.m.s.w.fx.account(key).is_some() {
        problems.push(format!("{what}: {key} still exists after the close"));
    }
    let minimum = cx.m.s.w.fx.svm.minimum_balance_for_rent_exemption(rent.1);
    if rent.0 != minimum || rent.1 == 0 {
        problems.push(format!(
            "{what}: {key} held {} lamports for {} bytes, rent-exempt minimum {minimum}",
            rent.0, rent.1
        ));
    }
    let after = cx.held(recipient).0;
    if after != before + rent.0 {
        problems.push(format!(
            "{what}: {recipient} went from {before} to {after} lamports, expected + {}",
            rent.0
        ));
    }
    for p in problems {
        cx.flag("6 rent returned to the right wallet", p);
    }
}

/// Invariant 6: no consent or receipt address closed before exists again.
pub fn check_gone(cx: &mut Ctx) {
    let back: Vec<Pubkey> = cx
        .model
        .gone
        .iter()
        .filter(|k| cx.exists(k))
        .copied()
        .collect();
    for k in back {
        cx.flag(
            "6 closed account reappeared",
            format!("{k} exists again after it was closed"),
        );
    }
}

/// Invariant 4, stated directly: a change to patient `p`'s consents went through, so its
/// signer must be the wallet that controls `p` now.
pub fn check_authority(cx: &mut Ctx, p: usize, signer: usize, what: &str) {
    if signer != cx.model.patients[p].auth {
        let detail = format!(
            "{what} of patient {} accepted from {}, which does not control it",
            cx.model.patients[p].key,
            cx.model.wallet(signer)
        );
        cx.flag(
            "4 consent changed by a wallet that does not control the patient",
            detail,
        );
    }
}

/// Invariant 2, stated directly, for an accepted read: the consent was active, covered
/// the attestation and named the reader; the receipt records exactly that read.
pub fn check_receipt(cx: &mut Ctx, c: usize, a: usize, receipt: &Pubkey, accessor: &Pubkey) {
    let m = &cx.model;
    let (consent, att) = (&m.consents[c], &m.atts[a]);
    let mut problems = Vec::new();
    if consent.active(m.now).is_err() || !consent.covers(att) || consent.grantee != *accessor {
        problems.push(format!(
            "receipt {receipt}: consent {} (active {:?}, covers {}) read by {accessor}",
            consent.key,
            consent.active(m.now),
            consent.covers(att)
        ));
    }
    match cx.decode::<rekam::AccessReceipt>(receipt) {
        Some(r)
            if r.consent == consent.key && r.attestation == att.key && r.accessor == *accessor => {}
        other => problems.push(format!("receipt {receipt} records {other:?}")),
    }
    for p in problems {
        cx.flag("2 access receipt outside an active, in-scope consent", p);
    }
}
