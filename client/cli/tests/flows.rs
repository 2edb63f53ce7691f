//! Every CLI flow as an end-to-end test of the real `rekam` binary, against the local
//! validator (`rekam localnet` in another process) and each record store: a local
//! folder, a real S3 server (SeaweedFS) and a real IPFS node (js-ipfs). The S3 and IPFS
//! servers are started by tests/run.sh.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::{write_keypair_file, Keypair};
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fhir")
}

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the suite with tests/run.sh"))
}

/// One actor: a keypair file and the store settings every call uses.
struct Cli<'a> {
    url: &'a str,
    keypair: PathBuf,
    store: &'a [(String, String)],
}

struct Outcome {
    code: i32,
    json: Value,
    stderr: String,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Outcome {
        let output = Command::new(BIN)
            .args(args)
            .args(["--url", self.url, "--output", "json", "--keypair"])
            .arg(&self.keypair)
            .envs(self.store.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("REKAM_URL")
            .output()
            .expect("run rekam");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        Outcome {
            code: output.status.code().unwrap_or(-1),
            json,
            stderr,
        }
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_eq!(out.code, 0, "rekam {args:?} failed: {}", out.stderr);
        out.json
    }

    /// Runs a command that must fail; returns its error text.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.code, 1,
            "rekam {args:?} should have failed; stdout {}",
            out.json
        );
        out.stderr
    }
}

fn actor<'a>(
    dir: &Path,
    name: &str,
    rpc: &RpcClient,
    url: &'a str,
    store: &'a [(String, String)],
) -> (Keypair, Cli<'a>) {
    let kp = Keypair::new();
    let path = dir.join(format!("{name}.json"));
    write_keypair_file(&kp, &path).expect("write keypair");
    airdrop(rpc, &kp.pubkey(), 10_000_000_000);
    (
        kp,
        Cli {
            url,
            keypair: path,
            store,
        },
    )
}

fn s(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string field {field} in {v}"))
        .to_string()
}

