//! The `rekam` binary as a separate process: the local validator serves JSON-RPC, a
//! client in this process sends transactions through it with `solana-rpc-client`, and
//! state survives a restart on the same ledger.

mod common;

use std::process::Command;

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anchor_spl::token_interface::TokenAccount;
use rekam::{Config, ConfigInitializeArgs, RekamError};
use rekam_client::{ix, pda};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;

use common::*;

fn read<T: AccountDeserialize>(rpc: &RpcClient, key: &Pubkey) -> T {
    let account = rpc
        .get_account(key)
        .unwrap_or_else(|e| panic!("read {key}: {e}"));
    T::try_deserialize(&mut account.data.as_slice()).expect("decode")
}

#[test]
fn transactions_through_the_localnet_persist_across_restarts() {
    let ledger = tempfile::tempdir().expect("tempdir");
    let wallets = tempfile::tempdir().expect("tempdir");
    let deployer = wallet_file(wallets.path(), "deployer");
    let payer = solana_keypair::read_keypair_file(&deployer).expect("deployer");
    let program_id = rekam::ID;

    // First run: initialize through JSON-RPC, read the accounts back.
    let validator = Validator::start(ledger.path(), &deployer);
    let rpc = RpcClient::new_with_commitment(validator.url.clone(), CommitmentConfig::confirmed());
    airdrop(&rpc, &payer.pubkey(), 5_000_000_000);
    let (mint, destination) = create_mint_and_account(&rpc, &payer);
    let init = ix::config_initialize(
        &program_id,
        &payer.pubkey(),
        &mint,
        &anchor_spl::token::ID,
        ConfigInitializeArgs {
            authority: payer.pubkey(),
            protocol_fee_bps: 125,
            accept_freeze_authority: false,
        },
    );
    send(&rpc, &[init], &payer, &[]).expect("config_initialize over RPC");
    let config: Config = read(&rpc, &pda::config(&program_id));
    assert_eq!(config.authority, payer.pubkey());
    assert_eq!(config.protocol_fee_bps, 125);
    let treasury_key = pda::treasury(&program_id, &mint);
    let treasury_account = rpc
        .get_account(&treasury_key)
        .expect("treasury created by CPI");
    assert_eq!(treasury_account.owner, anchor_spl::token::ID);
    let treasury: TokenAccount = read(&rpc, &treasury_key);
    assert_eq!(
        (treasury.mint, treasury.owner, treasury.amount),
        (mint, pda::config(&program_id), 0)
    );

    // A program error travels back over RPC with its code.
    let zero = ix::treasury_withdraw(
        &program_id,
        &payer.pubkey(),
        &mint,
        &destination,
        &anchor_spl::token::ID,
        0,
    );
    let err = send(&rpc, &[zero], &payer, &[]).expect_err("zero withdraw must fail");
    assert!(
        err.contains(&format!(
            "custom program error: {:#x}",
            RekamError::ZeroAmount.code()
        )),
        "unexpected error: {err}"
    );
    validator.stop();

    // Second run on the same ledger: the state is there and the program still runs.
    let validator = Validator::start(ledger.path(), &deployer);
    let rpc = RpcClient::new_with_commitment(validator.url.clone(), CommitmentConfig::confirmed());
    let again: Config = read(&rpc, &pda::config(&program_id));
    assert_eq!(again, config, "config persisted");
    let mint_fees = token_ix::mint_to(
        &anchor_spl::token::ID,
        &mint,
        &treasury_key,
        &payer.pubkey(),
        &[],
        500,
    )
    .unwrap();
    let withdraw = ix::treasury_withdraw(
        &program_id,
        &payer.pubkey(),
        &mint,
        &destination,
        &anchor_spl::token::ID,
        200,
    );
    send(&rpc, &[mint_fees, withdraw], &payer, &[]).expect("withdraw after restart");
    assert_eq!(read::<TokenAccount>(&rpc, &treasury_key).amount, 300);
    assert_eq!(read::<TokenAccount>(&rpc, &destination).amount, 200);
    validator.stop();
}

#[test]
fn init_with_an_unreadable_keypair_fails_with_advice_and_sends_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("id.json");
    std::fs::write(&bad, "not a keypair").unwrap();
    let out = Command::new(BIN)
        .args([
            "init",
            "--treasury-mint",
            &Pubkey::new_unique().to_string(),
            "--url",
            "http://127.0.0.1:1",
            "--keypair",
        ])
        .arg(&bad)
        .output()
        .expect("run rekam init");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot read keypair file {}", bad.display())),
        "{stderr}"
    );
    assert!(stderr.contains("solana-keygen new"), "{stderr}");
}

