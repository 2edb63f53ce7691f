//! A user's X25519 identity, derived from their Solana wallet (`docs/format.md`,
//! "Identities"): sign a fixed message (Ed25519 is deterministic), HKDF the signature,
//! and run RFC 9180 `DeriveKeyPair`. Any wallet that can sign a message re-derives it.

use hpke::{Deserializable, Kem as _, Serializable};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::CryptoError;

pub type Kem = hpke::kem::X25519HkdfSha256;

/// The message a wallet signs to derive its encryption identity.
pub const IDENTITY_MESSAGE: &[u8] = b"Rekam encryption key v1\n";
const IDENTITY_SALT: &[u8] = b"rekam/v1/identity";
const IDENTITY_INFO: &[u8] = b"x25519";

/// An X25519 key pair able to open records wrapped to it.
pub struct Identity {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; 32],
}

impl Identity {
    /// Derives the identity from the wallet's signature over [`IDENTITY_MESSAGE`].
    pub fn from_wallet_signature(signature: &[u8; 64]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(IDENTITY_SALT), signature);
        let mut ikm = Zeroizing::new([0u8; 32]);
        hk.expand(IDENTITY_INFO, ikm.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self::from_ikm(ikm.as_slice())
    }

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
