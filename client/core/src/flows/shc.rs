//! SMART Health Card export and checks: the clinic anchors its ES256 key on-chain (a memo
//! signed by the Issuer account's authority that lists the Issuer account, so the key is
//! in the issuer's own history), exports a card of the immunizations of records it
//! attested, and a verifier accepts a card only when its `kid` is the key an active issuer
//! anchored last. The card format is `crate::passport::shc`.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use rekam::Issuer;
use serde_json::{json, Map, Value};
use solana_signer::Signer;

use super::records::OwnRecords;
use super::{Ctx, FlowError};
use crate::chain::ChainClient;
use crate::crypto::Identity;
use crate::passport::shc::{self, ShcError, SigningKey};
use crate::record::MEMO_V1_PROGRAM;

/// Memo announcing an issuer's SMART Health Card key: `rekam-shc-key:<x>.<y> <iss>`.
pub const KEY_MEMO_PREFIX: &str = "rekam-shc-key:";

/// A key an issuer anchored, as the chain shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchored {
    pub issuer: Pubkey,
    pub jwk: Value,
    pub iss: String,
    pub active: bool,
}

/// The memo instruction anchoring `key` with issuer URL `iss` for `issuer` (the Issuer
/// account is listed, so the memo is in that account's history).
pub fn anchor_ix(issuer: &Pubkey, key: &SigningKey, iss: &str) -> solana_instruction::Instruction {
    let jwk = key.public_jwk();
    let text = format!(
        "{KEY_MEMO_PREFIX}{}.{} {iss}",
        jwk["x"].as_str().unwrap_or(""),
        jwk["y"].as_str().unwrap_or("")
    );
    solana_instruction::Instruction {
        program_id: MEMO_V1_PROGRAM,
        accounts: vec![solana_instruction::AccountMeta::new_readonly(
            *issuer, false,
        )],
        data: text.into_bytes(),
    }
}

/// Anchors `key` for the signer's issuer.
pub fn anchor(
    ctx: &Ctx,
    issuer: &Pubkey,
    authority: &dyn Signer,
    key: &SigningKey,
    iss: &str,
) -> Result<(), FlowError> {
    if !iss.starts_with("https://") || iss.ends_with('/') || iss.contains(char::is_whitespace) {
        return Err(FlowError::Refused(format!(
            "--iss must be an https:// URL without a trailing slash, not {iss:?}"
        )));
    }
    ctx.chain
        .send(&[anchor_ix(issuer, key, iss)], authority, &[])?;
    Ok(())
}

fn parse_memo(memo: &str) -> Option<(Value, String)> {
    let i = memo.find(KEY_MEMO_PREFIX)?;
    let rest = &memo[i + KEY_MEMO_PREFIX.len()..];
    let (xy, iss) = rest.split_once(' ')?;
    let (x, y) = xy.split_once('.')?;
    let iss = iss.split(|c: char| c.is_whitespace() || c == ';').next()?;
    let decode = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
    };
    let mut point = vec![4];
    point.extend(decode(x)?);
    point.extend(decode(y)?);
    Some((shc::public_jwk(&point)?, iss.to_string()))
}

/// The key `issuer` anchored last, if any: the newest successful memo in the Issuer
/// account's history that its current authority signed.
pub fn anchored_key(chain: &ChainClient, issuer: &Pubkey) -> Result<Option<Anchored>, FlowError> {
    let Some(account) = chain.fetch::<Issuer>(issuer)? else {
        return Ok(None);
    };
    for listed in chain.history(issuer)?.into_iter().filter(|l| l.ok) {
        let Some((jwk, iss)) = listed.memo.as_deref().and_then(parse_memo) else {
            continue;
        };
        let Some(tx) = chain.transaction(&listed.signature)? else {
            continue;
        };
        if tx.signers.contains(&account.authority) {
            return Ok(Some(Anchored {
                issuer: *issuer,
                jwk,
                iss,
                active: account.is_active(),
            }));
        }
    }
    Ok(None)
}

/// The Patient (name and birth date only, as the SMART vaccination profile asks) and the
/// immunizations of a record's Bundle, minimal and with `resource:N` references.
fn minimal_entries(bundle: &Value, patient_index: usize, out: &mut Vec<Value>) -> bool {
    let mut has_patient = false;
    for entry in bundle["entry"].as_array().into_iter().flatten() {
        let r = &entry["resource"];
        match r["resourceType"].as_str() {
            Some("Patient") if out.is_empty() => {
                let mut p = Map::new();
                p.insert("resourceType".into(), json!("Patient"));
                if let Some(name) = r.get("name") {
                    let names: Vec<Value> = name
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|n| json!({"family": n["family"], "given": n["given"]}))
                        .collect();
                    p.insert("name".into(), Value::Array(names));
                }
                if let Some(b) = r.get("birthDate") {
                    p.insert("birthDate".into(), b.clone());
                }
                out.push(json!({"fullUrl": "resource:0", "resource": Value::Object(p)}));
                has_patient = true;
            }
            Some("Patient") => has_patient = true,
            Some("Immunization") => {
                let mut i = Map::new();
                i.insert("resourceType".into(), json!("Immunization"));
                for key in ["status", "vaccineCode", "occurrenceDateTime", "lotNumber"] {
                    if let Some(v) = r.get(key) {
                        let mut v = v.clone();
                        if let Some(codings) = v.get_mut("coding").and_then(Value::as_array_mut) {
                            for c in codings {
                                if let Some(o) = c.as_object_mut() {
                                    o.retain(|k, _| k == "system" || k == "code");
                                }
                            }
                        }
                        if let Some(o) = v.as_object_mut() {
                            o.remove("text");
                        }
                        i.insert(key.into(), v);
                    }
                }
                i.insert(
                    "patient".into(),
                    json!({"reference": format!("resource:{patient_index}")}),
                );
                let n = out.len();
                out.push(json!({"fullUrl": format!("resource:{n}"), "resource": Value::Object(i)}));
            }
            _ => {}
        }
    }
    has_patient
}

