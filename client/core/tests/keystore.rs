//! The encryption identity's keystore (`rekam-identity/1`): a random seed no wallet
//! signature reveals, bound to its wallet, optionally sealed under a passphrase; every
//! bad file is refused with its exact error and nothing is overwritten.

use rekam_client::crypto::keystore::{self, KeystoreError};
use rekam_client::crypto::Identity;
use sha2::Sha256;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// The identity wave 1 derived from the wallet's signature over a fixed text: what any
/// website that gets the wallet to sign that text could compute.
fn phished(wallet: &Keypair) -> Identity {
    let signature: [u8; 64] = wallet.sign_message(b"Rekam encryption key v1\n").into();
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"rekam/v1/identity"), &signature);
    let mut ikm = [0u8; 32];
    hk.expand(b"x25519", &mut ikm).unwrap();
    Identity::from_ikm(&ikm)
}

#[test]
fn no_signature_the_wallet_gives_reveals_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Keypair::new();
    let path = dir.path().join("id.identity.json");
    let identity = keystore::create(&path, &wallet.pubkey(), None, false).unwrap();
    assert_ne!(
        identity.public_key(),
        phished(&wallet).public_key(),
        "a phished signature over the old identity text gives another key"
    );
    // And two identities of one wallet are independent (random, not derived).
    let other =
        keystore::create(&dir.path().join("b.json"), &wallet.pubkey(), None, false).unwrap();
    assert_ne!(identity.public_key(), other.public_key());
}

#[test]
fn an_identity_file_is_private_reopens_to_the_same_key_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Keypair::new().pubkey();
    let path = dir.path().join("sub/id.identity.json");
    let identity = keystore::create(&path, &wallet, None, false).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let info = keystore::info(&path).unwrap();
    assert_eq!(info.wallet, wallet);
    assert_eq!(info.public_key, identity.public_key());
    assert!(!info.protected);
    let again = keystore::open_with(&path, &wallet, None).unwrap();
    assert_eq!(again.public_key(), identity.public_key());

    let err = keystore::create(&path, &wallet, None, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} already exists; refusing to overwrite an encryption identity (pass --force to replace it)",
            path.display()
        )
    );
    assert_eq!(
        keystore::info(&path).unwrap().public_key,
        identity.public_key()
    );
    let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left");
}

#[test]
fn a_sealed_identity_needs_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Keypair::new().pubkey();
    let path = dir.path().join("id.identity.json");
    let identity = keystore::create(&path, &wallet, Some("correct horse"), false).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["protection"], "pbkdf2-sha256/aes-256-gcm");
    assert_eq!(json["iterations"], keystore::PBKDF2_ITERATIONS);
    let sealed = hex::decode(json["seed"].as_str().unwrap()).unwrap();
    assert_eq!(
        sealed.len(),
        32 + 16,
        "the seed is stored sealed, with its tag"
    );
    let info = keystore::info(&path).unwrap();
    assert!(info.protected);
    assert_eq!(
        info.public_key,
        identity.public_key(),
        "the public key reads without it"
    );

    let opened = keystore::open_with(&path, &wallet, Some("correct horse")).unwrap();
    assert_eq!(opened.public_key(), identity.public_key());
    assert_eq!(
        keystore::open_with(&path, &wallet, Some("wrong horse"))
            .unwrap_err()
            .to_string(),
        format!(
            "wrong passphrase for the encryption identity {}",
            path.display()
        )
    );
    assert_eq!(
        keystore::open_with(&path, &wallet, None)
            .unwrap_err()
            .to_string(),
        format!(
            "the encryption identity {} is protected by a passphrase, and none was given",
            path.display()
        )
    );
}

#[test]
fn a_sealed_seed_is_bound_to_its_public_key_and_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Keypair::new().pubkey();
    let path = dir.path().join("id.identity.json");
    keystore::create(&path, &wallet, Some("pw"), false).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Claim another public key: the seal's associated data no longer matches.
    json["public_key"] = hex::encode(Identity::generate().public_key()).into();
    std::fs::write(&path, json.to_string()).unwrap();
    assert!(matches!(
        keystore::open_with(&path, &wallet, Some("pw")),
        Err(KeystoreError::WrongPassphrase(_))
    ));
}

