//! The guardians' threshold key grant (`docs/format.md`, "Threshold guardians"): the
//! emergency records' data keys are wrapped once, to a random *emergency key* E; E's
//! secret seed is split M-of-N by Shamir sharing and each share is wrapped to one
//! guardian. A guardian's approval re-wraps its own share to the requesting clinic; the
//! clinic rebuilds E from M shares and checks it against E's public key before use. Fewer
//! than M guardians, together or with the clinic, hold nothing that opens a record.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeyGrantObject, RecordError};
use crate::crypto::shamir::{self, ShamirError, Share};
use crate::crypto::wrap::{self, DataKey, Stanza, STANZA_LEN};
use crate::crypto::Identity;

pub const GUARDIAN_GRANTS_FORMAT: &str = "rekam-guardian-grants/2";
pub const RELEASED_SHARE_FORMAT: &str = "rekam-guardian-share/1";
pub const EMERGENCY_GRANT_FORMAT: &str = "rekam-emergency-grant/1";
/// Memo of an approval transaction announcing the guardian's released share.
pub const SHARE_MEMO_PREFIX: &str = "rekam-guardian-share:";

const SHARE_LABEL: &[u8] = b"rekam/v2/guardian-share\0";
const RELEASE_LABEL: &[u8] = b"rekam/v2/guardian-share-release\0";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// What can go wrong splitting, releasing or rebuilding the emergency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("the emergency key needs {need} guardian shares; {have} released to this key")]
    NotEnoughShares { have: usize, need: usize },
    #[error(
        "the guardians' shares rebuild a key other than emergency key {0} (a wrong or tampered share)"
    )]
    KeyMismatch(String),
    #[error("wallet {0} holds no share of these guardians' grants")]
    NotAGuardian(Pubkey),
    #[error("guardian share {0} does not open with this key (not addressed to it, tampered, or bound to another guardianship, request, guardian, index or threshold)")]
    ShareUnwrap(u8),
    #[error("guardian share is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Shamir(#[from] ShamirError),
}

/// The random X25519 identity the emergency records are wrapped to; its 32-byte seed
/// (RFC 9180 `DeriveKeyPair` input) is what the guardians share.
pub struct EmergencyKey {
    seed: Zeroizing<[u8; 32]>,
    identity: Identity,
}

impl EmergencyKey {
    pub fn generate() -> Result<Self, ThresholdError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(seed.as_mut_slice()).map_err(|_| ShamirError::Rng)?;
        Ok(Self::from_seed(seed))
    }

    fn from_seed(seed: Zeroizing<[u8; 32]>) -> Self {
        let identity = Identity::from_ikm(seed.as_slice());
        Self { seed, identity }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.identity.public_key()
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}

/// One guardian's share of E's seed, HPKE-wrapped to the guardian's X25519 key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GuardianShare {
    pub guardian: String,
    /// The guardian's X25519 public key, hex.
    pub guardian_key: String,
    /// The share's x coordinate, 1..=N (the guardian's position + 1).
    pub index: u8,
    /// The 32-byte share value wrapped to `guardian_key` (88-byte stanza), base64.
    pub stanza: String,
}

/// `rekam-guardian-grants/2`: the emergency scope's keys wrapped to E, and E's seed split
/// among the guardians.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GuardianGrants {
    pub format: String,
    pub guardianship: String,
    pub threshold: u8,
    /// E's X25519 public key, hex: a rebuilt seed must derive exactly this key.
    pub emergency_key: String,
    /// The emergency records' data keys, wrapped to E.
    pub grant: KeyGrantObject,
    pub shares: Vec<GuardianShare>,
}

/// The AAD of a guardian's share: everything the share belongs to.
fn share_aad(
    guardianship: &Pubkey,
    guardian: &Pubkey,
    index: u8,
    threshold: u8,
    count: u8,
    emergency_key: &[u8; 32],
) -> Vec<u8> {
    [
        SHARE_LABEL,
        GUARDIAN_GRANTS_FORMAT.as_bytes(),
        &[0],
        guardianship.as_ref(),
        guardian.as_ref(),
        &[index, threshold, count],
        emergency_key,
    ]
    .concat()
}

/// The AAD of a share released to a clinic for one emergency request.
fn release_aad(
    request: &Pubkey,
    guardian: &Pubkey,
    index: u8,
    threshold: u8,
    emergency_key: &[u8; 32],
) -> Vec<u8> {
    [
        RELEASE_LABEL,
        RELEASED_SHARE_FORMAT.as_bytes(),
        &[0],
        request.as_ref(),
        guardian.as_ref(),
        &[index, threshold],
        emergency_key,
    ]
    .concat()
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], ThresholdError> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ThresholdError::Malformed(format!("{what} is not 32 hex bytes")))
}

fn pubkey(text: &str, what: &str) -> Result<Pubkey, ThresholdError> {
    text.parse()
        .map_err(|_| ThresholdError::Malformed(format!("{what} is not an address")))
}

