//! Where the identity's passphrase comes from, as the Solana tools allow for theirs: a
//! file (`--identity-passphrase-file`, `REKAM_IDENTITY_PASSPHRASE_FILE`), the
//! environment (`REKAM_IDENTITY_PASSPHRASE`), or a prompt, only when stdin is a terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use zeroize::Zeroizing;

pub const PASSPHRASE_ENV: &str = "REKAM_IDENTITY_PASSPHRASE";

/// The passphrase given without a prompt (file first, then the environment).
pub fn given(file: Option<&Path>) -> anyhow::Result<Option<Zeroizing<String>>> {
    if let Some(file) = file {
        let text = Zeroizing::new(std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read the identity passphrase file {}",
                file.display()
            )
        })?);
        let line = text.strip_suffix('\n').unwrap_or(&text);
        let line = line.strip_suffix('\r').unwrap_or(line);
        return Ok(Some(Zeroizing::new(line.to_string())));
    }
    Ok(std::env::var(PASSPHRASE_ENV).ok().map(Zeroizing::new))
}

/// [`given`], else a prompt on the terminal (no echo) when stdin is one, else `None`.
pub fn for_opening(
    file: Option<&Path>,
    identity: &Path,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    if let Some(given) = given(file)? {
        return Ok(Some(given));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    prompt(&format!("Passphrase for {}: ", identity.display())).map(Some)
}

/// The hint added to a missing-passphrase error.
pub fn hint() -> String {
    format!(
        "stdin is not a terminal, so rekam does not prompt: pass --identity-passphrase-file (or REKAM_IDENTITY_PASSPHRASE_FILE), or set {PASSPHRASE_ENV}"
    )
}

/// Reads one line from the terminal with echo off.
fn prompt(text: &str) -> anyhow::Result<Zeroizing<String>> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("cannot open the terminal to ask for the identity passphrase")?;
    tty.write_all(text.as_bytes())?;
    tty.flush()?;
    let echo = EchoOff::new(&tty);
    let mut line = Zeroizing::new(String::new());
    std::io::BufReader::new(&tty).read_line(&mut line)?;
    drop(echo);
    tty.write_all(b"\n")?;
    let trimmed = line.trim_end_matches(['\n', '\r']).to_string();
    Ok(Zeroizing::new(trimmed))
}

/// Turns terminal echo off until dropped.
struct EchoOff {
    fd: i32,
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new(tty: &std::fs::File) -> Self {
        use std::os::fd::AsRawFd;
        let fd = tty.as_raw_fd();
        // SAFETY: tcgetattr/tcsetattr on an open terminal descriptor with a valid struct.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut term) != 0 {
                return Self { fd, saved: None };
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            libc::tcsetattr(fd, libc::TCSANOW, &term);
            Self {
                fd,
                saved: Some(saved),
            }
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.saved {
            // SAFETY: restores the attributes read from the same descriptor.
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSANOW, &saved);
            }
        }
    }
}
