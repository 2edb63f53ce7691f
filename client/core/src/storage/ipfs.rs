//! IPFS through the Kubo RPC API (`/api/v0/*`, POST only), as served by Kubo or js-ipfs.
//! Objects are added as CIDv1 (base32, raw leaves) and pinned; reads fetch by CID and
//! are verified against the SHA-256 in the locator. Deleting unpins from our node only:
//! copies that other nodes hold cannot be recalled.

use std::time::Duration;

use serde::Deserialize;

use super::retry::RetryPolicy;
use super::{verify, Locator, Store, StoreError};

pub struct IpfsStore {
    api: String,
    client: reqwest::Client,
    retry: RetryPolicy,
    /// Reads stop with an error past this many bytes: a node (or whoever answers at the
    /// API address) cannot make the client buffer an unbounded object.
    max_object_bytes: usize,
}

/// The default read cap: 1 GiB (records are streamed in 64 KiB segments when written;
/// anything larger is refused on read, before it is buffered).
pub const DEFAULT_MAX_OBJECT_BYTES: usize = 1 << 30;

#[derive(Deserialize)]
struct Added {
    #[serde(rename = "Hash")]
    hash: String,
}

impl IpfsStore {
    /// `api` is the RPC base URL, e.g. `http://127.0.0.1:5001`.
    pub fn new(api: &str, retry: RetryPolicy) -> Result<Self, StoreError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| StoreError::Config(format!("IPFS client: {e}")))?;
        Ok(Self {
            api: api.trim_end_matches('/').to_string(),
            client,
            retry,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
        })
    }

    /// The same store with another read cap.
    pub fn with_max_object_bytes(mut self, max: usize) -> Self {
        self.max_object_bytes = max;
        self
    }

    fn check(locator: &Locator) -> Result<&str, StoreError> {
        match locator {
            Locator::Ipfs { cid, .. } => Ok(cid),
            other => Err(StoreError::WrongStore(other.to_string(), "ipfs")),
        }
    }

    async fn call(
        &self,
        path_and_query: &str,
        form: Option<reqwest::multipart::Form>,
    ) -> Result<Vec<u8>, StoreError> {
        self.call_capped(path_and_query, form, usize::MAX).await
    }

    /// `call`, refusing (without buffering it) a body longer than `cap` bytes.
    async fn call_capped(
        &self,
        path_and_query: &str,
        form: Option<reqwest::multipart::Form>,
        cap: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let url = format!("{}/api/v0/{path_and_query}", self.api);
        let mut request = self.client.post(&url);
        if let Some(form) = form {
            request = request.multipart(form);
        }
        let response = request.send().await.map_err(|e| StoreError::Unavailable {
            attempts: 1,
            last: format!("{url}: {e}"),
        })?;
        let status = response.status();
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(StoreError::TooLarge(cap));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| StoreError::Unavailable {
                attempts: 1,
                last: format!("{url}: {e}"),
            })?
        {
            if body.len() + chunk.len() > cap {
                return Err(StoreError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        let message = String::from_utf8_lossy(&body).into_owned();
        Err(match status.as_u16() {
            401 | 403 => StoreError::Auth(message),
            502..=504 => StoreError::Unavailable {
                attempts: 1,
                last: format!("{status}: {message}"),
            },
            _ if message.contains("not found") || message.contains("no link named") => {
                StoreError::NotFound(message)
            }
            _ => StoreError::Backend(format!("IPFS {status}: {message}")),
        })
    }
}

#[async_trait::async_trait]
impl Store for IpfsStore {
    fn kind(&self) -> &'static str {
        "ipfs"
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<Locator, StoreError> {
        let blake3 = super::content_digest(&bytes);
        let body = self
            .retry
            .run(|| {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name("record")
                    .mime_str("application/octet-stream")
                    .expect("static mime type");
                let form = reqwest::multipart::Form::new().part("file", part);
                async move {
                    self.call("add?cid-version=1&cid-base=base32&raw-leaves=true&chunker=size-1048576&pin=true&quiet=true", Some(form))
                        .await
                }
            })
            .await?;
        // The RPC answers one JSON object per added item, newline-separated.
        let last = body
            .split(|b| *b == b'\n')
            .rfind(|line| !line.is_empty())
            .ok_or_else(|| StoreError::Backend("IPFS add returned nothing".into()))?;
        let added: Added = serde_json::from_slice(last)
            .map_err(|e| StoreError::Backend(format!("IPFS add response: {e}")))?;
        Ok(Locator::Ipfs {
            cid: added.hash,
            blake3,
        })
    }

    async fn get(&self, locator: &Locator) -> Result<Vec<u8>, StoreError> {
        let cid = Self::check(locator)?;
        let query = format!("cat?arg={cid}");
        let cap = self.max_object_bytes;
        let bytes = self
            .retry
            .run(|| self.call_capped(&query, None, cap))
            .await?;
        verify(locator, &bytes)?;
        Ok(bytes)
    }

    async fn delete(&self, locator: &Locator) -> Result<(), StoreError> {
        let cid = Self::check(locator)?;
        let query = format!("pin/rm?arg={cid}");
        match self.retry.run(|| self.call(&query, None)).await {
            Ok(_) => Ok(()),
            Err(StoreError::Backend(message)) if message.contains("not pinned") => Ok(()),
            Err(err) => Err(err),
        }
    }
}
