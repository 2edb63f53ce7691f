//! SMART Health Card export end to end through the real `rekam` binary against `rekam
//! localnet`: the clinic anchors its ES256 key on-chain, `rekam issuer jwks` prints it from
//! the chain, the clinic exports a card of a vaccination it attested (file and numeric QR),
//! an independent implementation (`jose`, pinned in .ci/oracles) verifies the JWS and the
//! spec's rules, and `rekam passport verify` accepts the card only while its key is anchored
//! (with a secp256r1 proof of possession, checked by the validator's precompile) by an
//! active issuer and not retired: a card signed by another key, a card whose key was
//! retired and a suspended issuer are each refused with their own message.

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
        format!("error: issuer {issuer} has no SMART Health Card key in use (none anchored, or all retired)\n")
    );
    let key_file = dir.path().join("shc-key.p8");
    assert_eq!(
        clinic.fails(&["issuer", "shc-key", "--iss", "http://clinic.example", "--out", key_file.to_str().unwrap()]),
        "error: --iss must be an https:// URL of at most 96 printable characters without a trailing slash, not \"http://clinic.example\"\n"
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
    // The key's account, at its thumbprint's address, read back from the validator.
    let stored: rekam::ShcKey = common::fetch(&rpc, &s(&anchored, "account"));
    assert_eq!(stored.issuer.to_string(), issuer);
    assert_eq!(stored.iss, "https://clinic.example");
    assert_eq!(stored.retired_at, 0);
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

    // A card of the vaccination and the lab results of a second record (SMART's
    // laboratory profile): jose verifies it too, and Rekam lists every fact.
    let lab_path = fixtures().join("lab-hba1c.json");
    let lab_records = clinic.ok(&[
        "attest",
        lab_path.to_str().unwrap(),
        "--patient",
        &patient_profile,
    ]);
    let lab = lab_records["attested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| s(a, "attestation"))
        .find(|a| {
            patient.ok(&["claims", a])["claims"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "observation.0")
        })
        .unwrap();
    let both = dir.path().join("both.smart-health-card");
    let exported_both = clinic.ok(&[
        "passport",
        "shc",
        &vax,
        &lab,
        "--signing-key",
        key_file.to_str().unwrap(),
        "--out",
        both.to_str().unwrap(),
    ]);
    assert_eq!(exported_both["immunizations"], 1, "{exported_both}");
    let labs = exported_both["lab_results"].as_u64().unwrap();
    assert!(labs >= 1, "{exported_both}");
    let (ok, v2) = jose(&both, None);
    assert!(ok, "{v2}");
    assert_eq!(v2["problems"], json!([]));
    assert!(v2["payload"]["vc"]["type"]
        .as_array()
        .unwrap()
        .contains(&json!("https://smarthealth.cards#laboratory")));
    let listed = verifier.ok(&["passport", "verify", both.to_str().unwrap()]);
    assert_eq!(listed["lab_results"].as_array().unwrap().len() as u64, labs);
    assert!(
        listed["lab_results"][0]
            .as_str()
            .unwrap()
            .starts_with("Lab result LOINC "),
        "{listed}"
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
            "error: this signing key ({}) is not anchored for issuer {issuer} (rekam issuer shc-key)\n",
            rogue.kid()
        )
    );

    // A second key: both are in the JWKS and both sign valid cards, until the first is
    // retired; then its cards are refused and the JWKS lists the second alone.
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
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| s(k, "kid"))
            .collect()
    };
    let both = kids(verifier.ok(&["issuer", "jwks", &issuer]));
    assert_eq!(both.len(), 2);
    assert!(both.contains(&kid) && both.contains(&kid2), "{both:?}");
    assert_eq!(
        verifier.ok(&["passport", "verify", card.to_str().unwrap()])["kid"],
        kid.as_str()
    );
    let retired = clinic.ok(&["issuer", "shc-key-retire", &kid]);
    assert_eq!(retired["kid"], kid.as_str());
    assert!(retired["retired_at"].as_i64().unwrap() > 0);
    assert_eq!(
        kids(verifier.ok(&["issuer", "jwks", &issuer])),
        vec![kid2.clone()]
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", card.to_str().unwrap()]),
        format!("error: the SMART Health Card's key {kid} was retired by issuer {issuer}\n")
    );
    assert_eq!(
        clinic.fails(&["issuer", "shc-key-retire", &kid]),
        format!("error: SMART Health Card key {kid} is already retired\n")
    );
    assert_eq!(
        clinic.fails(&[
            "passport",
            "shc",
            &vax,
            "--signing-key",
            key_file.to_str().unwrap(),
            "--out",
            dir.path().join("y.smart-health-card").to_str().unwrap(),
        ]),
        format!("error: this signing key ({kid}) is retired\n")
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
