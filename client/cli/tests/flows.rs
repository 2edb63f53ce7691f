//! Every CLI flow as an end-to-end test of the real `rekam` binary, against the local
//! validator (`rekam localnet` in another process) and each record store: a local
//! folder, a real S3 server (SeaweedFS) and a real IPFS node (js-ipfs). The S3 and IPFS
//! servers are started by tests/run.sh.

mod common;

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use common::*;
use rekam_client::crypto::keystore;
use rekam_client::record::KeyGrantObject;
use rekam_client::storage::retry::RetryPolicy;
use rekam_client::storage::s3::S3Config;
use rekam_client::storage::{Locator, Store, StoreConfig, StoreError};
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::{write_keypair_file, Keypair};
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the suite with tests/run.sh"))
}

/// The value of `name` in a store's settings.
fn setting(env: &[(String, String)], name: &str) -> Option<String> {
    env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// The S3 settings of `env` (see [`s3_store`]).
fn s3_config(env: &[(String, String)]) -> S3Config {
    let get = |k: &str| setting(env, k);
    S3Config {
        endpoint: get("REKAM_S3_ENDPOINT"),
        bucket: get("REKAM_S3_BUCKET").unwrap(),
        region: "us-east-1".into(),
        access_key: get("AWS_ACCESS_KEY_ID").unwrap(),
        secret_key: get("AWS_SECRET_ACCESS_KEY").unwrap(),
        prefix: get("REKAM_S3_PREFIX").unwrap_or_else(|| "rekam/".into()),
        retry: RetryPolicy::default(),
    }
}

fn open_store(env: &[(String, String)]) -> Box<dyn Store> {
    let get = |k: &str| setting(env, k);
    let config = match get("REKAM_STORE").as_deref() {
        Some("s3") => StoreConfig::S3(s3_config(env)),
        Some("ipfs") => StoreConfig::Ipfs {
            api: get("REKAM_IPFS_API").unwrap(),
        },
        _ => StoreConfig::Local {
            dir: get("REKAM_STORE_DIR").unwrap().into(),
        },
    };
    config.open().unwrap()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn read_consent(rpc: &RpcClient, key: &str) -> rekam::Consent {
    use anchor_lang::AccountDeserialize;
    let account = rpc.get_account(&key.parse().unwrap()).unwrap();
    rekam::Consent::try_deserialize(&mut account.data.as_slice()).unwrap()
}

/// The settings of a local-folder store in `dir`.
fn local_store(dir: &Path) -> Vec<(String, String)> {
    vec![
        ("REKAM_STORE".into(), "local".into()),
        ("REKAM_STORE_DIR".into(), dir.display().to_string()),
    ]
}

/// The settings of the test S3 server (started by tests/run.sh), under a prefix of its own.
fn s3_store(prefix: &str) -> Vec<(String, String)> {
    vec![
        ("REKAM_STORE".into(), "s3".into()),
        ("REKAM_S3_ENDPOINT".into(), env("REKAM_TEST_S3_ENDPOINT")),
        ("REKAM_S3_BUCKET".into(), env("REKAM_TEST_S3_BUCKET")),
        (
            "REKAM_S3_PREFIX".into(),
            format!("{prefix}-{}/", std::process::id()),
        ),
        ("AWS_ACCESS_KEY_ID".into(), env("REKAM_TEST_S3_ACCESS_KEY")),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            env("REKAM_TEST_S3_SECRET_KEY"),
        ),
    ]
}

/// Starts a validator with its ledger in `dir`, and adds to `store` an empty Solana CLI
/// config, so a developer's own config cannot leak into a test.
fn start_net(dir: &Path, store: &mut Vec<(String, String)>) -> (Validator, String, RpcClient) {
    let config = dir.join("config.yml");
    std::fs::write(&config, "---\n").unwrap();
    store.push(("REKAM_SOLANA_CONFIG".into(), config.display().to_string()));
    let validator = Validator::start(&dir.join("ledger"), &wallet_file(dir, "governance"));
    let url = validator.url.clone();
    let rpc = RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed());
    (validator, url, rpc)
}

