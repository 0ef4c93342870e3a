//! Command line and environment settings; `rbacd --help` documents them.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};

/// rbacd: role-based authorization over gRPC.
#[derive(Debug, Parser)]
#[command(name = "rbacd", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve gRPC until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Create or list environments, directly in the database.
    #[command(subcommand)]
    Environment(EnvironmentCommand),
    /// Ask a server's health service; exit status 0 only when it answers SERVING.
    Health(crate::cli::health::HealthArgs),
    /// Client subcommands, talking gRPC to a running server.
    #[command(flatten)]
    Client(crate::cli::ClientCommand),
}

/// Where the data lives.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://rbacd.db?mode=rwc",
        hide_env_values = true
    )]
    pub database_url: String,
    /// PostgreSQL schema for rbacd's tables, created if missing, so rbacd can
    /// share a database with other applications. Ignored on SQLite.
    #[arg(long, env = "RBACD_DATABASE_SCHEMA", default_value = "public")]
    pub database_schema: String,
    /// Connections the instance opens to the database at most. Each
    /// environment's lane holds one while its batch of writes is open; reads
    /// and the granting rule's role lookups take the others.
    #[arg(long, env = "RBACD_DATABASE_MAX_CONNECTIONS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub database_max_connections: u32,
}

/// How to serve.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: HOST:PORT, or unix:/path for a sidecar socket.
    /// Give it several times (or comma-separated in RBACD_LISTEN) to listen on each.
    #[arg(
        long,
        env = "RBACD_LISTEN",
        default_value = "127.0.0.1:50051",
        value_delimiter = ','
    )]
    pub listen: Vec<Listen>,
    /// Permissions of `unix:` sockets, in octal.
    #[arg(long, env = "RBACD_SOCKET_MODE", default_value = "0660", value_parser = parse_mode)]
    pub socket_mode: u32,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Longest wait, in milliseconds, for a check's `min_revision` before UNAVAILABLE.
    #[arg(long, env = "RBACD_MIN_REVISION_TIMEOUT_MS", default_value_t = 5000)]
    pub min_revision_timeout_ms: u64,
    /// How often, in milliseconds, to poll the change log for other instances'
    /// writes (a revocation ends open streams within a second on every instance).
    #[arg(long, env = "RBACD_POLL_INTERVAL_MS", default_value_t = 250)]
    pub poll_interval_ms: u64,
    /// How old the in-memory index may grow while the database is unreachable
    /// before checks fail closed with UNAVAILABLE (e.g. `30s`, `5m`).
    #[arg(long, env = "RBACD_MAX_STALENESS", default_value = "60s", value_parser = parse_duration)]
    pub max_staleness: Duration,
    /// Admin API key for environment `default` when it is created on first
    /// start (at least 24 characters); a random one is printed when not set.
    #[arg(long, env = "RBACD_BOOTSTRAP_API_KEY", hide_env_values = true)]
    pub bootstrap_api_key: Option<String>,
    /// Address to serve Prometheus metrics on (HOST:PORT); off when not set.
    #[arg(long, env = "RBACD_METRICS_LISTEN")]
    pub metrics_listen: Option<HostPort>,
    /// Address to serve the OpenID AuthZEN Authorization API 1.0 on
    /// (HOST:PORT, plain HTTP/1.1), with /healthz and /readyz; off when not set.
    #[arg(long, env = "RBACD_HTTP_LISTEN")]
    pub http_listen: Option<HostPort>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// What one client may hold on to. Durations are written `500ms`, `10s`, `5m`, `1h`.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Most concurrent HTTP/2 streams (calls) on one connection.
    #[arg(long, env = "RBACD_MAX_CONCURRENT_STREAMS", default_value_t = 1000)]
    pub max_concurrent_streams: u32,
    /// Most open connections; beyond it, new connections are closed at once.
    #[arg(long, env = "RBACD_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// How often an HTTP/2 ping checks that a connection's peer is alive.
    #[arg(long, env = "RBACD_KEEPALIVE_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub keepalive_interval: Duration,
    /// How long to wait for a ping's answer before closing the connection.
    #[arg(long, env = "RBACD_KEEPALIVE_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub keepalive_timeout: Duration,
    /// How long a new connection has to finish its TLS handshake and send the
    /// HTTP/2 preface before it is closed.
    #[arg(long, env = "RBACD_PREFACE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub preface_timeout: Duration,
    /// Streams a connection may make the server reset (malformed frames) before
    /// it is sent GOAWAY: protection against reset floods.
    #[arg(long, env = "RBACD_MAX_RESET_STREAMS", default_value_t = 1024)]
    pub max_reset_streams: usize,
    /// Streams a client may open and reset itself before they are accepted
    /// ("rapid reset") before it is sent GOAWAY.
    #[arg(long, env = "RBACD_MAX_PENDING_RESET_STREAMS", default_value_t = 20)]
    pub max_pending_reset_streams: usize,
    /// How long the metrics endpoint waits to read a request or write an answer.
    #[arg(long, env = "RBACD_METRICS_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub metrics_timeout: Duration,
    /// How long an HTTP-face request may take to arrive and be answered; an
    /// idle keep-alive connection is closed after it too.
    #[arg(long, env = "RBACD_HTTP_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_timeout: Duration,
    /// Most encoded bytes of one list page's items (every List and Lookup call):
    /// the page stops before them and its `next_page_token` continues. The
    /// default stays below the 4 MiB a default gRPC client accepts.
    #[arg(long, env = "RBACD_MAX_PAGE_BYTES", default_value_t = crate::domain::paging::MAX_PAGE_BYTES)]
    pub max_page_bytes: usize,
}

