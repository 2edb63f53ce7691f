//! What every command needs, built once from the resolved settings: the chain client,
//! the signer and its encryption identity, the record store, and account lookups.

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context};
use rekam::{Attestation, Consent, Issuer, Patient};
use rekam_client::chain::ChainClient;
use rekam_client::crypto::Identity;
use rekam_client::flows::{self, Ctx};
use rekam_client::storage::{Locator, Store};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::keypair::{read_signer, Wallet};
use crate::settings::Settings;

/// Byte offsets of the fields commands filter on (defined in the library).
pub use rekam_client::flows::offsets;

pub struct App {
    pub settings: Settings,
    pub chain: ChainClient,
    keypair: Option<Wallet>,
    /// The signer's encryption identity, once loaded and checked against the chain.
    identity: Option<Identity>,
    /// Opens the patient's own records; caches patient grants for the command.
    own: flows::records::OwnRecords,
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
            identity: None,
            own: Default::default(),
        }
    }

    /// An app that signs with `keypair` instead of the configured keypair file, with a
    /// new random identity held in memory only (the demo's throwaway actors).
    pub fn with_keypair(settings: &Settings, keypair: Keypair) -> Self {
        let mut app = Self::new(settings);
        app.keypair = Some(std::rc::Rc::new(keypair));
        app.identity = Some(Identity::generate());
        app
    }

    pub fn program_id(&self) -> Pubkey {
        self.settings.program_id
    }

    /// The signer: a keypair file or a hardware wallet, loaded on first use (so read-only
    /// commands need none) and shared by every flow of the command.
    pub fn signer(&mut self) -> anyhow::Result<Wallet> {
        if self.keypair.is_none() {
            self.keypair = Some(read_signer(&self.settings.keypair_path)?);
        }
        Ok(self.keypair.clone().expect("just loaded"))
    }

    /// The signer's X25519 identity from its keystore file, checked against every key the
    /// chain holds for the wallet (`crate::identity`, docs/format.md "Identities").
    pub fn identity(&mut self) -> anyhow::Result<Identity> {
        if let Some(identity) = &self.identity {
            return Ok(identity.clone());
        }
        let wallet = self.signer()?.pubkey();
        let identity = crate::identity_file::load_checked(self, &wallet)?;
        self.identity = Some(identity.clone());
        Ok(identity)
    }

    /// Opens the patient's own records for this command (grants cached).
    pub fn own_records(&self) -> &flows::records::OwnRecords {
        &self.own
    }

    /// Forgets the cached identity (after a rotation switched the keystore file).
    pub fn forget_identity(&mut self) {
        self.identity = None;
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

    /// The record locator the issuing transaction recorded (SPL Memo), from chain data.
    /// Memos a stranger (or a failed transaction) posted about the attestation are
    /// skipped, with a warning on stderr.
    pub fn record_locator(&self, attestation: &Pubkey) -> anyhow::Result<Locator> {
        let located = flows::records::locate(&self.chain, attestation)?
            .ok_or(flows::FlowError::NoLocator(*attestation))?;
        warn_skipped_memos(attestation, &located.skipped);
        Ok(located.locator)
    }
}

impl App {
    /// Runs `f` with a flow context over this app's cluster and record store.
    pub fn with_ctx<T>(
        &self,
        f: impl FnOnce(&Ctx) -> Result<T, flows::FlowError>,
    ) -> anyhow::Result<T> {
        let store = self.store()?;
        let ctx = Ctx {
            chain: &self.chain,
            store: &*store,
        };
        Ok(f(&ctx)?)
    }

    /// Attests one Bundle file as this wallet's issuer (the flow `flows::attest`).
    pub fn attest_file(
        &mut self,
        file: &std::path::Path,
        patient: &Pubkey,
    ) -> anyhow::Result<Vec<flows::attest::Attested>> {
        let (issuer_key, issuer) = self.own_issuer()?;
        let signer = self.signer()?;
        let identity = self.identity()?;
        let clinic = flows::attest::Clinic {
            signer: &signer,
            identity: &identity,
            issuer_key,
            issuer,
        };
        let today = (unix_now() / 86_400) as u16;
        self.with_ctx(|ctx| {
            flows::attest::attest_file(ctx, &clinic, patient, file, &Default::default(), today)
        })
    }
}

pub use rekam_client::flows::unix_now;

/// A token account's balance in base units; 0 when it does not exist (yet).
pub fn token_balance(chain: &ChainClient, account: &Pubkey) -> u64 {
    chain
        .rpc
        .get_token_account_balance(account)
        .ok()
        .and_then(|b| b.amount.parse().ok())
        .unwrap_or(0)
}

/// An address argument, as the Solana CLI takes one: a base58 public key, or the path of
/// a keypair file whose public key is meant (`--authority clinic.json`).
#[derive(Clone, Debug)]
pub struct AddressArg {
    pub key: Pubkey,
    /// Set when the address was given as a keypair file.
    pub keypair_file: Option<std::path::PathBuf>,
}

pub fn address_arg(text: &str) -> Result<AddressArg, String> {
    if let Ok(key) = text.parse() {
        return Ok(AddressArg {
            key,
            keypair_file: None,
        });
    }
    let path = std::path::Path::new(text);
    if !path.is_file() {
        return Err(format!(
            "{text:?} is neither a base58 public key nor a keypair file"
        ));
    }
    solana_keypair::read_keypair_file(path)
        .map(|k| AddressArg {
            key: k.pubkey(),
            keypair_file: Some(path.to_path_buf()),
        })
        .map_err(|err| {
            format!("{text:?} is not a base58 public key, and not a readable keypair file: {err}")
        })
}

/// [`address_arg`]'s public key.
pub fn pubkey_arg(text: &str) -> Result<Pubkey, String> {
    address_arg(text).map(|a| a.key)
}

/// The warning for locator memos that were skipped as unauthenticated (stderr).
pub fn warn_skipped_memos(attestation: &Pubkey, skipped: &[String]) {
    if !skipped.is_empty() {
        eprintln!(
            "warning: skipped {} locator memo(s) about {attestation} that its issuer or patient did not sign: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
}
