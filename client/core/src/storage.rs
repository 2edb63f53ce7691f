//! Where encrypted records live: a local folder (default), IPFS (Kubo RPC API) or any
//! S3-compatible server, behind one [`Store`] trait.
//!
//! Every backend is content-addressed by BLAKE3 ([`content_digest`]): a [`Locator`] always
//! carries the digest of the stored bytes, and every read recomputes it, so a corrupted or substituted object
//! is an error ([`StoreError::Integrity`]), never data. Writes are all-or-nothing (a temp
//! file renamed into place; one S3 PUT, or a multipart upload aborted on failure; an IPFS
//! add). Transient failures (connection refused or reset, timeouts, 5xx) are retried with
//! exponential backoff; authentication and integrity failures are not.

pub mod config;
pub mod ipfs;
pub mod local;
pub mod locator;
pub mod retry;
pub mod s3;
mod sink;

use std::path::Path;

pub use config::StoreConfig;
pub use locator::Locator;

/// SHA-256 of `bytes`: the hashes the chain keeps (key grants, protocols, registry ids).
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The content address of stored bytes: BLAKE3 (as IPFS multihash 0x1e allows). Stored
/// objects are ciphertext that AES-GCM already authenticates, so the address only names
/// and checks them; BLAKE3 costs a fraction of SHA-256 and keeps the stored pipeline at
/// the speed of its encryption and its disk (`docs/format.md`, "Content addresses").
pub fn content_digest(bytes: &[u8]) -> [u8; 32] {
    blake3::hash(bytes).into()
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stored object {locator} is corrupt or substituted: expected blake3 {expected}, got {actual}")]
    Integrity {
        locator: String,
        expected: String,
        actual: String,
    },
    #[error("object {0} not found")]
    NotFound(String),
    #[error("storage refused the credentials: {0}")]
    Auth(String),
    #[error("storage unreachable after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    #[error("stored object is larger than the {0}-byte read limit; refused before buffering it")]
    TooLarge(usize),
    #[error("storage error: {0}")]
    Backend(String),
    #[error("locator {0} belongs to a different store ({1})")]
    WrongStore(String, &'static str),
    #[error("invalid locator {0:?}: {1}")]
    BadLocator(String, &'static str),
    #[error("storage configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// Worth trying again (the failure may be gone in a moment).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// Checks fetched bytes against the locator's digest.
pub fn verify(locator: &Locator, bytes: &[u8]) -> Result<(), StoreError> {
    let actual = content_digest(bytes);
    if &actual == locator.blake3() {
        Ok(())
    } else {
        Err(StoreError::Integrity {
            locator: locator.to_string(),
            expected: hex::encode(locator.blake3()),
            actual: hex::encode(actual),
        })
    }
}

/// A content-addressed object store.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Short name of the backend (`local`, `ipfs`, `s3`).
    fn kind(&self) -> &'static str;

    /// Stores `bytes`; the returned locator names them by their SHA-256.
    async fn put(&self, bytes: Vec<u8>) -> Result<Locator, StoreError>;

    /// Fetches and verifies an object.
    async fn get(&self, locator: &Locator) -> Result<Vec<u8>, StoreError>;

    /// Removes an object where the backend allows it. On IPFS this unpins it from our
    /// node; copies elsewhere on the network cannot be recalled.
    async fn delete(&self, locator: &Locator) -> Result<(), StoreError>;

    /// Stores a file. The default reads it whole; backends that can stream override it.
    async fn put_file(&self, path: &Path) -> Result<Locator, StoreError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
        self.put(bytes).await
    }
}
