//! Keypair files: a new wallet written as the Solana CLI writes it (a JSON array of the
//! 64 secret and public bytes), readable by the owner only.

use std::path::Path;

use solana_keypair::Keypair;

use super::FlowError;

/// Writes a new random keypair to `path` with mode 0600 and returns it. An existing file
/// is refused unless `force`; then it is replaced atomically (a temporary file in the
/// same folder, renamed over it), so a crash never leaves a half-written wallet.
pub fn new_keypair_file(path: &Path, force: bool) -> Result<Keypair, FlowError> {
    if path.exists() && !force {
        return Err(FlowError::Refused(format!(
            "{} already exists; refusing to overwrite a wallet (pass --force to replace it)",
            path.display()
        )));
    }
    let keypair = Keypair::new();
    let bytes: Vec<String> = keypair.to_bytes().iter().map(u8::to_string).collect();
    crate::private_file::write_atomic(path, format!("[{}]", bytes.join(",")).as_bytes())
        .map_err(|err| refused(&format!("cannot write {}", path.display()), err))?;
    Ok(keypair)
}

fn refused(what: &str, err: std::io::Error) -> FlowError {
    FlowError::Refused(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::Signer;

    #[test]
    fn a_new_wallet_is_private_readable_by_the_solana_reader_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/id.json");
        let keypair = new_keypair_file(&path, false).unwrap();
        let read = solana_keypair::read_keypair_file(&path).unwrap();
        assert_eq!(read.pubkey(), keypair.pubkey());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = new_keypair_file(&path, false).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{} already exists; refusing to overwrite a wallet (pass --force to replace it)",
                path.display()
            )
        );
        assert_eq!(
            solana_keypair::read_keypair_file(&path).unwrap().pubkey(),
            keypair.pubkey(),
            "the refused write left the old wallet"
        );
        let replaced = new_keypair_file(&path, true).unwrap();
        assert_ne!(replaced.pubkey(), keypair.pubkey());
        assert_eq!(
            solana_keypair::read_keypair_file(&path).unwrap().pubkey(),
            replaced.pubkey()
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    }
}
