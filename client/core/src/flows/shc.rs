//! SMART Health Card export and checks. A clinic anchors its ES256 key on-chain with
//! `shc_key_anchor` (proving possession with a secp256r1 signature), at the key's own
//! address `["shc_key", thumbprint]`; it exports cards of the immunizations of records it
//! attested; a verifier turns a card's `kid` into that address, reads the key in one
//! call and accepts the card only when the key is not retired, the issuer that anchored
//! it is active and did not void the card's date, and the card's `iss` is the anchored
//! one. The card format is `crate::passport::shc`.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use rekam::{Issuer, ShcKey, ShcKeyAnchorArgs};
use serde_json::Value;
use solana_signer::Signer;

use super::records::OwnRecords;
use super::{Ctx, FlowError};
use crate::chain::ChainClient;
use crate::crypto::Identity;
use crate::passport::shc::{self, ShcError, SigningKey};
use crate::passport::shc_payload::{card_payload, PayloadError};
use crate::{ix, pda};

/// A key an issuer anchored, as the chain shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchored {
    /// The key's account, `["shc_key", thumbprint]`.
    pub address: Pubkey,
    pub issuer: Pubkey,
    pub jwk: Value,
    pub iss: String,
    pub anchored_at: i64,
    /// 0 = in use.
    pub retired_at: i64,
}

impl Anchored {
    fn of(address: Pubkey, key: &ShcKey) -> Option<Self> {
        let point = [&[4u8][..], &key.x, &key.y].concat();
        Some(Self {
            address,
            issuer: key.issuer,
            jwk: shc::public_jwk(&point)?,
            iss: key.iss.clone(),
            anchored_at: key.anchored_at,
            retired_at: key.retired_at,
        })
    }

    pub fn kid(&self) -> &str {
        self.jwk["kid"].as_str().unwrap_or("")
    }
}

/// The 32 bytes a `kid` (an unpadded base64url RFC 7638 thumbprint) encodes.
pub fn thumbprint_of(kid: &str) -> Option<[u8; 32]> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(kid)
        .ok()?
        .try_into()
        .ok()
}

/// The two instructions that anchor `key` with issuer URL `iss` for `issuer`: the
/// secp256r1 proof of possession, then `shc_key_anchor`.
pub fn anchor_ixs(
    program_id: &Pubkey,
    authority: &Pubkey,
    issuer: &Pubkey,
    key: &SigningKey,
    iss: &str,
) -> Vec<solana_instruction::Instruction> {
    let point = key.point();
    let (x, y): ([u8; 32], [u8; 32]) = (
        point[1..33].try_into().expect("32 bytes"),
        point[33..].try_into().expect("32 bytes"),
    );
    let mut compressed = [0u8; 33];
    compressed[0] = 2 | (y[31] & 1);
    compressed[1..].copy_from_slice(&x);
    let message = rekam::key_proof::proof_message(program_id, issuer);
    vec![
        ix::secp256r1_verify(&compressed, &key.sign_low_s(&message), &message),
        ix::shc_key_anchor(
            program_id,
            authority,
            issuer,
            ShcKeyAnchorArgs {
                thumbprint: rekam::key_proof::thumbprint(&x, &y),
                x,
                y,
                iss: iss.to_string(),
            },
        ),
    ]
}

/// Anchors `key` for the signer's issuer; returns the key's account.
pub fn anchor(
    ctx: &Ctx,
    issuer: &Pubkey,
    authority: &dyn Signer,
    key: &SigningKey,
    iss: &str,
) -> Result<Pubkey, FlowError> {
    if rekam::key_proof::check_iss(iss).is_err() {
        return Err(FlowError::Refused(format!(
            "--iss must be an https:// URL of at most {} printable characters without a trailing slash, not {iss:?}",
            rekam::constants::MAX_ISS_LEN
        )));
    }
    let ixs = anchor_ixs(&ctx.program_id(), &authority.pubkey(), issuer, key, iss);
    ctx.chain.send(&ixs, authority, &[])?;
    Ok(pda::shc_key(
        &ctx.program_id(),
        &thumbprint_of(&key.kid()).expect("a kid is a thumbprint"),
    ))
}

