//! Test fixtures shared by every Rekam integration test: a real SVM with the native
//! program (through `rekam-svm`), the real SPL Token and Token-2022 programs, and helpers
//! that return typed outcomes so each test can assert effects and exact errors.

// The fixture returns LiteSVM's own failure type unchanged, so tests can inspect it.
#![allow(clippy::result_large_err)]

pub mod gate;

use anchor_lang::prelude::Clock;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AccountSerialize, AnchorDeserialize, Discriminator};
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

use rekam::{AttestationKind, Consent, ConsentScope, KeyGrant, Patient, Purpose};
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
    /// A fresh SVM with Rekam and the SPL programs, and a funded fee payer that deployed
    /// the program (its upgrade authority, so it may initialize the deployment).
    pub fn new() -> Self {
        let mut svm = rekam_svm::rekam_svm();
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), 100 * SOL)
            .expect("airdrop payer");
        rekam_svm::set_upgrade_authority(&mut svm, &rekam::ID, Some(payer.pubkey()));
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
pub fn instruction_error<T>(
    result: Result<T, FailedTransactionMetadata>,
) -> (u8, InstructionError) {
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
pub fn assert_custom<T>(result: Result<T, FailedTransactionMetadata>, code: u32) {
    let (_, err) = instruction_error(result);
    assert_eq!(
        err,
        InstructionError::Custom(code),
        "expected Custom({code})"
    );
}

/// Asserts the transaction failed with exactly this Rekam error.
pub fn assert_rekam_error<T>(
    result: Result<T, FailedTransactionMetadata>,
    expected: rekam::RekamError,
) {
    assert_custom(result, expected.code());
}

/// Asserts the transaction failed with exactly this Anchor framework error.
pub fn assert_anchor_error<T>(
    result: Result<T, FailedTransactionMetadata>,
    expected: anchor_lang::error::ErrorCode,
) {
    assert_custom(result, expected as u32);
}

impl Fixture {
    /// The SVM clock's Unix time.
    pub fn now(&self) -> i64 {
        self.svm.get_sysvar::<Clock>().unix_timestamp
    }

    /// Moves the SVM clock to `unix` (and the slot forward, as time passes).
    pub fn set_time(&mut self, unix: i64) {
        let mut clock = self.svm.get_sysvar::<Clock>();
        clock.unix_timestamp = unix;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
    }

    pub fn advance(&mut self, seconds: i64) {
        let now = self.now();
        self.set_time(now + seconds);
    }

    /// Overwrites an account (attack tests forge state this way).
    pub fn put(&mut self, key: Pubkey, account: solana_account::Account) {
        self.svm.set_account(key, account).expect("set_account");
    }

    /// Rewrites an Anchor account's data through `edit` (keeps owner and lamports).
    pub fn edit<T: AccountDeserialize + AccountSerialize>(
        &mut self,
        key: &Pubkey,
        edit: impl FnOnce(&mut T),
    ) {
        let mut account = self.account(key).expect("account exists");
        let mut value = T::try_deserialize(&mut account.data.as_slice()).expect("decode");
        edit(&mut value);
        let mut data = Vec::with_capacity(account.data.len());
        value.try_serialize(&mut data).expect("encode");
        data.resize(account.data.len(), 0);
        account.data = data;
        self.put(*key, account);
    }
}

/// 2026-11-22T00:00:00Z: tests start from a realistic clock.
pub const T0: i64 = 1_795_305_600;
pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a Unix time.
/// Property-test cases: `PROPTEST_CASES` when set (so a long run can raise it), else
/// `default` (kept small for the README's test command).
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn day_of(unix: i64) -> u16 {
    u16::try_from(unix / DAY).expect("day fits u16")
}

/// 32 bytes unlikely to repeat within a test run.
pub fn random32() -> [u8; 32] {
    Keypair::new().pubkey().to_bytes()
}

pub struct TestIssuer {
    pub authority: Keypair,
    pub key: Pubkey,
    pub registry_id_hash: [u8; 32],
}

impl TestIssuer {
    /// A copy holding the same keypair.
    pub fn insecure_clone(&self) -> TestIssuer {
        TestIssuer {
            authority: self.authority.insecure_clone(),
            key: self.key,
            registry_id_hash: self.registry_id_hash,
        }
    }
}

pub struct TestPatient {
    pub authority: Keypair,
    pub key: Pubkey,
    pub pseudonym: [u8; 32],
}

/// A deployment with a governance authority, ready for issuers and patients.
pub struct World {
    pub fx: Fixture,
    pub governance: Keypair,
    pub mint: Pubkey,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        Self::with_token_program(&TOKEN)
    }

    /// A deployment whose fee mint belongs to `token_program` (SPL Token or Token-2022).
    pub fn with_token_program(token_program: &Pubkey) -> Self {
        let mut fx = Fixture::new();
        fx.set_time(T0);
        let governance = fx.funded(10 * SOL);
        let mint = fx.create_mint(token_program, 6);
        let ix = ix::config_initialize(
            &fx.program_id,
            &fx.payer.pubkey(),
            &mint,
            token_program,
            rekam::ConfigInitializeArgs {
                authority: governance.pubkey(),
                protocol_fee_bps: 100,
                accept_freeze_authority: false,
            },
        );
        fx.send(&[ix], &[]).expect("config_initialize");
        Self {
            fx,
            governance,
            mint,
        }
    }

    pub fn program_id(&self) -> Pubkey {
        self.fx.program_id
    }

    pub fn accredit_args(&self, authority: &Pubkey, roles: u8) -> rekam::IssuerAccreditArgs {
        rekam::IssuerAccreditArgs {
            registry_id_hash: random32(),
            issuer_authority: *authority,
            encryption_key: random32(),
            roles,
        }
    }

    pub fn accredit(&mut self, roles: u8) -> TestIssuer {
        let authority = self.fx.funded(10 * SOL);
        let args = self.accredit_args(&authority.pubkey(), roles);
        let registry_id_hash = args.registry_id_hash;
        let ix = ix::issuer_accredit(
            &self.program_id(),
            &self.fx.payer.pubkey(),
            &self.governance.pubkey(),
            args,
        );
        let governance = self.governance.insecure_clone();
        self.fx
            .send(&[ix], &[&governance])
            .expect("issuer_accredit");
        TestIssuer {
            key: pda::issuer(&self.program_id(), &registry_id_hash),
            authority,
            registry_id_hash,
        }
    }

    pub fn register_patient(&mut self) -> TestPatient {
        let authority = self.fx.funded(10 * SOL);
        let pseudonym = random32();
        let ix = ix::patient_register(
            &self.program_id(),
            &authority.pubkey(),
            rekam::PatientRegisterArgs {
                pseudonym,
                encryption_key: random32(),
            },
        );
        self.fx
            .send(&[ix], &[&authority])
            .expect("patient_register");
        TestPatient {
            key: pda::patient(&self.program_id(), &pseudonym),
            authority,
            pseudonym,
        }
    }

    pub fn issue_args(&self, kind: AttestationKind) -> rekam::AttestationIssueArgs {
        rekam::AttestationIssueArgs {
            evidence_commitment: random32(),
            kind,
            diagnosis_commitment: random32(),
            claims_root: random32(),
            treatment_day: day_of(self.fx.now()) - 1,
            expires_on_day: 0,
        }
    }

    pub fn issue_ix(
        &self,
        issuer: &TestIssuer,
        patient: &Pubkey,
        args: rekam::AttestationIssueArgs,
    ) -> Instruction {
        ix::attestation_issue(
            &self.program_id(),
            &self.fx.payer.pubkey(),
            &issuer.authority.pubkey(),
            &issuer.key,
            patient,
            args,
        )
    }

    pub fn try_issue(
        &mut self,
        issuer: &TestIssuer,
        patient: &Pubkey,
        args: rekam::AttestationIssueArgs,
    ) -> Result<Pubkey, FailedTransactionMetadata> {
        let key = pda::attestation(&self.program_id(), &issuer.key, &args.evidence_commitment);
        let ix = self.issue_ix(issuer, patient, args);
        self.fx.send(&[ix], &[&issuer.authority]).map(|_| key)
    }

    pub fn issue(
        &mut self,
        issuer: &TestIssuer,
        patient: &TestPatient,
        kind: AttestationKind,
    ) -> Pubkey {
        let args = self.issue_args(kind);
        self.try_issue(issuer, &patient.key, args)
            .expect("attestation_issue")
    }

    pub fn grant_args(
        &self,
        grantee: &Pubkey,
        purpose: Purpose,
        scope: ConsentScope,
    ) -> rekam::ConsentGrantArgs {
        let now = self.fx.now();
        rekam::ConsentGrantArgs {
            grantee: *grantee,
            purpose,
            scope,
            starts_at: now,
            expires_at: now + 30 * DAY,
            key_grant: KeyGrant {
                hash: random32(),
                locator: "bafkreigrantlocator".into(),
            },
        }
    }

    pub fn try_grant(
        &mut self,
        patient: &TestPatient,
        args: rekam::ConsentGrantArgs,
    ) -> Result<Pubkey, FailedTransactionMetadata> {
        let index = self.fx.fetch::<Patient>(&patient.key).consents_created;
        let ix = ix::consent_grant(
            &self.program_id(),
            &patient.authority.pubkey(),
            &patient.key,
            index,
            args,
        );
        self.fx
            .send(&[ix], &[&patient.authority])
            .map(|_| pda::consent(&self.program_id(), &patient.key, index))
    }

    pub fn grant(
        &mut self,
        patient: &TestPatient,
        grantee: &Pubkey,
        purpose: Purpose,
        scope: ConsentScope,
    ) -> Pubkey {
        let args = self.grant_args(grantee, purpose, scope);
        self.try_grant(patient, args).expect("consent_grant")
    }

    pub fn access_ix(
        &self,
        accessor: &Pubkey,
        patient: &Pubkey,
        consent: &Pubkey,
        attestation: &Pubkey,
        purpose: Purpose,
    ) -> Instruction {
        let index = self.fx.fetch::<Consent>(consent).access_count;
        let issuer = self
            .fx
            .account(attestation)
            .and_then(|a| {
                <rekam::Attestation as anchor_lang::AccountDeserialize>::try_deserialize(
                    &mut a.data.as_slice(),
                )
                .ok()
            })
            .map(|a| a.issuer)
            .unwrap_or_default();
        ix::access_record(
            &self.program_id(),
            accessor,
            patient,
            consent,
            attestation,
            &issuer,
            index,
            purpose,
        )
    }

    pub fn access(
        &mut self,
        accessor: &Keypair,
        patient: &Pubkey,
        consent: &Pubkey,
        attestation: &Pubkey,
        purpose: Purpose,
    ) -> TxResult {
        let ix = self.access_ix(&accessor.pubkey(), patient, consent, attestation, purpose);
        self.fx.send(&[ix], &[accessor])
    }

    pub fn revoke_consent(&mut self, patient: &TestPatient, consent: &Pubkey) -> TxResult {
        let ix = ix::consent_revoke(
            &self.program_id(),
            &patient.authority.pubkey(),
            &patient.key,
            consent,
        );
        self.fx.send(&[ix], &[&patient.authority])
    }
}

