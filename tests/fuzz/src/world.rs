//! The chain side: a template deployment built once (a `rekam-tests` Market plus a lab,
//! three patients, guardians and strangers), cloned into a fresh world in microseconds
//! (LiteSVM is `Clone`), and the executor context every operation runs in.

use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use litesvm::types::FailedTransactionMetadata;
use rekam_tests::{Fixture, Market, Scene, TestIssuer, TestPatient, TxResult, World, SOL};
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

use crate::model::{self, wallet, Model, Pred, ANY};
use crate::ops::Op;

/// What a submitted instruction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Got {
    Ok,
    Code(u32),
    Other(String),
}

impl Got {
    pub fn of<T>(result: &Result<T, FailedTransactionMetadata>) -> Got {
        match result {
            Ok(_) => Got::Ok,
            Err(failed) => match &failed.err {
                TransactionError::InstructionError(_, InstructionError::Custom(c)) => Got::Code(*c),
                other => Got::Other(format!("{other:?}")),
            },
        }
    }

    /// Whether this outcome is what the model predicted.
    pub fn agrees(&self, expect: Pred) -> bool {
        match (expect, self) {
            (Ok(()), Got::Ok) => true,
            (Err(ANY), Got::Code(_) | Got::Other(_)) => true,
            (Err(c), Got::Code(g)) => c == *g,
            _ => false,
        }
    }
}

/// An account an instruction tries to create, and what it must be once created.
#[derive(Clone, Copy, Debug)]
pub struct Created {
    pub addr: Pubkey,
    /// The program account's one-byte discriminator; `None` for an SPL token account.
    pub disc: Option<u8>,
}

/// An invariant break, with the operation that exposed it.
#[derive(Clone, Debug)]
pub struct Break {
    pub invariant: String,
    pub detail: String,
    pub op: Op,
    pub step: usize,
}

/// One world: the chain, the keypairs behind the model's wallets, the model, counters.
pub struct Ctx {
    pub m: Market,
    pub keys: Vec<Keypair>,
    pub model: Model,
    /// Instructions submitted so far (refused ones included).
    pub count: u64,
    /// Submit no more than this many.
    pub limit: u64,
    pub breaks: Vec<Break>,
    pub step: usize,
    pub op: Op,
    /// Outcomes per instruction: (name, "ok" or the error) -> how many.
    pub tally: HashMap<(&'static str, String), u64>,
}

pub struct Template {
    market: Market,
    keys: Vec<Keypair>,
    model: Model,
}

fn clone_issuer(i: &TestIssuer) -> TestIssuer {
    i.insecure_clone()
}

fn clone_market(m: &Market) -> Market {
    let w = &m.s.w;
    let mut svm = w.fx.svm.clone();
    svm.expire_blockhash();
    Market {
        s: Scene {
            w: World {
                fx: Fixture {
                    svm,
                    payer: w.fx.payer.insecure_clone(),
                    program_id: w.fx.program_id,
                },
                governance: w.governance.insecure_clone(),
                mint: w.mint,
            },
            clinic: clone_issuer(&m.s.clinic),
            patient: m.s.patient_clone(),
            record: m.s.record,
            doctor: m.s.doctor.insecure_clone(),
            consent: m.s.consent,
            dest: m.s.dest,
        },
        token_program: m.token_program,
        board: clone_issuer(&m.board),
        researcher: m.researcher.insecure_clone(),
        researcher_token: m.researcher_token,
        study: m.study,
        study_id: m.study_id,
    }
}

impl Template {
    /// Builds the deployment every world starts from (about 60 transactions, once).
    pub fn build() -> Template {
        let mut m = Market::new();
        let lab = m.s.w.accredit(model::role::LAB);
        let p1 = m.s.w.register_patient();
        let p2 = m.s.w.register_patient();
        let fx = &mut m.s.w.fx;
        let strangers = [fx.funded(100 * SOL), fx.funded(100 * SOL)];
        let guardians: Vec<Keypair> = (0..wallet::GUARDIANS)
            .map(|_| fx.funded(100 * SOL))
            .collect();
        for k in [
            m.s.doctor.pubkey(),
            m.researcher.pubkey(),
            m.s.clinic.authority.pubkey(),
            m.board.authority.pubkey(),
            lab.authority.pubkey(),
            m.s.patient.authority.pubkey(),
            p1.authority.pubkey(),
            p2.authority.pubkey(),
        ] {
            fx.svm.airdrop(&k, 100 * SOL).expect("airdrop");
        }
        let mut keys = vec![
            m.s.w.governance.insecure_clone(),
            m.s.clinic.authority.insecure_clone(),
            m.board.authority.insecure_clone(),
            lab.authority.insecure_clone(),
            m.s.doctor.insecure_clone(),
            m.researcher.insecure_clone(),
        ];
        keys.extend(strangers);
        keys.extend(guardians);
        for p in [&m.s.patient, &p1, &p2] {
            keys.push(p.authority.insecure_clone());
        }
        let model = crate::setup::initial_model(&mut m, &keys, &lab, [&p1, &p2]);
        Template {
            market: m,
            keys,
            model,
        }
    }

