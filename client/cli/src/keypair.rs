//! The signer a command signs with: a Solana keypair file, or a hardware wallet
//! (`usb://ledger[/<pubkey>][?key=<account>[/<change>]]`, as the Solana CLI spells it)
//! through solana-remote-wallet; with errors that say what to do.

use std::path::Path;
use std::rc::Rc;

use anyhow::{anyhow, bail};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// What a command signs with. Shared (`Rc`) because a hardware wallet's connection cannot
/// be cloned, and commands hand the same signer to several flows.
pub type Wallet = Rc<dyn Signer>;

/// The signer named by `path`: a keypair file (optionally `file://`), or a `usb://`
/// hardware wallet. `prompt://` and `stdin://` are refused by name.
pub fn read_signer(path: &Path) -> anyhow::Result<Wallet> {
    let text = path.to_string_lossy();
    if text.starts_with("usb://") {
        return remote(&text);
    }
    Ok(Rc::new(read_keypair(path)?))
}

/// Whether `path` names a hardware wallet rather than a file.
pub fn is_remote(path: &Path) -> bool {
    path.to_string_lossy().starts_with("usb://")
}

/// Reads a Solana keypair file (a JSON array of 64 bytes, as `solana-keygen` writes), for
/// the commands that need the secret itself (a local validator's faucet).
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    let text = path.to_string_lossy();
    if text.starts_with("usb://") {
        bail!("signer {text}: this command needs a keypair file, not a hardware wallet");
    }
    if let Some(scheme) = ["prompt://", "stdin://"]
        .iter()
        .find(|s| text.starts_with(**s))
    {
        bail!(
            "signer {text}: {scheme} signers are not supported by rekam yet; pass a keypair file or a usb:// hardware wallet"
        );
    }
    let path = Path::new(text.strip_prefix("file://").unwrap_or(&text));
    solana_keypair::read_keypair_file(path).map_err(|err| {
        anyhow!(
            "cannot read keypair file {}: {err}. Create one with `solana-keygen new -o {}` or pass --keypair",
            path.display(),
            path.display()
        )
    })
}

/// A hardware wallet: the locator and derivation path parsed as the Solana CLI does, then
/// the device found over USB HID. It signs transactions on the device, after the user
/// approves each one on its screen.
fn remote(text: &str) -> anyhow::Result<Wallet> {
    use solana_remote_wallet::ledger::is_valid_ledger;
    use solana_remote_wallet::locator::{Locator, Manufacturer};
    use solana_remote_wallet::remote_keypair::generate_remote_keypair;
    use solana_remote_wallet::remote_wallet::{initialize_wallet_manager, is_valid_hid_device};

    let uri = uriparse::URIReference::try_from(text)
        .map_err(|e| anyhow!("signer {text}: not a usb:// locator: {e}"))?;
    let locator = Locator::new_from_uri(&uri).map_err(|e| anyhow!("signer {text}: {e}"))?;
    let derivation_path = solana_derivation_path::DerivationPath::from_uri_any_query(&uri)
        .map_err(|e| anyhow!("signer {text}: {e}"))?
        .unwrap_or_default();
    if locator.manufacturer != Manufacturer::Ledger {
        bail!("signer {text}: only Ledger hardware wallets are supported");
    }
    // Look for a Ledger over HID first: the full scan below also probes for Trezor devices
    // through libusb, which aborts the process on a machine without USB.
    let hid = hidapi::HidApi::new()
        .map_err(|e| anyhow!("signer {text}: cannot list USB devices: {e}"))?;
    let ledgers = hid
        .device_list()
        .filter(|d| {
            is_valid_hid_device(d.usage_page(), d.interface_number())
                && is_valid_ledger(d.vendor_id(), d.product_id())
        })
        .count();
    drop(hid);
    if ledgers == 0 {
        bail!(
            "signer {text}: no hardware wallet found. Connect and unlock the device, open its Solana app, and run the command again"
        );
    }
    let manager = initialize_wallet_manager()
        .map_err(|e| anyhow!("signer {text}: cannot list USB devices: {e}"))?;
    manager
        .update_devices()
        .map_err(|e| anyhow!("signer {text}: cannot read the device: {e}"))?;
    let keypair = generate_remote_keypair(locator, derivation_path, &manager, false, "signer")
        .map_err(|e| anyhow!("signer {text}: {e}"))?;
    Ok(Rc::new(keypair))
}
