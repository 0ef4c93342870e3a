//! Logging through `tracing`: `RBACD_LOG` filters, `RBACD_LOG_FORMAT=json` for
//! machines; and OpenTelemetry traces when an OTLP endpoint is set ([`Traces`]).

mod traces;

use std::io::IsTerminal;

pub use traces::Traces;

use tracing_subscriber::{EnvFilter, fmt};

/// Whether `RBACD_LOG_FORMAT=json` asks for one JSON object per line.
pub fn is_json() -> bool {
    std::env::var("RBACD_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"))
}

/// Installs the global subscriber, writing to stderr, coloured only when stderr
/// is a terminal. Safe to call twice (tests do): the second call keeps the first.
pub fn init() {
    let filter = EnvFilter::try_from_env("RBACD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if is_json() {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
