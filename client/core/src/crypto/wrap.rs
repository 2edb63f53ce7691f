//! HPKE wrapping of a record's data key: base mode, DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, AES-256-GCM; `info = "rekam/v1/wrap"`, `aad` = the record header prefix.

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand_core::TryRngCore;
use zeroize::Zeroizing;

use super::identity::{self, Identity, Kem};
use super::CryptoError;

pub const WRAP_INFO: &[u8] = b"rekam/v1/wrap";
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

/// Wraps `key` to the X25519 public key `recipient`, bound to `aad`.
pub fn wrap(key: &DataKey, recipient: &[u8; 32], aad: &[u8]) -> Result<Stanza, CryptoError> {
    let pk = identity::public_key(recipient)?;
    let mut rng = rand_core::OsRng.unwrap_err();
    let (enc, ct) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk,
        WRAP_INFO,
        key.as_bytes(),
        aad,
        &mut rng,
    )
    .map_err(|_| CryptoError::Backend)?;
    let wrapped: [u8; 48] = ct.as_slice().try_into().map_err(|_| CryptoError::Backend)?;
    Ok(Stanza {
        key_id: identity::key_id(recipient),
        enc: enc.to_bytes().into(),
        wrapped,
    })
}

/// Opens a stanza with `identity`.
pub fn unwrap(stanza: &Stanza, identity: &Identity, aad: &[u8]) -> Result<DataKey, CryptoError> {
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&stanza.enc)
        .map_err(|_| CryptoError::UnwrapFailed)?;
    let plain = Zeroizing::new(
        hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
            &OpModeR::Base,
            identity.secret(),
            &enc,
            WRAP_INFO,
            &stanza.wrapped,
            aad,
        )
        .map_err(|_| CryptoError::UnwrapFailed)?,
    );
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::UnwrapFailed)?;
    Ok(DataKey(Zeroizing::new(bytes)))
}

/// Opens the first stanza addressed to `identity` (by key id) that opens.
pub fn unwrap_any(
    stanzas: &[Stanza],
    identity: &Identity,
    aad: &[u8],
) -> Result<DataKey, CryptoError> {
    let id = identity.key_id();
    let mut candidates = stanzas.iter().filter(|s| s.key_id == id).peekable();
    if candidates.peek().is_none() {
        return Err(CryptoError::NotARecipient);
    }
    candidates
        .find_map(|stanza| unwrap(stanza, identity, aad).ok())
        .ok_or(CryptoError::UnwrapFailed)
}
