//! Refusals through the real `rekam` binary against `rekam localnet`: for every flow, a
//! request the CLI or the program must refuse, with the exact error line a person sees
//! and exit code 1, and a re-read (`show`, `list`, `verify`) proving nothing changed
//! on-chain; then every `show` and `list` command on real data.

mod common;

use std::process::Command;

use common::refusals::*;
use common::*;
use rekam_client::pda;
use serde_json::Value;
use sha2::Digest;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// `rekam localnet` refuses a non-loopback bind address before it touches anything.
#[test]
fn localnet_binds_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    for (bind, shown) in [
        ("0.0.0.0", "0.0.0.0"),
        ("::", "::"),
        ("192.168.1.10", "192.168.1.10"),
    ] {
        let out = Command::new(BIN)
            .args([
                "localnet",
                "--bare",
                "--rpc-port",
                "0",
                "--bind",
                bind,
                "--ledger",
            ])
            .arg(&ledger)
            .arg("--keypair")
            .arg(dir.path().join("deployer.json"))
            .env("REKAM_SOLANA_CONFIG", "/dev/null")
            .env_remove("REKAM_URL")
            .output()
            .expect("run rekam localnet");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--bind {bind}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("error: the local validator binds loopback addresses only, not {shown}"),
        );
        assert!(
            out.stdout.is_empty(),
            "--bind {bind} printed a startup report"
        );
        assert!(!ledger.exists(), "--bind {bind} created the ledger");
        assert!(
            !dir.path().join("deployer.json").exists(),
            "--bind {bind} wrote a wallet"
        );
    }
}

