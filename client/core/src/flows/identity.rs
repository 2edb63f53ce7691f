//! The signer's encryption identity (`docs/format.md`, "Identities"): its keystore file is
//! opened and compared with every key the chain holds for the wallet (its patient
//! profiles, the issuers it signs for) before anything is decrypted or sealed with it.
//! A missing file is created only for a wallet that has published no key yet.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use rekam::{Issuer, Patient};
use zeroize::Zeroizing;

use super::{offsets, FlowError};
use crate::chain::ChainClient;
use crate::crypto::keystore::{self, KeystoreError};
use crate::crypto::Identity;

/// One key the chain holds for a wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainKey {
    /// `patient profile` or `issuer`.
    pub what: &'static str,
    pub account: Pubkey,
    pub key: [u8; 32],
}

/// How the identity was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    Opened,
    /// A new random identity was written (the wallet had published no key).
    Created,
    /// A rotation had written `PATH.next` and switched the chain, then stopped before
    /// renaming it: the next identity is now the identity.
    FinishedRotation,
}

/// Every key the chain holds for `wallet`.
pub fn keys_on_chain(chain: &ChainClient, wallet: &Pubkey) -> Result<Vec<OnChainKey>, FlowError> {
    let filter = Some((offsets::AFTER_HEADER, *wallet));
    let mut keys: Vec<OnChainKey> = chain
        .list::<Patient>(filter)?
        .into_iter()
        .map(|(account, p)| OnChainKey {
            what: "patient profile",
            account,
            key: p.encryption_key,
        })
        .collect();
    keys.extend(
        chain
            .list::<Issuer>(filter)?
            .into_iter()
            .map(|(account, i)| OnChainKey {
                what: "issuer",
                account,
                key: i.encryption_key,
            }),
    );
    Ok(keys)
}

/// Opens (or, for a wallet with no key on chain, creates) the identity at `path` and
/// checks it against `on_chain`. `passphrase` is asked only for a sealed file;
/// `new_passphrase` seals a created one.
pub fn load(
    path: &Path,
    wallet: &Pubkey,
    on_chain: &[OnChainKey],
    passphrase: impl FnMut() -> Result<Option<Zeroizing<String>>, FlowError>,
    new_passphrase: Option<&str>,
) -> Result<(Identity, Loaded), FlowError> {
    let mut passphrase = passphrase;
    let next = keystore::next_path(path);
    let opened = match keystore::open(path, wallet, &mut passphrase)? {
        Err(KeystoreError::Missing(_)) if on_chain.is_empty() && !next.exists() => {
            let identity = keystore::create(path, wallet, new_passphrase, false)?;
            return Ok((identity, Loaded::Created));
        }
        other => other,
    };
    if let Ok(identity) = &opened {
        if mismatch(identity, on_chain).is_none() {
            return Ok((identity.clone(), Loaded::Opened));
        }
    }
    // A rotation that switched the chain but not yet the file.
    if next.exists() {
        if let Ok(identity) = keystore::open(&next, wallet, &mut passphrase)? {
            if !on_chain.is_empty() && mismatch(&identity, on_chain).is_none() {
                std::fs::rename(&next, path)
                    .map_err(|err| KeystoreError::Unwritable(path.to_path_buf(), err))?;
                return Ok((identity, Loaded::FinishedRotation));
            }
        }
    }
    let identity = match opened {
        Ok(identity) => identity,
        Err(KeystoreError::Missing(_)) => {
            let Some(first) = on_chain.first() else {
                return Err(FlowError::Refused(format!(
                    "no encryption identity at {}, but {} exists (an interrupted rotation?): move it to {} if it is this wallet's identity",
                    path.display(),
                    next.display(),
                    path.display()
                )));
            };
            return Err(FlowError::Refused(format!(
                "no encryption identity at {}, and wallet {wallet} already has key {} on chain ({} {}); restore that identity file (rekam never derives it from the wallet) or pass --identity",
                path.display(),
                hex::encode(first.key),
                first.what,
                first.account
            )));
        }
        Err(err) => return Err(err.into()),
    };
    let wrong = mismatch(&identity, on_chain).expect("checked above");
    Err(FlowError::Refused(format!(
        "the encryption identity {} (key {}) is not wallet {wallet}'s key on chain: {} {} has {}; restore the identity file that matches, or pass --identity",
        path.display(),
        hex::encode(identity.public_key()),
        wrong.what,
        wrong.account,
        hex::encode(wrong.key)
    )))
}

fn mismatch<'a>(identity: &Identity, on_chain: &'a [OnChainKey]) -> Option<&'a OnChainKey> {
    on_chain.iter().find(|k| k.key != identity.public_key())
}
