//! One claim as an SD-JWT disclosure (RFC 9901 §4.2.1): the base64url (no padding) text
//! of the JSON array `[salt, name, value]`. Its digest, SHA-256 over that text, is what
//! the claims tree commits to, so the same claims export as a standard SD-JWT.
//!
//! The text is kept exactly as issued: a verifier hashes the text it was given and never
//! re-serializes the JSON, so key order or number formatting cannot change a digest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bytes of salt per claim: 128 bits, as RFC 9901 recommends at least.
pub const SALT_LEN: usize = 16;

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum DisclosureError {
    #[error("disclosure is not base64url")]
    NotBase64,
    #[error("disclosure is not a JSON array [salt, name, value]")]
    NotAnArray,
    #[error("disclosure salt must be base64url of at least {SALT_LEN} bytes")]
    WeakSalt,
    #[error("disclosure name must be a non-empty string other than _sd and ...")]
    BadName,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disclosure {
    encoded: String,
    name: String,
    value: Value,
}

impl Disclosure {
    /// A new disclosure of `name = value` with `salt`.
    pub fn new(salt: &[u8; SALT_LEN], name: &str, value: Value) -> Self {
        let array = Value::Array(vec![
            Value::String(URL_SAFE_NO_PAD.encode(salt)),
            Value::String(name.to_string()),
            value.clone(),
        ]);
        let json = serde_json::to_string(&array).expect("a JSON value serializes");
        Self {
            encoded: URL_SAFE_NO_PAD.encode(json),
            name: name.to_string(),
            value,
        }
    }

    /// Parses a disclosure as received (its text is kept for hashing).
    pub fn parse(encoded: &str) -> Result<Self, DisclosureError> {
        let json = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| DisclosureError::NotBase64)?;
        let array: Value =
            serde_json::from_slice(&json).map_err(|_| DisclosureError::NotAnArray)?;
        let [salt, name, value] = array
            .as_array()
            .and_then(|a| <&[Value; 3]>::try_from(a.as_slice()).ok())
            .ok_or(DisclosureError::NotAnArray)?;
        let salt = salt
            .as_str()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or(DisclosureError::WeakSalt)?;
        if salt.len() < SALT_LEN {
            return Err(DisclosureError::WeakSalt);
        }
        let name = name
            .as_str()
            .filter(|n| !n.is_empty() && *n != "_sd" && *n != "...")
            .ok_or(DisclosureError::BadName)?;
        Ok(Self {
            encoded: encoded.to_string(),
            name: name.to_string(),
            value: value.clone(),
        })
    }

    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// SHA-256 of the disclosure text: the leaf digest of the claims tree.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.encoded.as_bytes()).into()
    }

    /// The digest as SD-JWT writes it in `_sd` (base64url).
    pub fn digest_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.digest())
    }
}