/// The key a card's `kid` names, if it was ever anchored.
pub fn key_of(chain: &ChainClient, kid: &str) -> Result<Option<Anchored>, FlowError> {
    let Some(thumbprint) = thumbprint_of(kid) else {
        return Ok(None);
    };
    let address = pda::shc_key(&chain.program_id, &thumbprint);
    Ok(chain
        .fetch::<ShcKey>(&address)?
        .and_then(|key| Anchored::of(address, &key)))
}

/// Retires the key `kid` of the signer's issuer.
pub fn retire(
    ctx: &Ctx,
    issuer: &Pubkey,
    authority: &dyn Signer,
    kid: &str,
) -> Result<Anchored, FlowError> {
    let key = key_of(ctx.chain, kid)?
        .filter(|k| k.issuer == *issuer)
        .ok_or_else(|| {
            FlowError::Refused(format!(
                "issuer {issuer} has anchored no SMART Health Card key {kid}"
            ))
        })?;
    if key.retired_at != 0 {
        return Err(FlowError::Refused(format!(
            "SMART Health Card key {kid} is already retired"
        )));
    }
    let retire = ix::shc_key_retire(&ctx.program_id(), &authority.pubkey(), issuer, &key.address);
    ctx.chain.send(&[retire], authority, &[])?;
    key_of(ctx.chain, kid)?.ok_or_else(|| FlowError::Refused("the key account is gone".into()))
}

/// Every key `issuer` anchored, oldest first (retired ones too).
pub fn keys_of(chain: &ChainClient, issuer: &Pubkey) -> Result<Vec<Anchored>, FlowError> {
    let mut keys: Vec<Anchored> = chain
        .list::<ShcKey>(Some((ShcKey::ISSUER_OFFSET, *issuer)))?
        .into_iter()
        .filter_map(|(address, key)| Anchored::of(address, &key))
        .collect();
    keys.sort_by_key(|k| (k.anchored_at, k.address));
    Ok(keys)
}

/// What the export made.
pub struct Exported {
    pub jws: String,
    pub payload: Value,
    pub immunizations: usize,
    pub lab_results: usize,
}

/// Builds and signs a SMART Health Card of the immunizations and laboratory results in
/// `attestations` (records
/// the signer's issuer attested and can open), with `key`, which must be a key the issuer
/// anchored and has not retired.
pub fn export(
    ctx: &Ctx,
    own: &OwnRecords,
    identity: &Identity,
    issuer: &Pubkey,
    key: &SigningKey,
    attestations: &[Pubkey],
    now: i64,
) -> Result<Exported, FlowError> {
    let anchored = key_of(ctx.chain, &key.kid())?
        .filter(|k| k.issuer == *issuer)
        .ok_or_else(|| {
            FlowError::Refused(format!(
                "this signing key ({}) is not anchored for issuer {issuer} (rekam issuer shc-key)",
                key.kid()
            ))
        })?;
    if anchored.retired_at != 0 {
        return Err(FlowError::Refused(format!(
            "this signing key ({}) is retired",
            key.kid()
        )));
    }
    let mut bundles = Vec::new();
    for attestation in attestations {
        let record = own.open(ctx, identity, attestation, None)?;
        if record.attestation.issuer != *issuer {
            return Err(FlowError::Refused(format!(
                "attestation {attestation} was issued by {}, not by your issuer {issuer}",
                record.attestation.issuer
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&record.envelope.content)
            .map_err(|_| FlowError::Refused("the record's content is not base64".into()))?;
        bundles
            .push(serde_json::from_slice::<Value>(&bytes).map_err(|e| {
                FlowError::Refused(format!("the record is not a FHIR Bundle: {e}"))
            })?);
    }
    let card = card_payload(&bundles, &anchored.iss, now).map_err(|e| {
        FlowError::Refused(match e {
            PayloadError::NoPatient(n) => {
                format!("attestation {}'s record has no Patient", attestations[n])
            }
            PayloadError::Empty(n) => format!(
                "attestation {}'s record holds no immunization or laboratory result",
                attestations[n]
            ),
        })
    })?;
    Ok(Exported {
        jws: key.sign_card(&card.payload),
        payload: card.payload,
        immunizations: card.immunizations,
        lab_results: card.lab_results,
    })
}

/// Why a SMART Health Card is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShcCheckError {
    #[error(transparent)]
    Card(#[from] ShcError),
    #[error("the SMART Health Card's key {0} is not anchored on-chain by any issuer")]
    NotAnchored(String),
    #[error("the SMART Health Card's key {kid} was retired by issuer {issuer}")]
    Retired { kid: String, issuer: Pubkey },
    #[error(
        "the SMART Health Card's key {kid} was anchored by issuer {issuer}, which is suspended"
    )]
    IssuerSuspended { kid: String, issuer: Pubkey },
    #[error(
        "the SMART Health Card was issued (nbf) in a window that governance voided for issuer {0}"
    )]
    Voided(Pubkey),
    #[error("the SMART Health Card says iss {got:?}, but its issuer anchored {expected:?}")]
    WrongIss { expected: String, got: String },
    #[error("cannot read the chain: {0}")]
    Chain(String),
}

