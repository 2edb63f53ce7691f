//! Signers other than keypair files: a hardware wallet (`-k usb://ledger`) through the real
//! `rekam` binary, and the library's flows driven by any `Signer` (a wallet whose secret
//! Rekam never sees) against a real local validator. A signer that cannot sign is an
//! exact error and nothing reaches the chain.

mod common;

use common::refusals::*;
use common::*;
use rekam::PatientRegisterArgs;
use rekam_client::chain::{ChainClient, ChainError};
use rekam_client::crypto::Identity;
use rekam_client::ix;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::{Signer, SignerError};

/// A wallet that keeps its secret to itself and signs on request, as a hardware wallet
/// does (it is not a `Keypair`, so nothing can reach for the secret).
struct Device(Keypair);

impl Signer for Device {
    fn try_pubkey(&self) -> Result<solana_pubkey::Pubkey, SignerError> {
        Ok(self.0.pubkey())
    }
    fn try_sign_message(&self, message: &[u8]) -> Result<Signature, SignerError> {
        self.0.try_sign_message(message)
    }
    fn is_interactive(&self) -> bool {
        true
    }
}

/// A hardware wallet that was unplugged (or whose user pressed "reject").
struct Unplugged(solana_pubkey::Pubkey);

impl Signer for Unplugged {
    fn try_pubkey(&self) -> Result<solana_pubkey::Pubkey, SignerError> {
        Ok(self.0)
    }
    fn try_sign_message(&self, _: &[u8]) -> Result<Signature, SignerError> {
        Err(SignerError::NoDeviceFound)
    }
    fn is_interactive(&self) -> bool {
        true
    }
}

fn register(
    chain: &ChainClient,
    wallet: &dyn Signer,
    pseudonym: [u8; 32],
) -> Result<String, ChainError> {
    let ix = ix::patient_register(
        &rekam::ID,
        &wallet.pubkey(),
        PatientRegisterArgs {
            pseudonym,
            encryption_key: Identity::generate().public_key(),
        },
    );
    chain.send(&[ix], wallet, &[])
}

#[test]
fn a_hardware_wallet_signs_transactions_and_a_missing_one_is_an_exact_error() {
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, _store) = start_net(dir.path());
    let (_, gov) = actor(dir.path(), "governance", &rpc, &url, &env);

    // No device on this machine: the command says so, whatever it was going to do.
    for locator in ["usb://ledger", "usb://ledger?key=0/1"] {
        let ledger = Cli {
            url: url.clone(),
            keypair: locator.into(),
            env: env.clone(),
        };
        let expected = format!(
            "error: signer {locator}: no hardware wallet found. Connect and unlock the device, open its Solana app, and run the command again"
        );
        refused_with(&ledger, &["wallet", "address"], &expected);
        refused_with(&ledger, &["identity"], &expected);
        refused_with(&ledger, &["patient", "register"], &expected);
    }
    // A locator that names no manufacturer, another device kind, and signers Rekam does
    // not take.
    refused_with(
        &Cli {
            url: url.clone(),
            keypair: "usb://trezor".into(),
            env: env.clone(),
        },
        &["wallet", "address"],
        "error: signer usb://trezor: only Ledger hardware wallets are supported",
    );
    let unknown = Cli {
        url: url.clone(),
        keypair: "usb://nano".into(),
        env: env.clone(),
    };
    refused_with(
        &unknown,
        &["wallet", "address"],
        "error: signer usb://nano: not a manufacturer",
    );
    let prompt = Cli {
        url: url.clone(),
        keypair: "prompt://".into(),
        env: env.clone(),
    };
    refused_with(
        &prompt,
        &["wallet", "address"],
        "error: signer prompt://: prompt:// signers are not supported by rekam yet; pass a keypair file or a usb:// hardware wallet",
    );
    // A local validator's faucet needs the secret itself.
    refused_with(
        &Cli {
            url: url.clone(),
            keypair: "usb://ledger".into(),
            env: env.clone(),
        },
        &[
            "localnet",
            "--ledger",
            dir.path().join("other-ledger").to_str().unwrap(),
        ],
        "error: signer usb://ledger: this command needs a keypair file, not a hardware wallet",
    );
    drop(gov);

    // The library's flows take any signer: a device-held key registers a patient.
    let chain = ChainClient::new(
        &url,
        CommitmentConfig::confirmed(),
        rekam::ID,
        Default::default(),
    );
    let device = Device(Keypair::new());
    airdrop(&rpc, &device.pubkey(), 1_000_000_000);
    let pseudonym = [7u8; 32];
    register(&chain, &device, pseudonym).expect("a device signs the transaction");
    let patient: rekam::Patient = chain
        .fetch(&rekam_client::pda::patient(&rekam::ID, &pseudonym))
        .unwrap()
        .expect("the patient profile exists");
    assert_eq!(patient.authority, device.pubkey());

    // An unplugged device: an exact error, no transaction, no account, no fee.
    let unplugged = Unplugged(Keypair::new().pubkey());
    airdrop(&rpc, &unplugged.pubkey(), 1_000_000_000);
    let before = rpc.get_balance(&unplugged.pubkey()).unwrap();
    let err = register(&chain, &unplugged, [8u8; 32]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the wallet did not sign the transaction: no device found"
    );
    assert!(matches!(err, ChainError::Signing(_)));
    assert!(chain
        .fetch::<rekam::Patient>(&rekam_client::pda::patient(&rekam::ID, &[8u8; 32]))
        .unwrap()
        .is_none());
    assert_eq!(rpc.get_balance(&unplugged.pubkey()).unwrap(), before);
    validator.stop();
}