/// A scope of record kinds.
pub fn kinds(list: &[AttestationKind]) -> ConsentScope {
    ConsentScope {
        kinds: list.iter().fold(0, |mask, k| mask | k.bit()),
        attestations: vec![],
    }
}

/// A scope of specific attestations.
pub fn only(attestations: &[Pubkey]) -> ConsentScope {
    ConsentScope {
        kinds: 0,
        attestations: attestations.to_vec(),
    }
}

/// Whether `ixs`, paid by `payer` and signed by `signers` keys in all, fit one packet.
pub fn fits_in_packet(ixs: &[Instruction], payer: &Pubkey, signers: usize) -> bool {
    fn compact(n: usize) -> usize {
        match n {
            0..=0x7f => 1,
            0x80..=0x3fff => 2,
            _ => 3,
        }
    }
    let message = solana_message::Message::new(ixs, Some(payer));
    let keys = message.account_keys.len();
    let body: usize = message
        .instructions
        .iter()
        .map(|ix| {
            1 + compact(ix.accounts.len())
                + ix.accounts.len()
                + compact(ix.data.len())
                + ix.data.len()
        })
        .sum();
    let message_size =
        3 + compact(keys) + 32 * keys + 32 + compact(message.instructions.len()) + body;
    compact(signers) + 64 * signers + message_size <= 1232
}

