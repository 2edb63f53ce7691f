//! The same claims as a standard SD-JWT (RFC 9901) with key binding, so wallets and
//! verifiers outside Rekam can check them with their own SD-JWT libraries.
//!
//! At attestation the issuer signs a JWT (EdDSA, by the Issuer account's on-chain
//! `authority` key) whose `_sd` array holds the digest of every claim of the record
//! (sorted, so their order says nothing), with `cnf.jwk` = the patient authority's Ed25519
//! key. It travels inside the encrypted record. To present, the patient appends the chosen
//! disclosures and a key-binding JWT (`aud`, `nonce`, `iat`, `sd_hash`) signed by that key.
//!
//! A JWS signing input always starts with `eyJ` (base64url of `{"`), which no wallet can
//! take for a Solana transaction message (its first two bytes would claim 101 signers of
//! which 121 read-only), so the wallet keys can sign it safely.

use anchor_lang::prelude::Pubkey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use solana_signer::Signer;

use super::{ClaimError, ClaimSet, Disclosure};

/// The credential type of a Rekam record.
pub const VCT: &str = "https://rekam.health/credentials/record/v1";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.payload.signature`, EdDSA (Ed25519) by `signer`.
fn jws(
    header: &Value,
    payload: &Value,
    signer: &dyn Signer,
    what: &'static str,
) -> Result<String, ClaimError> {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = super::sign_offchain(signer, what, input.as_bytes())?;
    Ok(format!("{input}.{}", b64(signature.as_ref())))
}

/// An Ed25519 public key as a JWK.
pub fn okp_jwk(key: &Pubkey) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.as_ref())})
}

/// What the issuer signs over a record's claims.
pub struct IssuerClaims<'a> {
    pub program: &'a Pubkey,
    pub issuer: &'a Pubkey,
    pub attestation: &'a Pubkey,
    pub holder: &'a Pubkey,
    pub issued_at: i64,
}

/// The issuer-signed JWT over every claim of `claims` (signed by the issuer authority).
pub fn issuer_jwt(
    claims: &ClaimSet,
    about: &IssuerClaims,
    authority: &dyn Signer,
) -> Result<String, ClaimError> {
    let mut digests: Vec<String> = claims
        .disclosures()
        .iter()
        .map(Disclosure::digest_b64)
        .collect();
    digests.sort();
    let header = json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": authority.pubkey().to_string()});
    let payload = json!({
        "iss": format!("solana:{}:{}", about.program, about.issuer),
        "iat": about.issued_at,
        "vct": VCT,
        "rekam_attestation": about.attestation.to_string(),
        "_sd": digests,
        "_sd_alg": "sha-256",
        "cnf": {"jwk": okp_jwk(about.holder)},
    });
    jws(&header, &payload, authority, "the issuer-signed SD-JWT")
}

/// `<issuer JWT>~<disclosure>~…~<KB-JWT>`: the chosen claims, bound to `audience` and
/// `nonce` by the holder's key.
pub fn present(
    issuer_jwt: &str,
    disclosures: &[&Disclosure],
    holder: &dyn Signer,
    audience: &str,
    nonce: &str,
    issued_at: i64,
) -> Result<String, ClaimError> {
    let mut sd = format!("{issuer_jwt}~");
    for d in disclosures {
        sd.push_str(d.encoded());
        sd.push('~');
    }
    let sd_hash = b64(&Sha256::digest(sd.as_bytes()));
    let header = json!({"alg": "EdDSA", "typ": "kb+jwt"});
    let payload = json!({"iat": issued_at, "aud": audience, "nonce": nonce, "sd_hash": sd_hash});
    Ok(format!(
        "{sd}{}",
        jws(&header, &payload, holder, "the SD-JWT key binding")?
    ))
}
