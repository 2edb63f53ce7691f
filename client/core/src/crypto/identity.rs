//! A user's X25519 identity (`docs/format.md`, "Identities"): RFC 9180 `DeriveKeyPair`
//! over a random 32-byte seed kept in the keystore file (`keystore`), never over anything
//! a wallet signs, so no signature a website can request reveals it.

use hpke::{Deserializable, Kem as _, Serializable};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CryptoError;

pub type Kem = hpke::kem::X25519HkdfSha256;

const KEY_ID_LABEL: &[u8] = b"rekam/v1/key-id";

/// An X25519 key pair able to open records wrapped to it.
#[derive(Clone)]
pub struct Identity {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; 32],
}

impl Identity {
    /// RFC 9180 `DeriveKeyPair(ikm)`.
    pub fn from_ikm(ikm: &[u8]) -> Self {
        let (secret, public) = Kem::derive_keypair(ikm);
        let public = public.to_bytes().into();
        Self { secret, public }
    }

    /// A random identity (servers, tests).
    pub fn generate() -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(ikm.as_mut_slice()).expect("system RNG");
        Self::from_ikm(ikm.as_slice())
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    pub fn key_id(&self) -> [u8; 8] {
        key_id(&self.public)
    }

    pub(crate) fn secret(&self) -> &<Kem as hpke::Kem>::PrivateKey {
        &self.secret
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({})", hex::encode(self.public))
    }
}

/// The 8-byte identifier of a recipient's public key in record headers.
pub fn key_id(public: &[u8; 32]) -> [u8; 8] {
    let mut hasher = Sha256::new();
    hasher.update(KEY_ID_LABEL);
    hasher.update(public);
    let digest = hasher.finalize();
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

/// Parses a recipient public key.
pub fn public_key(bytes: &[u8; 32]) -> Result<<Kem as hpke::Kem>::PublicKey, CryptoError> {
    <Kem as hpke::Kem>::PublicKey::from_bytes(bytes).map_err(|_| CryptoError::InvalidPublicKey)
}