/// TLS on the TCP listeners (`unix:` sockets stay plain: their file mode guards them).
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// PEM certificate chain; TLS is on when this and --tls-key are given.
    /// Reloaded on SIGHUP and when the file changes.
    #[arg(long, env = "RBACD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "RBACD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM certificates of the CAs client certificates must chain to: mutual TLS.
    #[arg(long, env = "RBACD_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// How often the certificate files are checked for changes.
    #[arg(long, env = "RBACD_TLS_RELOAD_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    pub tls_reload_interval: Duration,
}

/// Environment administration.
#[derive(Debug, Subcommand)]
pub enum EnvironmentCommand {
    /// Create an environment with its root node, the `Administrator` role and
    /// an admin service account, and print that account's API key once.
    Create {
        /// The environment's name, e.g. `production`.
        name: String,
        /// Every mutation in it needs a user action signed by the caller's own
        /// credential (see `require-signed-actions`).
        #[arg(long)]
        require_signed_actions: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Make every mutating RPC of the Role, Identity, Node, Assignment and Bulk
    /// services in environment NAME need a signed user action (`on`), or not (`off`).
    /// In effect for the next call on every instance.
    RequireSignedActions {
        /// The environment's name.
        name: String,
        /// `on` or `off`.
        state: Switch,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List environments.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Mint a fresh admin API key for an environment whose admin keys are
    /// lost (re-creating its admin service account if needed); prints it once.
    Recover {
        /// The environment's name.
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// A setting turned on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    Tcp(HostPort),
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("`unix:` needs a path, e.g. unix:/run/rbacd/rbacd.sock".into());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        text.parse().map(Self::Tcp)
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "{address}"),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// `HOST:PORT`, where HOST is an IP address (IPv6 in brackets) or a name
/// resolved when the address is bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort(String);

impl HostPort {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<std::net::SocketAddr> for HostPort {
    fn from(addr: std::net::SocketAddr) -> Self {
        Self(addr.to_string())
    }
}

impl std::str::FromStr for HostPort {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not an address: use HOST:PORT (e.g. 127.0.0.1:50051 or localhost:50051) or unix:/path"
            )
        };
        if text.parse::<std::net::SocketAddr>().is_ok() {
            return Ok(Self(text.to_owned()));
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        let name_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !name_ok || port.parse::<u16>().is_err() {
            return Err(bad());
        }
        Ok(Self(text.to_owned()))
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A duration written `250ms`, `10s`, `5m` or `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("`{text}` is not a duration: write e.g. 500ms, 10s, 5m or 1h");
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    number
        .checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

/// File permissions written in octal, e.g. `0660`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| format!("`{text}` is not a file mode: write it in octal, e.g. 0660"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_names_ips_and_sockets() {
        for ok in [
            "127.0.0.1:1",
            "[::1]:50051",
            "localhost:50052",
            "rbacd.internal:443",
        ] {
            assert!(ok.parse::<Listen>().is_ok(), "{ok}");
        }
        for bad in [
            "localhost",
            ":50051",
            "host:port",
            "a b:1",
            "unix:",
            "127.0.0.1:70000",
        ] {
            assert!(bad.parse::<Listen>().is_err(), "{bad}");
        }
        assert_eq!(
            "unix:/run/r.sock".parse::<Listen>(),
            Ok(Listen::Unix("/run/r.sock".into()))
        );
    }

    #[test]
    fn the_connection_pool_defaults_to_twenty_and_refuses_fewer_than_two() {
        let pool = |args: &[&str]| {
            Cli::try_parse_from([&["rbacd", "serve"], args].concat())
                .map(|cli| match cli.command {
                    Command::Serve(serve) => serve.database.database_max_connections,
                    other => panic!("parsed as {other:?}"),
                })
                .map_err(|e| e.kind())
        };
        assert_eq!(pool(&[]), Ok(20));
        assert_eq!(pool(&["--database-max-connections", "64"]), Ok(64));
        assert_eq!(
            pool(&["--database-max-connections", "1"]),
            Err(clap::error::ErrorKind::ValueValidation)
        );
    }

    #[test]
    fn durations_and_modes() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert_eq!(parse_mode("0660"), Ok(0o660));
        assert_eq!(parse_mode("600"), Ok(0o600));
        assert!(parse_mode("0999").is_err());
        assert!(parse_mode("1777").is_err());
    }
}