fn the_whole_story(mut store: Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    // An empty Solana CLI config, so a developer's own config cannot leak into the test.
    let config = dir.path().join("config.yml");
    std::fs::write(&config, "---\n").unwrap();
    store.push(("REKAM_SOLANA_CONFIG".into(), config.display().to_string()));
    let validator = Validator::start(&dir.path().join("ledger"));
    let url = validator.url.clone();
    let rpc = RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed());

    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &store);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &store);
    let (_, patient) = actor(dir.path(), "patient", &rpc, &url, &store);
    let (doctor_kp, doctor) = actor(dir.path(), "doctor", &rpc, &url, &store);

    // Governance: initialize, accredit, suspend, reinstate.
    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    let init = gov.ok(&[
        "init",
        "--treasury-mint",
        &mint.to_string(),
        "--fee-bps",
        "100",
    ]);
    assert_eq!(init["protocol_fee_bps"], 100);
    let clinic_key = s(&clinic.ok(&["identity"]), "encryption_key");
    let issuer = gov.ok(&[
        "issuer",
        "accredit",
        "--registry-id",
        "ID-CLINIC-7",
        "--authority",
        &clinic_kp.pubkey().to_string(),
        "--encryption-key",
        &clinic_key,
        "--roles",
        "clinic,lab,pharmacy",
    ]);
    let issuer_key = s(&issuer, "issuer");
    assert_eq!(
        issuer["roles"],
        serde_json::json!(["clinic", "lab", "pharmacy"])
    );
    assert_eq!(
        s(&gov.ok(&["issuer", "suspend", &issuer_key]), "status"),
        "Suspended"
    );

    // Patient registers.
    let profile = patient.ok(&["patient", "register"]);
    let patient_key = s(&profile, "patient");
    assert!(patient
        .fails(&["patient", "register"])
        .contains("already has patient profile"));

    // A suspended clinic cannot attest; nothing is attested.
    let dx = fixtures().join("diagnosis-diabetes.json");
    let err = clinic.fails(&["attest", dx.to_str().unwrap(), "--patient", &patient_key]);
    assert!(
        err.contains("is suspended") && err.contains("nothing was stored"),
        "{err}"
    );
    assert_eq!(
        s(&gov.ok(&["issuer", "reinstate", &issuer_key]), "status"),
        "Active"
    );

    // Malformed bundles: a clear error each, nothing stored or attested.
    for (file, expected) in [
        ("not-json.json", "not valid JSON"),
        ("not-a-bundle.json", "expected a FHIR Bundle"),
        ("empty-bundle.json", "the Bundle has no entries"),
        ("condition-without-code.json", "Condition has no code"),
        (
            "entry-without-resource.json",
            "Bundle entry 1 has no resource",
        ),
        ("future-date.json", "is in the future"),
    ] {
        let path = fixtures().join("invalid").join(file);
        let err = clinic.fails(&["attest", path.to_str().unwrap(), "--patient", &patient_key]);
        assert!(err.contains(expected), "{file}: {err}");
    }
    assert_eq!(
        patient.ok(&["records"])["records"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Batch attest a folder of five real-looking bundles.
    let attested = clinic.ok(&[
        "attest",
        fixtures().to_str().unwrap(),
        "--patient",
        &patient_key,
    ]);
    let attested = attested["attested"].as_array().unwrap().clone();
    assert_eq!(attested.len(), 5);
    let by_file = |name: &str| {
        attested
            .iter()
            .find(|a| s(a, "file").ends_with(name))
            .unwrap()
            .clone()
    };
    let diagnosis = by_file("diagnosis-diabetes.json");
    let vaccination = by_file("vaccination-influenza.json");
    assert_eq!(s(&diagnosis, "kind"), "diagnosis");
    assert_eq!(s(&diagnosis, "treatment_date"), "2024-02-04");
    assert_eq!(s(&by_file("lab-hba1c.json"), "kind"), "lab-result");
    assert_eq!(s(&vaccination, "kind"), "vaccination");
    assert_eq!(
        s(&by_file("prescription-metformin.json"), "kind"),
        "prescription"
    );
    let dx_att = s(&diagnosis, "attestation");
    // Re-running an attest resumes rather than duplicating: the same bundle for the same
    // patient maps to the same attestation, which already exists.
    let err = clinic.fails(&["attest", dx.to_str().unwrap(), "--patient", &patient_key]);
    assert!(
        err.contains(&format!("is already attested as {dx_att}")),
        "{err}"
    );
    let vax_att = s(&vaccination, "attestation");

    // The patient lists, fetches (decrypts + verifies) and anyone verifies.
    let records = patient.ok(&["records"]);
    assert_eq!(records["records"].as_array().unwrap().len(), 5);
    assert!(records["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "active"));
    let mine = dir.path().join("mine.json");
    let fetched = patient.ok(&["fetch", &dx_att, "--out", mine.to_str().unwrap()]);
    assert_eq!(fetched["verified"], true);
    assert_eq!(
        std::fs::read(&mine).unwrap(),
        std::fs::read(&dx).unwrap(),
        "byte-identical bundle"
    );
    assert_eq!(s(&doctor.ok(&["verify", &vax_att]), "status"), "active");
    // Someone else's wallet cannot open the patient's record.
    let err = doctor.fails(&[
        "fetch",
        &dx_att,
        "--out",
        dir.path().join("no.json").to_str().unwrap(),
    ]);
    assert!(err.contains("not encrypted to your key"), "{err}");

    // Consent to the doctor: diagnoses and lab results, treatment.
    let doctor_key = s(&doctor.ok(&["identity"]), "encryption_key");
    let consent = patient.ok(&[
        "consent",
        "grant",
        "--grantee",
        &doctor_kp.pubkey().to_string(),
        "--grantee-key",
        &doctor_key,
        "--kinds",
        "diagnosis,lab-result",
        "--purpose",
        "treatment",
        "--days",
        "7",
    ]);
    let consent_key = s(&consent, "consent");
    assert_eq!(
        consent["records_in_grant"], 3,
        "the diagnosis, the lab result and the emergency summary's Condition"
    );
    assert_eq!(
        doctor.ok(&["consent", "list", "--received"])["consents"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The doctor reads with a receipt; out-of-scope reads are refused before decryption.
    let copy = dir.path().join("doctor-copy-of-record.json");
    let read = doctor.ok(&[
        "access",
        &consent_key,
        &dx_att,
        "--out",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(read["verified"], true);
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&dx).unwrap());
    let err = doctor.fails(&[
        "access",
        &consent_key,
        &vax_att,
        "--out",
        dir.path().join("v.json").to_str().unwrap(),
    ]);
    assert!(err.contains("no entry for attestation"), "{err}");

    // Revocation: the next read fails on-chain.
    let revoked = patient.ok(&["consent", "revoke", &consent_key]);
    assert!(revoked["revoked_at"].as_i64().is_some());
    let err = doctor.fails(&[
        "access",
        &consent_key,
        &dx_att,
        "--out",
        dir.path().join("r.json").to_str().unwrap(),
    ]);
    assert!(err.contains("ConsentRevoked (6030)"), "{err}");

    // The audit trail, rebuilt from the chain: grant, one read, revoke.
    let audit = patient.ok(&["audit"]);
    let events: Vec<(String, String)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (s(e, "event"), s(e, "who")))
        .collect();
    let doc = doctor_kp.pubkey().to_string();
    assert_eq!(
        events,
        vec![
            ("grant".into(), doc.clone()),
            ("read".into(), doc.clone()),
            ("revoke".into(), doc)
        ]
    );
    assert_eq!(audit["events"][1]["record"], Value::String(dx_att.clone()));

    // The clinic revokes an attestation: it stops verifying.
    let revoked = clinic.ok(&["attestation", "revoke", &vax_att]);
    assert_eq!(s(&revoked, "status"), "revoked");
    validator.stop();
}

#[test]
fn flows_with_the_local_store() {
    let dir = tempfile::tempdir().unwrap();
    the_whole_story(vec![
        ("REKAM_STORE".into(), "local".into()),
        ("REKAM_STORE_DIR".into(), dir.path().display().to_string()),
    ]);
}

#[test]
fn flows_with_s3() {
    the_whole_story(vec![
        ("REKAM_STORE".into(), "s3".into()),
        ("REKAM_S3_ENDPOINT".into(), env("REKAM_TEST_S3_ENDPOINT")),
        ("REKAM_S3_BUCKET".into(), env("REKAM_TEST_S3_BUCKET")),
        (
            "REKAM_S3_PREFIX".into(),
            format!("flows-{}/", std::process::id()),
        ),
        ("AWS_ACCESS_KEY_ID".into(), env("REKAM_TEST_S3_ACCESS_KEY")),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            env("REKAM_TEST_S3_SECRET_KEY"),
        ),
    ]);
}

#[test]
fn flows_with_ipfs() {
    the_whole_story(vec![
        ("REKAM_STORE".into(), "ipfs".into()),
        ("REKAM_IPFS_API".into(), env("REKAM_TEST_IPFS_API")),
    ]);
}

#[test]
fn a_failed_attestation_leaves_no_stored_record() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let config = dir.path().join("config.yml");
    std::fs::write(&config, "---\n").unwrap();
    let store = vec![
        ("REKAM_STORE".to_string(), "local".to_string()),
        (
            "REKAM_STORE_DIR".to_string(),
            store_dir.display().to_string(),
        ),
        (
            "REKAM_SOLANA_CONFIG".to_string(),
            config.display().to_string(),
        ),
    ];
    let validator = Validator::start(&dir.path().join("ledger"));
    let url = validator.url.clone();
    let rpc = RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed());
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &store);
    let (_, patient) = actor(dir.path(), "patient", &rpc, &url, &store);
    // A clinic wallet with no SOL: it can be accredited, but cannot pay for the attestation.
    let broke = Keypair::new();
    let broke_path = dir.path().join("broke.json");
    write_keypair_file(&broke, &broke_path).unwrap();
    let clinic = Cli {
        url: &url,
        keypair: broke_path,
        store: &store,
    };
    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&["init", "--treasury-mint", &mint.to_string()]);
    let key = s(&clinic.ok(&["identity"]), "encryption_key");
    gov.ok(&[
        "issuer",
        "accredit",
        "--registry-id",
        "BROKE",
        "--authority",
        &broke.pubkey().to_string(),
        "--encryption-key",
        &key,
        "--roles",
        "clinic",
    ]);
    let patient_key = s(&patient.ok(&["patient", "register"]), "patient");

    let dx = fixtures().join("diagnosis-diabetes.json");
    let err = clinic.fails(&["attest", dx.to_str().unwrap(), "--patient", &patient_key]);
    assert!(
        err.contains("the stored record was removed") && err.contains("run the same command again"),
        "{err}"
    );
    let objects: usize = walk(&store_dir.join("objects"));
    assert_eq!(objects, 0, "no record left without its attestation");
    assert_eq!(
        patient.ok(&["records"])["records"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Funded, the same command now succeeds.
    airdrop(&rpc, &broke.pubkey(), 2_000_000_000);
    let done = clinic.ok(&["attest", dx.to_str().unwrap(), "--patient", &patient_key]);
    assert_eq!(done["attested"].as_array().unwrap().len(), 1);
    assert_eq!(walk(&store_dir.join("objects")), 1);
    validator.stop();
}

/// Files below `dir`, recursively.
fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
