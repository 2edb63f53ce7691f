//! Self-describing object addresses, by the BLAKE3 digest of the stored (encrypted) bytes:
//! - `local:<blake3 hex>`
//! - `s3:<bucket>/<blake3 hex>`
//! - `ipfs:<cid>#blake3=<hex>` (the CID addresses the DAG; the digest is what we verify)
//!
//! Locators of record format 1 (`#sha256=`) are refused by name.

use std::fmt;
use std::str::FromStr;

use super::StoreError;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Locator {
    Local { blake3: [u8; 32] },
    S3 { bucket: String, blake3: [u8; 32] },
    Ipfs { cid: String, blake3: [u8; 32] },
}

impl Locator {
    pub fn blake3(&self) -> &[u8; 32] {
        match self {
            Locator::Local { blake3 }
            | Locator::S3 { blake3, .. }
            | Locator::Ipfs { blake3, .. } => blake3,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Locator::Local { .. } => "local",
            Locator::S3 { .. } => "s3",
            Locator::Ipfs { .. } => "ipfs",
        }
    }

    /// The form stored on-chain next to a separately stored digest (a consent's key
    /// grant): the same text without the IPFS digest fragment, which would repeat it.
    pub fn compact(&self) -> String {
        match self {
            Locator::Ipfs { cid, .. } => format!("ipfs:{cid}"),
            other => other.to_string(),
        }
    }

    /// Reads a [`Locator::compact`] form back, given the digest stored beside it. A full
    /// locator is accepted too; its digest must then agree.
    pub fn from_compact(text: &str, blake3: &[u8; 32]) -> Result<Self, StoreError> {
        let locator = match text.strip_prefix("ipfs:") {
            Some(cid) if !cid.contains('#') => {
                format!("ipfs:{cid}#blake3={}", hex::encode(blake3)).parse()?
            }
            _ => text.parse::<Locator>()?,
        };
        if locator.blake3() != blake3 {
            return Err(StoreError::BadLocator(
                text.into(),
                "digest differs from the one recorded beside it",
            ));
        }
        Ok(locator)
    }

    /// The object name used by the local and S3 backends.
    pub fn object_name(&self) -> String {
        hex::encode(self.blake3())
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Local { blake3 } => write!(f, "local:{}", hex::encode(blake3)),
            Locator::S3 { bucket, blake3 } => write!(f, "s3:{bucket}/{}", hex::encode(blake3)),
            Locator::Ipfs { cid, blake3 } => write!(f, "ipfs:{cid}#blake3={}", hex::encode(blake3)),
        }
    }
}

fn parse_digest(text: &str, original: &str) -> Result<[u8; 32], StoreError> {
    let bytes = hex::decode(text)
        .map_err(|_| StoreError::BadLocator(original.into(), "digest is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| StoreError::BadLocator(original.into(), "digest is not 32 bytes"))
}

impl FromStr for Locator {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| StoreError::BadLocator(s.into(), "missing scheme"))?;
        match scheme {
            "local" => Ok(Locator::Local {
                blake3: parse_digest(rest, s)?,
            }),
            "s3" => {
                let (bucket, digest) = rest.rsplit_once('/').ok_or_else(|| {
                    StoreError::BadLocator(s.into(), "expected s3:<bucket>/<blake3>")
                })?;
                if bucket.is_empty() {
                    return Err(StoreError::BadLocator(s.into(), "empty bucket"));
                }
                Ok(Locator::S3 {
                    bucket: bucket.into(),
                    blake3: parse_digest(digest, s)?,
                })
            }
            "ipfs" => {
                if rest.contains("#sha256=") {
                    return Err(StoreError::BadLocator(
                        s.into(),
                        "a SHA-256 content address (Rekam 1); objects are now addressed by BLAKE3",
                    ));
                }
                let (cid, digest) = rest.split_once("#blake3=").ok_or_else(|| {
                    StoreError::BadLocator(s.into(), "expected ipfs:<cid>#blake3=<hex>")
                })?;
                if cid.is_empty() || !cid.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(StoreError::BadLocator(s.into(), "bad CID"));
                }
                Ok(Locator::Ipfs {
                    cid: cid.into(),
                    blake3: parse_digest(digest, s)?,
                })
            }
            _ => Err(StoreError::BadLocator(
                s.into(),
                "unknown scheme (local, s3, ipfs)",
            )),
        }
    }
}
