//! The demo's refusals: a read that must be refused fails the demo when it is not, and
//! the summary table names the program's error.

use anyhow::bail;

/// Why a read that must be refused was refused; an error (the demo fails, exit 1) when
/// `what` was not refused.
pub fn refusal<T>(result: anyhow::Result<T>, what: &str) -> anyhow::Result<String> {
    match result {
        Err(err) => Ok(crate::output::error_text(&err)),
        Ok(_) => bail!("{what} was not refused: the demo stops here"),
    }
}

/// The program's error name out of a long error chain, for the summary table.
pub fn short(reason: &str) -> String {
    reason
        .split(": ")
        .find(|part| part.contains('(') && part.chars().next().is_some_and(char::is_uppercase))
        .map(|s| s.split(" (").next().unwrap_or(s).to_string())
        .unwrap_or_else(|| reason.chars().take(60).collect())
}