/// `forge`: a stranger posts forged locator memos about every record before the flows run
/// (done once, with the local store: the memos are the same whatever the store).
fn the_whole_story(mut store: Vec<(String, String)>, forge: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc) = start_net(dir.path(), &mut store);

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
        s(
            &gov.ok(&["issuer", "reinstate", &issuer_key, "--restore-all"]),
            "status"
        ),
        "Active"
    );

    // Malformed bundles: a clear error each, nothing stored or attested.
    for (file, expected) in [
        ("not-json.json", "not valid JSON"),
        (
            "not-a-bundle.json",
            "Bundle: expected a Bundle, found resourceType \"Patient\"",
        ),
        ("empty-bundle.json", "the Bundle has no entries"),
        ("condition-without-code.json", "Condition has no code"),
        (
            "entry-without-resource.json",
            "Bundle.entry[1]: entry has no resource",
        ),
        ("future-date.json", "is in the future"),
    ] {
        let path = fixtures().join("invalid").join(file);
        let err = clinic.fails(&["attest", path.to_str().unwrap(), "--patient", &patient_key]);
        assert!(err.starts_with("error: "), "{file}: {err}");
        // Each cause is printed once (error types that also print their source were
        // repeated before).
        assert_eq!(err.matches(expected).count(), 1, "{file}: {err}");
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
    // One record per kind a Bundle holds: the diagnosis and lab Bundles are of one kind;
    // the prescription and vaccination visits also hold an Observation (HbA1c, body
    // temperature), the emergency summary Conditions, medications and vitals: 9 records.
    assert_eq!(attested.len(), 9);
    let by = |name: &str, kind: &str| {
        attested
            .iter()
            .find(|a| s(a, "file").ends_with(name) && s(a, "kind") == kind)
            .unwrap_or_else(|| panic!("no {kind} record of {name}"))
            .clone()
    };
    let parts_of = |name: &str| {
        attested
            .iter()
            .filter(|a| s(a, "file").ends_with(name))
            .map(|a| s(a, "kind"))
            .collect::<Vec<_>>()
    };
    assert_eq!(parts_of("diagnosis-diabetes.json"), ["diagnosis"]);
    assert_eq!(parts_of("lab-hba1c.json"), ["lab-result"]);
    assert_eq!(
        parts_of("vaccination-influenza.json"),
        ["lab-result", "vaccination"]
    );
    assert_eq!(
        parts_of("prescription-metformin.json"),
        ["lab-result", "prescription"]
    );
    assert_eq!(
        parts_of("emergency-summary.json"),
        ["diagnosis", "lab-result", "prescription"]
    );
    // The parts of one Bundle go on-chain in as few transactions as fit: the visit's two
    // in one, the summary's three in two (three issues and their memos pass 1,232 bytes).
    assert_eq!(
        s(
            &by("vaccination-influenza.json", "vaccination"),
            "signature"
        ),
        s(&by("vaccination-influenza.json", "lab-result"), "signature")
    );
    let summary_txs: std::collections::HashSet<String> = parts_of("emergency-summary.json")
        .iter()
        .map(|k| s(&by("emergency-summary.json", k), "signature"))
        .collect();
    assert_eq!(summary_txs.len(), 2);
    let diagnosis = by("diagnosis-diabetes.json", "diagnosis");
    let vaccination = by("vaccination-influenza.json", "vaccination");
    assert_eq!(s(&diagnosis, "treatment_date"), "2024-02-04");
    let dx_att = s(&diagnosis, "attestation");
    // Re-running an attest resumes rather than duplicating: the same bundle for the same
    // patient maps to the same attestation, which already exists.
    let err = clinic.fails(&["attest", dx.to_str().unwrap(), "--patient", &patient_key]);
    assert!(
        err.contains(&format!("is already attested as {dx_att}")),
        "{err}"
    );
    let vax_att = s(&vaccination, "attestation");

    // A stranger posts forged locator memos about every record (another record's real
    // copy, a malformed locator, one in a failed transaction). Locators are authenticated
    // (issuer or patient signatures only), so every flow below works as if they were not
    // there: fetch, claims, grants, the re-keying on revocation, the audit.
    let stranger = Keypair::new();
    airdrop(&rpc, &stranger.pubkey(), 1_000_000_000);
    let every: Vec<(String, String)> = attested
        .iter()
        .filter(|_| forge)
        .map(|a| (s(a, "attestation"), s(a, "locator")))
        .collect();
    for (i, (attestation, _)) in every.iter().enumerate() {
        let decoy = &every[(i + 1) % every.len()].1;
        let posted = common::forged::forge_locator_memos(
            &rpc,
            &stranger,
            &attestation.parse().unwrap(),
            decoy,
        );
        assert_eq!(posted, 3);
    }
    let fetched_dx = dir.path().join("dx-after-forgery.json");
    let out = patient.run(&["fetch", &dx_att, "--out", fetched_dx.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr
            .contains("warning: skipped 3 locator memo(s) about"),
        forge,
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(&fetched_dx).unwrap(),
        std::fs::read(&dx).unwrap()
    );

    // The patient lists, fetches (decrypts + verifies) and anyone verifies.
    let records = patient.ok(&["records"]);
    assert_eq!(records["records"].as_array().unwrap().len(), 9);
    // Grouped by source Bundle: the three parts of the emergency summary share a tag.
    let emergency_parts: Vec<String> = ["diagnosis", "lab-result", "prescription"]
        .iter()
        .map(|k| s(&by("emergency-summary.json", k), "attestation"))
        .collect();
    let tags: Vec<&Value> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| emergency_parts.contains(&s(r, "attestation")))
        .map(|r| &r["bundle"])
        .collect();
    assert_eq!(tags.len(), 3);
    assert!(
        tags[0].is_string() && tags.iter().all(|t| *t == tags[0]),
        "{tags:?}"
    );
    // The patient rebuilds the emergency summary byte for byte from its parts.
    let whole = dir.path().join("whole.json");
    let rebuilt = patient.ok(&[
        "fetch",
        &emergency_parts[1],
        "--source-bundle",
        "--out",
        whole.to_str().unwrap(),
    ]);
    assert_eq!(rebuilt["missing"], serde_json::json!([]));
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(fixtures().join("emergency-summary.json")).unwrap()
    );
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
        consent["records_in_grant"], 6,
        "two diagnosis records (the diagnosis Bundle, the emergency summary's Conditions) and four lab-result records"
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
    // The consent covers the emergency summary's lab part, which holds no diagnosis, and
    // not its medications.
    let labs = dir.path().join("emergency-labs.json");
    doctor.ok(&[
        "access",
        &consent_key,
        &emergency_parts[1],
        "--out",
        labs.to_str().unwrap(),
    ]);
    let labs: Value = serde_json::from_slice(&std::fs::read(&labs).unwrap()).unwrap();
    let types: Vec<&str> = labs["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Observation") && !types.contains(&"Condition"),
        "{types:?}"
    );
    // Through the same consent the doctor lists that record's claims (another receipt),
    // and rebuilds what the consent covers of the summary: its diagnoses and labs, with
    // its medications named missing.
    let listed = doctor.ok(&["claims", &emergency_parts[1], "--consent", &consent_key]);
    let names: Vec<String> = listed["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "name"))
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("observation.")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("condition.")),
        "{names:?}"
    );
    let partial = dir.path().join("emergency-partial.json");
    let rebuilt = doctor.ok(&[
        "access",
        &consent_key,
        &emergency_parts[1],
        "--source-bundle",
        "--out",
        partial.to_str().unwrap(),
    ]);
    assert_eq!(rebuilt["missing"], serde_json::json!(["prescription"]));
    let partial: Value = serde_json::from_slice(&std::fs::read(&partial).unwrap()).unwrap();
    let types: Vec<&str> = partial["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Condition") && types.contains(&"Observation"),
        "{types:?}"
    );
    assert!(!types.contains(&"MedicationRequest"), "{types:?}");
    let err = doctor.fails(&[
        "access",
        &consent_key,
        &emergency_parts[2],
        "--out",
        dir.path().join("m.json").to_str().unwrap(),
    ]);
    assert!(err.contains("no entry for attestation"), "{err}");

    // A nurse gets a second consent over diagnoses; the doctor keeps a copy of the key
    // grant and of the record as they are before the revocation.
    let (nurse_kp, nurse) = actor(dir.path(), "nurse", &rpc, &url, &store);
    let nurse_key = s(&nurse.ok(&["identity"]), "encryption_key");
    let nurse_consent = s(
        &patient.ok(&[
            "consent",
            "grant",
            "--grantee",
            &nurse_kp.pubkey().to_string(),
            "--grantee-key",
            &nurse_key,
            "--kinds",
            "diagnosis",
        ]),
        "consent",
    );
    let records_store = open_store(&store);
    let consent_before = read_consent(&rpc, &consent_key);
    let grant_locator = Locator::from_compact(
        &consent_before.key_grant.locator,
        &consent_before.key_grant.hash,
    )
    .unwrap();
    let old_grant =
        KeyGrantObject::from_bytes(&block_on(records_store.get(&grant_locator)).unwrap()).unwrap();
    let dx_key: Pubkey = dx_att.parse().unwrap();
    let old_locator: Locator = old_grant.entry(&dx_key).unwrap().locator.parse().unwrap();
    let doctor_identity = keystore::open_with(
        &keystore::default_path(&doctor.keypair),
        &doctor_kp.pubkey(),
        None,
    )
    .unwrap();

    // Revocation: on-chain at once, then every record it covered is re-keyed.
    let revoked = patient.ok(&["consent", "revoke", &consent_key]);
    assert!(revoked["revoked_at"].as_i64().is_some());
    assert_eq!(revoked["rekeyed"]["records"], 6);
    assert_eq!(
        revoked["rekeyed"]["grants_updated"], 1,
        "the nurse's grant was re-issued"
    );
    // The attestations still verify: re-keying never touches them.
    assert_eq!(s(&doctor.ok(&["verify", &dx_att]), "status"), "active");
    // The patient still reads the record (now from its new copy), byte for byte.
    let again = dir.path().join("again.json");
    let fetched = patient.ok(&["fetch", &dx_att, "--out", again.to_str().unwrap()]);
    assert_ne!(
        s(&fetched, "locator"),
        old_locator.to_string(),
        "a new copy"
    );
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&dx).unwrap());
    // The doctor's saved grant opens nothing that exists now.
    let new_locator: Locator = s(&fetched, "locator").parse().unwrap();
    let new_bytes = block_on(records_store.get(&new_locator)).unwrap();
    assert!(
        old_grant
            .open(&dx_key, &new_bytes, &doctor_identity)
            .is_err(),
        "old grant opens the new copy"
    );
    match block_on(records_store.get(&old_locator)) {
        Err(StoreError::NotFound(_)) => {}
        Ok(_) if old_locator.kind() == "ipfs" => {} // IPFS copies cannot be recalled (documented)
        other => panic!("old copy should be gone: {:?}", other.map(|b| b.len())),
    }
    // The nurse, whose consent stands, reads the new copy through the re-issued grant.
    let nurse_copy = dir.path().join("nurse-copy.json");
    nurse.ok(&[
        "access",
        &nurse_consent,
        &dx_att,
        "--out",
        nurse_copy.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&nurse_copy).unwrap(),
        std::fs::read(&dx).unwrap()
    );
    let err = doctor.fails(&[
        "access",
        &consent_key,
        &dx_att,
        "--out",
        dir.path().join("r.json").to_str().unwrap(),
    ]);
    assert!(err.contains("ConsentRevoked (6030)"), "{err}");

    // The audit trail, rebuilt from the chain: grant, five reads (the diagnosis, the
    // summary's labs three times: read, claims, source Bundle; its diagnoses), revoke.
    let audit = patient.ok(&["audit"]);
    let events: Vec<(String, String)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (s(e, "event"), s(e, "who")))
        .collect();
    let doc = doctor_kp.pubkey().to_string();
    let nurse_wallet = nurse_kp.pubkey().to_string();
    // Times have one-second resolution: compare the events as a set, then the order
    // where time separates them.
    let mut sorted = events.clone();
    sorted.sort();
    let mut expected: Vec<(String, String)> = vec![
        ("grant".into(), doc.clone()),
        ("read".into(), doc.clone()),
        ("read".into(), doc.clone()),
        ("read".into(), doc.clone()),
        ("read".into(), doc.clone()),
        ("read".into(), doc.clone()),
        ("grant".into(), nurse_wallet.clone()),
        ("revoke".into(), doc.clone()),
        ("read".into(), nurse_wallet.clone()),
    ];
    expected.sort();
    assert_eq!(sorted, expected);
    let at = |event: &str, who: &str| {
        audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == event && e["who"] == who)
            .unwrap()["at"]
            .as_i64()
            .unwrap()
    };
    assert!(
        at("read", &doc) <= at("revoke", &doc) && at("revoke", &doc) <= at("read", &nurse_wallet)
    );
    let times: Vec<i64> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "the trail is in time order: {times:?}"
    );
    let doctor_read = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "read" && e["who"] == doc.as_str())
        .unwrap();
    assert_eq!(doctor_read["record"], Value::String(dx_att.clone()));

    // The patient closes the revoked consent for its rent: its five receipts first (their
    // rent back to the doctor, who paid it), then the consent. The trail, rebuilt from
    // events for that consent now, is the same plus the close.
    let doctor_before = rpc.get_balance(&doctor_kp.pubkey()).unwrap();
    let closed = patient.ok(&["consent", "close", &consent_key]);
    assert_eq!(
        (
            &closed["receipts_closed"],
            &closed["receipts_already_closed"]
        ),
        (&Value::from(5), &Value::from(0))
    );
    assert!(rpc.get_account(&consent_key.parse().unwrap()).is_err());
    let receipt_rent = rpc
        .get_minimum_balance_for_rent_exemption(rekam::AccessReceipt::SIZE)
        .unwrap();
    assert_eq!(
        rpc.get_balance(&doctor_kp.pubkey()).unwrap(),
        doctor_before + 5 * receipt_rent
    );
    let after = patient.ok(&["audit"]);
    let mut rebuilt: Vec<(String, String)> = after["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (s(e, "event"), s(e, "who")))
        .collect();
    rebuilt.sort();
    expected.push(("close".into(), doc.clone()));
    expected.sort();
    assert_eq!(rebuilt, expected, "the trail survives the close");
    let err = patient.fails(&["consent", "close", &consent_key]);
    assert!(err.contains("does not exist"), "{err}");

    // The clinic revokes an attestation: it stops verifying, for anyone who checks again.
    let revoked = clinic.ok(&["attestation", "revoke", &vax_att]);
    assert_eq!(s(&revoked, "status"), "revoked");
    let verified = doctor.ok(&["verify", &vax_att]);
    assert_eq!(s(&verified, "status"), "revoked");
    assert!(verified["revoked_at"].as_i64().is_some(), "{verified}");
    assert_eq!(verified["revoked_at"], revoked["revoked_at"]);
    validator.stop();
}

