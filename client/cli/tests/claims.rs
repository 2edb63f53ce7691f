//! Claims end to end through the real `rekam` binary against `rekam localnet`: validation
//! before anything is stored (a folder with a bad Bundle attests nothing), a record's
//! claims listed with stable ids, one lab value disclosed to a verifier who checks it,
//! and the verdict turning red on a tampered file, another audience, a revoked record and
//! a suspended issuer.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;

/// A copy of `lab-hba1c.json` whose HbA1c Observation is broken by `edit`.
fn broken_lab(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("lab-hba1c.json")).unwrap()).unwrap();
    let entry = bundle["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["resource"]["resourceType"] == "Observation")
        .unwrap();
    edit(&mut entry["resource"]);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    path
}

#[test]
fn one_lab_value_disclosed_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yml");
    std::fs::write(&config, "---\n").unwrap();
    let env = vec![
        ("REKAM_STORE".to_string(), "local".to_string()),
        (
            "REKAM_STORE_DIR".to_string(),
            dir.path().join("store").display().to_string(),
        ),
        (
            "REKAM_SOLANA_CONFIG".to_string(),
            config.display().to_string(),
        ),
    ];
    let validator = Validator::start(&dir.path().join("ledger"), &wallet_file(dir.path(), "gov"));
    let url = validator.url.clone();
    let rpc = RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed());
    let (gov_kp, gov) = actor(dir.path(), "gov", &rpc, &url, &env);
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
    let clinic_key = s(&clinic.ok(&["identity"]), "encryption_key");
    let issuer = s(
        &gov.ok(&[
            "issuer",
            "accredit",
            "--registry-id",
            "LAB-1",
            "--authority",
            &clinic_kp.pubkey().to_string(),
            "--encryption-key",
            &clinic_key,
            "--roles",
            "clinic,lab",
        ]),
        "issuer",
    );
    let patient_key = s(&patient.ok(&["patient", "register"]), "patient");

    // A folder holding one invalid Bundle (a `code` that is a string): every file is
    // reported, nothing is attested, until --skip-invalid.
    let folder = dir.path().join("batch");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(fixtures().join("lab-hba1c.json"), folder.join("a-lab.json")).unwrap();
    broken_lab(&folder, "b-broken.json", |o| o["code"] = "4548-4".into());
    let err = clinic
        .refused(&[
            "attest",
            folder.to_str().unwrap(),
            "--patient",
            &patient_key,
        ])
        .stderr;
    assert!(
        err.contains("1 of 2 Bundles cannot be attested, so none was"),
        "{err}"
    );
    assert!(err.contains("b-broken.json"), "{err}");
    assert!(err.contains("Observation.code"), "{err}");
    assert_eq!(
        patient.ok(&["records"])["records"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let attested = clinic.ok(&[
        "attest",
        folder.to_str().unwrap(),
        "--patient",
        &patient_key,
        "--skip-invalid",
    ]);
    assert_eq!(attested["attested"].as_array().unwrap().len(), 1);
    assert_eq!(attested["refused"].as_array().unwrap().len(), 1);
    let lab = s(&attested["attested"][0], "attestation");
    let claims_count = attested["attested"][0]["claims"].as_u64().unwrap();

    // An unknown element is a warning: attested, reported; --strict refuses it.
    let odd = broken_lab(dir.path(), "odd.json", |o| o["madeUpElement"] = true.into());
    let err = clinic
        .refused(&[
            "attest",
            odd.to_str().unwrap(),
            "--patient",
            &patient_key,
            "--strict",
        ])
        .stderr;
    assert!(err.contains("refused under --strict"), "{err}");
    assert!(err.contains("madeUpElement"), "{err}");
    let warned = clinic.ok(&["attest", odd.to_str().unwrap(), "--patient", &patient_key]);
    let warnings = warned["attested"][0]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("madeUpElement")),
        "{warnings:?}"
    );
    let odd_att = s(&warned["attested"][0], "attestation");

    // The patient lists the record's claims; ids are <attestation>#<index>.
    let listed = patient.ok(&["claims", &lab]);
    let claims = listed["claims"].as_array().unwrap();
    assert_eq!(claims.len() as u64, claims_count);
    let hba1c = claims
        .iter()
        .find(|c| c["name"] == "observation.0")
        .expect("the HbA1c claim");
    assert_eq!(
        s(hba1c, "id"),
        format!("{lab}#{}", claims.iter().position(|c| c == hba1c).unwrap())
    );
    assert!(s(hba1c, "words").contains("Hemoglobin A1c"));
    assert_eq!(hba1c["value"]["value"], 5.9);
    let text = patient.run_as(&["claims", &lab], "text").stdout;
    assert!(text.contains("= 5.9 %"), "{text}");
    // Someone else cannot list them (exit code 1, the reason).
    assert_eq!(
        verifier.fails(&["claims", &lab]).trim_end(),
        "error: this record is not encrypted to your key (no matching recipient)"
    );

    // Disclose only that claim to a pharmacy with its nonce; the pharmacy verifies.
    let p = dir.path().join("p.json");
    patient.ok(&[
        "disclose",
        &lab,
        "--claim",
        &s(hba1c, "id"),
        "--audience",
        "pharmacy.example",
        "--nonce",
        "n-1",
        "--out",
        p.to_str().unwrap(),
    ]);
    let shown = std::fs::read_to_string(&p).unwrap();
    let other = claims
        .iter()
        .find(|c| c["name"] == "observation.1")
        .unwrap();
    assert!(!shown.contains(&s(other, "words")));
    let verify = [
        "presentation",
        "verify",
        p.to_str().unwrap(),
        "--audience",
        "pharmacy.example",
        "--nonce",
        "n-1",
    ];
    let verdict = verifier.ok(&verify);
    assert_eq!(verdict["verified"], true, "{verdict}");
    assert_eq!(verdict["claims"].as_array().unwrap().len(), 1);
    assert_eq!(verdict["claims"][0]["verified"], true);
    let text = verifier.run_as(&verify, "text").stdout;
    assert!(text.starts_with("VALID"), "{text}");

    // The same claim as a standard SD-JWT, checked by an independent SD-JWT library with
    // the issuer key the chain anchors (the Issuer account's authority).
    let oracles = std::env::var("REKAM_TEST_ORACLES")
        .expect("REKAM_TEST_ORACLES is not set: run the suite with tests/run.sh");
    let sd = dir.path().join("p.sd-jwt");
    patient.ok(&[
        "disclose",
        &lab,
        "--claim",
        &s(hba1c, "id"),
        "--audience",
        "pharmacy.example",
        "--nonce",
        "n-1",
        "--format",
        "sd-jwt",
        "--out",
        sd.to_str().unwrap(),
    ]);
    let issuer_x = rekam_client::claims::sdjwt::okp_jwk(&clinic_kp.pubkey())["x"]
        .as_str()
        .unwrap()
        .to_string();
    let sd_verify = |file: &Path, key: &str, nonce: &str| {
        let out = Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles/sdjwt_verify.js"))
            .args([file.to_str().unwrap(), key, nonce])
            .env("NODE_PATH", &oracles)
            .output()
            .expect("node");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.success(), v)
    };
    let (ok, v) = sd_verify(&sd, &issuer_x, "n-1");
    assert!(ok, "{v}");
    assert_eq!(v["claims"]["rekam_attestation"], lab.as_str());
    assert_eq!(v["claims"]["observation.0"]["value"], 5.9, "{v}");
    assert!(
        v["claims"].get("observation.1").is_none(),
        "only the chosen claim: {v}"
    );
    assert_eq!(v["kb"]["aud"], "pharmacy.example");
    // Tampered: another issuer key, another nonce, a disclosure changed.
    let stranger_x = rekam_client::claims::sdjwt::okp_jwk(&Keypair::new().pubkey())["x"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!sd_verify(&sd, &stranger_x, "n-1").0, "another issuer key");
    assert!(!sd_verify(&sd, &issuer_x, "n-2").0, "another nonce");
    let text = std::fs::read_to_string(&sd).unwrap();
    let parts: Vec<&str> = text.split('~').collect();
    let mut forged_parts = parts.clone();
    let forged_disclosure = format!("{}A", &parts[1][..parts[1].len() - 1]);
    forged_parts[1] = &forged_disclosure;
    let forged_sd = dir.path().join("forged.sd-jwt");
    std::fs::write(&forged_sd, forged_parts.join("~")).unwrap();
    let (ok, v) = sd_verify(&forged_sd, &issuer_x, "n-1");
    assert!(!ok, "a changed disclosure verified: {v}");

    // Replayed to another audience, or tampered with: red, exit 1, the exact reason.
    let out = verifier.refused(&[
        "presentation",
        "verify",
        p.to_str().unwrap(),
        "--audience",
        "border.example",
    ]);
    assert!(
        out.stderr
            .contains("is for audience \"pharmacy.example\", not \"border.example\""),
        "{}",
        out.stderr
    );
    let mut forged: Value = serde_json::from_str(&shown).unwrap();
    forged["claims"][0]["index"] = (forged["claims"][0]["index"].as_u64().unwrap() + 1).into();
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let out = verifier.refused(&["presentation", "verify", forged_path.to_str().unwrap()]);
    assert!(
        out.stderr
            .contains("is not under the attestation's claims root"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json["verified"], false);
    assert!(verifier
        .fails(&["presentation", "verify", "/nonexistent.json"])
        .contains("cannot read"));

    // Only the patient can disclose (a stranger's wallet cannot even open the record).
    let err = verifier.fails(&[
        "disclose",
        &lab,
        "--claim",
        &s(hba1c, "id"),
        "--audience",
        "x",
        "--out",
        dir.path().join("x.json").to_str().unwrap(),
    ]);
    assert!(err.contains("not encrypted to your key"), "{err}");

    // The clinic revokes the record: `verify` reports it revoked, and the same
    // presentation turns red.
    clinic.ok(&["attestation", "revoke", &lab]);
    assert_eq!(s(&verifier.ok(&["verify", &lab]), "status"), "revoked");
    let out = verifier.refused(&verify);
    assert!(
        out.stderr.contains("the attestation has been revoked"),
        "{}",
        out.stderr
    );

    // Governance suspends the issuer: another record's presentation turns red.
    let listed = patient.ok(&["claims", &odd_att]);
    let id = s(&listed["claims"][0], "id");
    let q = dir.path().join("q.json");
    patient.ok(&[
        "disclose",
        &odd_att,
        "--claim",
        &id,
        "--audience",
        "a",
        "--out",
        q.to_str().unwrap(),
    ]);
    assert_eq!(
        verifier.ok(&["presentation", "verify", q.to_str().unwrap()])["verified"],
        true
    );
    gov.ok(&["issuer", "suspend", &issuer]);
    let out = verifier.refused(&["presentation", "verify", q.to_str().unwrap()]);
    assert!(
        out.stderr.contains("the issuer is suspended"),
        "{}",
        out.stderr
    );
    validator.stop();
}
