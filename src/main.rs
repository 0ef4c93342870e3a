//! The `rbacd` binary: wires settings to the server.

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use rbacd::{
    config::{Cli, Command, EnvironmentCommand, ServeArgs},
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
        Command::Environment(command) => environment(command).await,
        Command::Client(command) => return rbacd::cli::run(command).await,
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

async fn environment(command: EnvironmentCommand) -> Result<(), String> {
    let database = match &command {
        EnvironmentCommand::Create { database, .. } | EnvironmentCommand::List { database } => {
            database
        }
    };
    let store = Store::connect(&database.database_url)
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    match command {
        EnvironmentCommand::Create { name, .. } => {
            if name.trim().is_empty() || name.len() > 256 {
                return Err("an environment name needs 1 to 256 characters".into());
            }
            let made = store
                .create_environment(&name, None)
                .await
                .map_err(|e| e.to_string())?
                .value;
            println!(
                "environment:     {} ({})",
                made.environment.name, made.environment.id
            );
            println!("admin identity:  {}", made.admin.id);
            println!("admin API key:   {}", made.secret);
            eprintln!("The API key is shown only this once; send it as `x-api-key` metadata.");
        }
        EnvironmentCommand::List { .. } => {
            println!("{:<38}  NAME", "ID");
            for env in store.list_environments().await.map_err(|e| e.to_string())? {
                println!("{:<38}  {}", env.id.to_string(), env.name);
            }
        }
    }
    store.close().await;
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let settings = Settings {
        database_url: args.database.database_url,
        min_revision_timeout: Duration::from_millis(args.min_revision_timeout_ms),
        poll_interval: Duration::from_millis(args.poll_interval_ms.max(10)),
        bootstrap_api_key: args.bootstrap_api_key.clone(),
        metrics_listen: args.metrics_listen,
    };
    let app = App::open(settings).await.map_err(|e| e.to_string())?;
    if let Some(made) = &app.bootstrapped {
        if args.bootstrap_api_key.is_some() {
            tracing::info!(
                environment = %made.environment.name,
                "created with the admin key from RBACD_BOOTSTRAP_API_KEY"
            );
        } else {
            eprintln!(
                "\nrbacd: created environment `{}` with an admin service account.\nIts API key, shown only this once (send it as `x-api-key`):\n\n    {}\n",
                made.environment.name, made.secret
            );
        }
    }
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
