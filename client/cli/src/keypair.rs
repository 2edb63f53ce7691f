//! Reading the signer's keypair file, with an error that says what to do.

use std::path::Path;

use anyhow::anyhow;
use solana_keypair::Keypair;

/// Reads a Solana keypair file (a JSON array of 64 bytes, as `solana-keygen` writes).
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    let text = path.to_string_lossy();
    // Solana's other signer URIs: refused by name rather than read as a missing file.
    if text.starts_with("usb://") {
        anyhow::bail!(
            "signer {text}: hardware wallets (usb://) are not supported by rekam yet; pass a keypair file"
        );
    }
    if let Some(scheme) = ["prompt://", "stdin://"]
        .iter()
        .find(|s| text.starts_with(**s))
    {
        anyhow::bail!(
            "signer {text}: {scheme} signers are not supported by rekam yet; pass a keypair file"
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
