//! Flows: the typed operations the CLI, the demo and the tests call. A front door (a CLI
//! command, the demo) parses its input, calls one flow and renders the typed result; the
//! orchestration (which accounts to read, what to decrypt and check, what to send) lives
//! here.
//!
//! - [`access`]: a provider reads shared records, receipt first.
//! - [`attest`]: validate, encrypt, store and attest FHIR Bundles.
//! - [`audit`]: the patient's audit trail, from accounts and, where closed, events.
//! - [`close`]: the patient closes an ended consent and its receipts for their rent.
//! - [`emergency`]: a guardian's approval releases its key share; the clinic rebuilds the
//!   emergency key from M shares.
//! - [`grant`]: the patient grants a consent with its key grant.
//! - [`guardians`]: the patient names guardians; the emergency key split M-of-N.
//! - [`identity`]: the signer's keystore identity, checked against the chain's keys.
//! - [`records`]: find a record's locator on chain, open the patient's own records.
//! - [`passport`]: a QR card of chosen facts (create), read and verified offline and live.
//! - [`present`]: list a record's claims, disclose chosen claims, verify a presentation.
//! - [`rekey`]: re-encrypt the patient's records under fresh data keys.
//! - [`rotate`]: rotate the patient's encryption key, re-keying every record.
//! - [`rotate_issuer`]: rotate a clinic's encryption key, re-keying what it attested.
//! - [`recovery`]: a guardian proposes a recovery (replacing a stale one atomically).
//! - [`shc`]: SMART Health Cards: the issuer key anchored on-chain, export, checks.
//! - [`setup`]: faucet airdrops, a test mint, balances, the deployment's initialization.
//! - [`wallet`]: new keypair files the Solana CLI reads.

pub mod access;
pub mod attest;
pub mod audit;
pub mod close;
pub mod emergency;
pub mod grant;
pub mod guardians;
pub mod identity;
pub mod passport;
pub mod present;
pub mod records;
pub mod recovery;
pub mod rekey;
pub mod rotate;
pub mod rotate_issuer;
pub mod setup;
pub mod shc;
pub mod study;
pub mod wallet;

use anchor_lang::prelude::Pubkey;

use crate::chain::{ChainClient, ChainError};
use crate::claims::ClaimError;
use crate::record::RecordError;
use crate::storage::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Claims(#[from] ClaimError),
    #[error("{what} {key} does not exist on {url}")]
    Missing {
        what: &'static str,
        key: Pubkey,
        url: String,
    },
    #[error("no record locator found for {0}; pass --locator")]
    NoLocator(Pubkey),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Keystore(#[from] crate::crypto::keystore::KeystoreError),
    #[error(transparent)]
    Research(#[from] crate::research::ResearchError),
    #[error("async runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// What a flow reads from: the cluster and the record store.
pub struct Ctx<'a> {
    pub chain: &'a ChainClient,
    pub store: &'a dyn Store,
}

impl Ctx<'_> {
    pub fn program_id(&self) -> Pubkey {
        self.chain.program_id
    }

    /// Fetches a program account that must exist.
    pub fn account<T: anchor_lang::AccountDeserialize>(
        &self,
        key: &Pubkey,
        what: &'static str,
    ) -> Result<T, FlowError> {
        self.chain
            .fetch::<T>(key)?
            .ok_or_else(|| FlowError::Missing {
                what,
                key: *key,
                url: self.chain.url(),
            })
    }
}

/// Runs one storage operation (async) to completion on a small runtime of its own.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T, FlowError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}

/// The local clock as Unix seconds (for times the client proposes and binds; the program
/// always decides by the chain's clock).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Byte offsets of the account fields flows filter on (1-byte discriminator, version,
/// bump first).
pub mod offsets {
    /// `Issuer.authority`, `Patient.authority`, `Consent.patient`, `AccessReceipt.consent`.
    pub const AFTER_HEADER: usize = 3;
    /// `Attestation.patient` (after `kind` and `issuer`).
    pub const ATTESTATION_PATIENT: usize = 4 + 32;
    /// `Consent.grantee`.
    pub const CONSENT_GRANTEE: usize = 3 + 32;
}