/// The usual cast: a deployment with one clinic, one patient with one diagnosis record,
/// and a doctor holding a treatment consent over diagnoses; plus a token account of the
/// fee mint.
pub struct Scene {
    pub w: World,
    pub clinic: TestIssuer,
    pub patient: TestPatient,
    pub record: Pubkey,
    pub doctor: Keypair,
    pub consent: Pubkey,
    /// A token account of the fee mint (a withdrawal destination).
    pub dest: Pubkey,
}

impl Scene {
    pub fn new() -> Scene {
        Self::with_token_program(&TOKEN)
    }

    pub fn with_token_program(token_program: &Pubkey) -> Scene {
        let mut w = World::with_token_program(token_program);
        let clinic = w.accredit(rekam::roles::CLINIC);
        let patient = w.register_patient();
        let record = w.issue(&clinic, &patient, AttestationKind::Diagnosis);
        let doctor = w.fx.funded(SOL);
        let consent = w.grant(
            &patient,
            &doctor.pubkey(),
            Purpose::Treatment,
            kinds(&[AttestationKind::Diagnosis]),
        );
        let mint = w.mint;
        let dest =
            w.fx.create_token_account(&mint, &doctor.pubkey(), token_program);
        Scene {
            w,
            clinic,
            patient,
            record,
            doctor,
            consent,
            dest,
        }
    }
}

