//! Every command returns a typed value; this renders it as text or JSON.
//!
//! Output goes through [`out`], not `println!`: a process that hosts the native program
//! (`localnet`, `demo`) moves file descriptor 1 to a log file with [`isolate_stdout`],
//! because the program's `msg!` is a bare `println!` off-chain. Without that, program
//! logs would interleave with (and corrupt) JSON output, and a closed stdout pipe would
//! make every instruction panic.

use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// A command result that knows its human rendering; JSON comes from `Serialize`.
pub trait Render: Serialize {
    fn text(&self) -> String;
}

static OUT: OnceLock<Mutex<File>> = OnceLock::new();

/// Keeps a private copy of the real stdout for [`out`], then points descriptor 1 at
/// `log` (appending), where the hosted program's `println!` lines go.
pub fn isolate_stdout(log: &Path) -> anyhow::Result<()> {
    let log_file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open program log {}", log.display()))?;
    std::io::stdout().flush()?;
    // SAFETY: plain descriptor calls on descriptors this process owns; `dup` returns a new
    // descriptor whose ownership moves into the `File`.
    let saved = unsafe { libc::dup(1) };
    if saved < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot duplicate stdout");
    }
    let real_stdout = unsafe { File::from_raw_fd(saved) };
    if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&log_file), 1) } < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot redirect stdout");
    }
    let _ = OUT.set(Mutex::new(real_stdout));
    Ok(())
}

/// Writes one line to the command's real stdout. A closed pipe (`| head`) is not an error.
pub fn out(line: &str) {
    let result = match OUT.get() {
        Some(file) => {
            let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            writeln!(file, "{line}").and_then(|()| file.flush())
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{line}").and_then(|()| stdout.flush())
        }
    };
    if let Err(err) = result {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("warning: cannot write output: {err}");
        }
    }
}

pub fn print<T: Render>(format: OutputFormat, value: &T) -> anyhow::Result<()> {
    match format {
        OutputFormat::Text => out(&value.text()),
        OutputFormat::Json => out(&serde_json::to_string_pretty(value)?),
    }
    Ok(())
}

/// An error and its causes on one line, each cause once: a cause whose text the line
/// already holds (error types that print their source as well) is not repeated.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_text;

    /// An error that prints its source in its own text, as many `thiserror` types do.
    #[derive(Debug)]
    struct Json(std::io::Error);

    impl std::fmt::Display for Json {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "not valid JSON: {}", self.0)
        }
    }

    impl std::error::Error for Json {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::other("expected value at line 1 column 1");
        let err = anyhow::Error::new(Json(io)).context("invalid FHIR bundle");
        assert_eq!(
            error_text(&err),
            "invalid FHIR bundle: not valid JSON: expected value at line 1 column 1"
        );
        let plain = anyhow::anyhow!("root cause").context("outer");
        assert_eq!(error_text(&plain), "outer: root cause");
    }
}
