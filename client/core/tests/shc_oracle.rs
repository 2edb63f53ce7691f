//! SMART Health Cards against an independent implementation and the SMART project's own
//! example issuer key: `jose` (pinned in .ci/oracles) signs a card with that key as
//! another issuer's software would, and `passport::shc::verify` accepts it under the key's
//! public JWK and refuses it under another key; the key's `kid` is its RFC 7638
//! thumbprint as computed here. tests/run.sh installs the oracle and sets
//! REKAM_TEST_ORACLES.

use std::path::Path;
use std::process::Command;

use rekam_client::passport::shc::{self, ShcError, SigningKey};
use serde_json::{json, Value};

fn vector() -> (std::path::PathBuf, Value) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/smart-example-issuer-key.json");
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path, v["jwk"].clone())
}

#[test]
fn a_card_signed_by_jose_with_the_smart_example_key_verifies() {
    let oracles = std::env::var("REKAM_TEST_ORACLES")
        .expect("REKAM_TEST_ORACLES is not set: run the suite with tests/run.sh");
    let (key_file, jwk) = vector();
    let public = json!({"kty": jwk["kty"], "kid": jwk["kid"], "crv": jwk["crv"], "x": jwk["x"], "y": jwk["y"]});
    assert_eq!(
        shc::thumbprint(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()),
        jwk["kid"].as_str().unwrap()
    );
    let payload = json!({
        "iss": "https://spec.smarthealth.cards/examples/issuer",
        "nbf": 1_700_000_000,
        "vc": {
            "type": ["https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": []}},
        },
    });
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles/shc_sign.js"))
        .arg(&key_file)
        .arg(payload.to_string())
        .env("NODE_PATH", &oracles)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jws = String::from_utf8(out.stdout).unwrap();
    assert_eq!(shc::header(&jws).unwrap()["kid"], jwk["kid"]);
    let point = shc::point_of(&public).expect("the example JWK is a P-256 key");
    assert_eq!(shc::verify(&jws, &point).unwrap(), payload);
    // The numeric QR form round-trips the card.
    assert_eq!(shc::from_numeric(&shc::to_numeric(&jws)).unwrap(), jws);
    // Under any other key the signature fails.
    let other = shc::point_of(&SigningKey::generate().public_jwk()).unwrap();
    assert_eq!(
        shc::verify(&jws, &other),
        Err(ShcError::BadSignature(
            jwk["kid"].as_str().unwrap().to_string()
        ))
    );
}
