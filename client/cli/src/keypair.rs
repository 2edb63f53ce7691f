//! Reading the signer's keypair file, with an error that says what to do.

use std::path::Path;

use anyhow::anyhow;
use solana_keypair::Keypair;

/// Reads a Solana keypair file (a JSON array of 64 bytes, as `solana-keygen` writes).
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    solana_keypair::read_keypair_file(path).map_err(|err| {
        anyhow!(
            "cannot read keypair file {}: {err}. Create one with `solana-keygen new -o {}` or pass --keypair",
            path.display(),
            path.display()
        )
    })
}
