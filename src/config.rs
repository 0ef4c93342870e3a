//! Command line and environment settings; `rbacd --help` documents them.

use clap::{Args, Parser, Subcommand};

use crate::server::Listen;

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
        default_value = "sqlite://rbacd.db?mode=rwc"
    )]
    pub database_url: String,
}

/// How to serve.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: HOST:PORT, or unix:/path for a sidecar socket.
    #[arg(long, env = "RBACD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: Listen,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Longest wait, in milliseconds, for a check's `min_revision` before UNAVAILABLE.
    #[arg(long, env = "RBACD_MIN_REVISION_TIMEOUT_MS", default_value_t = 5000)]
    pub min_revision_timeout_ms: u64,
    /// How often, in milliseconds, to poll the change log for other instances' writes.
    #[arg(long, env = "RBACD_POLL_INTERVAL_MS", default_value_t = 1000)]
    pub poll_interval_ms: u64,
    /// Admin API key for environment `default` when it is created on first
    /// start (at least 24 characters); a random one is printed when not set.
    #[arg(long, env = "RBACD_BOOTSTRAP_API_KEY", hide_env_values = true)]
    pub bootstrap_api_key: Option<String>,
    /// Address to serve Prometheus metrics on (HOST:PORT); off when not set.
    #[arg(long, env = "RBACD_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// Environment administration.
#[derive(Debug, Subcommand)]
pub enum EnvironmentCommand {
    /// Create an environment with its root node, the `Administrator` role and
    /// an admin service account, and print that account's API key once.
    Create {
        /// The environment's name, e.g. `production`.
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List environments.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}
