//! What every command needs, built once from the resolved settings: the chain client,
//! the signer and its encryption identity, the record store, and account lookups.

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context};
use rekam::{AccessReceipt, Attestation, Consent, Issuer, Patient};
use rekam_client::chain::ChainClient;
use rekam_client::crypto::identity::IDENTITY_MESSAGE;
use rekam_client::crypto::Identity;
use rekam_client::record::{self, Envelope, KeyGrantObject};
use rekam_client::storage::{Locator, Store};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::keypair::read_keypair;
use crate::settings::Settings;

/// Byte offsets of the fields commands filter on (1-byte discriminator, version, bump).
pub mod offsets {
    /// `Issuer.authority`, `Patient.authority`, `Consent.patient`, `AccessReceipt.consent`.
    pub const AFTER_HEADER: usize = 3;
    /// `Attestation.patient` (after `kind` and `issuer`).
    pub const ATTESTATION_PATIENT: usize = 4 + 32;
    /// `Consent.grantee`.
    pub const CONSENT_GRANTEE: usize = 3 + 32;
}

pub struct App {
    pub settings: Settings,
    pub chain: ChainClient,
    keypair: Option<Keypair>,
    /// Patient grants already read in this command, by patient (see `patient_grants`).
    patient_grants: std::cell::RefCell<Option<(Pubkey, Vec<KeyGrantObject>)>>,
}

impl App {
    pub fn new(settings: &Settings) -> Self {
        let chain = ChainClient::new(
            &settings.url,
            settings.commitment,
            settings.program_id,
            settings.fees,
        );
        Self {
            settings: settings.clone(),
            chain,
            keypair: None,
            patient_grants: Default::default(),
        }
    }

    /// An app that signs with `keypair` instead of the configured keypair file.
    pub fn with_keypair(settings: &Settings, keypair: Keypair) -> Self {
        let mut app = Self::new(settings);
        app.keypair = Some(keypair);
        app
    }

    pub fn program_id(&self) -> Pubkey {
        self.settings.program_id
    }

    /// The signer (loaded on first use, so read-only commands need no keypair).
    pub fn signer(&mut self) -> anyhow::Result<&Keypair> {
        if self.keypair.is_none() {
            self.keypair = Some(read_keypair(&self.settings.keypair_path)?);
        }
        Ok(self.keypair.as_ref().expect("just loaded"))
    }

    /// The signer's X25519 identity, derived from its signature (docs/format.md).
    pub fn identity(&mut self) -> anyhow::Result<Identity> {
        let signature = self.signer()?.sign_message(IDENTITY_MESSAGE);
        let bytes: [u8; 64] = signature.into();
        Ok(Identity::from_wallet_signature(&bytes))
    }

    pub fn store(&self) -> anyhow::Result<Box<dyn Store>> {
        self.settings
            .store
            .open()
            .context("cannot open the record store")
    }

    /// Runs one storage operation (async) to completion.
    pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(future))
    }

    pub fn fetch<T: anchor_lang::AccountDeserialize>(
        &self,
        key: &Pubkey,
        what: &str,
    ) -> anyhow::Result<T> {
        self.chain
            .fetch::<T>(key)?
            .ok_or_else(|| anyhow!("{what} {key} does not exist on {}", self.chain.url()))
    }

    /// The issuer this wallet signs for.
    pub fn own_issuer(&mut self) -> anyhow::Result<(Pubkey, Issuer)> {
        let me = self.signer()?.pubkey();
        let mut found = self
            .chain
            .list::<Issuer>(Some((offsets::AFTER_HEADER, me)))?;
        match found.len() {
            0 => bail!("wallet {me} is not the authority of any accredited issuer; ask governance to accredit it"),
            1 => Ok(found.remove(0)),
            n => bail!("wallet {me} signs for {n} issuers; pass --issuer"),
        }
    }

    /// The patient profile this wallet controls.
    pub fn own_patient(&mut self) -> anyhow::Result<(Pubkey, Patient)> {
        let me = self.signer()?.pubkey();
        let mut found = self
            .chain
            .list::<Patient>(Some((offsets::AFTER_HEADER, me)))?;
        match found.len() {
            0 => bail!("wallet {me} has no patient profile; run `rekam patient register`"),
            1 => Ok(found.remove(0)),
            n => bail!("wallet {me} controls {n} patient profiles; pass --patient"),
        }
    }

    pub fn attestations_of(&self, patient: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Attestation)>> {
        Ok(self
            .chain
            .list::<Attestation>(Some((offsets::ATTESTATION_PATIENT, *patient)))?)
    }

    pub fn consents_of(&self, patient: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Consent)>> {
        Ok(self
            .chain
            .list::<Consent>(Some((offsets::AFTER_HEADER, *patient)))?)
    }

    pub fn consents_for(&self, grantee: &Pubkey) -> anyhow::Result<Vec<(Pubkey, Consent)>> {
        Ok(self
            .chain
            .list::<Consent>(Some((offsets::CONSENT_GRANTEE, *grantee)))?)
    }

    pub fn receipts_of(&self, consent: &Pubkey) -> anyhow::Result<Vec<(Pubkey, AccessReceipt)>> {
        Ok(self
            .chain
            .list::<AccessReceipt>(Some((offsets::AFTER_HEADER, *consent)))?)
    }

    /// The record locator the issuing transaction recorded (SPL Memo), from chain data.
    pub fn record_locator(&self, attestation: &Pubkey) -> anyhow::Result<Locator> {
        let signatures = self
            .chain
            .rpc
            .get_signatures_for_address(attestation)
            .with_context(|| format!("cannot read the history of {attestation}"))?;
        let prefix = rekam_client::record::MEMO_PREFIX;
        // Newest first: after a re-key, the latest memo names the current copy.
        signatures
            .iter()
            .filter_map(|s| s.memo.as_deref())
            .find_map(|memo| {
                memo.find(prefix)
                    .map(|i| memo[i + prefix.len()..].trim().to_string())
            })
            .ok_or_else(|| anyhow!("no record locator found for {attestation}; pass --locator"))?
            .parse::<Locator>()
            .map_err(Into::into)
    }
}

