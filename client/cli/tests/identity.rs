//! The encryption identity through the real `rekam` binary against `rekam localnet`: a
//! keystore file no phished signature reveals, checked against the chain on every use,
//! scriptable without a terminal; and key rotation and re-keying, after which the old
//! key opens nothing that exists.

mod common;

use std::path::Path;

use common::refusals::*;
use common::*;
use rekam_client::chain::ChainClient;
use rekam_client::crypto::keystore;
use rekam_client::crypto::Identity;
use rekam_client::flows::records::locate;
use rekam_client::record;
use rekam_client::storage::{Locator, StoreConfig};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn with_env(cli: &Cli, extra: &[(&str, &str)]) -> Cli {
    let mut env = cli.env.clone();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Cli {
        url: cli.url.clone(),
        keypair: cli.keypair.clone(),
        env,
    }
}

/// What wave 1 derived from a signature over a fixed text (any site could ask for it).
fn phished_key(wallet: &Keypair) -> String {
    use sha2::Sha256;
    let signature: [u8; 64] = wallet.sign_message(b"Rekam encryption key v1\n").into();
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"rekam/v1/identity"), &signature);
    let mut ikm = [0u8; 32];
    hk.expand(b"x25519", &mut ikm).unwrap();
    hex::encode(Identity::from_ikm(&ikm).public_key())
}

#[test]
fn an_identity_is_a_keystore_checked_against_the_chain_and_scriptable() {
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, _store) = start_net(dir.path());
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &env);
    let (patient_kp, patient) = actor(dir.path(), "patient", &rpc, &url, &env);
    let (other_kp, other) = actor(dir.path(), "other", &rpc, &url, &env);
    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&["init", "--treasury-mint", &mint.to_string()]);
    let wallet = patient_kp.pubkey();
    let path = keystore::default_path(&patient.keypair);

    // First use writes a random identity beside the keypair file, private to its owner.
    let first = patient.ok(&["identity"]);
    assert_eq!(first["created"], true);
    assert_eq!(first["protected"], false);
    assert_eq!(s(&first, "wallet"), wallet.to_string());
    assert_eq!(s(&first, "identity_file"), path.display().to_string());
    assert_eq!(first["on_chain"], serde_json::json!([]));
    let key = s(&first, "encryption_key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = patient.ok(&["identity"]);
    assert_eq!(again["created"], false);
    assert_eq!(s(&again, "encryption_key"), key);
    // A signature the wallet gives any website no longer reveals it.
    assert_ne!(phished_key(&patient_kp), key);

    // Registered, the key is on chain, and every use compares the file with it.
    let profile = patient.ok(&["patient", "register"]);
    let profile_key = s(&profile, "patient");
    assert_eq!(s(&profile, "encryption_key"), key);
    let shown = patient.ok(&["identity"]);
    assert_eq!(
        shown["on_chain"],
        serde_json::json!([{"what": "patient profile", "account": profile_key, "encryption_key": key}])
    );

    let saved = dir.path().join("saved.identity.json");
    std::fs::copy(&path, &saved).unwrap();
    // Another identity of this wallet in its place: refused before any use.
    std::fs::remove_file(&path).unwrap();
    let impostor = keystore::create(&path, &wallet, None, false).unwrap();
    let expected_mismatch = format!(
        "error: the encryption identity {} (key {}) is not wallet {wallet}'s key on chain: patient profile {profile_key} has {key}; restore the identity file that matches, or pass --identity",
        path.display(),
        hex::encode(impostor.public_key())
    );
    refused_with(&patient, &["identity"], &expected_mismatch);
    // No file: never silently replaced by a new one for a wallet with a key on chain.
    std::fs::remove_file(&path).unwrap();
    refused_with(
        &patient,
        &["identity"],
        &format!(
            "error: no encryption identity at {}, and wallet {wallet} already has key {key} on chain (patient profile {profile_key}); restore that identity file (rekam never derives it from the wallet) or pass --identity",
            path.display()
        ),
    );
    assert!(!path.exists(), "the refusal wrote no file");
    // Another wallet's identity file.
    let others = keystore::default_path(&other.keypair);
    assert_eq!(
        s(&other.ok(&["identity"]), "wallet"),
        other_kp.pubkey().to_string()
    );
    std::fs::copy(&others, &path).unwrap();
    refused_with(
        &patient,
        &["identity"],
        &format!(
            "error: the encryption identity {} belongs to wallet {}, not to {wallet}",
            path.display(),
            other_kp.pubkey()
        ),
    );
    // Restored from the backup (or named with --identity), it works again.
    let by_flag = patient.ok(&["identity", "--identity", saved.to_str().unwrap()]);
    assert_eq!(s(&by_flag, "encryption_key"), key);
    std::fs::copy(&saved, &path).unwrap();
    assert_eq!(s(&patient.ok(&["identity"]), "encryption_key"), key);

    // A passphrase-sealed identity, scripted: from the environment or a file; with
    // neither, and stdin not a terminal, a clear error instead of a prompt.
    let (_, sealed) = actor(dir.path(), "sealed", &rpc, &url, &env);
    let sealed_path = keystore::default_path(&sealed.keypair);
    let made =
        with_env(&sealed, &[("REKAM_IDENTITY_PASSPHRASE", "correct horse")]).ok(&["identity"]);
    assert_eq!(made["protected"], true);
    assert_eq!(made["created"], true);
    let sealed_key = s(&made, "encryption_key");
    refused_with(
        &sealed,
        &["identity"],
        &format!(
            "error: the encryption identity {} is protected by a passphrase, and none was given; stdin is not a terminal, so rekam does not prompt: pass --identity-passphrase-file (or REKAM_IDENTITY_PASSPHRASE_FILE), or set REKAM_IDENTITY_PASSPHRASE",
            sealed_path.display()
        ),
    );
    refused_with(
        &with_env(&sealed, &[("REKAM_IDENTITY_PASSPHRASE", "wrong horse")]),
        &["identity"],
        &format!(
            "error: wrong passphrase for the encryption identity {}",
            sealed_path.display()
        ),
    );
    let pass_file = dir.path().join("pass.txt");
    std::fs::write(&pass_file, "correct horse\n").unwrap();
    let from_file = sealed.ok(&[
        "identity",
        "--identity-passphrase-file",
        pass_file.to_str().unwrap(),
    ]);
    assert_eq!(s(&from_file, "encryption_key"), sealed_key);
    let by_env_file = with_env(
        &sealed,
        &[(
            "REKAM_IDENTITY_PASSPHRASE_FILE",
            pass_file.to_str().unwrap(),
        )],
    )
    .ok(&["identity"]);
    assert_eq!(s(&by_env_file, "encryption_key"), sealed_key);

    // A hardware wallet that is not connected: a clear error, not a missing file
    // (tests/signers.rs covers hardware wallets).
    let ledger = Cli {
        url: url.clone(),
        keypair: "usb://ledger".into(),
        env: env.clone(),
    };
    refused_with(
        &ledger,
        &["identity"],
        "error: signer usb://ledger: no hardware wallet found. Connect and unlock the device, open its Solana app, and run the command again",
    );
    validator.stop();
}

