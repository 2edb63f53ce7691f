//! Any S3-compatible server (AWS, SeaweedFS, MinIO...) through `object_store`.
//! Object keys are the SHA-256 of the object (`<prefix><hex>`). Small objects go up in
//! one PUT (atomic); files larger than [`MULTIPART_THRESHOLD`] stream up in parts, and a
//! failed multipart upload is aborted, so no partial object ever becomes visible.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};

use super::retry::RetryPolicy;
use super::{verify, Locator, Store, StoreError};

/// Files above this size are uploaded in parts of this size.
pub const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:8333`; `None` means AWS itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// Key prefix inside the bucket, e.g. `rekam/`.
    pub prefix: String,
    /// Attempts and backoff for transient failures.
    pub retry: RetryPolicy,
}

/// Everything but the secret key, which prints as `<redacted>`.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("retry", &self.retry)
            .finish()
    }
}

pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    retry: RetryPolicy,
}

fn map_error(err: object_store::Error) -> StoreError {
    match err {
        object_store::Error::NotFound { path, .. } => StoreError::NotFound(path),
        object_store::Error::Unauthenticated { source, .. }
        | object_store::Error::PermissionDenied { source, .. } => {
            StoreError::Auth(source.to_string())
        }
        other => {
            let text = other.to_string();
            if text.contains("SignatureDoesNotMatch")
                || text.contains("InvalidAccessKeyId")
                || text.contains("AccessDenied")
            {
                StoreError::Auth(text)
            } else {
                StoreError::Unavailable {
                    attempts: 1,
                    last: text,
                }
            }
        }
    }
}

impl S3Store {
    pub fn new(config: &S3Config) -> Result<Self, StoreError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key)
            .with_secret_access_key(&config.secret_key)
            .with_virtual_hosted_style_request(false)
            // Retries happen in `RetryPolicy`, the same for every backend.
            .with_retry(RetryConfig {
                max_retries: 0,
                retry_timeout: Duration::from_secs(30),
                backoff: BackoffConfig::default(),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(Duration::from_secs(60))
                    .with_connect_timeout(Duration::from_secs(3)),
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder
            .build()
            .map_err(|e| StoreError::Config(format!("S3: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
            retry: config.retry,
        })
    }

    fn key(&self, digest: &[u8; 32]) -> ObjectPath {
        ObjectPath::from(format!("{}{}", self.prefix, hex::encode(digest)))
    }

    fn check<'a>(&self, locator: &'a Locator) -> Result<&'a [u8; 32], StoreError> {
        match locator {
            Locator::S3 { bucket, blake3 } if *bucket == self.bucket => Ok(blake3),
            other => Err(StoreError::WrongStore(other.to_string(), "s3")),
        }
    }

    /// Whether an object exists under this digest (used by tests and re-key cleanup).
    pub async fn exists(&self, digest: &[u8; 32]) -> Result<bool, StoreError> {
        let key = self.key(digest);
        self.retry
            .run(|| async {
                match self.store.head(&key).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(err) => Err(map_error(err)),
                }
            })
            .await
    }

    /// The raw object store (tests use it to tamper with stored objects).
    pub fn raw(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    pub fn raw_key(&self, digest: &[u8; 32]) -> ObjectPath {
        self.key(digest)
    }
}

#[async_trait::async_trait]
impl Store for S3Store {
    fn kind(&self) -> &'static str {
        "s3"
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<Locator, StoreError> {
        let blake3 = super::content_digest(&bytes);
        let key = self.key(&blake3);
        let bytes = bytes::Bytes::from(bytes);
        self.retry
            .run(|| async {
                self.store
                    .put(&key, PutPayload::from(bytes.clone()))
                    .await
                    .map_err(map_error)
            })
            .await?;
        Ok(Locator::S3 {
            bucket: self.bucket.clone(),
            blake3,
        })
    }

    async fn get(&self, locator: &Locator) -> Result<Vec<u8>, StoreError> {
        let key = self.key(self.check(locator)?);
        let bytes = self
            .retry
            .run(|| async {
                self.store
                    .get(&key)
                    .await
                    .map_err(map_error)?
                    .bytes()
                    .await
                    .map_err(map_error)
            })
            .await?;
        verify(locator, &bytes)?;
        Ok(bytes.to_vec())
    }

    async fn delete(&self, locator: &Locator) -> Result<(), StoreError> {
        let key = self.key(self.check(locator)?);
        self.retry
            .run(|| async {
                match self.store.delete(&key).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(err) => Err(map_error(err)),
                }
            })
            .await
    }

    /// Hashes the file (the key is its digest), then streams it up; multipart above the
    /// threshold, aborted on any failure.
    async fn put_file(&self, path: &Path) -> Result<Locator, StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len <= MULTIPART_THRESHOLD as u64 {
            let bytes = std::fs::read(path).map_err(io)?;
            return self.put(bytes).await;
        }
        let mut hasher = blake3::Hasher::new();
        let mut file = std::fs::File::open(path).map_err(io)?;
        let mut buf = vec![0u8; MULTIPART_THRESHOLD];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let blake3: [u8; 32] = hasher.finalize().into();
        self.retry.run(|| self.upload_parts(path, &blake3)).await?;
        Ok(Locator::S3 {
            bucket: self.bucket.clone(),
            blake3,
        })
    }
}

impl S3Store {
    /// One multipart upload attempt; aborted (best effort) when any part fails.
    async fn upload_parts(&self, path: &Path, digest: &[u8; 32]) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut upload = self
            .store
            .put_multipart(&self.key(digest))
            .await
            .map_err(map_error)?;
        let mut file = std::fs::File::open(path).map_err(io)?;
        let outcome: Result<(), StoreError> = async {
            loop {
                let mut part = vec![0u8; MULTIPART_THRESHOLD];
                let mut filled = 0;
                while filled < part.len() {
                    let n = file.read(&mut part[filled..]).map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    break;
                }
                part.truncate(filled);
                upload
                    .put_part(PutPayload::from(part))
                    .await
                    .map_err(map_error)?;
            }
            upload.complete().await.map_err(map_error)?;
            Ok(())
        }
        .await;
        if outcome.is_err() {
            let _ = upload.abort().await;
        }
        outcome
    }
}
