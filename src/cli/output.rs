//! Printing results: a table for people or JSON for programs.

use std::io::Write;

use clap::ValueEnum;
use serde_json::Value;

/// How a client subcommand prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns under a header row.
    Table,
    /// The response message as pretty-printed JSON (proto field names).
    Json,
}

/// Prints `json()` or `text()` to stdout, as `format` asks. A closed pipe
/// (`rbacd role list | head`) is not an error.
pub fn print(format: OutputFormat, json: impl FnOnce() -> Value, text: impl FnOnce() -> String) {
    let rendered = match format {
        OutputFormat::Json => format!("{:#}\n", json()),
        OutputFormat::Table => text(),
    };
    write(&rendered);
}

/// Writes `text` to stdout and flushes it, so a followed stream shows each
/// line at once. A closed pipe is not an error.
pub fn write(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
