//! Printing results: a table for people, or the response as proto JSON (what
//! grpcurl prints) for programs.

use std::io::Write;

use clap::ValueEnum;

use super::Failure;
use crate::proto::json::{Named, to_value};

/// How a client subcommand prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns under a header row.
    Table,
    /// The response message as pretty-printed proto JSON, as grpcurl prints it
    /// (lowerCamelCase names, 64-bit integers as strings, defaults left out).
    Json,
}

/// Prints `response` as proto JSON, or `text()`, as `format` asks. A closed
/// pipe (`rbacd role list | head`) is not an error.
pub fn print<M: Named>(
    format: OutputFormat,
    response: &M,
    text: impl FnOnce() -> String,
) -> Result<(), Failure> {
    let rendered = match format {
        OutputFormat::Json => format!("{:#}\n", json(response)?),
        OutputFormat::Table => text(),
    };
    write(&rendered);
    Ok(())
}

/// `message` as proto JSON on one line, for a stream printed as JSON Lines.
pub fn json_line<M: Named>(message: &M) -> Result<String, Failure> {
    Ok(format!("{}\n", json(message)?))
}

fn json<M: Named>(message: &M) -> Result<serde_json::Value, Failure> {
    to_value(message).map_err(|e| Failure::input(format!("cannot print the answer as JSON: {e}")))
}

/// Writes `text` to stdout and flushes it, so a followed stream shows each
/// line at once. A closed pipe is not an error.
pub fn write(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
