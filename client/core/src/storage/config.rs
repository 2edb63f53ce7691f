//! Which store to use, resolved from settings or the environment:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `REKAM_STORE` | `local`, `ipfs` or `s3` | `local` |
//! | `REKAM_STORE_DIR` | local folder | `~/.local/share/rekam/store` |
//! | `REKAM_IPFS_API` | Kubo RPC base URL | `http://127.0.0.1:5001` |
//! | `REKAM_S3_ENDPOINT` | S3 endpoint URL (unset: AWS) | – |
//! | `REKAM_S3_BUCKET`, `REKAM_S3_REGION`, `REKAM_S3_PREFIX` | | –, `us-east-1`, `rekam/` |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | S3 credentials | – |

use std::path::PathBuf;

use super::ipfs::IpfsStore;
use super::local::LocalStore;
use super::retry::RetryPolicy;
use super::s3::{S3Config, S3Store};
use super::{Locator, Store, StoreError};

#[derive(Clone, Debug)]
pub enum StoreConfig {
    Local { dir: PathBuf },
    Ipfs { api: String },
    S3(S3Config),
}

impl StoreConfig {
    pub fn default_local_dir() -> PathBuf {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".local/share/rekam/store")
    }

    /// Reads the configuration from `REKAM_*` variables (see the module docs).
    pub fn from_env() -> Result<Self, StoreError> {
        Self::resolve(None, None)
    }

    /// Flags first (`kind`, `dir`), then `REKAM_*` variables, then defaults.
    pub fn resolve(kind: Option<&str>, dir: Option<PathBuf>) -> Result<Self, StoreError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let kind = kind
            .map(str::to_string)
            .or_else(|| var("REKAM_STORE"))
            .unwrap_or_else(|| "local".into());
        match kind.as_str() {
            "local" => Ok(StoreConfig::Local {
                dir: dir
                    .or_else(|| var("REKAM_STORE_DIR").map(PathBuf::from))
                    .unwrap_or_else(Self::default_local_dir),
            }),
            "ipfs" => Ok(StoreConfig::Ipfs {
                api: var("REKAM_IPFS_API").unwrap_or_else(|| "http://127.0.0.1:5001".into()),
            }),
            "s3" => Ok(StoreConfig::S3(S3Config {
                endpoint: var("REKAM_S3_ENDPOINT"),
                bucket: var("REKAM_S3_BUCKET")
                    .ok_or_else(|| StoreError::Config("REKAM_S3_BUCKET is not set".into()))?,
                region: var("REKAM_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                access_key: var("AWS_ACCESS_KEY_ID")
                    .ok_or_else(|| StoreError::Config("AWS_ACCESS_KEY_ID is not set".into()))?,
                secret_key: var("AWS_SECRET_ACCESS_KEY")
                    .ok_or_else(|| StoreError::Config("AWS_SECRET_ACCESS_KEY is not set".into()))?,
                prefix: var("REKAM_S3_PREFIX").unwrap_or_else(|| "rekam/".into()),
                retry: RetryPolicy::default(),
            })),
            other => Err(StoreError::Config(format!(
                "REKAM_STORE={other:?}: expected local, ipfs or s3"
            ))),
        }
    }

    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            StoreConfig::Local { dir } => Box::new(LocalStore::new(dir)?),
            StoreConfig::Ipfs { api } => Box::new(IpfsStore::new(api, RetryPolicy::default())?),
            StoreConfig::S3(config) => Box::new(S3Store::new(config)?),
        })
    }

    /// Whether this configuration can read `locator`.
    pub fn serves(&self, locator: &Locator) -> bool {
        match (self, locator) {
            (StoreConfig::Local { .. }, Locator::Local { .. })
            | (StoreConfig::Ipfs { .. }, Locator::Ipfs { .. }) => true,
            (StoreConfig::S3(config), Locator::S3 { bucket, .. }) => *bucket == config.bucket,
            _ => false,
        }
    }
}
