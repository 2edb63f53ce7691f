//! The encryption identity's keystore file (`rekam-identity/1`, `docs/format.md`,
//! "Identities"): a random X25519 seed bound to one wallet, stored like a Solana keypair
//! (mode 0600, written atomically) and optionally sealed under a passphrase
//! (PBKDF2-HMAC-SHA256, then AES-256-GCM). No signature a website can request reveals it.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Identity;
use anchor_lang::prelude::Pubkey;

pub const KEYSTORE_FORMAT: &str = "rekam-identity/1";
/// PBKDF2-HMAC-SHA256 iterations for a passphrase (OWASP's 2023 figure for SHA-256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
const SEALED: &str = "pbkdf2-sha256/aes-256-gcm";
const PLAIN: &str = "none";

/// Everything that can go wrong with a keystore file; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("no encryption identity at {}", .0.display())]
    Missing(PathBuf),
    #[error("{} already exists; refusing to overwrite an encryption identity (pass --force to replace it)", .0.display())]
    Exists(PathBuf),
    #[error("cannot read the encryption identity {}: {}", .0.display(), .1)]
    Unreadable(PathBuf, std::io::Error),
    #[error("cannot write the encryption identity {}: {}", .0.display(), .1)]
    Unwritable(PathBuf, std::io::Error),
    #[error("{} is not a Rekam encryption identity ({})", .0.display(), .1)]
    Malformed(PathBuf, String),
    #[error("the encryption identity {} belongs to wallet {owner}, not to {wallet}", .path.display())]
    WrongWallet {
        path: PathBuf,
        owner: Pubkey,
        wallet: Pubkey,
    },
    #[error("wrong passphrase for the encryption identity {}", .0.display())]
    WrongPassphrase(PathBuf),
    #[error("the encryption identity {} is protected by a passphrase, and none was given", .0.display())]
    PassphraseRequired(PathBuf),
    #[error("the encryption identity {} is corrupt: its seed does not give its public key", .0.display())]
    Corrupt(PathBuf),
}

/// The file's JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeystoreFile {
    format: String,
    /// The wallet (base58) this identity belongs to.
    wallet: String,
    /// The X25519 public key (hex), readable without the passphrase.
    public_key: String,
    /// `none` or `pbkdf2-sha256/aes-256-gcm`.
    protection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iterations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    /// The 32-byte seed (hex), or its AES-256-GCM ciphertext and tag.
    seed: String,
}

/// What a keystore file says without its passphrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeystoreInfo {
    pub wallet: Pubkey,
    pub public_key: [u8; 32],
    pub protected: bool,
}

/// A new random identity for `wallet`, written to `path` (0600, atomic). `passphrase`
/// seals the seed; `None` stores it as a Solana keypair file stores its secret.
pub fn create(
    path: &Path,
    wallet: &Pubkey,
    passphrase: Option<&str>,
    force: bool,
) -> Result<Identity, KeystoreError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(seed.as_mut_slice()).expect("system RNG");
    write(path, wallet, &seed, passphrase, force)?;
    Ok(Identity::from_ikm(seed.as_slice()))
}

/// Writes `seed` as `wallet`'s identity (used by [`create`] and by rotation, which
/// writes the next identity before it switches).
pub fn write(
    path: &Path,
    wallet: &Pubkey,
    seed: &[u8; 32],
    passphrase: Option<&str>,
    force: bool,
) -> Result<(), KeystoreError> {
    if path.exists() && !force {
        return Err(KeystoreError::Exists(path.to_path_buf()));
    }
    let public = Identity::from_ikm(seed).public_key();
    let mut file = KeystoreFile {
        format: KEYSTORE_FORMAT.into(),
        wallet: wallet.to_string(),
        public_key: hex::encode(public),
        protection: PLAIN.into(),
        iterations: None,
        salt: None,
        nonce: None,
        seed: hex::encode(seed),
    };
    if let Some(passphrase) = passphrase {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        aws_lc_rs::rand::fill(&mut salt).expect("system RNG");
        aws_lc_rs::rand::fill(&mut nonce).expect("system RNG");
        let key = stretch(passphrase, &salt, PBKDF2_ITERATIONS);
        let mut sealed = seed.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(wallet, &public)),
            &mut sealed,
        )
        .expect("AES-256-GCM seals 32 bytes");
        file.protection = SEALED.into();
        file.iterations = Some(PBKDF2_ITERATIONS);
        file.salt = Some(hex::encode(salt));
        file.nonce = Some(hex::encode(nonce));
        file.seed = hex::encode(sealed);
    }
    let json = serde_json::to_vec_pretty(&file).expect("a keystore serializes");
    crate::private_file::write_atomic(path, &json)
        .map_err(|err| KeystoreError::Unwritable(path.to_path_buf(), err))
}

/// The wallet and public key a keystore names, without opening it.
pub fn info(path: &Path) -> Result<KeystoreInfo, KeystoreError> {
    let file = read(path)?;
    parse_info(path, &file)
}

