//! Refusals of the guardian flows through the real `rekam` binary against `rekam
//! localnet` (guardians, emergencies, recoveries, re-wraps): the exact error line and
//! exit code 1 for each, a re-read proving nothing changed, then their `show` and `list`
//! commands on real data.

mod common;

use common::refusals::*;
use common::*;
use rekam_client::pda;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Guardians, break-glass and social recovery: each refusal with its exact message and
/// nothing changed (on-chain, and no guardian grants left in the store), then the show
/// and list commands of guardians, emergencies, recoveries and the audit trail.
#[test]
fn guardians_emergencies_and_recoveries_refuse_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, store_dir) = start_net(dir.path());
    let pid = rekam::ID;
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &env);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &env);
    let (er_kp, er) = actor(dir.path(), "er", &rpc, &url, &env);
    let (lab_kp, lab) = actor(dir.path(), "lab", &rpc, &url, &env);
    let (patient_kp, patient) = actor(dir.path(), "patient", &rpc, &url, &env);
    let (stranger_kp, stranger) = actor(dir.path(), "stranger", &rpc, &url, &env);
    let guardians: Vec<(Keypair, Cli)> = (0..3)
        .map(|i| actor(dir.path(), &format!("guardian{i}"), &rpc, &url, &env))
        .collect();
    let stranger_wallet = stranger_kp.pubkey().to_string();
    let patient_wallet = patient_kp.pubkey().to_string();

    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&["init", "--treasury-mint", &mint.to_string()]);
    accredit(&gov, "CLINIC-G", &clinic_kp, &clinic, "clinic");
    let er_issuer = accredit(&gov, "ER-G", &er_kp, &er, "clinic");
    accredit(&gov, "LAB-G", &lab_kp, &lab, "lab");
    let profile = s(&patient.ok(&["patient", "register"]), "patient");
    let profile_key: anchor_lang::prelude::Pubkey = profile.parse().unwrap();
    let summary = s(
        &clinic.ok(&[
            "attest",
            fixtures().join("emergency-summary.json").to_str().unwrap(),
            "--patient",
            &profile,
        ])["attested"][0],
        "attestation",
    );
    let guardianship = pda::guardianship(&pid, &profile_key).to_string();
    let no_guardians =
        format!("error: guardianship (no guardians named) {guardianship} does not exist on {url}");

    // No guardians yet: no emergency access, nothing to show.
    refused_with(
        &er,
        &["emergency", "request", &profile],
        &format!("error: this patient has named no guardians, so there is no emergency access: guardianship {guardianship} does not exist on {url}"),
    );
    refused_with(&patient, &["guardians", "show"], &no_guardians);

    // --- guardians set ---------------------------------------------------------------
    let guardian_arg = |wallet: String, cli: &Cli| {
        format!("{wallet}={}", s(&cli.ok(&["identity"]), "encryption_key"))
    };
    let g: Vec<String> = guardians
        .iter()
        .map(|(kp, cli)| guardian_arg(kp.pubkey().to_string(), cli))
        .collect();
    let own = guardian_arg(patient_wallet.clone(), &patient);
    let set_args = |named: &[&String], threshold: &str, extra: &[&str]| {
        let mut args: Vec<String> = vec!["guardians".into(), "set".into()];
        for n in named {
            args.push("--guardian".into());
            args.push(n.to_string());
        }
        args.extend(["--threshold".to_string(), threshold.to_string()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let scope = ["--emergency-attestation", summary.as_str()];
    let invalid_guardians = "error: guardians were not set: instruction 0 failed: InvalidGuardians (6052): Guardians must be 1 to 7 distinct wallets other than the patient's, with a threshold from 1 to their number";
    let with_max_hours = [
        "--emergency-attestation",
        summary.as_str(),
        "--emergency-max-hours",
        "100",
    ];
    let with_timelock = [
        "--emergency-attestation",
        summary.as_str(),
        "--recovery-timelock-hours",
        "1",
    ];
    let no_scope: [&str; 0] = [];
    let objects_before = walk(&store_dir.join("objects"));
    let cases: Vec<(Vec<String>, &str)> = vec![
        // The patient as their own guardian.
        (set_args(&[&own, &g[0]], "1", &scope), invalid_guardians),
        // A threshold above the number of guardians, and a zero threshold: refused by the
        // CLI before anything is stored (the key cannot be split M-of-N).
        (
            set_args(&[&g[0], &g[1]], "3", &scope),
            "error: the threshold must be from 1 to the number of guardians (2), not 3",
        ),
        (
            set_args(&[&g[0]], "0", &scope),
            "error: the threshold must be from 1 to the number of guardians (1), not 0",
        ),
        // One guardian twice.
        (set_args(&[&g[0], &g[0]], "1", &scope), invalid_guardians),
        // Emergencies longer than 72 hours; a recovery time lock under 24 hours.
        (
            set_args(&[&g[0], &g[1]], "1", &with_max_hours),
            "error: guardians were not set: instruction 0 failed: InvalidEmergencyTerms (6053): Emergency duration must be 1 second to 72 hours within the patient's limit, approval window 1 second to 24 hours",
        ),
        (
            set_args(&[&g[0], &g[1]], "1", &with_timelock),
            "error: guardians were not set: instruction 0 failed: InvalidTimelock (6054): Recovery time lock must be between 24 hours and 30 days",
        ),
        // Refused by the CLI: no emergency scope, a scope holding no record, a guardian
        // not written as WALLET=KEY.
        (
            set_args(&[&g[0], &g[1]], "1", &no_scope),
            "error: name the emergency scope: --emergency-attestation and/or --emergency-kinds",
        ),
        (
            set_args(&[&g[0], &g[1]], "1", &["--emergency-kinds", "vaccination"]),
            "error: no record of yours is in the emergency scope yet; attest the emergency summary first",
        ),
        (
            set_args(&[&"nonsense".to_string()], "1", &scope),
            "error: \"nonsense\": write a guardian as WALLET=ENCRYPTION_KEY_HEX",
        ),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused_with(&patient, &args, expected);
        refused_with(&patient, &["guardians", "show"], &no_guardians);
        assert_eq!(
            walk(&store_dir.join("objects")),
            objects_before,
            "a refused `guardians set` leaves no guardian grants in the store: {args:?}"
        );
    }
    let set = set_args(
        &[&g[0], &g[1], &g[2]],
        "2",
        &[
            "--emergency-attestation",
            summary.as_str(),
            "--emergency-max-hours",
            "24",
        ],
    );
    let set_line: Vec<&str> = set.iter().map(String::as_str).collect();
    assert_eq!(patient.ok(&set_line)["threshold"], 2);

    // --- emergency ---------------------------------------------------------------------
    refused_with(
        &stranger,
        &["emergency", "request", &profile],
        &format!("error: wallet {stranger_wallet} is not the authority of any accredited issuer; ask governance to accredit it"),
    );
    refused_with(
        &lab,
        &["emergency", "request", &profile, "--hours", "2"],
        "error: instruction 0 failed: NotAClinic (6062): Only an accredited clinic may request emergency access",
    );
    refused_with(
        &er,
        &["emergency", "request", &profile, "--reason", "curiosity"],
        "error: unknown reason \"curiosity\": use etreat or btg",
    );
    refused_with(
        &er,
        &["emergency", "request", &profile, "--hours", "48"],
        "error: instruction 0 failed: InvalidEmergencyTerms (6053): Emergency duration must be 1 second to 72 hours within the patient's limit, approval window 1 second to 24 hours",
    );
    assert_eq!(patient.ok(&["emergency", "list"]), serde_json::json!([]));
    assert_eq!(
        patient.ok(&["guardians", "show"])["emergencies_requested"],
        0
    );

    let requested = er.ok(&["emergency", "request", &profile, "--hours", "2"]);
    let request = s(&requested, "request");
    assert_eq!(
        request,
        pda::emergency_request(&pid, &profile_key, 0).to_string()
    );
    assert_eq!(s(&requested, "status"), "awaiting approvals");
    // Ending a request that was never granted; approving as a stranger.
    refused_with(
        &guardians[0].1,
        &["emergency", "end", &request],
        &format!("error: emergency request {request} was never granted"),
    );
    refused_with(
        &stranger,
        &["emergency", "approve", &request],
        &format!("error: wallet {stranger_wallet} is not a guardian of patient {profile}"),
    );
    let shown = stranger.ok(&["emergency", "show", &request]);
    assert_eq!(s(&shown, "status"), "awaiting approvals");
    assert_eq!(shown["approvals"], serde_json::json!([]));
    guardians[0].1.ok(&["emergency", "approve", &request]);
    let granted = guardians[1].1.ok(&["emergency", "approve", &request]);
    assert_eq!(s(&granted, "status"), "granted");
    let consent = s(&granted, "consent");
    // Ending a granted emergency as a stranger, or as the clinic that requested it: only
    // the patient or a guardian may.
    let not_patient_or_guardian = "error: instruction 0 failed: NotPatientOrGuardian (6061): Signer is neither the patient nor one of their guardians";
    refused_with(
        &stranger,
        &["emergency", "end", &request],
        not_patient_or_guardian,
    );
    refused_with(
        &er,
        &["emergency", "end", &request],
        not_patient_or_guardian,
    );
    let shown = stranger.ok(&["emergency", "show", &request]);
    assert_eq!(s(&shown, "status"), "granted");
    assert_eq!(s(&shown, "consent"), consent);
    assert_eq!(s(&shown, "issuer"), er_issuer);
    assert_eq!(s(&shown, "requester"), er_kp.pubkey().to_string());
    assert_eq!(shown["approvals_counted"], 2);
    let ended = guardians[2].1.ok(&["emergency", "end", &request]);
    assert_eq!(s(&ended, "status"), "ended");
    refused_with(
        &guardians[2].1,
        &["emergency", "end", &request],
        "error: instruction 0 failed: EmergencyNotActive (6060): Emergency access is not active",
    );
    let listed = patient.ok(&["emergency", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(s(&listed[0], "request"), request);
    assert_eq!(s(&listed[0], "status"), "ended");
    assert_eq!(
        stranger.ok(&["emergency", "list", "--patient", &profile]),
        listed
    );
    let shown = stranger.ok(&["guardians", "show", "--patient", &profile]);
    assert_eq!(s(&shown, "guardianship"), guardianship);
    let guardian_wallets: Vec<String> = guardians
        .iter()
        .map(|(kp, _)| kp.pubkey().to_string())
        .collect();
    assert_eq!(shown["guardians"], serde_json::json!(guardian_wallets));
    assert_eq!(shown["threshold"], 2);
    assert_eq!(
        shown["emergency_attestations"],
        serde_json::json!([summary])
    );
    assert_eq!(shown["emergency_max_hours"], 24);
    assert_eq!(shown["recovery_timelock_hours"], 48);
    assert_eq!(
        shown["emergencies_requested"], 1,
        "refused requests count none"
    );

    // --- recovery ----------------------------------------------------------------------
    let recovery = pda::recovery(&pid, &profile_key).to_string();
    let no_recovery = format!("error: pending recovery {recovery} does not exist on {url}");
    refused_with(&stranger, &["recovery", "show", &profile], &no_recovery);
    let new_wallet = Keypair::new().pubkey().to_string();
    let stranger_wallet = solana_keypair::read_keypair_file(&stranger.keypair)
        .unwrap()
        .pubkey();
    refused_with(
        &stranger,
        &["recovery", "propose", &profile, "--new-wallet", &new_wallet],
        &format!("error: {stranger_wallet} is not a guardian of patient {profile}"),
    );
    refused_with(
        &guardians[0].1,
        &["recovery", "propose", &profile, "--new-wallet", &patient_wallet],
        "error: instruction 0 failed: SameWallet (6064): The new wallet already controls this patient profile",
    );
    refused_with(&stranger, &["recovery", "show", &profile], &no_recovery);
    let proposed =
        guardians[0]
            .1
            .ok(&["recovery", "propose", &profile, "--new-wallet", &new_wallet]);
    assert_eq!(s(&proposed, "status"), "awaiting approvals");
    // A second proposal while this one may still gather approvals is refused, sending
    // nothing (the CLI replaces only a stale recovery, in one transaction).
    refused_with(
        &guardians[1].1,
        &["recovery", "propose", &profile, "--new-wallet", &patient_wallet],
        &format!(
            "error: a recovery of patient {profile} to {new_wallet} is already pending (proposed by {}); approve it, or wait until it is stale",
            guardians[0].0.pubkey()
        ),
    );
    // The proposer approving again (proposing counted as its approval), a stranger.
    let already_approved =
        "error: instruction 0 failed: AlreadyApproved (6056): This guardian has already approved";
    refused_with(
        &guardians[0].1,
        &["recovery", "approve", &profile],
        already_approved,
    );
    refused_with(
        &stranger,
        &["recovery", "approve", &profile],
        "error: instruction 0 failed: NotGuardian (6055): Signer is not one of the patient's guardians",
    );
    let locked = guardians[1].1.ok(&["recovery", "approve", &profile]);
    assert_eq!(s(&locked, "status"), "time-locked");
    let unlocks_at = locked["unlocks_at"].as_i64().unwrap();
    refused_with(
        &guardians[1].1,
        &["recovery", "approve", &profile],
        already_approved,
    );
    // Executing as a wallet that is not the proposed one.
    refused_with(
        &stranger,
        &["recovery", "execute", &profile],
        &format!(
            "error: this recovery moves the profile to {new_wallet}, not to {stranger_wallet}"
        ),
    );
    let shown = stranger.ok(&["recovery", "show", &profile]);
    assert_eq!(s(&shown, "recovery"), recovery);
    assert_eq!(s(&shown, "status"), "time-locked");
    assert_eq!(s(&shown, "new_wallet"), new_wallet);
    assert_eq!(s(&shown, "proposer"), guardians[0].0.pubkey().to_string());
    assert_eq!(shown["approvals"], serde_json::json!(guardian_wallets[..2]));
    assert_eq!(shown["approvals_counted"], 2);
    assert_eq!(shown["unlocks_at"].as_i64(), Some(unlocks_at));
    // Re-wrapping: a wallet that is no issuer's, and an issuer (the ER clinic) that
    // issued no record for this patient. Nothing stored, the profile unchanged.
    let objects_before = walk(&store_dir.join("objects"));
    let profile_before = patient.ok(&["patient", "show"]);
    refused_with(
        &stranger,
        &["recovery", "rewrap", &profile],
        &format!("error: wallet {stranger_wallet} is not the authority of any accredited issuer; ask governance to accredit it"),
    );
    refused_with(
        &er,
        &["recovery", "rewrap", &profile],
        &format!("error: your issuer {er_issuer} issued no record for patient {profile}"),
    );
    assert_eq!(walk(&store_dir.join("objects")), objects_before);
    assert_eq!(patient.ok(&["patient", "show"]), profile_before);
    assert_eq!(s(&profile_before, "authority"), patient_wallet);

    // The audit trail holds the accepted steps only.
    let audit = patient.ok(&["audit"]);
    let events = audit_events(&audit);
    let count = |name: &str| events.iter().filter(|e| *e == name).count();
    assert_eq!(
        (
            count("EMERGENCY-REQUEST"),
            count("EMERGENCY-APPROVE"),
            count("EMERGENCY-GRANT"),
            count("EMERGENCY-END"),
        ),
        (1, 2, 1, 1),
        "{audit}"
    );
    assert_eq!(
        (count("RECOVERY-PROPOSE"), count("RECOVERY-APPROVE")),
        (1, 2),
        "{audit}"
    );

    // The patient cancels; there is no pending recovery any more.
    patient.ok(&["recovery", "cancel"]);
    refused_with(&stranger, &["recovery", "show", &profile], &no_recovery);
    validator.stop();
}