/// The locator the chain gives each of `patient`'s attestations now.
fn current_copies(url: &str, attestations: &[String]) -> Vec<Locator> {
    let chain = ChainClient::new(
        url,
        CommitmentConfig::confirmed(),
        rekam::ID,
        Default::default(),
    );
    attestations
        .iter()
        .map(|a| {
            locate(&chain, &a.parse().unwrap())
                .unwrap()
                .expect("a located record")
                .locator
        })
        .collect()
}

fn read_consent(rpc: &solana_rpc_client::rpc_client::RpcClient, key: &str) -> rekam::Consent {
    use anchor_lang::AccountDeserialize;
    let data = rpc.get_account_data(&key.parse().unwrap()).unwrap();
    rekam::Consent::try_deserialize(&mut &data[..]).unwrap()
}

fn read(store_dir: &Path, locator: &Locator) -> Option<Vec<u8>> {
    let store = StoreConfig::Local {
        dir: store_dir.to_path_buf(),
    }
    .open()
    .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(store.get(locator))
        .ok()
}

#[test]
fn rotation_and_rekey_leave_the_old_key_opening_nothing_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, store_dir) = start_net(dir.path());
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &env);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &env);
    let (patient_kp, patient) = actor(dir.path(), "patient", &rpc, &url, &env);
    let (doctor_kp, doctor) = actor(dir.path(), "doctor", &rpc, &url, &env);
    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&["init", "--treasury-mint", &mint.to_string()]);
    accredit(&gov, "CLINIC-K", &clinic_kp, &clinic, "clinic,lab");
    let profile = s(&patient.ok(&["patient", "register"]), "patient");
    let dx_file = fixtures().join("diagnosis-diabetes.json");
    let dx = s(
        &clinic.ok(&["attest", dx_file.to_str().unwrap(), "--patient", &profile])["attested"][0],
        "attestation",
    );
    let lab = s(
        &clinic.ok(&[
            "attest",
            fixtures().join("lab-hba1c.json").to_str().unwrap(),
            "--patient",
            &profile,
        ])["attested"][0],
        "attestation",
    );
    let records = vec![dx.clone(), lab.clone()];
    let doctor_key = s(&doctor.ok(&["identity"]), "encryption_key");
    let consent = s(
        &patient.ok(&[
            "consent",
            "grant",
            "--grantee",
            &doctor_kp.pubkey().to_string(),
            "--grantee-key",
            &doctor_key,
            "--kinds",
            "diagnosis,lab-result",
            "--days",
            "7",
        ]),
        "consent",
    );
    let read_dx = |who: &Cli, name: &str| {
        let out = dir.path().join(name);
        who.ok(&["access", &consent, &dx, "--out", out.to_str().unwrap()]);
        std::fs::read(&out).unwrap()
    };
    assert_eq!(
        read_dx(&doctor, "before.json"),
        std::fs::read(&dx_file).unwrap()
    );

    let path = keystore::default_path(&patient.keypair);
    let old = keystore::open_with(&path, &patient_kp.pubkey(), None).unwrap();
    // A real use (fetching a record) with another identity in the file is refused before
    // anything is decrypted.
    let saved = dir.path().join("saved.identity.json");
    std::fs::rename(&path, &saved).unwrap();
    let impostor = keystore::create(&path, &patient_kp.pubkey(), None, false).unwrap();
    let fetched = dir.path().join("never.json");
    refused_with(
        &patient,
        &["fetch", &dx, "--out", fetched.to_str().unwrap()],
        &format!(
            "error: the encryption identity {} (key {}) is not wallet {}'s key on chain: patient profile {profile} has {}; restore the identity file that matches, or pass --identity",
            path.display(),
            hex::encode(impostor.public_key()),
            patient_kp.pubkey(),
            hex::encode(old.public_key())
        ),
    );
    assert!(!fetched.exists());
    std::fs::rename(&saved, &path).unwrap();
    let old_copies = current_copies(&url, &records);
    for (copy, a) in old_copies.iter().zip(&records) {
        let bytes = read(&store_dir, copy).expect("the current copy exists");
        assert!(record::open(&bytes, &old).is_ok(), "{a}: opens before");
    }

    // Rotation: every record re-keyed to a new key under fresh data keys, the doctor's
    // grant re-issued, the profile pointed at the new key, the file replaced.
    let rotated = patient.ok(&["identity", "rotate"]);
    assert_eq!(s(&rotated, "old_key"), hex::encode(old.public_key()));
    let new_key = s(&rotated, "new_key");
    assert_ne!(new_key, s(&rotated, "old_key"));
    assert_eq!(rotated["resumed"], false);
    assert_eq!(rotated["rekeyed"]["records"], 2);
    assert_eq!(
        rotated["rekeyed"]["grants_updated"], 1,
        "the doctor's grant"
    );
    assert_eq!(rotated["rekeyed"]["old_objects_removed"], 3);
    assert!(rotated["signature"].is_string());
    let on_chain = patient.ok(&["patient", "show"]);
    assert_eq!(s(&on_chain, "encryption_key"), new_key);
    assert_eq!(s(&patient.ok(&["identity"]), "encryption_key"), new_key);
    assert!(!keystore::next_path(&path).exists());

    // The old key opens nothing that exists: every current copy refuses it, and the
    // old copies are gone from the store.
    let new_copies = current_copies(&url, &records);
    for ((copy, before), a) in new_copies.iter().zip(&old_copies).zip(&records) {
        assert_ne!(copy, before, "{a}: a new copy");
        let bytes = read(&store_dir, copy).expect("the new copy exists");
        let err = record::open(&bytes, &old).expect_err("the old key is refused");
        assert_eq!(
            err.to_string(),
            "this record is not encrypted to your key (no matching recipient)",
            "{a}"
        );
        assert!(
            read(&store_dir, before).is_none(),
            "{a}: the old copy is deleted"
        );
    }
    // The patient and the doctor still read, byte for byte.
    let mine = dir.path().join("mine.json");
    patient.ok(&["fetch", &dx, "--out", mine.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&mine).unwrap(),
        std::fs::read(&dx_file).unwrap()
    );
    assert_eq!(
        read_dx(&doctor, "after.json"),
        std::fs::read(&dx_file).unwrap()
    );

    // Re-keying keeps the key and replaces the data keys again (after a recovery).
    let rekeyed = patient.ok(&["identity", "rekey"]);
    assert_eq!(rekeyed["records"], 2);
    assert_eq!(rekeyed["grants_updated"], 1);
    let third = current_copies(&url, &records);
    for (copy, before) in third.iter().zip(&new_copies) {
        assert_ne!(copy, before);
        assert!(read(&store_dir, before).is_none());
    }
    assert_eq!(s(&patient.ok(&["identity"]), "encryption_key"), new_key);
    assert_eq!(
        read_dx(&doctor, "rekeyed.json"),
        std::fs::read(&dx_file).unwrap()
    );

    // An interrupted rotation (its next identity written, nothing else) resumes with the
    // same next key rather than drawing another.
    let next = keystore::create(
        &keystore::next_path(&path),
        &patient_kp.pubkey(),
        None,
        false,
    )
    .unwrap();
    let resumed = patient.ok(&["identity", "rotate"]);
    assert_eq!(resumed["resumed"], true);
    assert_eq!(s(&resumed, "new_key"), hex::encode(next.public_key()));
    assert_eq!(
        s(&patient.ok(&["patient", "show"]), "encryption_key"),
        hex::encode(next.public_key())
    );

    // The clinic rotates its key: everything it attested is sealed again to the patient
    // and its next key; its old key opens no current copy. The patient still reads; the
    // doctor's grant names the old data keys until the patient re-issues it.
    let clinic_path = keystore::default_path(&clinic.keypair);
    let clinic_old = keystore::open_with(&clinic_path, &clinic_kp.pubkey(), None).unwrap();
    let issuer_rotated = clinic.ok(&["issuer", "rotate-key"]);
    assert_eq!(
        s(&issuer_rotated, "old_key"),
        hex::encode(clinic_old.public_key())
    );
    let clinic_new = s(&issuer_rotated, "new_key");
    assert_ne!(clinic_new, hex::encode(clinic_old.public_key()));
    assert_eq!(issuer_rotated["records"], 2);
    assert_eq!(issuer_rotated["old_objects_removed"], 2);
    assert_eq!(
        issuer_rotated["patients_to_rekey"],
        serde_json::json!([profile])
    );
    let issuer = s(&issuer_rotated, "issuer");
    assert_eq!(
        s(&gov.ok(&["issuer", "show", &issuer]), "encryption_key"),
        clinic_new
    );
    assert_eq!(s(&clinic.ok(&["identity"]), "encryption_key"), clinic_new);
    for copy in current_copies(&url, &records) {
        let bytes = read(&store_dir, &copy).expect("the clinic's new copy");
        let err = record::open(&bytes, &clinic_old).expect_err("the old clinic key is refused");
        assert_eq!(
            err.to_string(),
            "this record is not encrypted to your key (no matching recipient)"
        );
    }
    patient.ok(&["fetch", &dx, "--out", mine.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&mine).unwrap(),
        std::fs::read(&dx_file).unwrap()
    );
    let stale = doctor.fails(&[
        "access",
        &consent,
        &dx,
        "--out",
        dir.path().join("stale.json").to_str().unwrap(),
    ]);
    let stale_copy = rekam_client::flows::rekey::load_grant(
        &*StoreConfig::Local {
            dir: store_dir.clone(),
        }
        .open()
        .unwrap(),
        &read_consent(&rpc, &consent),
    )
    .map(|(_, held)| match held {
        rekam_client::flows::rekey::Held::Keys(grant) => {
            grant.entry(&dx.parse().unwrap()).unwrap().locator.clone()
        }
        _ => unreachable!("a treatment consent holds record keys"),
    })
    .unwrap();
    assert_eq!(
        stale.trim_end(),
        format!("error: the copy of {dx} that consent {consent}'s key grant names ({stale_copy}) no longer exists: the record was re-keyed since the grant (a key rotation); ask the patient to re-issue it (`rekam identity rekey`)")
    );
    assert_eq!(patient.ok(&["identity", "rekey"])["grants_updated"], 1);
    assert_eq!(
        read_dx(&doctor, "refreshed.json"),
        std::fs::read(&dx_file).unwrap()
    );

    // Only a patient rotates this way.
    refused_with(
        &doctor,
        &["identity", "rotate"],
        &format!(
            "error: wallet {} has no patient profile; run `rekam patient register`",
            doctor_kp.pubkey()
        ),
    );
    validator.stop();
}