/// Opens `wallet`'s identity at `path`. `passphrase` is asked for only when the file is
/// sealed; it returns `None` when no passphrase can be had (then the call fails with
/// [`KeystoreError::PassphraseRequired`]).
pub fn open<E>(
    path: &Path,
    wallet: &Pubkey,
    passphrase: impl FnOnce() -> Result<Option<Zeroizing<String>>, E>,
) -> Result<Result<Identity, KeystoreError>, E> {
    let file = match read(path) {
        Ok(file) => file,
        Err(err) => return Ok(Err(err)),
    };
    let info = match parse_info(path, &file) {
        Ok(info) => info,
        Err(err) => return Ok(Err(err)),
    };
    if info.wallet != *wallet {
        return Ok(Err(KeystoreError::WrongWallet {
            path: path.to_path_buf(),
            owner: info.wallet,
            wallet: *wallet,
        }));
    }
    let bytes = match hex::decode(&file.seed) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(_) => return Ok(Err(malformed(path, "the seed is not hex"))),
    };
    let seed: Zeroizing<Vec<u8>> = if info.protected {
        let Some(passphrase) = passphrase()? else {
            return Ok(Err(KeystoreError::PassphraseRequired(path.to_path_buf())));
        };
        match unseal(path, &file, &info, &passphrase, bytes) {
            Ok(seed) => seed,
            Err(err) => return Ok(Err(err)),
        }
    } else {
        bytes
    };
    if seed.len() != 32 {
        return Ok(Err(malformed(path, "the seed is not 32 bytes")));
    }
    let identity = Identity::from_ikm(&seed);
    if identity.public_key() != info.public_key {
        return Ok(Err(KeystoreError::Corrupt(path.to_path_buf())));
    }
    Ok(Ok(identity))
}

/// [`open`] for a file that needs no passphrase source (a passphrase, if any, is given).
pub fn open_with(
    path: &Path,
    wallet: &Pubkey,
    passphrase: Option<&str>,
) -> Result<Identity, KeystoreError> {
    let given = passphrase.map(|p| Zeroizing::new(p.to_string()));
    open::<std::convert::Infallible>(path, wallet, || Ok(given))
        .unwrap_or_else(|never| match never {})
}

/// The seed of a new random identity, for rotation (written with [`write`] first).
pub fn new_seed() -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(seed.as_mut_slice()).expect("system RNG");
    seed
}

/// Where a wallet's identity lives by default: beside its keypair file,
/// `id.json` → `id.identity.json`.
pub fn default_path(keypair_path: &Path) -> PathBuf {
    let stem = keypair_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "id".into());
    keypair_path.with_file_name(format!("{stem}.identity.json"))
}

/// The identity file rotation writes before it switches: `PATH.next`.
pub fn next_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".next");
    PathBuf::from(name)
}

fn read(path: &Path) -> Result<KeystoreFile, KeystoreError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeystoreError::Missing(path.to_path_buf()))
        }
        Err(err) => return Err(KeystoreError::Unreadable(path.to_path_buf(), err)),
    };
    serde_json::from_slice(&text).map_err(|err| malformed(path, &err.to_string()))
}

fn parse_info(path: &Path, file: &KeystoreFile) -> Result<KeystoreInfo, KeystoreError> {
    if file.format != KEYSTORE_FORMAT {
        return Err(malformed(
            path,
            &format!("format {:?}, expected {KEYSTORE_FORMAT:?}", file.format),
        ));
    }
    let wallet = file
        .wallet
        .parse()
        .map_err(|_| malformed(path, "the wallet is not a base58 address"))?;
    let public_key = hex::decode(&file.public_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| malformed(path, "the public key is not 32 hex bytes"))?;
    let protected = match file.protection.as_str() {
        PLAIN => false,
        SEALED => true,
        other => return Err(malformed(path, &format!("unknown protection {other:?}"))),
    };
    Ok(KeystoreInfo {
        wallet,
        public_key,
        protected,
    })
}

fn unseal(
    path: &Path,
    file: &KeystoreFile,
    info: &KeystoreInfo,
    passphrase: &str,
    mut sealed: Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let field = |v: &Option<String>, n: usize, what: &str| {
        v.as_deref()
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() == n)
            .ok_or_else(|| malformed(path, &format!("the {what} is missing or malformed")))
    };
    let salt = field(&file.salt, 16, "salt")?;
    let nonce: [u8; 12] = field(&file.nonce, 12, "nonce")?.try_into().expect("12");
    let iterations = file
        .iterations
        .filter(|i| (1..=100_000_000).contains(i))
        .ok_or_else(|| malformed(path, "the iteration count is missing or out of range"))?;
    let key = stretch(passphrase, &salt, iterations);
    let opened = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&info.wallet, &info.public_key)),
            sealed.as_mut_slice(),
        )
        .map_err(|_| KeystoreError::WrongPassphrase(path.to_path_buf()))?;
    Ok(Zeroizing::new(opened.to_vec()))
}

fn stretch(passphrase: &str, salt: &[u8], iterations: u32) -> LessSafeKey {
    let mut key = Zeroizing::new([0u8; 32]);
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).expect("checked non-zero"),
        salt,
        passphrase.as_bytes(),
        key.as_mut_slice(),
    );
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.as_slice()).expect("32-byte key"))
}

/// The seal binds the seed to its format, wallet and public key.
fn aad(wallet: &Pubkey, public: &[u8; 32]) -> Vec<u8> {
    let mut aad = KEYSTORE_FORMAT.as_bytes().to_vec();
    aad.extend_from_slice(wallet.as_ref());
    aad.extend_from_slice(public);
    aad
}

fn malformed(path: &Path, why: &str) -> KeystoreError {
    KeystoreError::Malformed(path.to_path_buf(), why.to_string())
}
