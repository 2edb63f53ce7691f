//! The signer's identity for the CLI: the library's checked load
//! (`rekam_client::flows::identity`) with the passphrase's sources and notices on stderr.

use anchor_lang::prelude::Pubkey;
use anyhow::anyhow;
use rekam_client::crypto::keystore::KeystoreError;
use rekam_client::crypto::Identity;
use rekam_client::flows::identity::{self, Loaded};
use rekam_client::flows::FlowError;

use crate::app::App;
use crate::passphrase;

/// Opens the signer's keystore (creating one for a wallet with no key on chain) and checks
/// it against every key the chain holds for `wallet`.
pub fn load_checked(app: &App, wallet: &Pubkey) -> anyhow::Result<Identity> {
    let on_chain = identity::keys_on_chain(&app.chain, wallet)?;
    Ok(load_against(app, wallet, &on_chain)?.0)
}

/// [`load_checked`] against keys already read from the chain (none when it is unknown).
pub fn load_against(
    app: &App,
    wallet: &Pubkey,
    on_chain: &[identity::OnChainKey],
) -> anyhow::Result<(Identity, Loaded)> {
    let path = app.settings.identity_path.clone();
    let file = app.settings.identity_passphrase_file.clone();
    let new_passphrase = passphrase::given(file.as_deref())?;
    let loaded = identity::load(
        &path,
        wallet,
        on_chain,
        || {
            passphrase::for_opening(file.as_deref(), &path)
                .map_err(|err| FlowError::Refused(format!("{err:#}")))
        },
        new_passphrase.as_ref().map(|p| p.as_str()),
    );
    let (identity, how) = loaded.map_err(explain)?;
    notice(&path, wallet, how, new_passphrase.is_some());
    Ok((identity, how))
}

/// Tells a person at a terminal that an identity was created or a rotation finished
/// (scripts see it in `rekam identity`'s `created` field instead).
pub fn notice(path: &std::path::Path, wallet: &Pubkey, how: Loaded, sealed: bool) {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return;
    }
    match how {
        Loaded::Opened => {}
        Loaded::Created => eprintln!(
            "created a new encryption identity {} for wallet {wallet}{}; back it up with the wallet: records sealed to it open with nothing else",
            path.display(),
            if sealed {
                " (sealed under the given passphrase)"
            } else {
                ""
            }
        ),
        Loaded::FinishedRotation => eprintln!(
            "finished an interrupted key rotation: {} now holds the key on chain",
            path.display()
        ),
    }
}

/// A missing passphrase error says how to give one without a terminal.
pub fn explain(err: FlowError) -> anyhow::Error {
    match err {
        FlowError::Keystore(KeystoreError::PassphraseRequired(_)) => {
            anyhow!("{err}; {}", passphrase::hint())
        }
        other => other.into(),
    }
}

/// What a rotation needs from the settings: the identity file, the passphrase file, and
/// the passphrase that seals the next identity (given by file or environment: a sealed
/// identity stays sealed, and a rotation never prompts twice).
pub struct RotationFiles {
    pub path: std::path::PathBuf,
    pub passphrase_file: Option<std::path::PathBuf>,
    pub new_passphrase: Option<zeroize::Zeroizing<String>>,
}

pub fn rotation_files(app: &App) -> anyhow::Result<RotationFiles> {
    let path = app.settings.identity_path.clone();
    let passphrase_file = app.settings.identity_passphrase_file.clone();
    let sealed = rekam_client::crypto::keystore::info(&path)?.protected;
    let new_passphrase = passphrase::given(passphrase_file.as_deref())?;
    if sealed && new_passphrase.is_none() {
        anyhow::bail!(
            "the identity {} is sealed under a passphrase; give it by file or environment for the rotation, so the next identity is sealed too ({})",
            path.display(),
            passphrase::hint()
        );
    }
    Ok(RotationFiles {
        path,
        passphrase_file,
        new_passphrase,
    })
}

impl RotationFiles {
    /// Opens a sealed next identity left by an interrupted rotation.
    pub fn ask(&self) -> Result<Option<zeroize::Zeroizing<String>>, FlowError> {
        passphrase::for_opening(self.passphrase_file.as_deref(), &self.path)
            .map_err(|err| FlowError::Refused(format!("{err:#}")))
    }
}