impl Scene {
    /// The scene's patient (a copy holding the same keypair).
    pub fn patient_clone(&self) -> TestPatient {
        TestPatient {
            authority: self.patient.authority.insecure_clone(),
            key: self.patient.key,
            pseudonym: self.patient.pseudonym,
        }
    }
}

impl Default for Scene {
    fn default() -> Self {
        Self::new()
    }
}

/// A research market on top of the usual cast: an ethics board, a funded researcher and
/// one open study (price 10 000, 3 contributions, diagnoses and lab results, budget
/// 30 000 base units) in the deployment's fee mint.
pub struct Market {
    pub s: Scene,
    pub token_program: Pubkey,
    pub board: TestIssuer,
    pub researcher: Keypair,
    /// The researcher's token account (the budget's source and the refund's target).
    pub researcher_token: Pubkey,
    pub study: Pubkey,
    pub study_id: u64,
}

/// Tokens minted to every market researcher.
pub const RESEARCHER_FUNDS: u64 = 1_000_000;
pub const PRICE: u64 = 10_000;
pub const BUDGET: u64 = 30_000;

/// Token balances that a study moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    pub researcher: u64,
    pub escrow: u64,
    pub treasury: u64,
}

impl Market {
    pub fn new() -> Market {
        Self::with_token_program(&TOKEN)
    }

    pub fn with_token_program(token_program: &Pubkey) -> Market {
        let mut s = Scene::with_token_program(token_program);
        let board = s.w.accredit(rekam::roles::ETHICS_BOARD);
        let researcher = s.w.fx.funded(10 * SOL);
        let mint = s.w.mint;
        let researcher_token =
            s.w.fx
                .create_token_account(&mint, &researcher.pubkey(), token_program);
        s.w.fx
            .mint_to(&mint, &researcher_token, RESEARCHER_FUNDS, token_program);
        let mut m = Market {
            s,
            token_program: *token_program,
            board,
            researcher,
            researcher_token,
            study: Pubkey::default(),
            study_id: 1,
        };
        let terms = m.terms();
        m.study = m.open(1, terms, BUDGET).expect("study_open");
        m
    }

    pub fn pid(&self) -> Pubkey {
        self.s.w.program_id()
    }

    pub fn mint(&self) -> Pubkey {
        self.s.w.mint
    }

    /// The default terms: see [`Market`].
    pub fn terms(&self) -> rekam::StudyTerms {
        let now = self.s.w.fx.now();
        rekam::StudyTerms {
            price: PRICE,
            max_contributions: 3,
            max_per_patient: 1,
            max_per_issuer: 0,
            criteria: rekam::StudyCriteria {
                kinds: AttestationKind::Diagnosis.bit() | AttestationKind::LabResult.bit(),
                issuer_roles: 0,
                issued_from_day: 0,
                issued_until_day: 0,
            },
            deadline: now + 30 * DAY,
            data_use_until: now + 365 * DAY,
            encryption_key: random32(),
            protocol_hash: random32(),
        }
    }

    pub fn terms_hash(&self, id: u64, terms: &rekam::StudyTerms) -> [u8; 32] {
        terms.hash(&self.pid(), &self.researcher.pubkey(), id, &self.mint())
    }

