//! `rekam identity`: the signer's wallet and its encryption key, from its keystore file
//! (created for a wallet that has published no key yet; what a clinic gives governance at
//! accreditation, what a patient registers); `rotate` and `rekey` (the flows
//! `rekam_client::flows::{rotate, rekey}`).

use clap::Subcommand;
use rekam_client::flows::identity::{self as flow, Loaded, OnChainKey};
use rekam_client::flows::rekey::{self, Rekey, Rekeyed};
use rekam_client::flows::rotate::{self, KeyFiles, Rotated};
use serde::Serialize;
use solana_signer::Signer;

use crate::app::App;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show the wallet, its encryption key and the keys the chain holds for it (default).
    #[command(after_help = "Example:\n  rekam -k clinic.json identity show --output json")]
    Show,
    /// Patient: move to a new encryption key; every record is re-encrypted under a fresh
    /// data key first, so the old key opens nothing that exists afterwards.
    #[command(
        after_help = "Example:\n  rekam identity rotate\n  REKAM_IDENTITY_PASSPHRASE_FILE=pass.txt rekam identity rotate"
    )]
    Rotate,
    /// Patient: re-encrypt every record under fresh data keys, keeping this key (after a
    /// social recovery, once the clinics ran `rekam recovery rewrap`: the lost wallet's
    /// identity then opens nothing that exists).
    #[command(after_help = "Example:\n  rekam -k new-wallet.json identity rekey")]
    Rekey,
}

#[derive(Serialize)]
struct IdentityOut {
    wallet: String,
    encryption_key: String,
    identity_file: String,
    protected: bool,
    /// True when this command wrote the identity file.
    created: bool,
    /// The keys the chain holds for the wallet; null when the cluster could not be read.
    on_chain: Option<Vec<OnChainOut>>,
}

#[derive(Serialize)]
struct OnChainOut {
    what: String,
    account: String,
    encryption_key: String,
}

impl Render for IdentityOut {
    fn text(&self) -> String {
        let chain = match &self.on_chain {
            None => "unknown (the cluster could not be read)".to_string(),
            Some(keys) if keys.is_empty() => "none yet".to_string(),
            Some(keys) => keys
                .iter()
                .map(|k| format!("{} {} (matches)", k.what, k.account))
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!(
            "Wallet:          {}\nEncryption key:  {} (X25519, random, kept in {}{})\nOn chain:        {chain}",
            self.wallet,
            self.encryption_key,
            self.identity_file,
            if self.created { ", created now" } else { "" },
        )
    }
}

#[derive(Serialize)]
struct RekeyOut {
    patient: String,
    #[serde(flatten)]
    rekeyed: Rekeyed,
    guardian_grants_reissued: bool,
}

impl Render for RekeyOut {
    fn text(&self) -> String {
        format!(
            "Re-keyed {} record(s) of {} under fresh data keys; {} consent grant(s) re-issued, {} old object(s) removed{}",
            self.rekeyed.records,
            self.patient,
            self.rekeyed.grants_updated,
            self.rekeyed.old_objects_removed,
            if self.guardian_grants_reissued { "; guardians' grant re-issued" } else { "" }
        )
    }
}

#[derive(Serialize)]
struct RotateOut {
    #[serde(flatten)]
    rotated: Rotated,
    guardian_grants_reissued: bool,
}

impl Render for RotateOut {
    fn text(&self) -> String {
        let r = &self.rotated;
        format!(
            "Rotated {}'s encryption key {} -> {}{}\nRe-keyed {} record(s) under fresh data keys; {} consent grant(s) re-issued, {} old object(s) removed{}",
            r.patient,
            r.old_key,
            r.new_key,
            if r.resumed { " (resumed)" } else { "" },
            r.rekeyed.records,
            r.rekeyed.grants_updated,
            r.rekeyed.old_objects_removed,
            if self.guardian_grants_reissued { "; guardians' grant re-issued" } else { "" }
        )
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    match args.command.unwrap_or(Command::Show) {
        Command::Show => output::print(settings.output, &show(&mut app)?),
        Command::Rotate => output::print(settings.output, &rotate(&mut app)?),
        Command::Rekey => output::print(settings.output, &rekey_all(&mut app)?),
    }
}

fn show(app: &mut App) -> anyhow::Result<IdentityOut> {
    let wallet = app.signer()?.pubkey();
    // Offline (a clinic preparing its accreditation), the file is still opened or made;
    // the next command that reaches the cluster checks it.
    let on_chain: Option<Vec<OnChainKey>> = flow::keys_on_chain(&app.chain, &wallet).ok();
    let (identity, how) =
        crate::identity_file::load_against(app, &wallet, on_chain.as_deref().unwrap_or(&[]))?;
    let path = &app.settings.identity_path;
    let info = rekam_client::crypto::keystore::info(path)?;
    Ok(IdentityOut {
        wallet: wallet.to_string(),
        encryption_key: hex::encode(identity.public_key()),
        identity_file: path.display().to_string(),
        protected: info.protected,
        created: how == Loaded::Created,
        on_chain: on_chain.map(|keys| {
            keys.iter()
                .map(|k| OnChainOut {
                    what: k.what.to_string(),
                    account: k.account.to_string(),
                    encryption_key: hex::encode(k.key),
                })
                .collect()
        }),
    })
}

fn rotate(app: &mut App) -> anyhow::Result<RotateOut> {
    let (patient, _) = app.own_patient()?;
    let current = app.identity()?;
    let signer = app.signer()?;
    let files = crate::identity_file::rotation_files(app)?;
    let mut ask = || files.ask();
    let own = Default::default();
    let bar = crate::progress::bar(app.settings.output, 0, "re-keying");
    let (_, rotated) = app
        .with_ctx(|ctx| {
            rotate::rotate_patient(
                ctx,
                &own,
                &signer,
                &patient,
                &current,
                KeyFiles {
                    path: &files.path,
                    new_passphrase: files.new_passphrase.as_ref().map(|p| p.as_str()),
                    passphrase: &mut ask,
                },
                &mut |a| bar.set_message(a.to_string()),
            )
        })
        .map_err(|err| err.context("the key rotation stopped; run `rekam identity rotate` again to resume with the same next key"))?;
    bar.finish_and_clear();
    app.forget_identity();
    let guardian_grants_reissued =
        rotated.rekeyed.records > 0 && crate::commands::guardians::refresh(app, &patient)?;
    Ok(RotateOut {
        rotated,
        guardian_grants_reissued,
    })
}

fn rekey_all(app: &mut App) -> anyhow::Result<RekeyOut> {
    let (patient, _) = app.own_patient()?;
    let identity = app.identity()?;
    let signer = app.signer()?;
    let own = Default::default();
    let rekeyed = app.with_ctx(|ctx| {
        rekey::rekey_all(
            ctx,
            &own,
            &Rekey {
                signer: &signer,
                patient,
                openers: &[&identity],
                to: &identity,
            },
            &mut |_| {},
        )
    })?;
    let guardian_grants_reissued =
        rekeyed.records > 0 && crate::commands::guardians::refresh(app, &patient)?;
    Ok(RekeyOut {
        patient: patient.to_string(),
        rekeyed,
        guardian_grants_reissued,
    })
}
