//! `rekam`: the wallet-signed command line of Rekam, and its embedded local validator.

mod app;
mod commands;
mod identity_file;
mod keypair;
mod localnet;
mod output;
mod passphrase;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::{GlobalArgs, Settings};

#[derive(Parser, Debug)]
#[command(
    name = "rekam",
    version,
    about = "Patient-controlled medical records on Solana"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a local validator (Solana JSON-RPC on 127.0.0.1) with Rekam preloaded.
    Localnet(commands::localnet::Args),
    /// Initialize a deployment: config PDA and protocol-fee treasury.
    Init(commands::init::Args),
    /// Wallets: write a new keypair file, print an address.
    #[command(subcommand)]
    Wallet(commands::wallet::Command),
    /// Request SOL from the cluster's faucet (localnet, devnet).
    Airdrop(commands::balance::AirdropArgs),
    /// A wallet's SOL and its balance of the deployment's token.
    Balance(commands::balance::BalanceArgs),
    /// Run the end-to-end story on an embedded validator and print what happened.
    Demo(commands::demo::Args),
    /// This wallet's encryption identity (its keystore file): show, rotate, rekey.
    #[command(after_help = "Example:\n  rekam -k clinic.json identity")]
    Identity(commands::identity::Args),
    /// Governance over issuers: accredit, suspend, reinstate, show.
    #[command(subcommand)]
    Issuer(commands::issuer::Command),
    /// The patient's profile: register, show.
    #[command(subcommand)]
    Patient(commands::patient::Command),
    /// Clinic: attest FHIR R4 Bundles (a file or a folder) for a patient.
    Attest(commands::attest::Args),
    /// Clinic: revoke an attestation you issued.
    #[command(subcommand)]
    Attestation(commands::attestation::Command),
    /// Patient: list your records and their attestations.
    Records(commands::records::ListArgs),
    /// Patient: fetch, decrypt and verify one of your records.
    Fetch(commands::records::FetchArgs),
    /// Patient: list the claims (facts) of one of your records, each with its id.
    Claims(commands::claims::ClaimsArgs),
    /// Patient: disclose chosen claims of a record to a verifier, with proofs.
    Disclose(commands::claims::DiscloseArgs),
    /// Anyone: verify a presentation of claims.
    #[command(subcommand)]
    Presentation(commands::claims::PresentationCommand),
    /// The health passport: a QR card of chosen facts (patient), verified by anyone.
    #[command(subcommand)]
    Passport(commands::passport::Command),
    /// Anyone: check an attestation's status, issuer and dates.
    Verify(commands::verify::Args),
    /// Patient: grant, list and revoke consents.
    #[command(subcommand)]
    Consent(commands::consent::Command),
    /// Provider: read a shared record (records the access on-chain first).
    Access(commands::access::Args),
    /// Patient: who read what, when and why.
    Audit(commands::audit::Args),
    /// Patient: name guardians for emergencies and key recovery.
    #[command(subcommand)]
    Guardians(commands::guardians::Command),
    /// Break-glass access: clinics request, guardians approve, patient or guardian ends.
    #[command(subcommand)]
    Emergency(commands::emergency::Command),
    /// Social recovery of a lost wallet: guardians propose and approve, the patient may
    /// cancel, the new wallet executes, clinics re-wrap.
    #[command(subcommand)]
    Recovery(commands::recovery::Command),
    /// Research studies paid in SPL tokens: propose, approve, open, contribute, fetch, close.
    #[command(subcommand)]
    Study(commands::study::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  rekam completions bash > ~/.local/share/bash-completion/completions/rekam"
    )]
    Completions {
        /// The shell to write the script for.
        shell: clap_complete::Shell,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "rekam", &mut std::io::stdout());
        return Ok(());
    }
    let settings = Settings::resolve(&cli.global)?;
    match cli.command {
        Command::Localnet(args) => commands::localnet::run(&settings, args),
        Command::Init(args) => commands::init::run(&settings, args),
        Command::Wallet(cmd) => commands::wallet::run(&settings, cmd),
        Command::Airdrop(args) => commands::balance::airdrop(&settings, args),
        Command::Balance(args) => commands::balance::balance(&settings, args),
        Command::Demo(args) => commands::demo::run(&settings, args),
        Command::Identity(args) => commands::identity::run(&settings, args),
        Command::Issuer(cmd) => commands::issuer::run(&settings, cmd),
        Command::Patient(cmd) => commands::patient::run(&settings, cmd),
        Command::Attest(args) => commands::attest::run(&settings, args),
        Command::Attestation(cmd) => commands::attestation::run(&settings, cmd),
        Command::Records(args) => commands::records::list(&settings, args),
        Command::Fetch(args) => commands::records::fetch(&settings, args),
        Command::Claims(args) => commands::claims::claims(&settings, args),
        Command::Disclose(args) => commands::claims::disclose(&settings, args),
        Command::Presentation(cmd) => commands::claims::verify(&settings, cmd),
        Command::Passport(cmd) => commands::passport::run(&settings, cmd),
        Command::Verify(args) => commands::verify::run(&settings, args),
        Command::Consent(cmd) => commands::consent::run(&settings, cmd),
        Command::Access(args) => commands::access::run(&settings, args),
        Command::Audit(args) => commands::audit::run(&settings, args),
        Command::Study(cmd) => commands::study::run(&settings, cmd),
        Command::Guardians(cmd) => commands::guardians::run(&settings, cmd),
        Command::Emergency(cmd) => commands::emergency::run(&settings, cmd),
        Command::Recovery(cmd) => commands::recovery::run(&settings, cmd),
        Command::Completions { .. } => unreachable!("handled before the settings"),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", crate::output::error_text(&err));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every subcommand has a help line, and every leaf subcommand's
    /// help ends with an example.
    #[test]
    fn every_argument_has_help_and_every_command_an_example() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}: no help line"));
                }
            }
            let subcommands: Vec<_> = command
                .get_subcommands()
                .filter(|c| c.get_name() != "help")
                .collect();
            if subcommands.is_empty() && !path.is_empty() {
                let example = command
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                if !example.contains("Example") {
                    missing.push(format!("{path}: no example"));
                }
            }
            for sub in subcommands {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = super::Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "", &mut missing);
        assert!(missing.is_empty(), "help gaps:\n{}", missing.join("\n"));
    }
}