    /// The ethics board approves `terms` for study `id`; returns the approval.
    pub fn approve(&mut self, id: u64, terms: &rekam::StudyTerms) -> Pubkey {
        let hash = self.terms_hash(id, terms);
        let today = day_of(self.s.w.fx.now());
        let ix = ix::ethics_approval_issue(
            &self.pid(),
            &self.s.w.fx.payer.pubkey(),
            &self.board.authority.pubkey(),
            &self.board.key,
            hash,
            today,
            0,
        );
        let board = self.board.authority.insecure_clone();
        self.s.w.fx.send(&[ix], &[&board]).expect("ethics approval");
        pda::attestation(&self.pid(), &self.board.key, &hash)
    }

    pub fn open_ix(
        &self,
        approval: &Pubkey,
        id: u64,
        terms: rekam::StudyTerms,
        budget: u64,
    ) -> Instruction {
        ix::study_open(
            &self.pid(),
            &self.researcher.pubkey(),
            &self.mint(),
            &self.token_program,
            &self.researcher_token,
            approval,
            &self.board.key,
            rekam::StudyOpenArgs { id, terms, budget },
        )
    }

    /// Approves and opens study `id`.
    pub fn open(
        &mut self,
        id: u64,
        terms: rekam::StudyTerms,
        budget: u64,
    ) -> Result<Pubkey, FailedTransactionMetadata> {
        let approval = self.approve(id, &terms);
        let ix = self.open_ix(&approval, id, terms, budget);
        let researcher = self.researcher.insecure_clone();
        self.s
            .w
            .fx
            .send(&[ix], &[&researcher])
            .map(|_| pda::study(&self.pid(), &self.researcher.pubkey(), id))
    }

    pub fn copy_grant() -> KeyGrant {
        KeyGrant {
            hash: random32(),
            locator: "local:deidentified-copy".into(),
        }
    }

    pub fn contribute_ix(
        &self,
        study: &Pubkey,
        patient: &TestPatient,
        attestation: &Pubkey,
        issuer: &Pubkey,
    ) -> Instruction {
        let index = self.s.w.fx.fetch::<Patient>(&patient.key).consents_created;
        ix::study_contribute(
            &self.pid(),
            ix::Contribute {
                authority: &patient.authority.pubkey(),
                patient: &patient.key,
                consent_index: index,
                study,
                approval: self.approval_of(study),
                mint: &self.mint(),
                token_program: &self.token_program,
                attestation,
                issuer,
            },
            Self::copy_grant(),
        )
    }

    pub fn contribute(
        &mut self,
        study: &Pubkey,
        patient: &TestPatient,
        attestation: &Pubkey,
        issuer: &Pubkey,
    ) -> TxResult {
        let ix = self.contribute_ix(study, patient, attestation, issuer);
        self.s.w.fx.send(&[ix], &[&patient.authority])
    }

    /// The study's ethics approval and its board, read from the study account. For an
    /// address that holds no study (attack tests forge one) both are the default key:
    /// the program refuses the study account before it reads them.
    pub fn approval_of(&self, study: &Pubkey) -> ix::StudyApproval {
        let decoded = self.s.w.fx.account(study).and_then(|a| {
            <rekam::Study as AccountDeserialize>::try_deserialize(&mut a.data.as_slice()).ok()
        });
        match decoded {
            Some(s) => {
                let board = self
                    .s
                    .w
                    .fx
                    .fetch::<rekam::Attestation>(&s.ethics_approval)
                    .issuer;
                ix::StudyApproval {
                    attestation: s.ethics_approval,
                    board,
                }
            }
            None => ix::StudyApproval {
                attestation: Pubkey::default(),
                board: Pubkey::default(),
            },
        }
    }

    pub fn top_up(&mut self, study: &Pubkey, amount: u64) -> TxResult {
        let ix = ix::study_top_up(
            &self.pid(),
            &self.researcher.pubkey(),
            study,
            self.approval_of(study),
            &self.mint(),
            &self.token_program,
            &self.researcher_token,
            amount,
        );
        let researcher = self.researcher.insecure_clone();
        self.s.w.fx.send(&[ix], &[&researcher])
    }

    pub fn close_ix(&self, study: &Pubkey, closer: &Pubkey) -> Instruction {
        ix::study_close(
            &self.pid(),
            closer,
            &self.researcher.pubkey(),
            study,
            self.approval_of(study),
            &self.mint(),
            &self.token_program,
            &self.researcher_token,
        )
    }