#[test]
fn demo_runs_the_story_on_an_embedded_validator() {
    let out = Command::new(BIN)
        .args(["demo", "--output", "json"])
        .output()
        .expect("run rekam demo");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("demo JSON");
    // Every refusal in the story was a refusal, and every copy was the original (the
    // demo exits 1 otherwise; these pin what it reports).
    let step = |name: &str| -> String {
        summary["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no demo step {name:?}"))["result"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        step("doctor read (with receipt)"),
        "verified, identical: true"
    );
    assert_eq!(
        step("one lab value disclosed"),
        "verified: true; tampered copy refused"
    );
    assert!(step("out-of-scope read").starts_with("the key grant has no entry for attestation "));
    assert!(step("lab-only consent")
        .starts_with("labs opened, diagnosis refused (the key grant has no entry"));
    assert_eq!(step("read after revocation"), "ConsentRevoked");
    assert_eq!(step("study contributions paid"), "3 patients");
    assert_eq!(step("researcher decrypted"), "3 verified copies");
    assert_eq!(
        step("passport"),
        "green, then red: the attestation has been revoked"
    );
    let deployment = &summary["deployment"];
    assert_eq!(
        deployment["config"].as_str(),
        Some(pda::config(&rekam::ID).to_string().as_str())
    );
    assert_eq!(deployment["protocol_fee_bps"].as_u64(), Some(250));
    assert_eq!(
        deployment["token_program"].as_str(),
        Some(anchor_spl::token::ID.to_string().as_str())
    );
    // The study paid three patients and the flows add up.
    let flows: std::collections::HashMap<String, u64> = summary["token_flows"]
        .as_array()
        .expect("token flows")
        .iter()
        .map(|f| {
            (
                f["step"].as_str().unwrap().to_string(),
                f["result"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    for i in 1..=3 {
        assert_eq!(flows[&format!("paid to patient {i}")], 975_000);
    }
    assert_eq!(flows["protocol fees (treasury)"], 75_000);
    assert_eq!(
        flows["escrowed"],
        3 * 975_000 + flows["protocol fees (treasury)"] + flows["refunded to researcher"]
    );
    assert_eq!(
        flows["researcher holds now"],
        flows["researcher budget"] - flows["escrowed"] + flows["refunded to researcher"]
    );
    // The research read is in the first patient's audit trail.
    let audit = summary["audit"]["events"].as_array().unwrap();
    assert!(audit
        .iter()
        .any(|e| e["event"] == "read" && e["purpose"] == "HRESCH"));
}

/// An outside client from a registry (@solana/kit, pinned in .ci/oracles) builds, signs
/// and sends its own transactions through the local validator at every commitment level
/// (issue: a confirmed blockhash refused with `BlockhashNotFound`). The cause was the
/// RPC's default preflight commitment, finalized, which cannot see the newest blockhash
/// yet, exactly as on an agave cluster; kit, web3.js and wallets send their commitment
/// as the preflight commitment, and then every level works (docs/program.md, Localnet).
#[test]
fn an_outside_client_sends_at_every_commitment_level() {
    let oracles = std::env::var("REKAM_TEST_ORACLES")
        .expect("REKAM_TEST_ORACLES is not set: run the suite with tests/run.sh");
    let dir = tempfile::tempdir().unwrap();
    let deployer = wallet_file(dir.path(), "deployer");
    let (validator, started) =
        Validator::start_with(&dir.path().join("ledger"), &deployer, &["--bare"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oracles/kit_localnet.js");
    let out = Command::new("node")
        .arg(&script)
        .arg(&validator.url)
        .arg(started["websocket_url"].as_str().unwrap())
        .env("NODE_PATH", &oracles)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kit client failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("report JSON");
    for (i, level) in ["processed", "confirmed", "finalized"].iter().enumerate() {
        let moved = &report["levels"][level];
        assert_eq!(
            moved["moved"],
            (1_000_000 * (i + 1)).to_string(),
            "{level}: {moved}"
        );
        assert_eq!(moved["moved"], moved["expected"]);
    }
    assert_eq!(report["kit_send_and_confirm"]["moved"], "4000000");
    // Without a preflight commitment, the RPC default (finalized) refuses the newest
    // blockhash, with BlockhashNotFound: the documented agave behaviour, kept.
    assert_eq!(report["default_preflight"]["refused"], true, "{report}");
    assert_eq!(
        report["default_preflight"]["blockhash_not_found"], true,
        "{report}"
    );
    // The same transaction with the matching preflight commitment went through.
    assert!(
        report["matched_preflight"]["signature"]
            .as_str()
            .unwrap()
            .len()
            > 60
    );
    // A read's context slot is the slot at the same commitment (getSlot defaults to
    // finalized, ~31 slots behind processed: that was the "30 slots ahead").
    let slot = |level: &str, field: &str| -> u64 {
        report["slots"][level][field]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    for level in ["processed", "confirmed", "finalized"] {
        let (get, context) = (slot(level, "get_slot"), slot(level, "context_slot"));
        assert!(
            context.abs_diff(get) <= 3,
            "{level}: getSlot {get}, context {context}"
        );
    }
    let lag = slot("processed", "get_slot") - slot("finalized", "get_slot");
    assert!(
        (28..=36).contains(&lag),
        "finalized lags processed by ~31 slots: {lag}"
    );
    validator.stop();
}
