//! A user's X25519 identity (`docs/format.md`, "Identities"): RFC 9180 `DeriveKeyPair`
//! over a random 32-byte seed kept in the keystore file (`keystore`), never over anything
//! a wallet signs, so no signature a website can request reveals it.

use hpke::{Deserializable, Kem as _, Serializable};
use zeroize::Zeroizing;

use super::CryptoError;

pub type Kem = hpke::kem::X25519HkdfSha256;

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

    pub(crate) fn secret(&self) -> &<Kem as hpke::Kem>::PrivateKey {
        &self.secret
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({})", hex::encode(self.public))
    }
}

/// Parses a recipient public key.
pub fn public_key(bytes: &[u8; 32]) -> Result<<Kem as hpke::Kem>::PublicKey, CryptoError> {
    <Kem as hpke::Kem>::PublicKey::from_bytes(bytes).map_err(|_| CryptoError::InvalidPublicKey)
}