    pub fn close(&mut self, study: &Pubkey, closer: &Keypair) -> TxResult {
        let ix = self.close_ix(study, &closer.pubkey());
        self.s.w.fx.send(&[ix], &[closer])
    }

    /// A token balance, 0 for an account that does not exist.
    pub fn balance(&self, account: &Pubkey) -> u64 {
        match self.s.w.fx.account(account) {
            Some(a) if a.owner == self.token_program => self.s.w.fx.token_balance(account),
            _ => 0,
        }
    }

    /// What a wallet holds in its associated token account of the study mint.
    pub fn wallet_balance(&self, wallet: &Pubkey) -> u64 {
        self.balance(&pda::associated_token(
            wallet,
            &self.mint(),
            &self.token_program,
        ))
    }

    pub fn balances(&self, study: &Pubkey) -> Balances {
        Balances {
            researcher: self.balance(&self.researcher_token),
            escrow: self.balance(&pda::escrow(&self.pid(), study)),
            treasury: self.balance(&pda::treasury(&self.pid(), &self.mint())),
        }
    }

    /// A second registered patient with a diagnosis by the scene's clinic.
    pub fn patient_with_record(&mut self, kind: AttestationKind) -> (TestPatient, Pubkey) {
        let patient = self.s.w.register_patient();
        let clinic = self.s.clinic.insecure_clone();
        let record = self.s.w.issue(&clinic, &patient, kind);
        (patient, record)
    }
}

impl Default for Market {
    fn default() -> Self {
        Self::new()
    }
}

/// The usual cast plus three guardians (2 of 3) over an emergency summary record, and a
/// default emergency limit of 24 h with a 48 h recovery time lock.
pub struct Guarded {
    pub s: Scene,
    pub guardians: Vec<Keypair>,
    /// The emergency summary attestation (the emergency scope).
    pub summary: Pubkey,
}

pub const HOUR: i64 = 3_600;

impl Guarded {
    pub fn new() -> Guarded {
        let mut s = Scene::new();
        let clinic = s.clinic.insecure_clone();
        let patient = s.patient_clone();
        let summary = s.w.issue(&clinic, &patient, AttestationKind::Other);
        let guardians: Vec<Keypair> = (0..3).map(|_| s.w.fx.funded(10 * SOL)).collect();
        let mut g = Guarded {
            s,
            guardians,
            summary,
        };
        let args = g.args(&[0, 1, 2], 2);
        g.set(args).expect("guardians_set");
        g
    }

    pub fn pid(&self) -> Pubkey {
        self.s.w.program_id()
    }

    /// Guardian settings naming `which` of the guardians with threshold `m`.
    pub fn args(&self, which: &[usize], m: u8) -> rekam::GuardiansArgs {
        rekam::GuardiansArgs {
            guardians: which.iter().map(|i| self.guardians[*i].pubkey()).collect(),
            threshold: m,
            emergency_scope: only(&[self.summary]),
            emergency_max_seconds: 24 * HOUR,
            recovery_timelock_seconds: 48 * HOUR,
            key_grant: KeyGrant {
                hash: random32(),
                locator: "local:guardian-grant".into(),
            },
        }
    }

    pub fn set(&mut self, args: rekam::GuardiansArgs) -> TxResult {
        let p = self.s.patient_clone();
        let ix = ix::guardians_set(&self.pid(), &p.authority.pubkey(), &p.key, args);
        self.s.w.fx.send(&[ix], &[&p.authority])
    }

    pub fn change(&mut self, args: rekam::GuardiansArgs) -> TxResult {
        let p = self.s.patient_clone();
        let ix = ix::guardians_change(&self.pid(), &p.authority.pubkey(), &p.key, args);
        self.s.w.fx.send(&[ix], &[&p.authority])
    }

    pub fn guardianship(&self) -> rekam::Guardianship {
        self.s
            .w
            .fx
            .fetch(&pda::guardianship(&self.pid(), &self.s.patient.key))
    }

    /// The clinic requests emergency access for `duration` with `window` to approve.
    pub fn try_request(
        &mut self,
        duration: i64,
        window: i64,
    ) -> Result<Pubkey, FailedTransactionMetadata> {
        let index = self.guardianship().emergencies_requested;
        let clinic = self.s.clinic.authority.insecure_clone();
        let ix = ix::emergency_request(
            &self.pid(),
            &clinic.pubkey(),
            &self.s.clinic.key,
            &self.s.patient.key,
            index,
            rekam::EmergencyRequestArgs {
                reason: rekam::EmergencyReason::EmergencyTreatment,
                duration_seconds: duration,
                approval_window_seconds: window,
            },
        );
        self.s
            .w
            .fx
            .send(&[ix], &[&clinic])
            .map(|_| pda::emergency_request(&self.pid(), &self.s.patient.key, index))
    }

