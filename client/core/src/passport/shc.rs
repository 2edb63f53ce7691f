//! SMART Health Cards 1.4 (spec.smarthealth.cards): the issuer's ES256 key and its JWK
//! (`kid` = the RFC 7638 thumbprint), the card as a compact JWS over the raw-deflated,
//! minified payload (`zip: DEF`), the numeric `shc:/` QR encoding, and verification of a
//! card against a key the caller trusts. Which keys to trust (the ones anchored on-chain
//! for an active issuer) is decided by `flows::shc`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The `shc:/` prefix of a card's QR text.
pub const QR_PREFIX: &str = "shc:/";
/// The spec's limit for a single-QR card's JWS (version 22 at error correction L).
pub const MAX_SINGLE_QR_JWS: usize = 1195;

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShcError {
    #[error("the SMART Health Card signing key is not a P-256 PKCS#8 key")]
    BadKey,
    #[error("this is not a SMART Health Card (no shc:/ numeric QR text)")]
    NotShc,
    #[error("the SMART Health Card's QR text has an odd digit or a pair over 77")]
    BadNumeric,
    #[error("the SMART Health Card is not a compact JWS: {0}")]
    BadJws(String),
    #[error("the SMART Health Card's signature does not verify under key {0}")]
    BadSignature(String),
    #[error("the SMART Health Card's payload is not raw-deflated JSON: {0}")]
    BadPayload(String),
}

/// An issuer's ES256 signing key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    pub fn generate() -> Self {
        Self {
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .expect("P-256 key generation"),
        }
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, ShcError> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map(|pair| Self { pair })
            .map_err(|_| ShcError::BadKey)
    }

    pub fn to_pkcs8(&self) -> Vec<u8> {
        self.pair
            .to_pkcs8v1()
            .expect("a key pair serializes")
            .as_ref()
            .to_vec()
    }

    /// The public key as a JWK with `kid`, `use` and `alg`, as a JWKS lists it.
    pub fn public_jwk(&self) -> Value {
        public_jwk(self.pair.public_key().as_ref()).expect("an uncompressed P-256 point")
    }

    /// The uncompressed public point, `0x04 ‖ x ‖ y`.
    pub fn point(&self) -> [u8; 65] {
        self.pair
            .public_key()
            .as_ref()
            .try_into()
            .expect("an uncompressed P-256 point")
    }

    /// An ES256 signature `r ‖ s` of `message` with `s` in the lower half of the group
    /// order, as Solana's secp256r1 precompile demands (it refuses the malleable twin).
    pub fn sign_low_s(&self, message: &[u8]) -> [u8; 64] {
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message)
            .expect("ECDSA signing");
        let mut out: [u8; 64] = signature.as_ref().try_into().expect("r ‖ s");
        let s: [u8; 32] = out[32..].try_into().expect("32 bytes");
        if s > HALF_ORDER {
            out[32..].copy_from_slice(&sub_be(&ORDER, &s));
        }
        out
    }

    pub fn kid(&self) -> String {
        self.public_jwk()["kid"]
            .as_str()
            .expect("kid is set")
            .to_string()
    }

    /// The compact JWS of `payload` (minified, raw-deflated) with `zip: DEF` and `kid`.
    pub fn sign_card(&self, payload: &Value) -> String {
        let header = json!({"alg": "ES256", "zip": "DEF", "kid": self.kid()});
        let minified = serde_json::to_vec(payload).expect("JSON serializes");
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), Compression::best());
        std::io::Write::write_all(&mut z, &minified).expect("writing to a Vec");
        let deflated = z.finish().expect("writing to a Vec");
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(&deflated));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("ECDSA signing");
        format!("{input}.{}", b64(signature.as_ref()))
    }
}

/// The order n of the P-256 group, and n / 2 rounded down (SEC 2, 2.4.2).
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// `a − b` for big-endian 256-bit numbers with `a ≥ b`.
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
pub fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    b64(&Sha256::digest(canonical.as_bytes()))
}

/// The JWK of an uncompressed P-256 point (`0x04 ‖ x ‖ y`).
pub fn public_jwk(point: &[u8]) -> Option<Value> {
    if point.len() != 65 || point[0] != 4 {
        return None;
    }
    let (x, y) = (b64(&point[1..33]), b64(&point[33..]));
    Some(json!({
        "kty": "EC", "kid": thumbprint(&x, &y), "use": "sig", "alg": "ES256",
        "crv": "P-256", "x": x, "y": y,
    }))
}

/// The uncompressed point of a P-256 JWK, checking that its `kid` is its thumbprint.
pub fn point_of(jwk: &Value) -> Option<Vec<u8>> {
    let (x, y) = (jwk["x"].as_str()?, jwk["y"].as_str()?);
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["kid"] != thumbprint(x, y) {
        return None;
    }
    let mut point = vec![4];
    point.extend(URL_SAFE_NO_PAD.decode(x).ok()?);
    point.extend(URL_SAFE_NO_PAD.decode(y).ok()?);
    (point.len() == 65).then_some(point)
}