fn stanza(text: &str) -> Result<Stanza, ThresholdError> {
    let bytes: [u8; STANZA_LEN] = b64()
        .decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ThresholdError::Malformed("stanza is not 88 bytes of base64".into()))?;
    Ok(Stanza::from_bytes(&bytes))
}

fn seal_share(value: &[u8], to: &[u8; 32], aad: &[u8]) -> Result<String, RecordError> {
    let bytes: [u8; 32] = value
        .try_into()
        .map_err(|_| ThresholdError::Malformed("a share is not 32 bytes".into()))?;
    let stanza = wrap::wrap(&DataKey(Zeroizing::new(bytes)), to, aad)?;
    Ok(b64().encode(stanza.to_bytes()))
}

fn open_share(
    text: &str,
    holder: &Identity,
    index: u8,
    aad: &[u8],
) -> Result<Share, ThresholdError> {
    let key = wrap::unwrap_bound(&stanza(text)?, holder, aad)
        .map_err(|_| ThresholdError::ShareUnwrap(index))?;
    Ok(Share {
        index,
        value: Zeroizing::new(key.as_bytes().to_vec()),
    })
}

impl GuardianGrants {
    /// Splits `key`'s seed among `guardians` (wallet, X25519 key), any `threshold` of
    /// them to rebuild it; `grant` must be the emergency scope wrapped to `key`.
    pub fn seal(
        guardianship: &Pubkey,
        guardians: &[(Pubkey, [u8; 32])],
        threshold: u8,
        key: &EmergencyKey,
        grant: KeyGrantObject,
    ) -> Result<Self, RecordError> {
        if grant.grantee_key != hex::encode(key.public_key()) {
            return Err(RecordError::Grant(
                "the emergency grant is not wrapped to the emergency key".into(),
            ));
        }
        let count = u8::try_from(guardians.len())
            .map_err(|_| ShamirError::TooManyShares(guardians.len()))
            .map_err(ThresholdError::from)?;
        let split = shamir::split(key.seed.as_slice(), usize::from(threshold), guardians.len())
            .map_err(ThresholdError::from)?;
        let emergency_key = key.public_key();
        let mut shares = Vec::with_capacity(guardians.len());
        for ((wallet, guardian_key), share) in guardians.iter().zip(&split) {
            let aad = share_aad(
                guardianship,
                wallet,
                share.index,
                threshold,
                count,
                &emergency_key,
            );
            shares.push(GuardianShare {
                guardian: wallet.to_string(),
                guardian_key: hex::encode(guardian_key),
                index: share.index,
                stanza: seal_share(&share.value, guardian_key, &aad)?,
            });
        }
        Ok(Self {
            format: GUARDIAN_GRANTS_FORMAT.into(),
            guardianship: guardianship.to_string(),
            threshold,
            emergency_key: hex::encode(emergency_key),
            grant,
            shares,
        })
    }

    pub fn emergency_key(&self) -> Result<[u8; 32], ThresholdError> {
        hex32(&self.emergency_key, "emergency key")
    }

    /// The guardians (wallet, X25519 key) in share order.
    pub fn guardians(&self) -> Result<Vec<(Pubkey, [u8; 32])>, ThresholdError> {
        self.shares
            .iter()
            .map(|s| {
                Ok((
                    pubkey(&s.guardian, "guardian")?,
                    hex32(&s.guardian_key, "guardian key")?,
                ))
            })
            .collect()
    }

    /// Opens `guardian`'s own share with its identity (the value, never the key E).
    pub fn open_share(
        &self,
        guardian: &Pubkey,
        identity: &Identity,
    ) -> Result<Share, ThresholdError> {
        let name = guardian.to_string();
        let share = self
            .shares
            .iter()
            .find(|s| s.guardian == name)
            .ok_or(ThresholdError::NotAGuardian(*guardian))?;
        let count = u8::try_from(self.shares.len())
            .map_err(|_| ThresholdError::Malformed("more than 255 shares".into()))?;
        let aad = share_aad(
            &pubkey(&self.guardianship, "guardianship")?,
            guardian,
            share.index,
            self.threshold,
            count,
            &self.emergency_key()?,
        );
        open_share(&share.stanza, identity, share.index, &aad)
    }

