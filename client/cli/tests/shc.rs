//! SMART Health Card export end to end through the real `rekam` binary against `rekam
//! localnet`: the clinic anchors its ES256 key on-chain, `rekam issuer jwks` prints it from
//! the chain, the clinic exports a card of a vaccination it attested (file and numeric QR),
//! an independent implementation (`jose`, pinned in .ci/oracles) verifies the JWS and the
//! spec's rules, and `rekam passport verify` accepts the card only while its key is the one
//! an active issuer anchored: a card signed by another key, a card whose key was replaced
//! by a newer one and a suspended issuer are each refused with their own message.

mod common;

use std::path::Path;
use std::process::Command;

use common::refusals::{accredit, start_net};
use common::*;
use rekam_client::passport::qr::decode_png;
use rekam_client::passport::shc::SigningKey;
use serde_json::{json, Value};

#[test]
fn shc_export_anchored_checked_by_jose_and_refused_unanchored() {
    let oracles = std::env::var("REKAM_TEST_ORACLES")
        .expect("REKAM_TEST_ORACLES is not set: run the suite with tests/run.sh");
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, _store) = start_net(dir.path());
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &env);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &env);
    let (_, patient) = actor(dir.path(), "patient", &rpc, &url, &env);
    let (_, verifier) = actor(dir.path(), "verifier", &rpc, &url, &env);
    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&[
        "init",
        "--treasury-mint",
        &mint.to_string(),
        "--fee-bps",
        "100",
    ]);
    let issuer = accredit(&gov, "CLINIC-SHC", &clinic_kp, &clinic, "clinic,lab");
    let patient_profile = s(&patient.ok(&["patient", "register"]), "patient");
    let path = fixtures().join("vaccination-influenza.json");
    let attested = clinic.ok(&[
        "attest",
        path.to_str().unwrap(),
        "--patient",
        &patient_profile,
    ]);
    let records: Vec<String> = attested["attested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| s(a, "attestation"))
        .collect();
    let vax = records
        .iter()
        .find(|a| {
            patient.ok(&["claims", a])["claims"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "immunization.0")
        })
        .unwrap()
        .clone();

    // Before any key is anchored: nothing to publish, nothing to sign with.
    assert_eq!(
        verifier.fails(&["issuer", "jwks", &issuer]),
        format!("error: issuer {issuer} has anchored no SMART Health Card key\n")
    );
    let key_file = dir.path().join("shc-key.p8");
    assert_eq!(
        clinic.fails(&["issuer", "shc-key", "--iss", "http://clinic.example", "--out", key_file.to_str().unwrap()]),
        "error: --iss must be an https:// URL without a trailing slash, not \"http://clinic.example\"\n"
    );
    let anchored = clinic.ok(&[
        "issuer",
        "shc-key",
        "--iss",
        "https://clinic.example",
        "--out",
        key_file.to_str().unwrap(),
    ]);
    let kid = s(&anchored, "kid");
    let jwks = verifier.ok(&["issuer", "jwks", &issuer]);
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str(), "{jwks}");
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks.to_string()).unwrap();

    // Export, with its numeric QR code.
    let card = dir.path().join("card.smart-health-card");
    let qr = dir.path().join("shc.png");
    let exported = clinic.ok(&[
        "passport",
        "shc",
        &vax,
        "--signing-key",
        key_file.to_str().unwrap(),
        "--out",
        card.to_str().unwrap(),
        "--qr",
        qr.to_str().unwrap(),
    ]);
    assert_eq!(exported["immunizations"], 1, "{exported}");
    assert_eq!(exported["single_qr"], true, "{exported}");
    let qr_version = exported["qr_version"].as_i64().unwrap();
    assert!(qr_version <= 22, "{exported}");
    eprintln!(
        "SMART Health Card of one vaccination: JWS {} characters, QR version {qr_version} (ECC L)",
        exported["jws_chars"]
    );
    let qr_text = String::from_utf8(decode_png(&std::fs::read(&qr).unwrap()).unwrap()).unwrap();
    assert!(qr_text.starts_with("shc:/"));

    // The independent implementation: jose verifies the JWS under the published JWK, and
    // the payload follows the spec's rules.
    let jose = |card: &Path, qr_text: Option<&str>| {
        let mut cmd = Command::new("node");
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles/shc_verify.js"))
            .arg(card)
            .arg(&jwks_file)
            .env("NODE_PATH", &oracles);
        if let Some(t) = qr_text {
            cmd.arg(t);
        }
        let out = cmd.output().expect("node");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.success(), v)
    };
    let (ok, v) = jose(&card, Some(&qr_text));
    assert!(ok, "{v}");
    assert_eq!(v["problems"], json!([]));
    assert_eq!(v["kid"], kid.as_str());
    assert_eq!(v["payload"]["iss"], "https://clinic.example");
    let entries = v["payload"]["vc"]["credentialSubject"]["fhirBundle"]["entry"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entries[0]["resource"]["resourceType"], "Patient");
    assert_eq!(entries[1]["resource"]["resourceType"], "Immunization");
    assert_eq!(
        entries[1]["resource"]["vaccineCode"]["coding"][0]["code"],
        "140"
    );

    // Rekam's verifier, from the file and from the QR image.
    for input in [card.to_str().unwrap(), qr.to_str().unwrap()] {
        let v = verifier.ok(&["passport", "verify", input]);
        assert_eq!(v["verified"], true, "{v}");
        assert_eq!(v["kid"], kid.as_str());
        assert_eq!(v["issuer"], issuer.as_str());
    }
    assert_eq!(
        verifier.fails(&["passport", "verify", card.to_str().unwrap(), "--offline"]),
        "error: a SMART Health Card is checked against the key its issuer anchored on-chain, so it cannot be verified --offline\n"
    );

    // The same payload signed by a key no issuer anchored: jose verifies it under that
    // key's JWK, Rekam refuses it.
    let rogue = SigningKey::generate();
    let forged = dir.path().join("forged.smart-health-card");
    std::fs::write(
        &forged,
        json!({"verifiableCredential": [rogue.sign_card(&v["payload"])]}).to_string(),
    )
    .unwrap();
    assert_eq!(
        verifier.fails(&["passport", "verify", forged.to_str().unwrap()]),
        format!(
            "error: the SMART Health Card's key {} is not anchored on-chain by any issuer\n",
            rogue.kid()
        )
    );
    // A card claiming the anchored kid but signed by the rogue key.
    let mut parts: Vec<String> = rogue
        .sign_card(&v["payload"])
        .split('.')
        .map(String::from)
        .collect();
    let genuine: String = serde_json::from_str::<Value>(&std::fs::read_to_string(&card).unwrap())
        .unwrap()["verifiableCredential"][0]
        .as_str()
        .unwrap()
        .to_string();
    parts[0] = genuine.split('.').next().unwrap().to_string();
    let spoofed = dir.path().join("spoofed.smart-health-card");
    std::fs::write(
        &spoofed,
        json!({"verifiableCredential": [parts.join(".")]}).to_string(),
    )
    .unwrap();
    assert_eq!(
        verifier.fails(&["passport", "verify", spoofed.to_str().unwrap()]),
        format!("error: the SMART Health Card's signature does not verify under key {kid}\n")
    );
    let (ok, _) = jose(&spoofed, None);
    assert!(!ok, "jose accepted a signature by another key");

    // The clinic cannot sign with a key it did not anchor.
    let rogue_file = dir.path().join("rogue.p8");
    std::fs::write(&rogue_file, rogue.to_pkcs8()).unwrap();
    assert_eq!(
        clinic.fails(&[
            "passport",
            "shc",
            &vax,
            "--signing-key",
            rogue_file.to_str().unwrap(),
            "--out",
            dir.path().join("x.smart-health-card").to_str().unwrap(),
        ]),
        format!(
            "error: this signing key ({}) is not the key issuer {issuer} anchored last ({kid})\n",
            rogue.kid()
        )
    );

    // A new key replaces the old one: cards signed with the old key are refused, the
    // JWKS lists the new key, and a card signed with it verifies.
    let key2 = dir.path().join("shc-key-2.p8");
    let kid2 = s(
        &clinic.ok(&[
            "issuer",
            "shc-key",
            "--iss",
            "https://clinic.example",
            "--out",
            key2.to_str().unwrap(),
        ]),
        "kid",
    );
    assert_ne!(kid2, kid);
    assert_eq!(
        verifier.ok(&["issuer", "jwks", &issuer])["keys"][0]["kid"],
        kid2.as_str()
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", card.to_str().unwrap()]),
        format!(
            "error: the SMART Health Card's key {kid} is not anchored on-chain by any issuer\n"
        )
    );
    let card2 = dir.path().join("card2.smart-health-card");
    clinic.ok(&[
        "passport",
        "shc",
        &vax,
        "--signing-key",
        key2.to_str().unwrap(),
        "--out",
        card2.to_str().unwrap(),
    ]);
    assert_eq!(
        verifier.ok(&["passport", "verify", card2.to_str().unwrap()])["kid"],
        kid2.as_str()
    );

    // Governance suspends the issuer: its card is refused.
    gov.ok(&["issuer", "suspend", &issuer]);
    assert_eq!(
        verifier.fails(&["passport", "verify", card2.to_str().unwrap()]),
        format!("error: the SMART Health Card's key {kid2} was anchored by issuer {issuer}, which is suspended\n")
    );
    validator.stop();
}
