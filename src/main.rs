//! The `rbacd` binary: wires settings to the server.

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use rbacd::{
    config::{Cli, Command, DatabaseArgs, EnvironmentCommand, ServeArgs},
    server::{App, Bound, Limits, Settings, TlsSettings, shutdown_signal},
    store::Store,
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(&args).await,
        Command::Environment(command) => environment(command).await,
        Command::Health(args) => return rbacd::cli::health::run(args).await,
        Command::Client(command) => return rbacd::cli::run(command).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if telemetry::is_json() {
                tracing::error!(error = %message, "rbacd stopped");
            } else {
                eprintln!("rbacd: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn migrate(database: &DatabaseArgs) -> Result<(), String> {
    let store = connect(database).await?;
    store.migrate().await.map_err(|e| e.to_string())?;
    tracing::info!("migrations applied");
    store.close().await;
    Ok(())
}

async fn environment(command: EnvironmentCommand) -> Result<(), String> {
    let database = match &command {
        EnvironmentCommand::Create { database, .. }
        | EnvironmentCommand::List { database }
        | EnvironmentCommand::RequireSignedActions { database, .. }
        | EnvironmentCommand::Recover { database, .. } => database,
    };
    let store = connect(database).await?;
    store.migrate().await.map_err(|e| e.to_string())?;
    match command {
        EnvironmentCommand::Create {
            name,
            require_signed_actions,
            ..
        } => {
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
            if require_signed_actions {
                store
                    .set_require_signed_actions(made.environment.id, true)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("signed actions:  required");
            }
            println!("admin identity:  {}", made.admin.id);
            println!("admin API key:   {}", made.secret);
            eprintln!("The API key is shown only this once; send it as `x-api-key` metadata.");
        }
        EnvironmentCommand::Recover { name, .. } => {
            let made = store
                .recover_environment(&name)
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
        EnvironmentCommand::RequireSignedActions { name, state, .. } => {
            let env = store
                .find_environment(&name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no environment `{name}`"))?;
            let on = state == rbacd::config::Switch::On;
            store
                .set_require_signed_actions(env.id, on)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "environment `{name}`: signed actions {}",
                if on { "required" } else { "not required" }
            );
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

async fn connect(database: &DatabaseArgs) -> Result<Store, String> {
    Store::connect_in_schema(
        &database.database_url,
        Some(&database.database_schema),
        Some(database.database_max_connections),
    )
    .await
    .map_err(|e| e.to_string())
}

fn settings(args: &ServeArgs) -> Settings {
    let limits = &args.limits;
    let tls = &args.tls;
    Settings {
        database_url: args.database.database_url.clone(),
        database_schema: Some(args.database.database_schema.clone()),
        database_max_connections: Some(args.database.database_max_connections),
        min_revision_timeout: Duration::from_millis(args.min_revision_timeout_ms),
        poll_interval: Duration::from_millis(args.poll_interval_ms.max(10)),
        max_staleness: args.max_staleness,
        bootstrap_api_key: args.bootstrap_api_key.clone(),
        metrics_listen: args.metrics_listen.clone(),
        http_listen: args.http_listen.clone(),
        limits: Limits {
            max_concurrent_streams: limits.max_concurrent_streams,
            max_connections: limits.max_connections,
            keepalive_interval: limits.keepalive_interval,
            keepalive_timeout: limits.keepalive_timeout,
            preface_timeout: limits.preface_timeout,
            max_reset_streams: limits.max_reset_streams,
            max_pending_reset_streams: limits.max_pending_reset_streams,
            metrics_timeout: limits.metrics_timeout,
            http_timeout: limits.http_timeout,
            max_page_bytes: limits.max_page_bytes.max(1),
        },
        tls: tls
            .tls_cert
            .clone()
            .zip(tls.tls_key.clone())
            .map(|(cert, key)| TlsSettings {
                cert,
                key,
                client_ca: tls.tls_client_ca.clone(),
                reload_interval: tls.tls_reload_interval,
            }),
        user_action_lifetime: rbacd::domain::signing::MAX_ACTION_LIFETIME,
        traces: None,
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    // Bound first: a wrong address fails before the database is touched.
    let mut listeners = Vec::new();
    for listen in &args.listen {
        listeners.push(Bound::bind(listen, args.socket_mode).await?);
    }
    let mut settings = settings(&args);
    settings.traces = telemetry::Traces::from_env()?;
    let app = App::open(settings).await.map_err(|e| e.to_string())?;
    if let Some(made) = &app.bootstrapped {
        if args.bootstrap_api_key.is_some() {
            tracing::info!(
                environment = %made.environment.name,
                "created with the admin key from RBACD_BOOTSTRAP_API_KEY"
            );
        } else if telemetry::is_json() {
            // The only place this key is ever shown: one event a log pipeline keeps whole.
            tracing::warn!(
                environment = %made.environment.name,
                api_key = %made.secret,
                "created the environment with an admin service account; its API key is shown only this once (send it as x-api-key)"
            );
        } else {
            eprintln!(
                "\nrbacd: created environment `{}` with an admin service account.\nIts API key, shown only this once (send it as `x-api-key`):\n\n    {}\n",
                made.environment.name, made.secret
            );
        }
    }
    for bound in &listeners {
        tracing::info!(address = %bound.describe(), tls = args.tls.tls_cert.is_some(), "serving gRPC");
    }
    app.serve(listeners, shutdown_signal())
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}