    pub fn request(&mut self) -> Pubkey {
        self.try_request(12 * HOUR, HOUR)
            .expect("emergency_request")
    }

    pub fn approve(&mut self, guardian: usize, request: &Pubkey) -> TxResult {
        let g = self.guardians[guardian].insecure_clone();
        self.approve_as(&g, request)
    }

    pub fn approve_as(&mut self, signer: &Keypair, request: &Pubkey) -> TxResult {
        let ix = ix::emergency_approve(&self.pid(), &signer.pubkey(), &self.s.patient.key, request);
        self.s.w.fx.send(&[ix], &[signer])
    }

    pub fn activate_as(&mut self, signer: &Keypair, request: &Pubkey) -> TxResult {
        let index = self
            .s
            .w
            .fx
            .fetch::<Patient>(&self.s.patient.key)
            .consents_created;
        let ix = ix::emergency_activate(
            &self.pid(),
            &signer.pubkey(),
            &self.s.patient.key,
            request,
            &self.s.clinic.key,
            index,
            KeyGrant {
                hash: random32(),
                locator: "local:emergency-grant".into(),
            },
        );
        self.s.w.fx.send(&[ix], &[signer])
    }

    pub fn activate(&mut self, guardian: usize, request: &Pubkey) -> TxResult {
        let g = self.guardians[guardian].insecure_clone();
        self.activate_as(&g, request)
    }

    /// Requests, approves with guardians 0 and 1, activates: the emergency consent.
    pub fn granted(&mut self) -> (Pubkey, Pubkey) {
        let request = self.request();
        self.approve(0, &request).expect("approve 0");
        self.approve(1, &request).expect("approve 1");
        self.activate(1, &request).expect("activate");
        let consent = self
            .s
            .w
            .fx
            .fetch::<rekam::EmergencyRequest>(&request)
            .consent;
        (request, consent)
    }

    pub fn end_as(&mut self, signer: &Keypair, request: &Pubkey, consent: &Pubkey) -> TxResult {
        let ix = ix::emergency_end(
            &self.pid(),
            &signer.pubkey(),
            &self.s.patient.key,
            request,
            consent,
        );
        self.s.w.fx.send(&[ix], &[signer])
    }

    pub fn propose(&mut self, guardian: usize, new_authority: &Pubkey) -> TxResult {
        let g = self.guardians[guardian].insecure_clone();
        let ix = ix::recovery_propose(
            &self.pid(),
            &g.pubkey(),
            &self.s.patient.key,
            *new_authority,
        );
        self.s.w.fx.send(&[ix], &[&g])
    }

    pub fn approve_recovery(&mut self, guardian: usize) -> TxResult {
        let g = self.guardians[guardian].insecure_clone();
        self.approve_recovery_as(&g)
    }

    pub fn approve_recovery_as(&mut self, signer: &Keypair) -> TxResult {
        let ix = ix::recovery_approve(&self.pid(), &signer.pubkey(), &self.s.patient.key);
        self.s.w.fx.send(&[ix], &[signer])
    }

    pub fn recovery(&self) -> Option<rekam::Recovery> {
        let key = pda::recovery(&self.pid(), &self.s.patient.key);
        self.s.w.fx.account(&key).map(|_| self.s.w.fx.fetch(&key))
    }

    pub fn execute(&mut self, new: &Keypair, proposer: &Pubkey) -> TxResult {
        let ix = ix::recovery_execute(
            &self.pid(),
            &new.pubkey(),
            &self.s.patient.key,
            proposer,
            random32(),
        );
        self.s.w.fx.send(&[ix], &[new])
    }

    pub fn cancel_as(&mut self, signer: &Keypair, proposer: &Pubkey) -> TxResult {
        let ix = ix::recovery_cancel(&self.pid(), &signer.pubkey(), &self.s.patient.key, proposer);
        self.s.w.fx.send(&[ix], &[signer])
    }
}

impl Default for Guarded {
    fn default() -> Self {
        Self::new()
    }
}
