//! HPKE wrapping of a record's data key: base mode, DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, AES-256-GCM; `info = "rekam/v2/wrap"`, `aad` = the record header prefix.
//! A stanza's `key_id` is an HPKE export of that stanza's own context: only its recipient
//! can compute it, and it differs in every record (`docs/format.md`, "Recipient stanza").

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand_core::{CryptoRng, TryRngCore};
use zeroize::Zeroizing;

use super::header::split_prefix;
use super::identity::{self, Identity, Kem};
use super::keys;
use super::CryptoError;

pub const WRAP_INFO: &[u8] = b"rekam/v2/wrap";
/// The HPKE exporter context of a stanza's key id.
pub const KEY_ID_CONTEXT: &[u8] = b"rekam/v2/key-id";
/// key id (8) + encapsulated key (32) + wrapped data key (32 + 16 tag).
pub const STANZA_LEN: usize = 8 + 32 + 48;

/// A record's 256-bit data key. Zeroized on drop.
#[derive(Clone)]
pub struct DataKey(pub(crate) Zeroizing<[u8; 32]>);

impl DataKey {
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(key.as_mut_slice()).expect("system RNG");
        Self(key)
    }

    /// A data key of chosen bytes: known-answer vectors, and tests that play a malicious
    /// writer. A real record's key comes from [`DataKey::generate`].
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// One recipient's wrapped copy of the data key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stanza {
    pub key_id: [u8; 8],
    pub enc: [u8; 32],
    pub wrapped: [u8; 48],
}

impl Stanza {
    pub fn to_bytes(&self) -> [u8; STANZA_LEN] {
        let mut out = [0u8; STANZA_LEN];
        out[..8].copy_from_slice(&self.key_id);
        out[8..40].copy_from_slice(&self.enc);
        out[40..].copy_from_slice(&self.wrapped);
        out
    }

    pub fn from_bytes(bytes: &[u8; STANZA_LEN]) -> Self {
        let mut stanza = Stanza {
            key_id: [0; 8],
            enc: [0; 32],
            wrapped: [0; 48],
        };
        stanza.key_id.copy_from_slice(&bytes[..8]);
        stanza.enc.copy_from_slice(&bytes[8..40]);
        stanza.wrapped.copy_from_slice(&bytes[40..]);
        stanza
    }
}

/// Wraps `key` to the X25519 public key `recipient`, bound to `aad` (the header prefix).
pub fn wrap(key: &DataKey, recipient: &[u8; 32], aad: &[u8]) -> Result<Stanza, CryptoError> {
    wrap_with_rng(key, recipient, aad, &mut rand_core::OsRng.unwrap_err())
}

/// [`wrap`] with the ephemeral key drawn from `rng` (the system RNG in [`wrap`]; a replay
/// of fixed bytes only for known-answer vectors).
pub(crate) fn wrap_with_rng(
    key: &DataKey,
    recipient: &[u8; 32],
    aad: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Stanza, CryptoError> {
    let pk = identity::public_key(recipient)?;
    let (enc, mut ctx) =
        hpke::setup_sender::<AesGcm256, HkdfSha256, Kem, _>(&OpModeS::Base, &pk, WRAP_INFO, rng)
            .map_err(|_| CryptoError::Backend)?;
    let mut key_id = [0u8; 8];
    ctx.export(KEY_ID_CONTEXT, &mut key_id)
        .map_err(|_| CryptoError::Backend)?;
    let ct = ctx
        .seal(key.as_bytes(), aad)
        .map_err(|_| CryptoError::Backend)?;
    let wrapped: [u8; 48] = ct.as_slice().try_into().map_err(|_| CryptoError::Backend)?;
    Ok(Stanza {
        key_id,
        enc: enc.to_bytes().into(),
        wrapped,
    })
}

/// What opening one stanza with one identity found.
enum Opened {
    /// The key id is not this identity's: the stanza is someone else's.
    NotMine,
    /// Addressed to this identity, but the wrapped key does not open under `aad`.
    Failed,
    Key(DataKey),
}

fn open(stanza: &Stanza, identity: &Identity, aad: &[u8]) -> Opened {
    let Ok(enc) = <Kem as hpke::Kem>::EncappedKey::from_bytes(&stanza.enc) else {
        return Opened::NotMine;
    };
    let Ok(mut ctx) = hpke::setup_receiver::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        identity.secret(),
        &enc,
        WRAP_INFO,
    ) else {
        return Opened::NotMine;
    };
    let mut key_id = [0u8; 8];
    if ctx.export(KEY_ID_CONTEXT, &mut key_id).is_err() || key_id != stanza.key_id {
        return Opened::NotMine;
    }
    let Ok(plain) = ctx.open(&stanza.wrapped, aad).map(Zeroizing::new) else {
        return Opened::Failed;
    };
    match <[u8; 32]>::try_from(plain.as_slice()) {
        Ok(bytes) => Opened::Key(DataKey::from_bytes(bytes)),
        Err(_) => Opened::Failed,
    }
}

/// Opens a stanza with `identity`, then checks the key against the commitment in `aad`
/// (the header prefix): a key the header does not commit to is refused.
pub fn unwrap(stanza: &Stanza, identity: &Identity, aad: &[u8]) -> Result<DataKey, CryptoError> {
    split_prefix(aad)?; // an old version's prefix is refused by its version, not as "not mine"
    match open(stanza, identity, aad) {
        Opened::NotMine => Err(CryptoError::NotARecipient),
        Opened::Failed => Err(CryptoError::UnwrapFailed),
        Opened::Key(key) => {
            keys::check_commitment(&key, aad)?;
            Ok(key)
        }
    }
}

/// Opens a stanza that wraps a secret other than a record's data key (a guardian's key
/// share) under `aad`, which binds it to its context; no record header, so no key
/// commitment to check: the caller checks what the secret rebuilds.
pub fn unwrap_bound(
    stanza: &Stanza,
    identity: &Identity,
    aad: &[u8],
) -> Result<DataKey, CryptoError> {
    match open(stanza, identity, aad) {
        Opened::NotMine => Err(CryptoError::NotARecipient),
        Opened::Failed => Err(CryptoError::UnwrapFailed),
        Opened::Key(key) => Ok(key),
    }
}

/// Opens the first stanza addressed to `identity` that opens, and checks its key against
/// the header's commitment. Every stanza costs the reader one X25519 (at most 32 of them):
/// a key id nobody else can link is one only the recipient's secret can compute.
pub fn unwrap_any(
    stanzas: &[Stanza],
    identity: &Identity,
    aad: &[u8],
) -> Result<DataKey, CryptoError> {
    split_prefix(aad)?;
    let mut addressed = false;
    for stanza in stanzas {
        match open(stanza, identity, aad) {
            Opened::NotMine => {}
            Opened::Failed => addressed = true,
            Opened::Key(key) => {
                keys::check_commitment(&key, aad)?;
                return Ok(key);
            }
        }
    }
    Err(match addressed {
        true => CryptoError::UnwrapFailed,
        false => CryptoError::NotARecipient,
    })
}