/// What the export made.
pub struct Exported {
    pub jws: String,
    pub payload: Value,
    pub immunizations: usize,
}

/// Builds and signs a SMART Health Card of the immunizations in `attestations` (records
/// the signer's issuer attested and can open), with `key`, which must be the key the
/// issuer anchored last.
pub fn export(
    ctx: &Ctx,
    own: &OwnRecords,
    identity: &Identity,
    issuer: &Pubkey,
    key: &SigningKey,
    attestations: &[Pubkey],
    now: i64,
) -> Result<Exported, FlowError> {
    let anchored = anchored_key(ctx.chain, issuer)?.ok_or_else(|| {
        FlowError::Refused(format!(
            "issuer {issuer} has anchored no SMART Health Card key (rekam issuer shc-key)"
        ))
    })?;
    if anchored.jwk["kid"] != key.kid() {
        return Err(FlowError::Refused(format!(
            "this signing key ({}) is not the key issuer {issuer} anchored last ({})",
            key.kid(),
            anchored.jwk["kid"].as_str().unwrap_or("")
        )));
    }
    let mut entries = Vec::new();
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
        let bundle: Value = serde_json::from_slice(&bytes)
            .map_err(|e| FlowError::Refused(format!("the record is not a FHIR Bundle: {e}")))?;
        let before = entries.len();
        if !minimal_entries(&bundle, 0, &mut entries) && entries.is_empty() {
            return Err(FlowError::Refused(format!(
                "attestation {attestation}'s record has no Patient"
            )));
        }
        let added = entries[before..]
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Immunization")
            .count();
        if added == 0 {
            return Err(FlowError::Refused(format!(
                "attestation {attestation}'s record holds no immunization"
            )));
        }
    }
    let immunizations = entries.len().saturating_sub(1);
    let payload = json!({
        "iss": anchored.iss,
        "nbf": now,
        "vc": {
            "type": ["https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization"],
            "credentialSubject": {
                "fhirVersion": "4.0.1",
                "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries},
            },
        },
    });
    Ok(Exported {
        jws: key.sign_card(&payload),
        payload,
        immunizations,
    })
}

/// Why a SMART Health Card is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShcCheckError {
    #[error(transparent)]
    Card(#[from] ShcError),
    #[error("the SMART Health Card's key {0} is not anchored on-chain by any issuer")]
    NotAnchored(String),
    #[error(
        "the SMART Health Card's key {kid} was anchored by issuer {issuer}, which is suspended"
    )]
    IssuerSuspended { kid: String, issuer: Pubkey },
    #[error("the SMART Health Card says iss {got:?}, but its issuer anchored {expected:?}")]
    WrongIss { expected: String, got: String },
    #[error("cannot read the chain: {0}")]
    Chain(String),
}

/// Checks a card's JWS: its `kid` must be the key an active issuer anchored last, the
/// signature must verify under it, and `iss` must be the URL anchored with it.
pub fn check(chain: &ChainClient, jws: &str) -> Result<(Anchored, Value), ShcCheckError> {
    let kid = shc::header(jws)?["kid"].as_str().unwrap_or("").to_string();
    let chain_err = |e: FlowError| ShcCheckError::Chain(e.to_string());
    let issuers = chain
        .list::<Issuer>(None)
        .map_err(|e| ShcCheckError::Chain(e.to_string()))?;
    for (address, _) in issuers {
        let Some(anchored) = anchored_key(chain, &address).map_err(chain_err)? else {
            continue;
        };
        if anchored.jwk["kid"] != kid.as_str() {
            continue;
        }
        let point =
            shc::point_of(&anchored.jwk).ok_or_else(|| ShcCheckError::NotAnchored(kid.clone()))?;
        let payload = shc::verify(jws, &point)?;
        if !anchored.active {
            return Err(ShcCheckError::IssuerSuspended {
                kid,
                issuer: address,
            });
        }
        if payload["iss"] != anchored.iss.as_str() {
            return Err(ShcCheckError::WrongIss {
                expected: anchored.iss.clone(),
                got: payload["iss"].as_str().unwrap_or("").to_string(),
            });
        }
        return Ok((anchored, payload));
    }
    Err(ShcCheckError::NotAnchored(kid))
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
