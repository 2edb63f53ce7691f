//! Shared by the CLI test binaries: the `rekam localnet` process and RPC helpers.
#![allow(dead_code)]

pub mod forged;
pub mod refusals;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use serde_json::Value;
use solana_instruction::Instruction;
use solana_keypair::{write_keypair_file, Keypair};
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;

pub const BIN: &str = env!("CARGO_BIN_EXE_rekam");

pub struct Validator {
    pub child: Child,
    pub url: String,
}

impl Validator {
    /// `rekam localnet --bare` with `deployer` (a keypair file) as the program's upgrade
    /// authority: the test initializes the deployment itself, as that wallet.
    pub fn start(ledger: &Path, deployer: &Path) -> Self {
        Self::start_with(ledger, deployer, &["--bare"]).0
    }

    /// `rekam localnet` with `extra` flags, signing as `keypair`; returns the startup JSON.
    pub fn start_with(ledger: &Path, keypair: &Path, extra: &[&str]) -> (Self, Value) {
        let mut child = Command::new(BIN)
            .args([
                "localnet",
                "--rpc-port",
                "0",
                "--slot-time-ms",
                "100",
                "--output",
                "json",
                "--ledger",
            ])
            .arg(ledger)
            .arg("--keypair")
            .arg(keypair)
            .args(extra)
            .env("REKAM_SOLANA_CONFIG", "/dev/null")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rekam localnet");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut json = String::new();
        loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).expect("read stdout") > 0,
                "localnet exited before printing its URL"
            );
            json.push_str(&line);
            if line.trim_end() == "}" {
                break;
            }
        }
        // Keep draining stdout so the validator never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let started: serde_json::Value = serde_json::from_str(&json).expect("startup JSON");
        let url = started["url"].as_str().expect("url").to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "serves on loopback: {url}"
        );
        assert_eq!(
            started["program_id"].as_str(),
            Some(rekam::ID.to_string().as_str())
        );
        (Self { child, url }, started)
    }

    /// SIGTERM, then wait: the validator flushes its ledger and exits 0.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "localnet exited with {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "localnet did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub fn send(
    rpc: &RpcClient,
    ixs: &[Instruction],
    payer: &Keypair,
    extra: &[&Keypair],
) -> Result<(), String> {
    let mut signers = vec![payer];
    signers.extend_from_slice(extra);
    let blockhash = rpc.get_latest_blockhash().map_err(|e| e.to_string())?;
    let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &signers, blockhash);
    rpc.send_and_confirm_transaction(&tx)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub fn airdrop(rpc: &RpcClient, to: &Pubkey, lamports: u64) {
    rpc.request_airdrop(to, lamports).expect("airdrop");
    let deadline = Instant::now() + Duration::from_secs(30);
    while rpc.get_balance(to).expect("balance") < lamports {
        assert!(Instant::now() < deadline, "airdrop did not land");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn create_mint_and_account(rpc: &RpcClient, payer: &Keypair) -> (Pubkey, Pubkey) {
    let mint = Keypair::new();
    let account = Keypair::new();
    let token = anchor_spl::token::ID;
    let mint_rent = rpc.get_minimum_balance_for_rent_exemption(82).unwrap();
    let account_rent = rpc.get_minimum_balance_for_rent_exemption(165).unwrap();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            mint_rent,
            82,
            &token,
        ),
        token_ix::initialize_mint2(&token, &mint.pubkey(), &payer.pubkey(), None, 6).unwrap(),
        anchor_lang::solana_program::system_instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            account_rent,
            165,
            &token,
        ),
        token_ix::initialize_account3(&token, &account.pubkey(), &mint.pubkey(), &payer.pubkey())
            .unwrap(),
    ];
    send(rpc, &ixs, payer, &[&mint, &account]).expect("create mint and account");
    (mint.pubkey(), account.pubkey())
}

/// The synthetic FHIR fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fhir")
}

/// One actor: a keypair file and the settings (store, Solana config) every call uses.
pub struct Cli {
    pub url: String,
    pub keypair: PathBuf,
    pub env: Vec<(String, String)>,
}

pub struct Outcome {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    /// Runs `rekam` with `--output output`.
    pub fn run_as(&self, args: &[&str], output: &str) -> Outcome {
        let out = Command::new(BIN)
            .args(args)
            .args(["--url", &self.url, "--output", output, "--keypair"])
            .arg(&self.keypair)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("REKAM_URL")
            .output()
            .expect("run rekam");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Outcome {
            code: out.status.code().unwrap_or(-1),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `rekam` with JSON output.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_as(args, "json")
    }

    pub fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_eq!(out.code, 0, "rekam {args:?} failed: {}", out.stderr);
        out.json
    }

    /// Runs a command that must fail (exit 1); returns what it printed.
    pub fn refused(&self, args: &[&str]) -> Outcome {
        let out = self.run(args);
        assert_eq!(
            out.code, 1,
            "rekam {args:?} should have failed; stdout {}",
            out.stdout
        );
        out
    }

    /// Runs a command that must fail; returns its error text.
    pub fn fails(&self, args: &[&str]) -> String {
        self.refused(args).stderr
    }
}

/// The keypair file `<dir>/<name>.json`, written first when it does not exist.
pub fn wallet_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    if !path.exists() {
        write_keypair_file(&Keypair::new(), &path).expect("write keypair");
    }
    path
}

/// A funded wallet (its keypair file in `dir`, new unless [`wallet_file`] made it
/// already), and a CLI that signs with it.
pub fn actor(
    dir: &Path,
    name: &str,
    rpc: &RpcClient,
    url: &str,
    env: &[(String, String)],
) -> (Keypair, Cli) {
    let path = wallet_file(dir, name);
    let kp = solana_keypair::read_keypair_file(&path).expect("read keypair");
    airdrop(rpc, &kp.pubkey(), 10_000_000_000);
    (
        kp,
        Cli {
            url: url.into(),
            keypair: path,
            env: env.to_vec(),
        },
    )
}

/// A string field of a JSON value.
pub fn s(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string field {field} in {v}"))
        .to_string()
}

/// Files below `dir`, recursively (a local store's objects).
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

/// Moves the validator's clock to `unix` seconds (surfpool's time-travel cheat code) and
/// waits until a new slot carries the new time.
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
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let slot = rpc.get_slot().unwrap();
        if rpc.get_block_time(slot).map(|t| t >= unix).unwrap_or(false) {
            return;
        }
        assert!(Instant::now() < deadline, "clock did not move");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The program account at `address` (base58), read from the validator and decoded.
pub fn fetch<T: anchor_lang::AccountDeserialize>(rpc: &RpcClient, address: &str) -> T {
    let account = rpc
        .get_account(&address.parse().expect("an address"))
        .expect("the account exists");
    T::try_deserialize(&mut account.data.as_slice()).expect("the account decodes")
}