    /// A guardian re-wraps its own share for the clinic (X25519 key `clinic`) that made
    /// emergency request `request`. The guardian learns its share only, never E.
    pub fn release(
        &self,
        request: &Pubkey,
        guardian: &Pubkey,
        identity: &Identity,
        clinic: &[u8; 32],
    ) -> Result<ReleasedShare, RecordError> {
        let share = self.open_share(guardian, identity)?;
        let emergency_key = self.emergency_key()?;
        let aad = release_aad(
            request,
            guardian,
            share.index,
            self.threshold,
            &emergency_key,
        );
        Ok(ReleasedShare {
            format: RELEASED_SHARE_FORMAT.into(),
            request: request.to_string(),
            guardian: guardian.to_string(),
            index: share.index,
            threshold: self.threshold,
            emergency_key: self.emergency_key.clone(),
            stanza: seal_share(&share.value, clinic, &aad)?,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("grants serialize")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let grants: GuardianGrants =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Grant(e.to_string()))?;
        if grants.format != GUARDIAN_GRANTS_FORMAT {
            return Err(RecordError::Grant(format!(
                "unknown format {:?}",
                grants.format
            )));
        }
        Ok(grants)
    }
}

/// `rekam-guardian-share/1`: one guardian's share, re-wrapped to the requesting clinic for
/// one emergency request (stored, and announced in the approval's memo).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleasedShare {
    pub format: String,
    pub request: String,
    pub guardian: String,
    pub index: u8,
    pub threshold: u8,
    pub emergency_key: String,
    /// The share value wrapped to the clinic's X25519 key, base64.
    pub stanza: String,
}

impl ReleasedShare {
    /// Opens the share with the clinic's identity; the AAD binds the request, the
    /// guardian, the index, the threshold and E.
    pub fn open(&self, clinic: &Identity) -> Result<Share, ThresholdError> {
        let aad = release_aad(
            &pubkey(&self.request, "request")?,
            &pubkey(&self.guardian, "guardian")?,
            self.index,
            self.threshold,
            &hex32(&self.emergency_key, "emergency key")?,
        );
        open_share(&self.stanza, clinic, self.index, &aad)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("share serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ThresholdError> {
        let share: ReleasedShare =
            serde_json::from_slice(bytes).map_err(|e| ThresholdError::Malformed(e.to_string()))?;
        if share.format != RELEASED_SHARE_FORMAT {
            return Err(ThresholdError::Malformed(format!(
                "unknown format {:?}",
                share.format
            )));
        }
        Ok(share)
    }
}

/// Rebuilds E from opened shares and checks it against `emergency_key`. With more than
/// `threshold` shares, every subset of `threshold` is tried (at most C(7, 3) = 35), so a
/// wrong share among enough right ones is survived. When none derives `emergency_key`:
/// [`ThresholdError::KeyMismatch`], or the Shamir error when no subset combines at all.
pub fn rebuild(
    shares: &[Share],
    threshold: u8,
    emergency_key: &[u8; 32],
) -> Result<Identity, ThresholdError> {
    let need = usize::from(threshold).max(1);
    if shares.len() < need {
        return Err(ThresholdError::NotEnoughShares {
            have: shares.len(),
            need,
        });
    }
    let mut picked: Vec<usize> = (0..need).collect();
    // A subset that cannot be combined (a repeated index, a short share) is passed over;
    // the error is the answer only when no subset could be combined at all.
    let (mut refused, mut combined) = (None, false);
    loop {
        let subset: Vec<Share> = picked.iter().map(|&i| shares[i].clone()).collect();
        match shamir::combine(&subset, need) {
            Ok(seed) => {
                combined = true;
                if let Ok(seed) = <[u8; 32]>::try_from(seed.as_slice()) {
                    let key = EmergencyKey::from_seed(Zeroizing::new(seed));
                    if key.public_key() == *emergency_key {
                        return Ok(key.identity);
                    }
                }
            }
            Err(err) => refused = refused.or(Some(err)),
        }
        // The next subset in lexicographic order.
        let Some(i) = (0..need)
            .rev()
            .find(|&i| picked[i] < shares.len() - need + i)
        else {
            return Err(match refused {
                Some(err) if !combined => ThresholdError::Shamir(err),
                _ => ThresholdError::KeyMismatch(hex::encode(emergency_key)),
            });
        };
        picked[i] += 1;
        for j in i + 1..need {
            picked[j] = picked[j - 1] + 1;
        }
    }
}

/// `rekam-emergency-grant/1`: an emergency consent's key grant, the emergency scope
/// wrapped to E (a copy of the guardians' grant at activation), naming its request so
/// the clinic knows where the released shares are announced.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmergencyGrant {
    pub format: String,
    pub request: String,
    pub threshold: u8,
    pub grant: KeyGrantObject,
}

impl EmergencyGrant {
    pub fn new(request: &Pubkey, grants: &GuardianGrants) -> Self {
        Self {
            format: EMERGENCY_GRANT_FORMAT.into(),
            request: request.to_string(),
            threshold: grants.threshold,
            grant: grants.grant.clone(),
        }
    }

    pub fn request(&self) -> Result<Pubkey, ThresholdError> {
        pubkey(&self.request, "request")
    }

    pub fn emergency_key(&self) -> Result<[u8; 32], ThresholdError> {
        hex32(&self.grant.grantee_key, "emergency key")
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("grant serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let grant: EmergencyGrant =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Grant(e.to_string()))?;
        if grant.format != EMERGENCY_GRANT_FORMAT {
            return Err(RecordError::Grant(format!(
                "unknown format {:?}",
                grant.format
            )));
        }
        Ok(grant)
    }
}
