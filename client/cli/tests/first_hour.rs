//! A newcomer's first hour through the real binary, with no Solana tools installed:
//! `rekam localnet` comes up ready (wallet, funds, test mint, deployment), `rekam wallet
//! new`, `airdrop` and `balance`, only the deployer initializes a fresh deployment, and
//! the README's guided path runs literally, command by command.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rekam::{Config, ConfigInitializeArgs, RekamError};
use rekam_client::{ix, pda};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;

fn cli(url: &str, keypair: &Path) -> Cli {
    Cli {
        url: url.to_string(),
        keypair: keypair.to_path_buf(),
        env: vec![("REKAM_SOLANA_CONFIG".into(), "/dev/null".into())],
    }
}

fn config_of(rpc: &RpcClient) -> Option<Config> {
    let account = rpc
        .get_account_with_commitment(&pda::config(&rekam::ID), CommitmentConfig::confirmed())
        .expect("read config")
        .value?;
    Some(anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap())
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn localnet_comes_up_ready_and_a_restart_keeps_the_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("home/.config/solana/id.json");
    let ledger = dir.path().join("ledger");
    let (validator, started) = Validator::start_with(&ledger, &wallet, &[]);

    // The wallet was created (a Solana keypair file, owner-only) and deploys the program.
    let keypair = solana_keypair::read_keypair_file(&wallet).expect("a Solana keypair file");
    #[cfg(unix)]
    assert_eq!(mode_of(&wallet), 0o600);
    assert_eq!(started["wallet_created"], true);
    assert_eq!(started["deployer"], keypair.pubkey().to_string());
    let ready = &started["ready"];
    assert_eq!(ready["initialized_now"], true);
    assert_eq!(ready["wallet"], keypair.pubkey().to_string());
    assert_eq!(started["next"].as_array().unwrap().len(), 3);

    // The deployment is initialized with the wallet as governance and the test mint.
    let rpc = RpcClient::new_with_commitment(validator.url.clone(), CommitmentConfig::confirmed());
    let config = config_of(&rpc).expect("initialized");
    assert_eq!(config.authority, keypair.pubkey());
    assert_eq!(config.treasury_mint.to_string(), s(ready, "mint"));
    assert_eq!(config.protocol_fee_bps, 0);

    // `rekam balance` shows the SOL and the million test tokens.
    let me = cli(&validator.url, &wallet);
    let balance = me.ok(&["balance"]);
    assert_eq!(balance["address"], keypair.pubkey().to_string());
    let lamports = balance["lamports"].as_u64().unwrap();
    assert!(
        (99_000_000_000..=100_000_000_000).contains(&lamports),
        "funded with 100 SOL less fees: {lamports}"
    );
    assert_eq!(balance["token"]["amount"], 1_000_000_000_000u64);
    assert_eq!(balance["token"]["ui_amount"], "1000000");
    assert_eq!(balance["token"]["mint"], s(ready, "mint"));
    validator.stop();

    // A restart on the same ledger finds the deployment and changes nothing.
    let (validator, again) = Validator::start_with(&ledger, &wallet, &[]);
    assert_eq!(again["wallet_created"], false);
    assert_eq!(again["ready"]["initialized_now"], false);
    assert_eq!(again["ready"]["mint"], ready["mint"]);
    let rpc = RpcClient::new_with_commitment(validator.url.clone(), CommitmentConfig::confirmed());
    assert_eq!(config_of(&rpc), Some(config));
    validator.stop();
}

