//! Progress bars on stderr for batch work; hidden for JSON output and non-terminals.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::output::OutputFormat;

pub fn bar(format: OutputFormat, total: u64, verb: &str) -> ProgressBar {
    if format == OutputFormat::Json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template = format!("{verb} {{bar:30}} {{pos}}/{{len}} {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
