//! Test fixtures shared by every Rekam integration test: a real SVM with the native
//! program (through `rekam-svm`), the real SPL Token and Token-2022 programs, and helpers
//! that return typed outcomes so each test can assert effects and exact errors.

// The fixture returns LiteSVM's own failure type unchanged, so tests can inspect it.
#![allow(clippy::result_large_err)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AnchorDeserialize, Discriminator};
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anchor_spl::token_interface::{Mint, TokenAccount};
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub use rekam_client::{ix, pda};

/// SPL Token (classic) program id.
pub const TOKEN: Pubkey = anchor_spl::token::ID;
/// Token-2022 program id.
pub const TOKEN_2022: Pubkey = anchor_spl::token_2022::ID;

pub const SOL: u64 = 1_000_000_000;

/// A transaction that ran, with what is needed to read its effects.
pub struct Outcome {
    pub meta: TransactionMetadata,
    pub account_keys: Vec<Pubkey>,
}

pub type TxResult = Result<Outcome, FailedTransactionMetadata>;

pub struct Fixture {
    pub svm: LiteSVM,
    pub payer: Keypair,
    pub program_id: Pubkey,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// A fresh SVM with Rekam and the SPL programs, and a funded fee payer.
    pub fn new() -> Self {
        let mut svm = rekam_svm::rekam_svm();
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), 100 * SOL)
            .expect("airdrop payer");
        Self {
            svm,
            payer,
            program_id: rekam::ID,
        }
    }

    /// A new keypair holding `lamports`.
    pub fn funded(&mut self, lamports: u64) -> Keypair {
        let kp = Keypair::new();
        self.svm.airdrop(&kp.pubkey(), lamports).expect("airdrop");
        kp
    }

    /// Sends `ixs` paid by the fixture payer and signed by `signers` too. Each call gets
    /// a fresh blockhash so identical retries are distinct transactions.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        self.svm.expire_blockhash();
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != self.payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&self.payer.pubkey()),
            &all,
            self.svm.latest_blockhash(),
        );
        let account_keys = tx.message.account_keys.clone();
        self.svm
            .send_transaction(tx)
            .map(|meta| Outcome { meta, account_keys })
    }

    pub fn create_mint(&mut self, token_program: &Pubkey, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let space = 82; // a mint without extensions, in both token programs
        let lamports = self.svm.minimum_balance_for_rent_exemption(space);
        let create = anchor_lang::solana_program::system_instruction::create_account(
            &self.payer.pubkey(),
            &mint.pubkey(),
            lamports,
            space as u64,
            token_program,
        );
        let init = token_ix::initialize_mint2(
            token_program,
            &mint.pubkey(),
            &self.payer.pubkey(),
            None,
            decimals,
        )
        .expect("initialize_mint2");
        self.send(&[create, init], &[&mint]).expect("create mint");
        mint.pubkey()
    }

    pub fn create_token_account(
        &mut self,
        mint: &Pubkey,
        owner: &Pubkey,
        token_program: &Pubkey,
    ) -> Pubkey {
        let account = Keypair::new();
        let space = 165;
        let lamports = self.svm.minimum_balance_for_rent_exemption(space);
        let create = anchor_lang::solana_program::system_instruction::create_account(
            &self.payer.pubkey(),
            &account.pubkey(),
            lamports,
            space as u64,
            token_program,
        );
        let init = token_ix::initialize_account3(token_program, &account.pubkey(), mint, owner)
            .expect("initialize_account3");
        self.send(&[create, init], &[&account])
            .expect("create token account");
        account.pubkey()
    }

    /// Mints `amount` to `destination`; the fixture payer is every test mint's authority.
    pub fn mint_to(
        &mut self,
        mint: &Pubkey,
        destination: &Pubkey,
        amount: u64,
        token_program: &Pubkey,
    ) {
        let ix = token_ix::mint_to(
            token_program,
            mint,
            destination,
            &self.payer.pubkey(),
            &[],
            amount,
        )
        .expect("mint_to");
        self.send(&[ix], &[]).expect("mint_to");
    }

    pub fn account(&self, key: &Pubkey) -> Option<solana_account::Account> {
        self.svm.get_account(key)
    }

    /// Decodes an Anchor account (checks the discriminator).
    pub fn fetch<T: AccountDeserialize>(&self, key: &Pubkey) -> T {
        let account = self
            .account(key)
            .unwrap_or_else(|| panic!("account {key} missing"));
        T::try_deserialize(&mut account.data.as_slice()).expect("decode account")
    }

    pub fn token_account(&self, key: &Pubkey) -> TokenAccount {
        self.fetch::<TokenAccount>(key)
    }

    pub fn token_balance(&self, key: &Pubkey) -> u64 {
        self.token_account(key).amount
    }

    pub fn mint(&self, key: &Pubkey) -> Mint {
        self.fetch::<Mint>(key)
    }
}

impl Outcome {
    /// Events of type `E` emitted by `program_id` through `emit_cpi` self-invocations.
    pub fn events<E: AnchorDeserialize + Discriminator>(&self, program_id: &Pubkey) -> Vec<E> {
        let tag = anchor_lang::event::EVENT_IX_TAG_LE;
        self.meta
            .inner_instructions
            .iter()
            .flatten()
            .filter(|inner| {
                self.account_keys
                    .get(inner.instruction.program_id_index as usize)
                    == Some(program_id)
            })
            .filter_map(|inner| {
                let data = inner.instruction.data.strip_prefix(tag)?;
                let body = data.strip_prefix(E::DISCRIMINATOR)?;
                E::try_from_slice(body).ok()
            })
            .collect()
    }
}

/// The instruction error of a failed transaction.
pub fn instruction_error(result: TxResult) -> (u8, InstructionError) {
    match result {
        Ok(_) => panic!("transaction succeeded, an error was expected"),
        Err(failed) => match failed.err {
            TransactionError::InstructionError(index, err) => (index, err),
            other => panic!(
                "expected an instruction error, got {other:?}\n{}",
                failed.meta.pretty_logs()
            ),
        },
    }
}

/// Asserts the transaction failed with exactly `Custom(code)`.
pub fn assert_custom(result: TxResult, code: u32) {
    let (_, err) = instruction_error(result);
    assert_eq!(
        err,
        InstructionError::Custom(code),
        "expected Custom({code})"
    );
}

/// Asserts the transaction failed with exactly this Rekam error.
pub fn assert_rekam_error(result: TxResult, expected: rekam::RekamError) {
    assert_custom(result, expected.code());
}

/// Asserts the transaction failed with exactly this Anchor framework error.
pub fn assert_anchor_error(result: TxResult, expected: anchor_lang::error::ErrorCode) {
    assert_custom(result, expected as u32);
}