#[test]
fn flows_with_the_local_store() {
    let dir = tempfile::tempdir().unwrap();
    the_whole_story(local_store(dir.path()), true);
}

#[test]
fn flows_with_s3() {
    the_whole_story(s3_store("flows"), false);
}

#[test]
fn flows_with_ipfs() {
    the_whole_story(
        vec![
            ("REKAM_STORE".into(), "ipfs".into()),
            ("REKAM_IPFS_API".into(), env("REKAM_TEST_IPFS_API")),
        ],
        false,
    );
}

#[test]
fn a_failed_attestation_leaves_no_stored_record() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let mut store = local_store(&store_dir);
    let (validator, url, rpc) = start_net(dir.path(), &mut store);
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &store);
    let (_, patient) = actor(dir.path(), "patient", &rpc, &url, &store);
    // A clinic wallet with no SOL: it can be accredited, but cannot pay for the attestation.
    let broke = Keypair::new();
    let broke_path = dir.path().join("broke.json");
    write_keypair_file(&broke, &broke_path).unwrap();
    let clinic = Cli {
        url: url.clone(),
        keypair: broke_path,
        env: store.clone(),
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

/// How many objects the store of `env` holds: the files of a local store's folder, or the
/// keys under the S3 prefix of this run. A refusal that left a stored copy behind changes
/// it, whatever the store.
fn stored_objects(env: &[(String, String)]) -> usize {
    use object_store::ObjectStore;
    match setting(env, "REKAM_STORE").as_deref() {
        Some("s3") => {
            let config = s3_config(env);
            let prefix = object_store::path::Path::from(config.prefix.clone());
            let raw = rekam_client::storage::s3::S3Store::new(&config)
                .unwrap()
                .raw();
            block_on(raw.list_with_delimiter(Some(&prefix)))
                .expect("list the S3 prefix")
                .objects
                .len()
        }
        Some("ipfs") => panic!("counting the objects of an IPFS store is not supported"),
        _ => walk(&Path::new(&setting(env, "REKAM_STORE_DIR").unwrap()).join("objects")),
    }
}

/// The researcher's token balance, 0 when the account does not exist.
fn token_balance(rpc: &RpcClient, account: &Pubkey) -> u64 {
    rpc.get_token_account_balance(account)
        .map(|b| b.amount.parse().unwrap())
        .unwrap_or(0)
}

/// The research marketplace through the binary: propose, ethics approval, open, three
/// patients contribute (one after a top-up), refused contributions leave no stored copy,
/// the researcher decrypts and verifies every copy, close and refund. Prints the token
/// flows and asserts every balance on-chain.
fn study_scenario(mut store: Vec<(String, String)>) {
    use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
    use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
    use rekam_client::pda;

    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc) = start_net(dir.path(), &mut store);
    let pid = rekam::ID;

    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &store);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &store);
    let (board_kp, board) = actor(dir.path(), "board", &rpc, &url, &store);
    let (researcher_kp, researcher) = actor(dir.path(), "researcher", &rpc, &url, &store);
    let patients: Vec<(Keypair, Cli)> = (0..3)
        .map(|i| actor(dir.path(), &format!("patient{i}"), &rpc, &url, &store))
        .collect();

    // Deployment paying in a 6-decimal SPL mint, 2.5% protocol fee.
    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&[
        "init",
        "--treasury-mint",
        &mint.to_string(),
        "--fee-bps",
        "250",
    ]);
    for (kp, cli, registry, roles) in [
        (&clinic_kp, &clinic, "CLINIC-1", "clinic,lab"),
        (&board_kp, &board, "IRB-1", "ethics-board"),
    ] {
        let key = s(&cli.ok(&["identity"]), "encryption_key");
        gov.ok(&[
            "issuer",
            "accredit",
            "--registry-id",
            registry,
            "--authority",
            &kp.pubkey().to_string(),
            "--encryption-key",
            &key,
            "--roles",
            roles,
        ]);
    }
    // The researcher's budget: 10 tokens in their associated token account.
    let token = anchor_spl::token::ID;
    let researcher_ata = pda::associated_token(&researcher_kp.pubkey(), &mint, &token);
    const FUNDS: u64 = 10_000_000;
    send(
        &rpc,
        &[
            create_associated_token_account_idempotent(
                &gov_kp.pubkey(),
                &researcher_kp.pubkey(),
                &mint,
                &token,
            ),
            token_ix::mint_to(&token, &mint, &researcher_ata, &gov_kp.pubkey(), &[], FUNDS)
                .unwrap(),
        ],
        &gov_kp,
        &[],
    )
    .expect("fund researcher");

    // Three patients, each with a record the study wants; the first also has a
    // vaccination, which it does not.
    let mut records = Vec::new();
    for (i, (_, p)) in patients.iter().enumerate() {
        let profile = s(&p.ok(&["patient", "register"]), "patient");
        let file = [
            "diagnosis-diabetes.json",
            "lab-hba1c.json",
            "emergency-summary.json",
        ][i];
        let attested = clinic.ok(&[
            "attest",
            fixtures().join(file).to_str().unwrap(),
            "--patient",
            &profile,
        ]);
        records.push(s(&attested["attested"][0], "attestation"));
    }
    let p0_profile = s(&patients[0].1.ok(&["patient", "show"]), "patient");
    let vaccination_visit = clinic.ok(&[
        "attest",
        fixtures()
            .join("vaccination-influenza.json")
            .to_str()
            .unwrap(),
        "--patient",
        &p0_profile,
    ]);
    let vaccination = s(
        vaccination_visit["attested"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "vaccination")
            .unwrap(),
        "attestation",
    );

    // Terms, ethics review, open.
    let protocol = dir.path().join("protocol.txt");
    std::fs::write(
        &protocol,
        "HbA1c and type 2 diabetes outcomes, 2024-2026. IRB #77.",
    )
    .unwrap();
    let terms = dir.path().join("terms.json");
    let proposed = researcher.ok(&[
        "study",
        "propose",
        "--id",
        "7",
        "--price",
        "1000000",
        "--max",
        "3",
        "--kinds",
        "diagnosis,lab-result",
        "--deadline-days",
        "30",
        "--protocol",
        protocol.to_str().unwrap(),
        "--out",
        terms.to_str().unwrap(),
    ]);
    let study = s(&proposed, "study");
    assert_eq!(
        study,
        pda::study(&pid, &researcher_kp.pubkey(), 7).to_string()
    );
    let terms_arg = terms.to_str().unwrap();
    let err = researcher.fails(&["study", "open", terms_arg, "--budget", "2600000"]);
    assert!(err.contains("no ethics board has approved"), "{err}");
    let err = clinic.fails(&["study", "approve", terms_arg]);
    assert!(err.contains("is not an ethics board"), "{err}");
    // A terms file edited after proposal is refused before anything is signed.
    let tampered = dir.path().join("tampered.json");
    let mut t: Value = serde_json::from_slice(&std::fs::read(&terms).unwrap()).unwrap();
    t["price"] = 2_000_000.into();
    std::fs::write(&tampered, serde_json::to_vec(&t).unwrap()).unwrap();
    let err = board.fails(&["study", "approve", tampered.to_str().unwrap()]);
    assert!(err.contains("do not match their recorded hash"), "{err}");
    let approved = board.ok(&["study", "approve", terms_arg]);
    assert_eq!(s(&approved, "study"), study);

    let opened = researcher.ok(&["study", "open", terms_arg, "--budget", "2600000"]);
    assert_eq!(s(&opened, "status"), "open");
    assert_eq!(opened["escrow_balance"], 2_600_000);
    assert_eq!(token_balance(&rpc, &researcher_ata), FUNDS - 2_600_000);

    // Counted in the store itself (the folder, or the S3 prefix of this run).
    let objects = || stored_objects(&store);
    let contribute = |i: usize, record: &str| {
        patients[i]
            .1
            .fails(&["study", "contribute", &study, record])
    };

    // Patient 0: the diagnosis is paid, price minus 2.5%.
    let paid = patients[0]
        .1
        .ok(&["study", "contribute", &study, &records[0]]);
    assert_eq!(
        (paid["payout"].as_u64(), paid["fee"].as_u64()),
        (Some(975_000), Some(25_000))
    );
    assert_eq!(paid["balance"], 975_000);
    // Refused contributions: clear errors, and no copy is left in the store.
    let before = objects();
    assert!(before > 0, "the store holds the attested records");
    assert_eq!(
        contribute(0, &vaccination).trim_end(),
        "error: the study refused the contribution (the stored copy was deleted): instruction 0 failed: CriteriaNotMet (6048): Attestation does not meet the study's acceptance criteria"
    );
    let contribution_0 =
        pda::contribution(&pid, &study.parse().unwrap(), &records[0].parse().unwrap());
    assert_eq!(
        contribute(0, &records[0]).trim_end(),
        format!(
            "error: attestation {} was already contributed to study {study} (contribution {contribution_0}); a record is paid once per study",
            records[0]
        ),
        "paid once"
    );
    assert_eq!(
        contribute(0, &records[1]).trim_end(),
        format!(
            "error: attestation {} is not about your patient profile {p0_profile}",
            records[1]
        )
    );
    assert_eq!(objects(), before, "refusals leave no stored copy");

    // Patient 1 is paid; patient 2 finds the escrow short until the researcher tops up.
    patients[1]
        .1
        .ok(&["study", "contribute", &study, &records[1]]);
    let before = objects();
    assert_eq!(
        contribute(2, &records[2]).trim_end(),
        "error: the study refused the contribution (the stored copy was deleted): instruction 0 failed: EscrowShort (6046): Study escrow holds less than one contribution's price; the researcher must top it up"
    );
    assert_eq!(
        objects(),
        before,
        "no copy left by the refused contribution"
    );
    researcher.ok(&["study", "top-up", &study, "500000"]);
    patients[2]
        .1
        .ok(&["study", "contribute", &study, &records[2]]);

    // The researcher reads every contribution: receipt first, verified, de-identified.
    let listed = researcher.ok(&["study", "contributions", &study]);
    assert_eq!(listed["contributions"].as_array().unwrap().len(), 3);
    let out_dir = dir.path().join("research");
    let fetched = researcher.ok(&["study", "fetch", &study, "--out", out_dir.to_str().unwrap()]);
    let rows = fetched["contributions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert_eq!(row["verified"], true);
        let text = std::fs::read_to_string(s(row, "out")).unwrap();
        let bundle: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rekam_client::research::check_bundle(&bundle), vec![]);
        assert_eq!(
            row["treatment_year"].as_str().map(str::len),
            Some(4),
            "{row}"
        );
        assert!(!text.contains("Dummett") && !text.contains("1964-12-01"));
    }
    // Patient 1 withdraws: the research consent is revoked and the copy deleted. Patient
    // 0 revokes an unrelated consent (a research-purpose consent granted by hand, which
    // holds record keys, not a copy): it is re-keyed, and the study's copy is left alone. The researcher's next fetch reads the other two and reports the refusal.
    let consent_1 = s(
        &rows
            .iter()
            .find(|r| s(r, "attestation") == records[1])
            .unwrap()
            .clone(),
        "consent",
    );
    let withdrawn = patients[1].1.ok(&["consent", "revoke", &consent_1]);
    assert!(
        withdrawn["research_copy_deleted"].is_string(),
        "{withdrawn}"
    );
    let researcher_key = s(&researcher.ok(&["identity"]), "encryption_key");
    let other = s(
        &patients[0].1.ok(&[
            "consent",
            "grant",
            "--grantee",
            &researcher_kp.pubkey().to_string(),
            "--grantee-key",
            &researcher_key,
            "--purpose",
            "research",
            "--kinds",
            "diagnosis",
        ]),
        "consent",
    );
    let revoked = patients[0].1.ok(&["consent", "revoke", &other]);
    assert_eq!(revoked["rekeyed"]["records"], 1, "{revoked}");
    // Patient 2 swaps the paid copy for another object (a consent's key grant can be
    // updated): the researcher refuses it, before any read (audit finding 8).
    let consent_2: Pubkey = s(
        rows.iter()
            .find(|r| s(r, "attestation") == records[2])
            .unwrap(),
        "consent",
    )
    .parse()
    .unwrap();
    let c2 = read_consent(&rpc, &consent_2.to_string());
    let p2_profile: Pubkey = s(&patients[2].1.ok(&["patient", "show"]), "patient")
        .parse()
        .unwrap();
    let swap = rekam_client::ix::consent_update_key_grant(
        &pid,
        &patients[2].0.pubkey(),
        &p2_profile,
        &consent_2,
        rekam::KeyGrant {
            hash: [7; 32],
            locator: c2.key_grant.locator.clone(),
        },
    );
    send(&rpc, &[swap], &patients[2].0, &[]).expect("the patient updates the key grant");
    let receipts_before = read_consent(&rpc, &consent_2.to_string()).access_count;
    let again = researcher.ok(&["study", "fetch", &study, "--out", out_dir.to_str().unwrap()]);
    let again = again["contributions"].as_array().unwrap();
    let swapped = again
        .iter()
        .find(|r| s(r, "attestation") == records[2])
        .unwrap();
    assert_eq!(swapped["verified"], false);
    assert!(
        s(swapped, "error").contains("was replaced after payment"),
        "{swapped}"
    );
    assert_eq!(
        read_consent(&rpc, &consent_2.to_string()).access_count,
        receipts_before,
        "no receipt for a refused copy"
    );
    assert_eq!(again.iter().filter(|r| r["verified"] == true).count(), 1);
    let refused = again
        .iter()
        .find(|r| s(r, "attestation") == records[1])
        .unwrap();
    assert_eq!(refused["verified"], false);
    assert!(s(refused, "error").contains("ConsentRevoked"), "{refused}");

    // Only the study's researcher can decrypt: another wallet is told so.
    let err = patients[0]
        .1
        .fails(&["study", "fetch", &study, "--out", out_dir.to_str().unwrap()]);
    assert!(err.contains("not the study's"), "{err}");
    // The read shows in the patient's audit trail, with its purpose.
    let audit = patients[0].1.ok(&["audit"]);
    let research_read = audit["events"].as_array().unwrap().iter().any(|e| {
        e["event"] == "read"
            && e["purpose"] == "HRESCH"
            && e["who"] == researcher_kp.pubkey().to_string()
    });
    assert!(research_read, "{audit}");

    // Close: refund the rest; a second close is refused.
    let closed = researcher.ok(&["study", "close", &study]);
    assert_eq!(closed["refunded"], 100_000);
    assert!(researcher
        .fails(&["study", "close", &study])
        .contains("already closed"));
    let shown = researcher.ok(&["study", "show", &study]);
    assert_eq!(s(&shown, "status"), "closed");

    // Every balance, on-chain.
    let treasury = token_balance(&rpc, &pda::treasury(&pid, &mint));
    let patient_balances: Vec<u64> = patients
        .iter()
        .map(|(kp, _)| token_balance(&rpc, &pda::associated_token(&kp.pubkey(), &mint, &token)))
        .collect();
    let researcher_now = token_balance(&rpc, &researcher_ata);
    println!("Token flows of study {study} (base units, 6 decimals):");
    println!("  researcher funded        {FUNDS:>10}");
    println!(
        "  deposited (open+top-up)  {:>10}",
        shown["deposited"].as_u64().unwrap()
    );
    for (i, b) in patient_balances.iter().enumerate() {
        println!("  paid to patient {i}        {b:>10}");
    }
    println!("  protocol fees (treasury) {treasury:>10}");
    println!(
        "  refunded on close        {:>10}",
        shown["refunded"].as_u64().unwrap()
    );
    println!("  researcher now holds     {researcher_now:>10}");
    assert_eq!(patient_balances, vec![975_000; 3]);
    assert_eq!(treasury, 75_000);
    assert_eq!(shown["deposited"], 3_100_000);
    assert_eq!(shown["paid"], 2_925_000);
    assert_eq!(shown["fees"], 75_000);
    assert_eq!(shown["refunded"], 100_000);
    assert_eq!(researcher_now, FUNDS - 3_100_000 + 100_000);
    assert_eq!(
        researcher_now + treasury + patient_balances.iter().sum::<u64>(),
        FUNDS,
        "tokens conserved"
    );
    assert!(
        rpc.get_account(&pda::escrow(&pid, &study.parse().unwrap()))
            .is_err(),
        "escrow closed"
    );
    validator.stop();
}