#[test]
fn bad_identity_files_are_refused_with_their_exact_error() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Keypair::new().pubkey();
    let stranger = Keypair::new().pubkey();
    let path = dir.path().join("id.identity.json");

    let missing = keystore::open_with(&path, &wallet, None).unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!("no encryption identity at {}", path.display())
    );

    let identity = keystore::create(&path, &wallet, None, false).unwrap();
    assert_eq!(
        keystore::open_with(&path, &stranger, None)
            .unwrap_err()
            .to_string(),
        format!(
            "the encryption identity {} belongs to wallet {wallet}, not to {stranger}",
            path.display()
        )
    );

    // A plain seed edited by one byte no longer gives its public key.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut seed = hex::decode(json["seed"].as_str().unwrap()).unwrap();
    seed[0] ^= 1;
    json["seed"] = hex::encode(&seed).into();
    std::fs::write(&path, json.to_string()).unwrap();
    assert_eq!(
        keystore::open_with(&path, &wallet, None)
            .unwrap_err()
            .to_string(),
        format!(
            "the encryption identity {} is corrupt: its seed does not give its public key",
            path.display()
        )
    );
    assert_ne!(identity.public_key(), [0; 32]);

    for (text, why) in [
        ("not json", "expected ident at line 1 column 2"),
        (
            r#"{"format":"rekam-identity/9","wallet":"x","public_key":"","protection":"none","seed":""}"#,
            "format \"rekam-identity/9\", expected \"rekam-identity/1\"",
        ),
        (
            r#"{"format":"rekam-identity/1","wallet":"x","public_key":"","protection":"none","seed":""}"#,
            "the wallet is not a base58 address",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        assert_eq!(
            keystore::open_with(&path, &wallet, None)
                .unwrap_err()
                .to_string(),
            format!(
                "{} is not a Rekam encryption identity ({why})",
                path.display()
            ),
            "{text}"
        );
    }
}

#[test]
fn the_default_identity_file_sits_beside_the_keypair() {
    assert_eq!(
        keystore::default_path(std::path::Path::new("/home/a/.config/solana/id.json")),
        std::path::PathBuf::from("/home/a/.config/solana/id.identity.json")
    );
    assert_eq!(
        keystore::next_path(std::path::Path::new("/x/id.identity.json")),
        std::path::PathBuf::from("/x/id.identity.json.next")
    );
}

/// Wave 1's record salt: HKDF over the clinic wallet's signature of a fixed-format text
/// (a phishing site could get that signature, and with it the salt that hides the
/// record's commitments; a hardware wallet cannot produce it at all).
fn phished_salt(
    clinic: &Keypair,
    bundle: &[u8],
    patient: &anchor_lang::prelude::Pubkey,
) -> [u8; 32] {
    use sha2::Digest;
    let mut message = b"Rekam record salt v1\n".to_vec();
    message.extend_from_slice(&Sha256::digest(bundle));
    message.extend_from_slice(patient.as_ref());
    let signature: [u8; 64] = clinic.sign_message(&message).into();
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"rekam/v1/record-salt"), &signature);
    let mut salt = [0u8; 32];
    hk.expand(b"salt", &mut salt).unwrap();
    salt
}

#[test]
fn a_record_salt_comes_from_the_clinic_identity_not_from_a_wallet_signature() {
    let clinic_wallet = Keypair::new();
    let clinic = Identity::generate();
    let patient = anchor_lang::prelude::Pubkey::new_unique();
    let bundle = br#"{"resourceType":"Bundle"}"#;
    let salt = rekam_client::record::record_salt(&clinic, bundle, &patient);
    assert_ne!(salt, phished_salt(&clinic_wallet, bundle, &patient));
    // Deterministic for one clinic, Bundle and patient (a re-run resumes), and different
    // when any of the three changes.
    assert_eq!(
        salt,
        rekam_client::record::record_salt(&clinic, bundle, &patient)
    );
    assert_ne!(
        salt,
        rekam_client::record::record_salt(&Identity::generate(), bundle, &patient)
    );
    assert_ne!(
        salt,
        rekam_client::record::record_salt(&clinic, b"{}", &patient)
    );
    assert_ne!(
        salt,
        rekam_client::record::record_salt(
            &clinic,
            bundle,
            &anchor_lang::prelude::Pubkey::new_unique()
        )
    );
}
