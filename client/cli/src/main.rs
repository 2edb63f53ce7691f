//! `rekam`: the wallet-signed command line of Rekam, and its embedded local validator.

mod app;
mod commands;
mod keypair;
mod localnet;
mod output;
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
    /// Run the end-to-end story on an embedded validator and print what happened.
    Demo(commands::demo::Args),
    /// Show this wallet's address and the encryption key derived from it.
    Identity,
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
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global)?;
    match cli.command {
        Command::Localnet(args) => commands::localnet::run(&settings, args),
        Command::Init(args) => commands::init::run(&settings, args),
        Command::Demo(args) => commands::demo::run(&settings, args),
        Command::Identity => commands::identity::run(&settings),
        Command::Issuer(cmd) => commands::issuer::run(&settings, cmd),
        Command::Patient(cmd) => commands::patient::run(&settings, cmd),
        Command::Attest(args) => commands::attest::run(&settings, args),
        Command::Attestation(cmd) => commands::attestation::run(&settings, cmd),
        Command::Records(args) => commands::records::list(&settings, args),
        Command::Fetch(args) => commands::records::fetch(&settings, args),
        Command::Claims(args) => commands::claims::claims(&settings, args),
        Command::Disclose(args) => commands::claims::disclose(&settings, args),
        Command::Presentation(cmd) => commands::claims::verify(&settings, cmd),
        Command::Verify(args) => commands::verify::run(&settings, args),
        Command::Consent(cmd) => commands::consent::run(&settings, cmd),
        Command::Access(args) => commands::access::run(&settings, args),
        Command::Audit(args) => commands::audit::run(&settings, args),
        Command::Study(cmd) => commands::study::run(&settings, cmd),
        Command::Guardians(cmd) => commands::guardians::run(&settings, cmd),
        Command::Emergency(cmd) => commands::emergency::run(&settings, cmd),
        Command::Recovery(cmd) => commands::recovery::run(&settings, cmd),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