#[test]
fn a_study_pays_three_patients_local_store() {
    let dir = tempfile::tempdir().unwrap();
    study_scenario(local_store(dir.path()));
}

#[test]
fn a_study_pays_three_patients_s3() {
    study_scenario(s3_store("study"));
}

#[test]
fn guardians_break_glass_and_recover_a_lost_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let mut store = local_store(&store_dir);
    let (validator, url, rpc) = start_net(dir.path(), &mut store);

    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &store);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &store);
    let (er_kp, er) = actor(dir.path(), "er", &rpc, &url, &store);
    let (patient_kp, patient) = actor(dir.path(), "patient", &rpc, &url, &store);
    let (doctor_kp, doctor) = actor(dir.path(), "doctor", &rpc, &url, &store);
    let (stranger_kp, stranger) = actor(dir.path(), "stranger", &rpc, &url, &store);
    let guardians: Vec<(Keypair, Cli)> = (0..3)
        .map(|i| actor(dir.path(), &format!("guardian{i}"), &rpc, &url, &store))
        .collect();

    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&["init", "--treasury-mint", &mint.to_string()]);
    for (kp, cli, id) in [(&clinic_kp, &clinic, "CLINIC-A"), (&er_kp, &er, "ER-B")] {
        let key = s(&cli.ok(&["identity"]), "encryption_key");
        gov.ok(&[
            "issuer",
            "accredit",
            "--registry-id",
            id,
            "--authority",
            &kp.pubkey().to_string(),
            "--encryption-key",
            &key,
            "--roles",
            "clinic",
        ]);
    }
    let profile = s(&patient.ok(&["patient", "register"]), "patient");
    let attest = |file: &str| {
        s(
            &clinic.ok(&[
                "attest",
                fixtures().join(file).to_str().unwrap(),
                "--patient",
                &profile,
            ])["attested"][0],
            "attestation",
        )
    };
    let summary = attest("emergency-summary.json");
    let diagnosis = attest("diagnosis-diabetes.json");

    // The patient names three guardians, two must approve.
    let mut set = vec!["guardians".to_string(), "set".into()];
    for (kp, cli) in &guardians {
        let key = s(&cli.ok(&["identity"]), "encryption_key");
        set.push("--guardian".into());
        set.push(format!("{}={key}", kp.pubkey()));
    }
    set.extend(
        [
            "--threshold",
            "2",
            "--emergency-attestation",
            &summary,
            "--emergency-max-hours",
            "24",
        ]
        .map(String::from),
    );
    let set_args: Vec<&str> = set.iter().map(String::as_str).collect();
    let shown = patient.ok(&set_args);
    assert_eq!(shown["threshold"], 2);
    assert_eq!(shown["records_in_grants"], 1);

    // Break-glass: the ER clinic requests two hours.
    let request = er.ok(&[
        "emergency",
        "request",
        &profile,
        "--hours",
        "2",
        "--window-minutes",
        "30",
    ]);
    let request = s(&request, "request");
    assert!(doctor
        .fails(&["emergency", "request", &profile])
        .contains("not the authority of any accredited issuer"));
    let first = guardians[0].1.ok(&["emergency", "approve", &request]);
    assert_eq!(
        (
            s(&first, "status").as_str(),
            first["approvals_counted"].as_u64()
        ),
        ("awaiting approvals", Some(1))
    );
    assert!(guardians[0]
        .1
        .fails(&["emergency", "approve", &request])
        .contains("AlreadyApproved"));
    assert!(stranger
        .fails(&["emergency", "approve", &request])
        .contains("is not a guardian"));
    // A stranger re-posts the guardian's share announcement on the request: it does not
    // count (no current guardian signed it) and is named in a warning.
    let forged = common::forged::post_memo(
        &rpc,
        &stranger_kp,
        &request.parse().unwrap(),
        format!("rekam-guardian-share:{}", s(&first, "share_released")),
    );
    // M−1 approvals are M−1 key shares: the clinic cannot rebuild the emergency key (and
    // a guardian, whose own share is not for it, sees none released to its key).
    let err = er.fails(&["emergency", "keys", &request]);
    assert_eq!(
        error_line(&err),
        "error: the emergency key needs 2 guardian shares; 1 released to this key"
    );
    assert!(
        err.contains(&format!("warning: skipped 1 key share memo(s) on emergency request {request} (not a current guardian's, failed, or not for this key): {forged}")),
        "{err}"
    );
    assert_eq!(
        error_line(&guardians[0].1.fails(&["emergency", "keys", &request])),
        "error: the emergency key needs 2 guardian shares; 0 released to this key"
    );
    let granted = guardians[1].1.ok(&["emergency", "approve", &request]);
    assert_eq!(s(&granted, "status"), "granted");
    let consent = s(&granted, "consent");
    // The M-th share: the clinic rebuilds the key (checked against its public key).
    let keys = er.ok(&["emergency", "keys", &request]);
    assert_eq!(
        (keys["shares"].as_u64(), keys["threshold"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(keys["skipped_memos"], serde_json::json!([forged]));

    // The clinic reads the summary (receipt first) and nothing else.
    let out = dir.path().join("er-summary.json");
    er.ok(&["access", &consent, &summary, "--out", out.to_str().unwrap()]);
    // The emergency record is the summary's diagnosis part (its Conditions and allergy,
    // with the patient and encounter): the part Bundle, byte for byte.
    let summary_part = || {
        let source = std::fs::read(fixtures().join("emergency-summary.json")).unwrap();
        rekam_client::parts::split(&source).unwrap()[0]
            .bundle
            .clone()
    };
    assert_eq!(std::fs::read(&out).unwrap(), summary_part());
    let err = er.fails(&[
        "access",
        &consent,
        &diagnosis,
        "--out",
        dir.path().join("x.json").to_str().unwrap(),
    ]);
    assert!(err.contains("no entry for attestation"), "{err}");
    // A guardian holds no key that opens the summary: its own share is one of two, and
    // the shares released are the clinic's. It stops before any receipt.
    let err = guardians[0].1.fails(&[
        "access",
        &consent,
        &summary,
        "--out",
        dir.path().join("y.json").to_str().unwrap(),
    ]);
    assert_eq!(
        error_line(&err),
        "error: the emergency key needs 2 guardian shares; 0 released to this key"
    );

    // The audit trail shows every step, loudly.
    let audit = patient.ok(&["audit"]);
    let events: Vec<String> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(e, "event"))
        .collect();
    for expected in ["EMERGENCY-REQUEST", "EMERGENCY-APPROVE", "EMERGENCY-GRANT"] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected} in {events:?}"
        );
    }
    assert_eq!(
        events.iter().filter(|e| *e == "EMERGENCY-APPROVE").count(),
        2
    );
    assert!(audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event"] == "read"
            && e["purpose"] == "ETREAT"
            && e["who"] == er_kp.pubkey().to_string()));

    // The consent ends by itself: two hours later the read is refused on-chain.
    let now = rpc.get_block_time(rpc.get_slot().unwrap()).unwrap();
    time_travel(&rpc, now + 2 * 3_600 + 60);
    let err = er.fails(&[
        "access",
        &consent,
        &summary,
        "--out",
        dir.path().join("z.json").to_str().unwrap(),
    ]);
    assert!(err.contains("ConsentExpired"), "{err}");
    // A second emergency, ended early by a guardian.
    let second = s(
        &er.ok(&["emergency", "request", &profile, "--hours", "1"]),
        "request",
    );
    guardians[2].1.ok(&["emergency", "approve", &second]);
    let consent2 = s(
        &guardians[0].1.ok(&["emergency", "approve", &second]),
        "consent",
    );
    assert_eq!(
        s(&guardians[2].1.ok(&["emergency", "end", &second]), "status"),
        "ended"
    );
    let err = er.fails(&[
        "access",
        &consent2,
        &summary,
        "--out",
        dir.path().join("w.json").to_str().unwrap(),
    ]);
    assert!(err.contains("ConsentRevoked"), "{err}");

    // Revoking a consent over the summary re-keys it; the guardians' grants follow, so
    // a third emergency still reads the (new) summary.
    let doctor_key = s(&doctor.ok(&["identity"]), "encryption_key");
    let revoked = s(
        &patient.ok(&[
            "consent",
            "grant",
            "--grantee",
            &doctor_kp.pubkey().to_string(),
            "--grantee-key",
            &doctor_key,
            "--kinds",
            "diagnosis",
        ]),
        "consent",
    );
    let rekeyed = patient.ok(&["consent", "revoke", &revoked]);
    assert_eq!(rekeyed["rekeyed"]["records"], 2, "{rekeyed}");
    let third = s(
        &er.ok(&["emergency", "request", &profile, "--hours", "1"]),
        "request",
    );
    guardians[1].1.ok(&["emergency", "approve", &third]);
    let consent3 = s(
        &guardians[2].1.ok(&["emergency", "approve", &third]),
        "consent",
    );
    let out3 = dir.path().join("er-summary-3.json");
    er.ok(&[
        "access",
        &consent3,
        &summary,
        "--out",
        out3.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&out3).unwrap(), summary_part());

    // A doctor's ordinary consent, granted before the wallet is lost.
    let doctor_consent = s(
        &patient.ok(&[
            "consent",
            "grant",
            "--grantee",
            &doctor_kp.pubkey().to_string(),
            "--grantee-key",
            &doctor_key,
            "--kinds",
            "diagnosis",
            "--days",
            "30",
        ]),
        "consent",
    );

    // Social recovery: the patient "loses" the wallet; guardians move the profile.
    let (new_kp, new_wallet) = actor(dir.path(), "new-wallet", &rpc, &url, &store);
    let proposed = guardians[0].1.ok(&[
        "recovery",
        "propose",
        &profile,
        "--new-wallet",
        &new_kp.pubkey().to_string(),
    ]);
    assert_eq!(s(&proposed, "status"), "awaiting approvals");
    // First attempt: the (not yet lost) wallet cancels during the time lock.
    let locked = guardians[1].1.ok(&["recovery", "approve", &profile]);
    assert_eq!(s(&locked, "status"), "time-locked");
    assert!(new_wallet
        .fails(&["recovery", "execute", &profile])
        .contains("TimelockActive"));
    patient.ok(&["recovery", "cancel"]);
    assert!(new_wallet
        .fails(&["recovery", "execute", &profile])
        .contains("pending recovery"));
    // Second attempt goes through after 48 hours.
    guardians[2].1.ok(&[
        "recovery",
        "propose",
        &profile,
        "--new-wallet",
        &new_kp.pubkey().to_string(),
    ]);
    let locked = guardians[0].1.ok(&["recovery", "approve", &profile]);
    let unlocks_at = locked["unlocks_at"].as_i64().unwrap();
    time_travel(&rpc, unlocks_at + 5);
    let done = new_wallet.ok(&["recovery", "execute", &profile]);
    assert_eq!(s(&done, "authority"), new_kp.pubkey().to_string());
    assert_eq!(s(&new_wallet.ok(&["patient", "show"]), "patient"), profile);
    assert!(patient
        .fails(&["consent", "list"])
        .contains("no patient profile"));

    // The Recovery account is closed, but the audit trail still shows both attempts from
    // the program's events: who proposed, approved and cancelled, and the move itself.
    let audit = new_wallet.ok(&["audit"]);
    let recovery_steps: Vec<(String, String)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| s(e, "event").starts_with("RECOVER"))
        .map(|e| (s(e, "event"), s(e, "who")))
        .collect();
    let g = |i: usize| guardians[i].0.pubkey().to_string();
    let step = |event: &str, who: String| (event.to_string(), who);
    let mut expected = vec![
        step("RECOVERY-PROPOSE", g(0)),
        step("RECOVERY-APPROVE", g(0)), // proposing counts as the proposer's approval
        step("RECOVERY-APPROVE", g(1)),
        step("RECOVERY-CANCEL", patient_kp.pubkey().to_string()),
        step("RECOVERY-PROPOSE", g(2)),
        step("RECOVERY-APPROVE", g(2)),
        step("RECOVERY-APPROVE", g(0)),
        step("RECOVERED", new_kp.pubkey().to_string()),
    ];
    // Times have one-second resolution and steps of one attempt share seconds: compare
    // as a set, then the move itself (48 h after the rest) comes last.
    assert_eq!(recovery_steps.last(), expected.last(), "{audit}");
    let mut steps = recovery_steps.clone();
    steps.sort();
    expected.sort();
    assert_eq!(steps, expected, "{audit}");

    // The new wallet cannot open its records until the issuing clinic re-wraps them.
    let mine = dir.path().join("mine.json");
    assert_eq!(
        new_wallet
            .fails(&["fetch", &diagnosis, "--out", mine.to_str().unwrap()])
            .trim_end(),
        "error: this record is not encrypted to your key (no matching recipient)"
    );
    // Forged locator memos about the records do not derail the re-wrap (only the issuer's
    // and the patient's memos count, the patient's old wallet's only from before the
    // recovery).
    let forger = Keypair::new();
    airdrop(&rpc, &forger.pubkey(), 1_000_000_000);
    let nowhere = format!("local:{}", "0".repeat(64));
    for record in [&diagnosis, &summary] {
        common::forged::forge_locator_memos(&rpc, &forger, &record.parse().unwrap(), &nowhere);
    }
    let rewrapped = clinic.ok(&["recovery", "rewrap", &profile]);
    assert_eq!(
        rewrapped["records"], 4,
        "the summary's three parts and the diagnosis"
    );
    new_wallet.ok(&["fetch", &diagnosis, "--out", mine.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&mine).unwrap(),
        std::fs::read(fixtures().join("diagnosis-diabetes.json")).unwrap()
    );
    // Old consents keep working, and the new wallet grants new ones over old records.
    let read = dir.path().join("doctor-read.json");
    doctor.ok(&[
        "access",
        &doctor_consent,
        &diagnosis,
        "--out",
        read.to_str().unwrap(),
    ]);
    let (nurse_kp, nurse) = actor(dir.path(), "nurse", &rpc, &url, &store);
    let nurse_key = s(&nurse.ok(&["identity"]), "encryption_key");
    let nurse_wallet = nurse_kp.pubkey().to_string();
    let nurse_consent = s(
        &new_wallet.ok(&[
            "consent",
            "grant",
            "--grantee",
            &nurse_wallet,
            "--grantee-key",
            &nurse_key,
            "--kinds",
            "diagnosis",
        ]),
        "consent",
    );
    nurse.ok(&[
        "access",
        &nurse_consent,
        &diagnosis,
        "--out",
        dir.path().join("nurse-read.json").to_str().unwrap(),
    ]);

    // Recovery re-keys: the lost wallet's identity still opens the re-wrapped records
    // (same data keys) until the new wallet re-keys them; afterwards it opens no current
    // copy, while the doctor and the nurse keep reading.
    let lost = keystore::open_with(
        &keystore::default_path(&patient.keypair),
        &patient_kp.pubkey(),
        None,
    )
    .unwrap();
    let chain = rekam_client::chain::ChainClient::new(
        &url,
        CommitmentConfig::confirmed(),
        rekam::ID,
        Default::default(),
    );
    let records_store = open_store(&store);
    let current = |a: &str| {
        let located = rekam_client::flows::records::locate(&chain, &a.parse().unwrap())
            .unwrap()
            .expect("located");
        block_on(records_store.get(&located.locator)).unwrap()
    };
    assert!(
        rekam_client::record::open(&current(&diagnosis), &lost).is_ok(),
        "before re-keying, the lost identity still opens the record"
    );
    // Every consent in force that holds record keys gets its grant re-issued (the
    // doctor's, the nurse's, and any emergency consent still running at the chain's
    // clock, which the time travel moved).
    let chain_now = rpc.get_block_time(rpc.get_slot().unwrap()).unwrap();
    let in_force: Vec<String> = new_wallet.ok(&["consent", "list"])["consents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["revoked_at"].is_null()
                && c["expires_at"].as_i64().unwrap() > chain_now
                && c["purpose"] != "research"
        })
        .map(|c| s(c, "purpose"))
        .collect();
    assert!(in_force.len() >= 2, "{in_force:?}");
    let rekeyed = new_wallet.ok(&["identity", "rekey"]);
    assert_eq!(rekeyed["records"], 4);
    assert_eq!(
        rekeyed["grants_updated"].as_u64(),
        Some(in_force.len() as u64),
        "{in_force:?}"
    );
    for record in [&diagnosis, &summary] {
        let err = rekam_client::record::open(&current(record), &lost)
            .expect_err("the lost identity is refused");
        assert_eq!(
            err.to_string(),
            "this record is not encrypted to your key (no matching recipient)"
        );
    }
    doctor.ok(&[
        "access",
        &doctor_consent,
        &diagnosis,
        "--out",
        read.to_str().unwrap(),
    ]);
    nurse.ok(&[
        "access",
        &nurse_consent,
        &diagnosis,
        "--out",
        dir.path().join("nurse-again.json").to_str().unwrap(),
    ]);
    validator.stop();
}

/// The `error:` line of a failed command's stderr (warnings may come before it).
fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(stderr)
}
