//! Shared by the refusal tests: a validator with a local store, accredited issuers, and
//! assertions on exact error lines.

use std::path::{Path, PathBuf};

use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;

use super::*;

/// A validator with its ledger in `dir`, and the settings every actor uses: a local
/// store in `<dir>/store` and an empty Solana CLI config (a developer's own config cannot
/// leak in). Returns the validator, its URL, an RPC client, the settings, the store folder.
pub fn start_net(dir: &Path) -> (Validator, String, RpcClient, Vec<(String, String)>, PathBuf) {
    let config = dir.join("config.yml");
    std::fs::write(&config, "---\n").unwrap();
    let store_dir = dir.join("store");
    let env = vec![
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
    let validator = Validator::start(&dir.join("ledger"), &wallet_file(dir, "governance"));
    let url = validator.url.clone();
    let rpc = RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed());
    (validator, url, rpc, env, store_dir)
}

/// Governance accredits `kp` (whose CLI is `cli`) with `roles`; returns the issuer address.
pub fn accredit(gov: &Cli, registry: &str, kp: &Keypair, cli: &Cli, roles: &str) -> String {
    let key = s(&cli.ok(&["identity"]), "encryption_key");
    s(
        &gov.ok(&[
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
        ]),
        "issuer",
    )
}

/// Runs a command that must fail with exit code 1 and exactly the error line `expected`.
pub fn refused_with(cli: &Cli, args: &[&str], expected: &str) {
    let err = cli.fails(args);
    assert_eq!(err.trim_end(), expected, "rekam {args:?}");
}

/// A usage error (clap): exit code 2, and `expected` as the first line of stderr.
pub fn usage_error(cli: &Cli, args: &[&str], expected: &str) {
    let out = cli.run(args);
    assert_eq!(out.code, 2, "rekam {args:?}: {}", out.stderr);
    assert_eq!(
        out.stderr.lines().next(),
        Some(expected),
        "rekam {args:?}: {}",
        out.stderr
    );
}

/// The `event` names of an audit trail, in order.
pub fn audit_events(audit: &Value) -> Vec<String> {
    audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(e, "event"))
        .collect()
}

pub const NOT_GOVERNANCE: &str = "error: instruction 0 failed: NotGovernanceAuthority (6001): Signer is not the governance authority of this deployment";