/// Governance, attestations, verification, consents and studies: each refusal with its
/// exact message and nothing changed on-chain; every show and list command on the data;
/// and an attestation that expires (the clock moved past its expiry day).
#[test]
fn governance_records_consents_and_studies_refuse_bad_requests() {
    use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
    use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;

    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, _store_dir) = start_net(dir.path());
    let pid = rekam::ID;
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &env);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &env);
    let (board_kp, board) = actor(dir.path(), "board", &rpc, &url, &env);
    let (researcher_kp, researcher) = actor(dir.path(), "researcher", &rpc, &url, &env);
    let (patient_kp, patient) = actor(dir.path(), "patient", &rpc, &url, &env);
    let (_, patient2) = actor(dir.path(), "patient2", &rpc, &url, &env);
    let (doctor_kp, doctor) = actor(dir.path(), "doctor", &rpc, &url, &env);
    let (stranger_kp, stranger) = actor(dir.path(), "stranger", &rpc, &url, &env);
    let stranger_wallet = stranger_kp.pubkey().to_string();

    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&["init", "--treasury-mint", &mint.to_string()]);
    let clinic_issuer = accredit(&gov, "CLINIC-R", &clinic_kp, &clinic, "clinic,lab");
    let board_issuer = accredit(&gov, "IRB-R", &board_kp, &board, "ethics-board");

    // --- Issuers -------------------------------------------------------------------
    // A wallet that is not governance cannot accredit (here itself, --authority given as
    // its keypair file): refused, and the issuer account does not exist.
    let rogue_hash: [u8; 32] =
        sha2::Sha256::digest("rekam/v1/registry-id\nROGUE-1".as_bytes()).into();
    let rogue = pda::issuer(&pid, &rogue_hash).to_string();
    let stranger_file = stranger.keypair.display().to_string();
    refused_with(
        &stranger,
        &[
            "issuer",
            "accredit",
            "--registry-id",
            "ROGUE-1",
            "--authority",
            &stranger_file,
            "--roles",
            "clinic",
        ],
        NOT_GOVERNANCE,
    );
    refused_with(
        &gov,
        &["issuer", "show", &rogue],
        &format!("error: issuer {rogue} does not exist on {url}"),
    );
    assert!(rpc.get_account(&rogue.parse().unwrap()).is_err());

    // Neither a stranger nor the issuer itself can suspend it; governance cannot
    // reinstate an active issuer, nor suspend a suspended one. Nothing changes.
    let before = stranger.ok(&["issuer", "show", &clinic_issuer]);
    assert_eq!(s(&before, "status"), "Active");
    for who in [&stranger, &clinic] {
        refused_with(who, &["issuer", "suspend", &clinic_issuer], NOT_GOVERNANCE);
    }
    refused_with(
        &gov,
        &["issuer", "reinstate", &clinic_issuer, "--restore-all"],
        "error: instruction 0 failed: IssuerNotSuspended (6011): Issuer is not suspended",
    );
    assert_eq!(stranger.ok(&["issuer", "show", &clinic_issuer]), before);
    assert_eq!(
        s(&gov.ok(&["issuer", "suspend", &clinic_issuer]), "status"),
        "Suspended"
    );
    refused_with(
        &gov,
        &["issuer", "suspend", &clinic_issuer],
        "error: instruction 0 failed: IssuerSuspended (6010): Issuer is suspended",
    );
    refused_with(
        &stranger,
        &["issuer", "reinstate", &clinic_issuer, "--restore-all"],
        NOT_GOVERNANCE,
    );
    // Reinstatement names what becomes of the earlier attestations: no default.
    usage_error(
        &gov,
        &["issuer", "reinstate", &clinic_issuer],
        "error: the following required arguments were not provided:",
    );
    refused_with(
        &gov,
        &["issuer", "reinstate", &clinic_issuer, "--void-since=-5"],
        "error: instruction 0 failed: InvalidVoidWindow (6081): A void window must start at or after 0 and no later than the suspension",
    );
    assert_eq!(
        s(&stranger.ok(&["issuer", "show", &clinic_issuer]), "status"),
        "Suspended"
    );
    assert_eq!(
        s(
            &gov.ok(&["issuer", "reinstate", &clinic_issuer, "--restore-all"]),
            "status"
        ),
        "Active"
    );

    // --- Attestations and verify ---------------------------------------------------
    let profile = s(&patient.ok(&["patient", "register"]), "patient");
    patient2.ok(&["patient", "register"]);
    let dx_file = fixtures().join("diagnosis-diabetes.json");
    let dx = s(
        &clinic.ok(&["attest", dx_file.to_str().unwrap(), "--patient", &profile])["attested"][0],
        "attestation",
    );
    let lab_attested = clinic.ok(&[
        "attest",
        fixtures().join("lab-hba1c.json").to_str().unwrap(),
        "--patient",
        &profile,
        "--expires-in-days",
        "1",
    ]);
    let lab = s(&lab_attested["attested"][0], "attestation");
    let lab_claims = lab_attested["attested"][0]["claims"].as_u64().unwrap();

    // Revoke by a wallet that is no issuer's authority, and by another issuer (the
    // ethics board): refused before signing; the attestation still verifies.
    refused_with(
        &stranger,
        &["attestation", "revoke", &dx],
        &format!("error: wallet {stranger_wallet} is not the authority of any accredited issuer; ask governance to accredit it"),
    );
    refused_with(
        &board,
        &["attestation", "revoke", &dx],
        &format!(
            "error: attestation {dx} was issued by {clinic_issuer}, not by your issuer {board_issuer}"
        ),
    );
    let verified = doctor.ok(&["verify", &dx]);
    assert_eq!(s(&verified, "status"), "active");
    assert_eq!(verified["revoked_at"], Value::Null);
    // The issuer revokes; `verify` (run again, by someone else) reports it revoked. A
    // second revoke is refused and leaves the revocation time as it was.
    let revoked = clinic.ok(&["attestation", "revoke", &dx]);
    assert_eq!(s(&revoked, "status"), "revoked");
    let revoked_at = revoked["revoked_at"].as_i64().expect("revoked_at is set");
    refused_with(
        &clinic,
        &["attestation", "revoke", &dx],
        "error: instruction 0 failed: AttestationAlreadyRevoked (6018): Attestation is already revoked",
    );
    let verified = doctor.ok(&["verify", &dx]);
    assert_eq!(s(&verified, "status"), "revoked");
    assert_eq!(s(&verified, "issuer_status"), "Active");
    assert_eq!(verified["revoked_at"].as_i64(), Some(revoked_at));
    let nowhere = Keypair::new().pubkey().to_string();
    refused_with(
        &doctor,
        &["verify", &nowhere],
        &format!("error: attestation {nowhere} does not exist on {url}"),
    );

    // --- Consents ------------------------------------------------------------------
    let doctor_wallet = doctor_kp.pubkey().to_string();
    let doctor_key = s(&doctor.ok(&["identity"]), "encryption_key");
    let consent_count = |cli: &Cli| {
        cli.ok(&["consent", "list"])["consents"]
            .as_array()
            .unwrap()
            .len()
    };
    // Usage errors (clap, exit code 2): a grantee that is neither an address nor a
    // keypair file, a negative length.
    usage_error(
        &patient,
        &["consent", "grant", "--grantee", "nonsense", "--kinds", "lab-result"],
        "error: invalid value 'nonsense' for '--grantee <GRANTEE>': \"nonsense\" is neither a base58 public key nor a keypair file",
    );
    usage_error(
        &patient,
        &[
            "consent",
            "grant",
            "--grantee",
            &doctor_wallet,
            "--grantee-key",
            &doctor_key,
            "--kinds",
            "lab-result",
            "--days=-1",
        ],
        "error: invalid value '-1' for '--days <DAYS>': -1 is not in 0..=4294967295",
    );
    // Refused by the CLI before anything is stored or signed.
    for (args, expected) in [
        (
            vec!["--grantee-key", "abcd", "--kinds", "lab-result"],
            "error: encryption key must be 32 bytes (64 hex characters)".to_string(),
        ),
        (
            vec!["--kinds", "lab-result"],
            format!("error: {doctor_wallet} is not an issuer's wallet: pass its encryption key with --grantee-key"),
        ),
        (
            vec!["--grantee-key", doctor_key.as_str(), "--kinds", "nonsense"],
            "error: unknown record kind \"nonsense\"".to_string(),
        ),
        (
            vec!["--grantee-key", doctor_key.as_str(), "--kinds", "lab-result", "--purpose", "fun"],
            "error: unknown purpose \"fun\"".to_string(),
        ),
        (
            vec!["--grantee-key", doctor_key.as_str()],
            "error: name the records to share: --kinds and/or --attestation".to_string(),
        ),
    ] {
        let mut full = vec!["consent", "grant", "--grantee", doctor_wallet.as_str()];
        full.extend(args);
        refused_with(&patient, &full, &expected);
    }
    // Refused by the program: a scope naming one attestation twice. (The CLI does not
    // validate --days beyond clap's u32: `--days 0` makes a period that ends "now" by the
    // local clock, which the program accepts or refuses depending on the chain's clock,
    // so it is not asserted here.)
    refused_with(
        &patient,
        &[
            "consent",
            "grant",
            "--grantee",
            &doctor_wallet,
            "--grantee-key",
            &doctor_key,
            "--attestation",
            &lab,
            "--attestation",
            &lab,
        ],
        "error: instruction 0 failed: DuplicateAttestationInScope (6026): Consent scope names an attestation twice",
    );
    assert_eq!(consent_count(&patient), 0);
    assert_eq!(patient.ok(&["patient", "show"])["consents_created"], 0);

    let consent = s(
        &patient.ok(&[
            "consent",
            "grant",
            "--grantee",
            &doctor_wallet,
            "--grantee-key",
            &doctor_key,
            "--kinds",
            "lab-result",
            "--days",
            "7",
        ]),
        "consent",
    );
    // Revoke by a wallet without a profile, and by another patient (whose profile is
    // not the consent's: the consent's address does not derive from it).
    refused_with(
        &stranger,
        &["consent", "revoke", &consent],
        &format!(
            "error: wallet {stranger_wallet} has no patient profile; run `rekam patient register`"
        ),
    );
    refused_with(
        &patient2,
        &["consent", "revoke", &consent],
        "error: instruction 0 failed: Anchor constraint violation (an account does not match what the instruction requires) (2006)",
    );
    let listed = patient.ok(&["consent", "list"]);
    assert_eq!(listed["consents"][0]["revoked_at"], Value::Null);
    assert_eq!(s(&listed["consents"][0], "consent"), consent);
    let revoked = patient.ok(&["consent", "revoke", &consent]);
    let consent_revoked_at = revoked["revoked_at"].as_i64().expect("revoked");
    assert_eq!(revoked["rekeyed"]["records"], 1);
    refused_with(
        &patient,
        &["consent", "revoke", &consent],
        "error: instruction 0 failed: ConsentRevoked (6030): Consent has been revoked",
    );
    let listed = patient.ok(&["consent", "list"]);
    assert_eq!(listed["consents"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["consents"][0]["revoked_at"].as_i64(),
        Some(consent_revoked_at)
    );

    // --- Studies -------------------------------------------------------------------
    let token = anchor_spl::token::ID;
    let researcher_ata = pda::associated_token(&researcher_kp.pubkey(), &mint, &token);
    const FUNDS: u64 = 1_000_000;
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
    let protocol = dir.path().join("protocol.txt");
    std::fs::write(&protocol, "HbA1c refusals study. IRB #1.").unwrap();
    let protocol_arg = protocol.to_str().unwrap();
    let terms = dir.path().join("terms.json");
    let terms_arg = terms.to_str().unwrap();
    // Invalid terms (zero price, zero contributions, a deadline of today, no contribution
    // per patient) are refused
    // before a terms file is written.
    for bad in [
        ["--price", "0", "--max", "2", "--deadline-days", "30"],
        ["--price", "1000", "--max", "0", "--deadline-days", "30"],
        ["--price", "1000", "--max", "2", "--deadline-days", "0"],
        ["--price", "1000", "--max", "2", "--max-per-patient", "0"],
    ] {
        let mut args = vec![
            "study",
            "propose",
            "--kinds",
            "lab-result",
            "--protocol",
            protocol_arg,
            "--out",
            terms_arg,
        ];
        args.extend(bad);
        refused_with(
            &researcher,
            &args,
            "error: these terms would be refused: price, --max, --max-per-patient and --kinds must be set, and --deadline-days at least 1",
        );
        assert!(!terms.exists(), "a terms file for refused terms {bad:?}");
    }
    refused_with(
        &researcher,
        &[
            "study",
            "propose",
            "--price",
            "1000",
            "--max",
            "2",
            "--kinds",
            "nonsense",
            "--protocol",
            protocol_arg,
            "--out",
            terms_arg,
        ],
        "error: unknown record kind \"nonsense\"",
    );
    assert!(!terms.exists());
    let proposed = researcher.ok(&[
        "study",
        "propose",
        "--id",
        "9",
        "--price",
        "1000",
        "--max",
        "2",
        "--kinds",
        "lab-result",
        "--deadline-days",
        "30",
        "--protocol",
        protocol_arg,
        "--out",
        terms_arg,
    ]);
    let study = s(&proposed, "study");
    assert_eq!(
        study,
        pda::study(&pid, &researcher_kp.pubkey(), 9).to_string()
    );
    // Proposed is not opened: the study does not exist yet, so a top-up is refused.
    let missing_study = format!("error: study {study} does not exist on {url}");
    refused_with(
        &researcher,
        &["study", "top-up", &study, "1000"],
        &missing_study,
    );
    refused_with(&stranger, &["study", "show", &study], &missing_study);
    board.ok(&["study", "approve", terms_arg]);
    let opened = researcher.ok(&["study", "open", terms_arg, "--budget", "5000"]);
    assert_eq!(s(&opened, "status"), "open");
    assert_eq!(opened["escrow_balance"], 5000);
    // A zero top-up, and one from a wallet without a token account of the mint.
    refused_with(
        &researcher,
        &["study", "top-up", &study, "0"],
        "error: instruction 0 failed: ZeroAmount (6003): Amount must be greater than zero",
    );
    refused_with(
        &stranger,
        &["study", "top-up", &study, "1000"],
        "error: instruction 0 failed: Anchor account error (wrong owner, type, or an account is missing) (3012)",
    );
    let shown = stranger.ok(&["study", "show", &study]);
    assert_eq!(
        (
            shown["deposited"].as_u64(),
            shown["escrow_balance"].as_u64()
        ),
        (Some(5000), Some(5000))
    );
    // Show and list commands of studies.
    let listed = stranger.ok(&["study", "list"]);
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["study"] == study.as_str())
        .expect("the study is listed")
        .clone();
    assert_eq!(s(&row, "status"), "open");
    assert_eq!(row["kinds"], serde_json::json!(["lab-result"]));
    assert!(stranger
        .ok(&["study", "list", "--open"])
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["study"] == study.as_str()));
    let contributions = researcher.ok(&["study", "contributions", &study]);
    assert_eq!(s(&contributions, "study"), study);
    assert_eq!(contributions["contributions"], serde_json::json!([]));
    // Closed: refunded; a top-up and a second close are refused; nothing moves.
    let closed = researcher.ok(&["study", "close", &study]);
    assert_eq!(closed["refunded"], 5000);
    refused_with(
        &researcher,
        &["study", "top-up", &study, "1000"],
        "error: instruction 0 failed: StudyClosed (6043): Study is closed",
    );
    refused_with(
        &researcher,
        &["study", "close", &study],
        &format!("error: study {study} is already closed"),
    );
    let shown = stranger.ok(&["study", "show", &study]);
    assert_eq!(s(&shown, "status"), "closed");
    assert_eq!(
        (
            shown["deposited"].as_u64(),
            shown["refunded"].as_u64(),
            shown["paid"].as_u64()
        ),
        (Some(5000), Some(5000), Some(0))
    );
    assert!(!stranger
        .ok(&["study", "list", "--open"])
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["study"] == study.as_str()));
    let balance = researcher.ok(&["balance"]);
    assert_eq!(s(&balance, "address"), researcher_kp.pubkey().to_string());
    assert_eq!(
        balance["token"]["amount"], FUNDS,
        "the whole budget came back"
    );
    assert_eq!(s(&balance["token"], "mint"), mint.to_string());

    // --- Every other show and list, on this data --------------------------------------
    let issuer = stranger.ok(&["issuer", "show", &clinic_issuer]);
    assert_eq!(s(&issuer, "authority"), clinic_kp.pubkey().to_string());
    assert_eq!(issuer["roles"], serde_json::json!(["clinic", "lab"]));
    assert_eq!(issuer["attestations_issued"], 2);
    let identity = patient.ok(&["identity"]);
    assert_eq!(s(&identity, "wallet"), patient_kp.pubkey().to_string());
    assert_eq!(
        s(&patient.ok(&["wallet", "address"]), "address"),
        patient_kp.pubkey().to_string()
    );
    let shown = patient.ok(&["patient", "show"]);
    assert_eq!(s(&shown, "patient"), profile);
    assert_eq!(s(&shown, "authority"), patient_kp.pubkey().to_string());
    assert_eq!(
        s(&shown, "encryption_key"),
        s(&identity, "encryption_key"),
        "the profile holds the wallet's derived key"
    );
    assert_eq!(shown["consents_created"], 1);
    let records = patient.ok(&["records"]);
    assert_eq!(s(&records, "patient"), profile);
    let status_of = |records: &Value, attestation: &str| {
        records["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["attestation"] == attestation)
            .map(|r| s(r, "status"))
            .unwrap_or_else(|| panic!("{attestation} not listed in {records}"))
    };
    assert_eq!(records["records"].as_array().unwrap().len(), 2);
    assert_eq!(status_of(&records, &dx), "revoked");
    assert_eq!(status_of(&records, &lab), "active");
    // Anyone may list a patient's records by profile.
    assert_eq!(
        stranger.ok(&["records", "--patient", &profile])["records"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let received = doctor.ok(&["consent", "list", "--received"]);
    assert_eq!(received["consents"].as_array().unwrap().len(), 1);
    assert_eq!(s(&received["consents"][0], "grantee"), doctor_wallet);
    assert_eq!(
        received["consents"][0]["kinds"],
        serde_json::json!(["lab-result"])
    );
    let claims = patient.ok(&["claims", &lab]);
    assert_eq!(s(&claims, "attestation"), lab);
    assert_eq!(
        claims["claims"].as_array().unwrap().len() as u64,
        lab_claims
    );
    let audit = patient.ok(&["audit"]);
    assert_eq!(audit_events(&audit), ["grant", "revoke"], "{audit}");
    assert!(audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["who"] == doctor_wallet.as_str()));

    // --- An expired attestation: the clock moves past its expiry day ---------------------
    let verified = doctor.ok(&["verify", &lab]);
    assert_eq!(s(&verified, "status"), "active");
    let expires_on_day = verified["expires_on_day"].as_i64().expect("an expiry day");
    time_travel(&rpc, expires_on_day * 86_400 + 60);
    let verified = doctor.ok(&["verify", &lab]);
    assert_eq!(s(&verified, "status"), "expired");
    assert_eq!(verified["revoked_at"], Value::Null);
    let records = patient.ok(&["records"]);
    assert_eq!(status_of(&records, &lab), "expired");
    assert_eq!(
        status_of(&records, &dx),
        "revoked",
        "revoked wins over expired"
    );
    validator.stop();
}