    pub fn fresh(&self, limit: u64) -> Ctx {
        Ctx {
            m: clone_market(&self.market),
            keys: self.keys.iter().map(|k| k.insecure_clone()).collect(),
            model: self.model.clone(),
            count: 0,
            limit,
            breaks: Vec::new(),
            step: 0,
            op: Op {
                kind: crate::ops::Kind::ClockJump,
                a: [0; 5],
            },
            tally: HashMap::new(),
        }
    }
}

impl Ctx {
    pub fn pid(&self) -> Pubkey {
        self.m.pid()
    }

    pub fn payer(&self) -> Pubkey {
        self.m.s.w.fx.payer.pubkey()
    }

    pub fn flag(&mut self, invariant: impl Into<String>, detail: String) {
        self.breaks.push(Break {
            invariant: invariant.into(),
            detail,
            op: self.op,
            step: self.step,
        });
    }

    /// Room for `n` more instructions within the limit.
    pub fn room(&self, n: u64) -> bool {
        self.count + n <= self.limit
    }

    /// A fresh funded wallet, known to the model.
    pub fn new_wallet(&mut self) -> usize {
        let k = Keypair::new();
        self.m
            .s
            .w
            .fx
            .svm
            .airdrop(&k.pubkey(), 100 * SOL)
            .expect("airdrop");
        self.model.wallets.push(k.pubkey());
        self.keys.push(k);
        self.keys.len() - 1
    }

    /// The patient `p` as the test helpers see it, signed for by wallet `signer`.
    pub fn test_patient(&self, p: usize, signer: usize) -> TestPatient {
        let mp = &self.model.patients[p];
        TestPatient {
            authority: self.keys[signer].insecure_clone(),
            key: mp.key,
            pseudonym: mp.pseudonym,
        }
    }

    /// Submits `ix` signed by wallet `signer` (and the fee payer), compares the outcome
    /// with `expect`, and checks that the accounts in `creates` exist exactly when it
    /// succeeded (invariant 5). Returns whether the chain accepted it.
    pub fn submit(
        &mut self,
        what: &'static str,
        ix: Instruction,
        signer: usize,
        expect: Pred,
        creates: &[Created],
    ) -> bool {
        let key = self.keys[signer].insecure_clone();
        self.submit_with(what, expect, creates, |m| m.s.w.fx.send(&[ix], &[&key]))
    }

    /// As [`Ctx::submit`], for an instruction a `rekam-tests` helper sends itself.
    pub fn submit_with(
        &mut self,
        what: &'static str,
        expect: Pred,
        creates: &[Created],
        send: impl FnOnce(&mut Market) -> TxResult,
    ) -> bool {
        let before: Vec<bool> = creates.iter().map(|c| self.exists(&c.addr)).collect();
        let result = send(&mut self.m);
        self.count += 1;
        let got = Got::of(&result);
        let label = match &got {
            Got::Ok => "ok".to_string(),
            Got::Code(c) => c.to_string(),
            Got::Other(o) => o.clone(),
        };
        *self.tally.entry((what, label)).or_default() += 1;
        self.judge(what, expect, &got, &result);
        let ok = got == Got::Ok;
        crate::invariants::check_created(self, what, ok, creates, &before);
        ok
    }

    /// Records a break when the outcome is not the predicted one.
    pub fn judge<T>(
        &mut self,
        what: &'static str,
        expect: Pred,
        got: &Got,
        result: &Result<T, FailedTransactionMetadata>,
    ) {
        if got.agrees(expect) {
            return;
        }
        let invariant = crate::invariants::outcome_invariant(self.op.kind, expect, got);
        let logs = match result {
            Err(f) => f
                .meta
                .logs
                .iter()
                .rev()
                .take(4)
                .cloned()
                .collect::<Vec<_>>(),
            Ok(_) => vec![],
        };
        self.flag(
            invariant,
            format!("{what}: model expected {expect:?}, chain gave {got:?}; logs {logs:?}"),
        );
    }

    pub fn exists(&self, key: &Pubkey) -> bool {
        self.m.s.w.fx.account(key).is_some_and(|a| a.lamports > 0)
    }

    /// An account's lamports and data length (0, 0 when absent).
    pub fn held(&self, key: &Pubkey) -> (u64, usize) {
        self.m
            .s
            .w
            .fx
            .account(key)
            .map_or((0, 0), |a| (a.lamports, a.data.len()))
    }

    /// Decodes an account of the program, `None` when absent or not a `T`.
    pub fn decode<T: AccountDeserialize>(&self, key: &Pubkey) -> Option<T> {
        let a = self.m.s.w.fx.account(key)?;
        T::try_deserialize(&mut a.data.as_slice()).ok()
    }

    /// Moves the clock (the model's and the SVM's) by `seconds`.
    pub fn advance(&mut self, seconds: i64) {
        self.model.now += seconds;
        let now = self.model.now;
        self.m.s.w.fx.set_time(now);
    }
}
