//! The `rbacd` binary: wires settings to the server.

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use rbacd::{
    config::{Cli, Command, ServeArgs},
    server::{App, Listen, Settings, shutdown_signal},
    store::Store,
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(&args.database_url).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rbacd: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let store = Store::connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    tracing::info!("migrations applied");
    store.close().await;
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let settings = Settings {
        database_url: args.database.database_url,
        min_revision_timeout: Duration::from_millis(args.min_revision_timeout_ms),
        poll_interval: Duration::from_millis(args.poll_interval_ms.max(10)),
    };
    let app = App::open(settings).await.map_err(|e| e.to_string())?;
    match args.listen {
        Listen::Tcp(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            tracing::info!(%addr, "serving gRPC");
            app.serve_tcp(listener, shutdown_signal()).await
        }
        Listen::Unix(path) => {
            // A socket file left by an earlier run would make bind fail.
            let _ = std::fs::remove_file(&path);
            let listener = tokio::net::UnixListener::bind(&path)
                .map_err(|e| format!("cannot listen on unix:{}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "serving gRPC on a Unix socket");
            app.serve_unix(listener, shutdown_signal()).await
        }
    }
    .map_err(|e| format!("the server stopped: {e}"))
}
