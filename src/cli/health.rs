//! `rbacd health`: asks a server's gRPC health service, for probes and HEALTHCHECK.

use std::{process::ExitCode, time::Duration};

use clap::Args;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use super::connection::{DEFAULT_SERVER, TlsClientArgs, open_channel};

/// Where to ask, and about what.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The rbacd server: HOST:PORT, http(s)://HOST:PORT, or unix:/path.
    #[arg(long, env = "RBACD_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    #[command(flatten)]
    pub tls: TlsClientArgs,
    /// A service to ask about, e.g. rbacd.v1.AuthorizationService; the whole server when empty.
    #[arg(long, default_value = "")]
    pub service: String,
    /// How long to wait for the answer, e.g. 3s.
    #[arg(long, default_value = "5s", value_parser = crate::config::parse_duration)]
    pub timeout: Duration,
}

/// Exit status 0 when the server answers SERVING, 1 otherwise; the status on stdout.
pub async fn run(args: HealthArgs) -> ExitCode {
    match tokio::time::timeout(args.timeout, ask(&args)).await {
        Ok(Ok(ServingStatus::Serving)) => {
            println!("SERVING");
            ExitCode::SUCCESS
        }
        Ok(Ok(status)) => {
            println!("{}", status.as_str_name());
            ExitCode::from(1)
        }
        Ok(Err(message)) => {
            eprintln!("rbacd health: {message}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!(
                "rbacd health: no answer from {} within {:?}",
                args.server, args.timeout
            );
            ExitCode::from(1)
        }
    }
}

async fn ask(args: &HealthArgs) -> Result<ServingStatus, String> {
    let channel = open_channel(&args.server, &args.tls)
        .await
        .map_err(|e| e.to_string())?;
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: args.service.clone(),
        })
        .await
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
    Ok(answer.into_inner().status())
}