/// Checks a card's JWS: its `kid` must name a key anchored on-chain and not retired, the
/// signature must verify under it, the issuer that anchored it must be active and must
/// not have had the card's `nbf` voided, and `iss` must be the URL anchored with it.
pub fn check(chain: &ChainClient, jws: &str) -> Result<(Anchored, Value), ShcCheckError> {
    let kid = shc::header(jws)?["kid"].as_str().unwrap_or("").to_string();
    let chain_err = |e: String| ShcCheckError::Chain(e);
    let anchored = key_of(chain, &kid)
        .map_err(|e| chain_err(e.to_string()))?
        .ok_or_else(|| ShcCheckError::NotAnchored(kid.clone()))?;
    let point =
        shc::point_of(&anchored.jwk).ok_or_else(|| ShcCheckError::NotAnchored(kid.clone()))?;
    let payload = shc::verify(jws, &point)?;
    if anchored.retired_at != 0 {
        return Err(ShcCheckError::Retired {
            kid,
            issuer: anchored.issuer,
        });
    }
    let issuer = chain
        .fetch::<Issuer>(&anchored.issuer)
        .map_err(|e| chain_err(e.to_string()))?
        .ok_or_else(|| ShcCheckError::NotAnchored(kid.clone()))?;
    if !issuer.is_active() {
        return Err(ShcCheckError::IssuerSuspended {
            kid,
            issuer: anchored.issuer,
        });
    }
    if issuer.voids(payload["nbf"].as_i64().unwrap_or(0)) {
        return Err(ShcCheckError::Voided(anchored.issuer));
    }
    if payload["iss"] != anchored.iss.as_str() {
        return Err(ShcCheckError::WrongIss {
            expected: anchored.iss.clone(),
            got: payload["iss"].as_str().unwrap_or("").to_string(),
        });
    }
    Ok((anchored, payload))
}

/// The JWS a verifier was given, when the input is a SMART Health Card: a PNG whose QR
/// code holds `shc:/...`, that text, or a `.smart-health-card` file. `None` for anything
/// else (a Rekam passport, or an image that is not a SMART Health Card).
pub fn jws_of(input: &[u8]) -> Option<Result<String, ShcError>> {
    if input.starts_with(b"\x89PNG\r\n\x1a\n") {
        let content = crate::passport::qr::decode_png(input).ok()?;
        let text = std::str::from_utf8(&content).ok()?;
        return text
            .starts_with(shc::QR_PREFIX)
            .then(|| shc::from_numeric(text));
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    if text.starts_with(shc::QR_PREFIX) {
        return Some(shc::from_numeric(text));
    }
    let file: Value = serde_json::from_str(text).ok()?;
    let credentials = file.get("verifiableCredential")?.as_array()?;
    Some(match credentials.as_slice() {
        [Value::String(jws)] => Ok(jws.clone()),
        _ => Err(ShcError::BadJws(
            "a card file must hold exactly one verifiable credential".into(),
        )),
    })
}