impl App {
    /// Grants issuers made for `patient`'s current key (`identity`) after a recovery,
    /// newest first. Read once per command (the profile's memo history and the grant
    /// objects), however many records a command opens through them.
    pub fn patient_grants(
        &self,
        patient: &Pubkey,
        identity: &Identity,
    ) -> anyhow::Result<Vec<KeyGrantObject>> {
        if let Some((cached, grants)) = self.patient_grants.borrow().as_ref() {
            if cached == patient {
                return Ok(grants.clone());
            }
        }
        let grants = self.read_patient_grants(patient, identity)?;
        *self.patient_grants.borrow_mut() = Some((*patient, grants.clone()));
        Ok(grants)
    }

    fn read_patient_grants(
        &self,
        patient: &Pubkey,
        identity: &Identity,
    ) -> anyhow::Result<Vec<KeyGrantObject>> {
        let signatures = self
            .chain
            .rpc
            .get_signatures_for_address(patient)
            .with_context(|| format!("cannot read the history of {patient}"))?;
        let store = self.store()?;
        let mine = hex::encode(identity.public_key());
        let mut grants = Vec::new();
        for memo in signatures.iter().filter_map(|s| s.memo.as_deref()) {
            let Some(i) = memo.find(record::PATIENT_GRANT_PREFIX) else {
                continue;
            };
            let locator: Locator = memo[i + record::PATIENT_GRANT_PREFIX.len()..]
                .trim()
                .parse()?;
            let bytes = App::block_on(store.get(&locator))?
                .with_context(|| format!("cannot fetch patient grant {locator}"))?;
            let grant = KeyGrantObject::from_bytes(&bytes)?;
            if grant.grantee_key == mine {
                grants.push(grant);
            }
        }
        Ok(grants)
    }

    /// Opens one of the patient's own records: through its header (the usual case), or
    /// through a patient grant an issuer made after a recovery.
    pub fn open_own(
        &self,
        patient: &Pubkey,
        attestation: &Pubkey,
        bytes: &[u8],
        identity: &Identity,
    ) -> anyhow::Result<Envelope> {
        match record::open(bytes, identity) {
            Ok((envelope, _)) => Ok(envelope),
            Err(first) => {
                for grant in self.patient_grants(patient, identity)? {
                    if let Ok((envelope, _)) = grant.open(attestation, bytes, identity) {
                        return Ok(envelope);
                    }
                }
                Err(first.into())
            }
        }
    }

    /// Adds one of the patient's own records to `grant`, re-wrapping its data key from
    /// the record's header or, after a recovery, from a patient grant.
    pub fn grant_own(
        &self,
        grant: &mut KeyGrantObject,
        patient: &Pubkey,
        attestation: &Pubkey,
        locator: &str,
        bytes: &[u8],
        identity: &Identity,
    ) -> anyhow::Result<()> {
        match grant.add(attestation, locator, bytes, identity) {
            Ok(()) => Ok(()),
            Err(first) => {
                for held in self.patient_grants(patient, identity)? {
                    // Only a grant for this version of the record (same header) opens it.
                    let Ok(entry) = held.entry_for(attestation, bytes) else {
                        continue;
                    };
                    if grant.add_from(entry, identity).is_ok() {
                        if let Some(last) = grant.entries.last_mut() {
                            last.locator = locator.to_string();
                        }
                        return Ok(());
                    }
                }
                Err(first.into())
            }
        }
    }
}

/// The local clock as Unix seconds (for periods the client proposes and for status
/// display; the program itself always decides by the chain's clock).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A token account's balance in base units; 0 when it does not exist (yet).
pub fn token_balance(chain: &ChainClient, account: &Pubkey) -> u64 {
    chain
        .rpc
        .get_token_account_balance(account)
        .ok()
        .and_then(|b| b.amount.parse().ok())
        .unwrap_or(0)
}

/// `Ok(T)` or the failure, as the rest of the CLI reports it.
pub fn pubkey_arg(text: &str) -> Result<Pubkey, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a base58 public key"))
}
