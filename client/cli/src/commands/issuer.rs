//! `rekam issuer accredit|suspend|reinstate|show`: governance over issuers.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{roles, Issuer, IssuerAccreditArgs};
use rekam_client::{ix, pda};
use serde::Serialize;
use sha2::Digest;
use solana_signer::Signer;

use crate::app::{address_arg, pubkey_arg, AddressArg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Accredit an issuer (governance authority signs).
    #[command(
        after_help = "Example:\n  rekam issuer accredit --registry-id ID-CLINIC-7 --authority clinic.json --roles clinic,lab"
    )]
    Accredit {
        /// Registry identifier (e.g. a national facility id); only its hash goes on-chain.
        #[arg(long)]
        registry_id: String,
        /// The issuer's signing wallet: an address, or its keypair file.
        #[arg(long, value_parser = address_arg)]
        authority: AddressArg,
        /// The issuer's X25519 key, hex (`rekam identity` on the issuer's wallet prints
        /// it) [default: the identity beside --authority's keypair file].
        #[arg(long)]
        encryption_key: Option<String>,
        /// Comma-separated roles: clinic, lab, pharmacy, ethics-board, device-operator.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
    },
    /// Suspend an issuer: its attestations stop verifying.
    #[command(after_help = "Example:\n  rekam issuer suspend <ISSUER>")]
    Suspend {
        /// The issuer's account address (printed by `issuer accredit`).
        #[arg(value_parser = pubkey_arg)]
        issuer: Pubkey,
    },
    /// Reinstate a suspended issuer, saying what becomes of what it attested before the
    /// suspension: restored (`--restore-all`) or void for good from a time on
    /// (`--void-since`, e.g. when a stolen key was first used).
    #[command(
        after_help = "Examples:\n  rekam issuer reinstate <ISSUER> --restore-all\n  rekam issuer reinstate <ISSUER> --void-since 1767225600"
    )]
    Reinstate {
        /// The issuer's account address (printed by `issuer accredit`).
        #[arg(value_parser = pubkey_arg)]
        issuer: Pubkey,
        /// Every attestation made before the suspension is valid again.
        #[arg(
            long,
            required_unless_present = "void_since",
            conflicts_with = "void_since"
        )]
        restore_all: bool,
        /// Attestations issued from this Unix time up to the suspension stay void for good
        /// (0 voids everything issued before the suspension).
        #[arg(long, value_name = "UNIX_SECONDS")]
        void_since: Option<i64>,
    },
    /// The issuer's own wallet: move to a new encryption key. Every record it attested is
    /// sealed again under a fresh data key first, so the old key opens nothing that
    /// exists; then each patient re-issues its consent grants (`rekam identity rekey`).
    #[command(after_help = "Example:\n  rekam -k clinic.json issuer rotate-key")]
    RotateKey,
    /// The issuer's own wallet: a new SMART Health Card signing key (ES256), anchored
    /// on-chain at its thumbprint's address with a proof of possession. Earlier keys stay
    /// valid until retired (`issuer shc-key-retire`).
    #[command(
        after_help = "Example:\n  rekam -k clinic.json issuer shc-key --iss https://clinic.example --out shc-key.p8"
    )]
    ShcKey(crate::commands::shc::ShcKeyArgs),
    /// The issuer's own wallet: retire a SMART Health Card key; every card it signed
    /// stops verifying, and the key can never be anchored again.
    #[command(after_help = "Example:\n  rekam -k clinic.json issuer shc-key-retire <KID>")]
    ShcKeyRetire(crate::commands::shc::RetireArgs),
    /// The JWKS an issuer publishes for its SMART Health Cards, read from the chain.
    #[command(after_help = "Example:\n  rekam issuer jwks <ISSUER>")]
    Jwks(crate::commands::shc::JwksArgs),
    /// Show an issuer.
    #[command(after_help = "Example:\n  rekam issuer show <ISSUER>")]
    Show {
        /// The issuer's account address (printed by `issuer accredit`).
        #[arg(value_parser = pubkey_arg)]
        issuer: Pubkey,
    },
}

#[derive(Serialize)]
pub struct IssuerOut {
    pub issuer: String,
    pub authority: String,
    /// The X25519 key records are sealed to, hex.
    pub encryption_key: String,
    pub roles: Vec<&'static str>,
    pub status: String,
    pub attestations_issued: u64,
    /// Attestations issued in `[from, until)` are void (governance, at a reinstatement).
    pub voided: Option<(i64, i64)>,
    pub signature: Option<String>,
}

impl Render for IssuerOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Issuer {}\n  Authority:    {}\n  Key:          {}\n  Roles:        {}\n  Status:       {}\n  Attestations: {}",
            self.issuer,
            self.authority,
            self.encryption_key,
            self.roles.join(", "),
            self.status,
            self.attestations_issued
        );
        if let Some((from, until)) = self.voided {
            out.push_str(&format!(
                "\n  Voided:       attestations issued from {from} to {until} (Unix seconds)"
            ));
        }
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature:    {sig}"));
        }
        out
    }
}

const ROLE_NAMES: [(&str, u8); 5] = [
    ("clinic", roles::CLINIC),
    ("lab", roles::LAB),
    ("pharmacy", roles::PHARMACY),
    ("ethics-board", roles::ETHICS_BOARD),
    ("device-operator", roles::DEVICE_OPERATOR),
];

pub fn parse_roles(names: &[String]) -> anyhow::Result<u8> {
    names.iter().try_fold(0u8, |mask, name| {
        let bit = ROLE_NAMES
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, b)| *b)
            .with_context(|| format!("unknown role {name:?}; use clinic, lab, pharmacy, ethics-board, device-operator"))?;
        Ok(mask | bit)
    })
}

