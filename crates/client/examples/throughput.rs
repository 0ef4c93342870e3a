//! Checks/s from many tasks through one [`Checker`] (one CheckStream) beside the
//! same tasks doing unary Check on one channel, against a running server.
//!
//! ```text
//! cargo run -p rbacd-client --release --example throughput -- \
//!     --server http://127.0.0.1:50051 --api-key "$RBACD_API_KEY"
//! ```
//!
//! The key needs `Rbacd:Check`, and write permissions the first time: the run
//! creates (once) a role, an identity, a node and an assignment named `throughput`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use rbacd_client::{
    ApiKey, Authed, Checker, CheckerOptions, Connector,
    pb::{self, authorization_service_client::AuthorizationServiceClient},
};
use tonic::{Code, Status};

#[derive(Parser)]
struct Args {
    /// http://HOST:PORT, https://HOST:PORT, HOST:PORT or unix:/path.
    #[arg(long, env = "RBACD_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    #[arg(long, env = "RBACD_API_KEY", hide_env_values = true)]
    api_key: String,
    /// PEM CA certificate for an https:// server.
    #[arg(long)]
    ca_cert: Option<std::path::PathBuf>,
    /// Concurrent tasks in each run.
    #[arg(long, default_value_t = 64)]
    tasks: usize,
    /// Seconds each run is counted, after one second of warm-up.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// The Checker's window of checks in flight.
    #[arg(long, default_value_t = 256)]
    window: usize,
}

const EMAIL: &str = "throughput@example.com";
const NODE: &str = "throughput";
const ROLE: &str = "throughput-reader";
const PERMISSION: &str = "Throughput:Read";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut connector = Connector::new(&args.server)?;
    if let Some(path) = &args.ca_cert {
        connector = connector.ca_certificate_pem(std::fs::read(path)?);
    }
    let key = ApiKey::new(&args.api_key)?;
    let connect = || async {
        Ok::<_, rbacd_client::ConnectError>(key.clone().on(connector.connect().await?))
    };
    seed(connect().await?).await?;

    let checker = Checker::new(
        connect().await?,
        CheckerOptions {
            window: args.window,
            ..Default::default()
        },
    );
    let streamed = run(&args, move || {
        let checker = checker.clone();
        async move { checker.check(question()).await }
    })
    .await?;
    let unary = AuthorizationServiceClient::new(connect().await?);
    let unary = run(&args, move || {
        let mut client = unary.clone();
        async move { client.check(question()).await.map(|r| r.into_inner()) }
    })
    .await?;
    println!(
        "tasks: {}, window: {}, {} s each",
        args.tasks, args.window, args.seconds
    );
    println!("checker (one CheckStream): {streamed:>10.0} checks/s");
    println!("unary Check (one channel): {unary:>10.0} checks/s");
    println!("ratio: {:.2}x", streamed / unary);
    Ok(())
}

fn question() -> pb::CheckRequest {
    pb::CheckRequest {
        identity: Some(pb::IdentityRef {
            r#ref: Some(pb::identity_ref::Ref::Email(EMAIL.into())),
        }),
        permission: PERMISSION.into(),
        node: Some(node(NODE)),
        ..Default::default()
    }
}

fn node(key: &str) -> pb::NodeRef {
    pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Key(key.into())),
    }
}

/// `args.tasks` tasks asking through `ask` until the time is up: checks/s counted after the warm-up.
async fn run<F, Fut>(args: &Args, ask: F) -> Result<f64, Status>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<pb::CheckResponse, Status>> + Send,
{
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let counted = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..args.tasks {
        let (ask, counting, stop, counted) =
            (ask.clone(), counting.clone(), stop.clone(), counted.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let answer = ask().await?;
                if !answer.allowed {
                    return Err(Status::failed_precondition(format!(
                        "denied: {}",
                        answer.reason
                    )));
                }
                if counting.load(Ordering::Relaxed) {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let checks = counted.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.map_err(|e| Status::internal(e.to_string()))??;
    }
    Ok(checks as f64 / elapsed.as_secs_f64())
}

/// Creates what the checks ask about, unless a previous run did.
async fn seed(channel: Authed) -> Result<(), Status> {
    use pb::{
        assignment_service_client::AssignmentServiceClient,
        identity_service_client::IdentityServiceClient, node_service_client::NodeServiceClient,
        role_service_client::RoleServiceClient,
    };
    let existing = |r: Result<(), Status>| match r {
        Err(s) if s.code() == Code::AlreadyExists => Ok(()),
        other => other,
    };
    existing(
        RoleServiceClient::new(channel.clone())
            .create_role(pb::CreateRoleRequest {
                name: ROLE.into(),
                permissions: vec![PERMISSION.into()],
                ..Default::default()
            })
            .await
            .map(drop),
    )?;
    existing(
        IdentityServiceClient::new(channel.clone())
            .create_identity(pb::CreateIdentityRequest {
                email: EMAIL.into(),
                ..Default::default()
            })
            .await
            .map(drop),
    )?;
    existing(
        NodeServiceClient::new(channel.clone())
            .create_node(pb::CreateNodeRequest {
                key: NODE.into(),
                name: NODE.into(),
                ..Default::default()
            })
            .await
            .map(drop),
    )?;
    existing(
        AssignmentServiceClient::new(channel)
            .create_assignment(pb::CreateAssignmentRequest {
                identity: Some(pb::IdentityRef {
                    r#ref: Some(pb::identity_ref::Ref::Email(EMAIL.into())),
                }),
                role: Some(pb::RoleRef {
                    r#ref: Some(pb::role_ref::Ref::Name(ROLE.into())),
                }),
                node: Some(node(NODE)),
                ..Default::default()
            })
            .await
            .map(drop),
    )
}
