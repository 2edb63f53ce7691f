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

    /// A 32-byte secret only this identity can compute: HKDF-SHA256 over the X25519
    /// secret with a domain label as salt. It needs no wallet signature, so neither a
    /// hardware wallet (which signs only transactions) nor a phishing site that asks the
    /// wallet to sign something can produce it.
    pub fn derive_secret(&self, label: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut ikm = Zeroizing::new([0u8; 32]);
        ikm.copy_from_slice(&self.secret.to_bytes());
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(label), ikm.as_slice());
        let mut out = Zeroizing::new([0u8; 32]);
        hk.expand(info, out.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
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