#[test]
fn only_the_deployer_initializes_a_fresh_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let deployer_path = wallet_file(dir.path(), "deployer");
    let validator = Validator::start(&dir.path().join("ledger"), &deployer_path);
    let rpc = RpcClient::new_with_commitment(validator.url.clone(), CommitmentConfig::confirmed());
    assert!(config_of(&rpc).is_none(), "--bare initializes nothing");
    let (deployer_kp, deployer) = actor(dir.path(), "deployer", &rpc, &validator.url, &[]);
    let (stranger_kp, stranger) = actor(dir.path(), "stranger", &rpc, &validator.url, &[]);
    let (mint, _) = create_mint_and_account(&rpc, &stranger_kp);
    let env = vec![("REKAM_SOLANA_CONFIG".to_string(), "/dev/null".to_string())];
    let (deployer, stranger) = (
        Cli {
            env: env.clone(),
            ..deployer
        },
        Cli { env, ..stranger },
    );

    // The CLI explains who may initialize, and sends nothing.
    let err = stranger.fails(&["init", "--treasury-mint", &mint.to_string()]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: only the program's upgrade authority {} can initialize deployment {}; {} is not it",
            deployer_kp.pubkey(),
            rekam::ID,
            stranger_kp.pubkey()
        )
    );
    // A front-runner's own transaction, past the CLI, is refused by the program itself.
    let init = ix::config_initialize(
        &rekam::ID,
        &stranger_kp.pubkey(),
        &mint,
        &anchor_spl::token::ID,
        ConfigInitializeArgs {
            authority: stranger_kp.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    let err = send(&rpc, &[init], &stranger_kp, &[]).expect_err("front-run refused");
    assert!(
        err.contains(&format!(
            "custom program error: {:#x}",
            RekamError::NotUpgradeAuthority.code()
        )),
        "{err}"
    );
    assert!(config_of(&rpc).is_none(), "nothing was created");

    // The deployer initializes, with governance handed to another wallet.
    let out = deployer.ok(&[
        "init",
        "--treasury-mint",
        &mint.to_string(),
        "--authority",
        &stranger_kp.pubkey().to_string(),
    ]);
    assert_eq!(out["authority"], stranger_kp.pubkey().to_string());
    assert_eq!(config_of(&rpc).unwrap().authority, stranger_kp.pubkey());
    validator.stop();
}

#[test]
fn wallet_new_airdrop_and_balance() {
    let dir = tempfile::tempdir().unwrap();
    let deployer = wallet_file(dir.path(), "deployer");
    let validator = Validator::start(&dir.path().join("ledger"), &deployer);
    let url = validator.url.clone();
    let path = dir.path().join("wallets/clinic.json");
    let me = cli(&url, &path);

    let created = me.ok(&["wallet", "new", "-o", path.to_str().unwrap()]);
    let keypair = solana_keypair::read_keypair_file(&path).expect("Solana keypair file");
    assert_eq!(created["address"], keypair.pubkey().to_string());
    #[cfg(unix)]
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(
        me.ok(&["wallet", "address"])["address"],
        keypair.pubkey().to_string()
    );

    // Never overwritten without --force; the old wallet stays.
    let err = me.fails(&["wallet", "new", "-o", path.to_str().unwrap()]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {} already exists; refusing to overwrite a wallet (pass --force to replace it)",
            path.display()
        )
    );
    assert_eq!(
        solana_keypair::read_keypair_file(&path).unwrap().pubkey(),
        keypair.pubkey()
    );

    // Airdrops to the signer, then to an address given as a keypair file.
    let out = me.ok(&["airdrop", "1.5"]);
    assert_eq!(out["lamports"], 1_500_000_000u64);
    assert!(out["signature"].as_str().unwrap().len() > 60);
    assert!(out["token"].is_null(), "no deployment yet: {out}");
    let other = wallet_file(dir.path(), "other");
    let out = me.ok(&["airdrop", "0.25", other.to_str().unwrap()]);
    let other_key = solana_keypair::read_keypair_file(&other).unwrap().pubkey();
    assert_eq!(out["address"], other_key.to_string());
    assert_eq!(out["lamports"], 250_000_000u64);
    let shown = me.ok(&["balance", &other_key.to_string()]);
    assert_eq!(shown["lamports"], 250_000_000u64);
    let text = me.run_as(&["balance", other.to_str().unwrap()], "text");
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("SOL:   0.25 SOL"), "{}", text.stdout);

    // Refusals: a bad amount, a bad address, an unreachable cluster.
    assert_eq!(
        me.fails(&["airdrop", "0"]).trim_end(),
        "error: the airdrop amount must be a positive number of SOL, not 0"
    );
    let bad = me.run(&["balance", "not-an-address"]);
    assert_eq!(bad.code, 2, "a usage error");
    let err = bad.stderr;
    assert!(
        err.contains("\"not-an-address\" is neither a base58 public key nor a keypair file"),
        "{err}"
    );
    let dead = cli("http://127.0.0.1:1", &path);
    let err = dead.fails(&["balance"]);
    assert!(
        err.starts_with("error: cannot reach the cluster at http://127.0.0.1:1"),
        "{err}"
    );
    validator.stop();
}

/// The command lines of the README's guided path: the `sh` block under its heading.
fn guided_path() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("## Your first record in five commands")
        .nth(1)
        .expect("README has the guided path");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Background commands of the guided path, killed when the test ends (even by a panic),
/// so no validator outlives it.
struct Background(Vec<std::process::Child>);