/// `shc:/` and two digits per JWS character (its code minus 45).
pub fn to_numeric(jws: &str) -> String {
    let mut out = String::with_capacity(QR_PREFIX.len() + 2 * jws.len());
    out.push_str(QR_PREFIX);
    for c in jws.bytes() {
        out.push_str(&format!("{:02}", c - 45));
    }
    out
}

pub fn from_numeric(text: &str) -> Result<String, ShcError> {
    let digits = text
        .trim()
        .strip_prefix(QR_PREFIX)
        .ok_or(ShcError::NotShc)?;
    let bytes = digits.as_bytes();
    if bytes.len() % 2 == 1 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(ShcError::BadNumeric);
    }
    bytes
        .chunks(2)
        .map(|pair| {
            let v = (pair[0] - b'0') * 10 + (pair[1] - b'0');
            (v <= 77)
                .then_some((v + 45) as char)
                .ok_or(ShcError::BadNumeric)
        })
        .collect()
}

/// A card's JWS header (decoded), without verifying anything.
pub fn header(jws: &str) -> Result<Value, ShcError> {
    let head = jws.split('.').next().unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| ShcError::BadJws("the header is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| ShcError::BadJws("the header is not JSON".into()))
}

/// Verifies `jws` under the P-256 `point` and returns its inflated payload.
pub fn verify(jws: &str, point: &[u8]) -> Result<Value, ShcError> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [head, body, sig] = parts[..] else {
        return Err(ShcError::BadJws("it does not have three parts".into()));
    };
    let h = header(jws)?;
    if h["alg"] != "ES256" || h["zip"] != "DEF" {
        return Err(ShcError::BadJws(
            "the header must say alg ES256 and zip DEF".into(),
        ));
    }
    let kid = h["kid"].as_str().unwrap_or("").to_string();
    let signature = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| ShcError::BadJws("the signature is not base64url".into()))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(format!("{head}.{body}").as_bytes(), &signature)
        .map_err(|_| ShcError::BadSignature(kid))?;
    let deflated = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| ShcError::BadPayload("not base64url".into()))?;
    let mut plain = Vec::with_capacity(64 * 1024);
    let mut inflate = Decompress::new(false);
    match inflate.decompress_vec(&deflated, &mut plain, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) => {}
        _ => {
            return Err(ShcError::BadPayload(
                "the deflate stream is incomplete or corrupt".into(),
            ))
        }
    }
    serde_json::from_slice(&plain).map_err(|e| ShcError::BadPayload(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1 is an RSA key; this checks the same canonical form on the P-256
        // example of RFC 7517 appendix A.1, whose thumbprint is computed independently
        // (Python: base64url(sha256(json.dumps(sorted members, separators=(',',':'))))).
        let x = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
        let y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
        assert_eq!(
            thumbprint(x, y),
            "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
        );
    }

    #[test]
    fn smart_example_issuer_kids_are_their_thumbprints() {
        // The two public keys of the SMART Health Cards project's example issuer
        // (smart-on-fhir/health-cards, generate-examples/issuer/.well-known/jwks.json):
        // each `kid` there is the RFC 7638 thumbprint of its x and y.
        for (x, y, kid) in [
            (
                "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
                "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8",
                "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s",
            ),
            (
                "PQHApUWm94mflvswQgAnfHlETMwJFqjUVSs7WU6LQy4",
                "7mj8IO-8V5VZjDbRVsJINC_Rq5ai5CDhFX18ceRsLWQ",
                "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw",
            ),
        ] {
            assert_eq!(thumbprint(x, y), kid);
            let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid});
            assert_eq!(point_of(&jwk).map(|p| p.len()), Some(65));
        }
    }

    #[test]
    fn low_s_signatures_verify_and_stay_low() {
        assert_eq!(sub_be(&ORDER, &HALF_ORDER), {
            // n − ⌊n/2⌋ = ⌊n/2⌋ + 1 (n is odd).
            let mut h = HALF_ORDER;
            h[31] += 1;
            h
        });
        let key = SigningKey::generate();
        for i in 0..32u8 {
            let message = [i; 80];
            let signature = key.sign_low_s(&message);
            assert!(signature[32..] <= HALF_ORDER[..], "s is low");
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.point())
                .verify(&message, &signature)
                .expect("the normalized signature verifies");
        }
    }

    #[test]
    fn signs_verifies_and_round_trips_the_numeric_form() {
        let key = SigningKey::generate();
        let jwk = key.public_jwk();
        let point = point_of(&jwk).unwrap();
        let payload = json!({"iss": "https://clinic.example", "nbf": 1, "vc": {"type": ["https://smarthealth.cards#health-card"]}});
        let jws = key.sign_card(&payload);
        assert_eq!(verify(&jws, &point).unwrap(), payload);
        let numeric = to_numeric(&jws);
        assert!(numeric[5..].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(from_numeric(&numeric).unwrap(), jws);
        let other = point_of(&SigningKey::generate().public_jwk()).unwrap();
        assert_eq!(verify(&jws, &other), Err(ShcError::BadSignature(key.kid())));
        let again = SigningKey::from_pkcs8(&key.to_pkcs8()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(from_numeric("shc:/123"), Err(ShcError::BadNumeric));
        assert_eq!(from_numeric("RKP1:x"), Err(ShcError::NotShc));
    }
}