fn describe(key: &Pubkey, issuer: &Issuer, signature: Option<String>) -> IssuerOut {
    IssuerOut {
        issuer: key.to_string(),
        authority: issuer.authority.to_string(),
        encryption_key: hex::encode(issuer.encryption_key),
        roles: ROLE_NAMES
            .iter()
            .filter(|(_, b)| issuer.roles & b != 0)
            .map(|(n, _)| *n)
            .collect(),
        status: format!("{:?}", issuer.status),
        attestations_issued: issuer.attestations_issued,
        voided: (issuer.void_from < issuer.void_until)
            .then_some((issuer.void_from, issuer.void_until)),
        signature,
    }
}

pub fn parse_key(hex_key: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(hex_key.trim()).context("encryption key must be hex")?;
    match <[u8; 32]>::try_from(bytes) {
        Ok(key) => Ok(key),
        Err(_) => bail!("encryption key must be 32 bytes (64 hex characters)"),
    }
}

pub fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let command = match command {
        Command::ShcKey(args) => return crate::commands::shc::shc_key(settings, args),
        Command::ShcKeyRetire(args) => return crate::commands::shc::retire(settings, args),
        Command::Jwks(args) => return crate::commands::shc::jwks(settings, args),
        other => other,
    };
    if let Command::RotateKey = command {
        return output::print(settings.output, &rotate_key(&mut app)?);
    }
    let pid = app.program_id();
    let (key, signature) = match command {
        Command::Accredit {
            registry_id,
            authority,
            encryption_key,
            roles,
        } => {
            let encryption_key = match (encryption_key, &authority.keypair_file) {
                (Some(hex_key), _) => parse_key(&hex_key)?,
                (None, Some(file)) => {
                    // The issuer's own identity, beside its keypair file.
                    let mut theirs = settings.clone();
                    theirs.keypair_path = file.clone();
                    theirs.identity_path =
                        rekam_client::crypto::keystore::default_path(file);
                    App::new(&theirs).identity()?.public_key()
                }
                (None, None) => bail!(
                    "pass --encryption-key (the issuer's `rekam identity` prints it), or give --authority as the issuer's keypair file"
                ),
            };
            let args = IssuerAccreditArgs {
                registry_id_hash: sha2::Sha256::digest(format!(
                    "rekam/v1/registry-id\n{registry_id}"
                ))
                .into(),
                issuer_authority: authority.key,
                encryption_key,
                roles: parse_roles(&roles)?,
            };
            let key = pda::issuer(&pid, &args.registry_id_hash);
            let signer = app.signer()?;
            let ix = ix::issuer_accredit(&pid, &signer.pubkey(), &signer.pubkey(), args);
            (key, Some(app.chain.send(&[ix], &signer, &[])?))
        }
        Command::Suspend { issuer } => {
            let signer = app.signer()?;
            let ix = ix::issuer_suspend(&pid, &signer.pubkey(), &issuer);
            (issuer, Some(app.chain.send(&[ix], &signer, &[])?))
        }
        Command::Reinstate {
            issuer,
            restore_all: _,
            void_since,
        } => {
            let signer = app.signer()?;
            let ix = ix::issuer_reinstate_voiding(&pid, &signer.pubkey(), &issuer, void_since);
            (issuer, Some(app.chain.send(&[ix], &signer, &[])?))
        }
        Command::Show { issuer } => (issuer, None),
        Command::RotateKey | Command::ShcKey(_) | Command::ShcKeyRetire(_) | Command::Jwks(_) => {
            unreachable!("handled above")
        }
    };
    let issuer: Issuer = app.fetch(&key, "issuer")?;
    output::print(settings.output, &describe(&key, &issuer, signature))
}

#[derive(Serialize)]
struct RotatedOut(rekam_client::flows::rotate_issuer::IssuerRotated);

impl Render for RotatedOut {
    fn text(&self) -> String {
        let r = &self.0;
        format!(
            "Rotated issuer {}'s encryption key {} -> {}{}\nRe-keyed {} record(s) under fresh data keys, {} old object(s) removed\nPatients to re-issue their consent grants (`rekam identity rekey`): {}",
            r.issuer,
            r.old_key,
            r.new_key,
            if r.resumed { " (resumed)" } else { "" },
            r.records,
            r.old_objects_removed,
            if r.patients_to_rekey.is_empty() {
                "none".to_string()
            } else {
                r.patients_to_rekey.join(", ")
            }
        )
    }
}

/// `rekam issuer rotate-key` (the flow `rekam_client::flows::rotate_issuer`).
fn rotate_key(app: &mut App) -> anyhow::Result<RotatedOut> {
    let (issuer_key, _) = app.own_issuer()?;
    let current = app.identity()?;
    let signer = app.signer()?;
    let files = crate::identity_file::rotation_files(app)?;
    let mut ask = || files.ask();
    let (_, rotated) = app
        .with_ctx(|ctx| {
            rekam_client::flows::rotate_issuer::rotate_issuer(
                ctx,
                &signer,
                &issuer_key,
                &current,
                rekam_client::flows::rotate::KeyFiles {
                    path: &files.path,
                    new_passphrase: files.new_passphrase.as_ref().map(|p| p.as_str()),
                    passphrase: &mut ask,
                },
                &mut |_| {},
            )
        })
        .map_err(|err| {
            err.context(
                "the key rotation stopped; run `rekam issuer rotate-key` again to resume with the same next key",
            )
        })?;
    app.forget_identity();
    Ok(RotatedOut(rotated))
}
