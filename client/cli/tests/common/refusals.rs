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

/// Files below `dir`, recursively (the local store's objects).
pub fn walk(dir: &Path) -> usize {
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

/// Moves the validator's clock to `unix` seconds (surfpool's time-travel cheat code).
pub fn time_travel(rpc: &RpcClient, unix: i64) {
    use solana_rpc_client_api::request::RpcRequest;
    let _: Value = rpc
        .send(
            RpcRequest::Custom {
                method: "surfnet_timeTravel",
            },
            serde_json::json!([{ "absoluteTimestamp": unix * 1000 }]),
        )
        .expect("surfnet_timeTravel");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let slot = rpc.get_slot().unwrap();
        if rpc.get_block_time(slot).map(|t| t >= unix).unwrap_or(false) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "clock did not move");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
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