impl Drop for Background {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until the background command's output (in `log`) holds `line`.
fn wait_for(log: &Path, line: &str, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(log) {
            f.read_to_string(&mut text).unwrap();
        }
        if text.contains(line) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("background command exited with {status}: {text}");
        }
        assert!(Instant::now() < deadline, "no {line:?} in: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_readme_guided_path_runs_literally() {
    let lines = guided_path();
    assert_eq!(lines.len(), 5, "five commands: {lines:?}");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // Commands run from the repository root in the README; give the temporary working
    // folder the repository's fixtures at the same relative path.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::os::unix::fs::symlink(repo.join("tests"), dir.path().join("tests")).unwrap();
    let bin_dir = PathBuf::from(BIN).parent().unwrap().to_path_buf();
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    let shell = |line: &str| {
        let mut command = Command::new("bash");
        command
            .args(["-c", line])
            .current_dir(dir.path())
            .env_clear()
            .env("HOME", &home)
            .env("PATH", &path);
        command
    };
    // No Solana tool suite on this PATH.
    for tool in ["solana", "solana-keygen", "spl-token"] {
        let found = shell(&format!("command -v {tool}")).output().unwrap();
        assert!(!found.status.success(), "{tool} must not be needed");
    }

    let mut background = Background(Vec::new());
    for line in &lines {
        if let Some(command) = line.strip_suffix('&') {
            let log = dir
                .path()
                .join(format!("background-{}.log", background.0.len()));
            let out = std::fs::File::create(&log).unwrap();
            let child = shell(command.trim())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap();
            background.0.push(child);
            let child = background.0.last_mut().unwrap();
            wait_for(&log, "Press Ctrl-C to stop.", child);
            continue;
        }
        let out = shell(line).stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "README command failed: {line}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Progress bars: drawn on a terminal, never into JSON output or a pipe. `script`
    // gives the command a pseudo-terminal; the folder holds five Bundles.
    // Three copies of the fixture Bundles, each with its own Bundle.id (new records).
    for batch in 1..=3 {
        let folder = dir.path().join(format!("batch{batch}"));
        std::fs::create_dir_all(&folder).unwrap();
        for entry in std::fs::read_dir(repo.join("tests/fixtures/fhir")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let mut bundle: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            bundle["id"] = format!("batch{batch}").into();
            std::fs::write(
                folder.join(path.file_name().unwrap()),
                serde_json::to_vec_pretty(&bundle).unwrap(),
            )
            .unwrap();
        }
    }
    let attest_folder =
        |n: u8| format!("rekam -k clinic.json attest batch{n} --patient patient.json");
    let on_tty = shell(&format!("script -qec '{}' /dev/null", attest_folder(1)))
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let tty_text = String::from_utf8_lossy(&on_tty.stdout);
    assert!(on_tty.status.success(), "{tty_text}");
    assert!(
        tty_text.contains("attesting"),
        "a bar on a terminal: {tty_text}"
    );
    let piped = shell(&attest_folder(2)).output().unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("attesting"));
    let json_on_tty = shell(&format!(
        "script -qec '{} --output json' /dev/null",
        attest_folder(3)
    ))
    .output()
    .unwrap();
    let json_text = String::from_utf8_lossy(&json_on_tty.stdout);
    assert!(
        !json_text.contains("attesting"),
        "no bar with --output json: {json_text}"
    );

    // The fetched record is the attested Bundle, verified against its attestation.
    let fetched = std::fs::read(dir.path().join("my-record.json")).expect("fetched record");
    let original = std::fs::read(repo.join("tests/fixtures/fhir/lab-hba1c.json")).unwrap();
    assert_eq!(
        fetched, original,
        "the patient got back exactly what was attested"
    );
    for child in &mut background.0 {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "localnet did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn help_has_a_line_per_argument_and_completions_generate() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().expect("run rekam");
        assert!(
            out.status.success(),
            "rekam {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let help = run(&["consent", "grant", "--help"]);
    // clap prints the help on the flag's line, or on the next, further indented.
    let lines: Vec<&str> = help.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("--grantee <GRANTEE>"))
        .expect("--grantee listed");
    let same_line = lines[at].trim_start().len() > "--grantee <GRANTEE>".len();
    let next_line = lines.get(at + 1).is_some_and(|l| {
        l.starts_with("          ") && !l.trim_start().starts_with('-') && !l.trim().is_empty()
    });
    assert!(same_line || next_line, "--grantee has a help line:\n{help}");
    assert!(
        help.trim_end().lines().any(|l| l.starts_with("Example")),
        "{help}"
    );
    assert!(help.trim_end().ends_with(|c: char| !c.is_whitespace()));

    let bash = run(&["completions", "bash"]);
    assert!(bash.contains("_rekam()"), "bash completion function");
    assert!(bash.contains("complete -F _rekam"), "bash registration");
    let zsh = run(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef rekam"), "zsh header");
    let fish = run(&["completions", "fish"]);
    assert!(fish.contains("complete -c rekam"), "fish");
    for shell in [&bash, &zsh, &fish] {
        for sub in [
            "localnet", "airdrop", "balance", "wallet", "attest", "fetch",
        ] {
            assert!(shell.contains(sub), "completion knows {sub}");
        }
    }
    // A bash that loads the script accepts it.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("rekam.bash");
    std::fs::write(&script, &bash).unwrap();
    let check = Command::new("bash")
        .args([
            "-c",
            &format!("source {} && complete -p rekam", script.display()),
        ])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("_rekam"));

    // Unknown shells are refused by the parser with its usage error (exit 2).
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
}
