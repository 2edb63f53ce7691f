//! The fuzzer's own output. The natively compiled program prints every `msg!` with
//! `println!` (solana-msg off-chain), millions of lines in a long run; so standard output
//! is pointed at /dev/null and the fuzzer writes to a duplicate of the original.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::{Mutex, OnceLock};

static OUT: OnceLock<Mutex<File>> = OnceLock::new();

/// Silences the program's logs; the fuzzer's lines still reach the real stdout.
pub fn quiet_program_logs() {
    let Ok(null) = File::options().write(true).open("/dev/null") else {
        return;
    };
    std::io::stdout().flush().ok();
    // SAFETY: plain descriptor calls; `ours` is a fresh descriptor owned by the File.
    let ours = unsafe { libc::dup(1) };
    if ours < 0 {
        return;
    }
    // SAFETY: replaces descriptor 1 with /dev/null; `null` stays valid for the call.
    unsafe { libc::dup2(null.as_raw_fd(), 1) };
    // SAFETY: `ours` came from dup above and is owned by nobody else.
    let file = unsafe { File::from_raw_fd(ours) };
    OUT.set(Mutex::new(file)).ok();
}

/// Writes one line to the fuzzer's stdout.
pub fn line(text: &str) {
    match OUT.get() {
        Some(out) => {
            let mut f = out.lock().unwrap_or_else(|e| e.into_inner());
            writeln!(f, "{text}").ok();
            f.flush().ok();
        }
        None => println!("{text}"),
    }
}

/// `println!` to the fuzzer's stdout.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::out::line(&format!($($arg)*)) };
}
