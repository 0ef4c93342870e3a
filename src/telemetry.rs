//! Logging through `tracing`: `RBACD_LOG` filters, `RBACD_LOG_FORMAT=json` for machines.

use tracing_subscriber::{EnvFilter, fmt};

/// Installs the global subscriber, writing to stderr. Safe to call twice
/// (tests do): the second call keeps the first subscriber.
pub fn init() {
    let filter = EnvFilter::try_from_env("RBACD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("RBACD_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
