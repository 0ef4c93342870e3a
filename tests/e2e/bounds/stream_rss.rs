//! Stream exhaustion, measured from outside: the server binary as a child
//! process is flooded with streams it must keep open and no one reads: health
//! watches past the per-connection stream cap on more connections than the
//! connection cap, audit Watches over megabytes of changes, CheckStreams sent
//! thousands of requests. Its resident memory (VmRSS) stays within a bound
//! derived from its limits, and it still answers a Check meanwhile and after.

use std::{process::Stdio, sync::Arc, time::Duration};

use futures::stream;
use tokio::sync::Mutex;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::*;

const STREAM_CAP: usize = 200;
const CONNECTION_CAP: usize = 16;
/// Health watches tried per connection, and connections tried: past both caps.
const WATCHES_PER_CONNECTION: usize = 2 * STREAM_CAP;
const CONNECTIONS: usize = CONNECTION_CAP + 8;
const UNREAD_WATCHES: usize = 20;
const UNREAD_CHECK_STREAMS: usize = 10;
/// Roles of about 200 kB each: their changes are what the unread Watches hold.
const LARGE_ROLES: usize = 12;
/// What the flood may add to the server's resident memory. Held streams cost a
/// few kB each (at most CONNECTION_CAP × STREAM_CAP of them), an unread Watch
/// its 1 MiB outbox plus a stream window, an unread CheckStream its 1 MiB
/// receive window; without the caps and byte bounds the same flood holds
/// several times this.
const RSS_GROWTH_BOUND_KB: u64 = 160 * 1024;

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server runs");
    let line = (status.lines())
        .find(|l| l.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    line.split_whitespace()
        .nth(1)
        .and_then(|kb| kb.parse().ok())
        .expect("VmRSS in kB")
}

async fn connect(port: u16) -> Result<Channel, tonic::transport::Error> {
    Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("a uri")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// Whether `who` may read docs at the root, asked until an answer comes (at most
/// ~45 s: a server under a flood of streams may refuse or drop a call meanwhile).
async fn allowed(clients: &Clients, who: &pb::Identity) -> bool {
    let mut last = String::new();
    for _ in 0..8 {
        let mut authz = clients.authz.clone();
        let check = authz.check(pb::CheckRequest {
            identity: identity_by_id(&who.id),
            permission: "Docs:Read".into(),
            node: node_by_key("root"),
            ..Default::default()
        });
        match tokio::time::timeout(Duration::from_secs(5), check).await {
            Ok(Ok(reply)) => return reply.into_inner().allowed,
            Ok(Err(status)) => last = status.to_string(),
            Err(_) => last = "no answer within 5 s".into(),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("no check answered: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unread_streams_keeps_the_server_within_its_memory_bound() {
    let db = std::env::temp_dir().join(format!("rbacd-rss-{}.db", uuid::Uuid::new_v4().simple()));
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--max-concurrent-streams", &STREAM_CAP.to_string()])
        .args(["--max-connections", &CONNECTION_CAP.to_string()])
        .arg("--database-url")
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
        .env("RBACD_BOOTSTRAP_API_KEY", ADMIN_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start rbacd serve");
    let pid = child.id().expect("a pid");
    let mut admin_channel = None;
    for _ in 0..300 {
        if let Ok(channel) = connect(port).await {
            let mut health = HealthClient::new(channel.clone());
            if health.check(HealthCheckRequest::default()).await.is_ok() {
                admin_channel = Some(channel);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin = Clients::new(admin_channel.expect("the server comes up"), Some(ADMIN_KEY));

    // A reader to check, and megabytes of changes for the Watches to hold.
    let role = |name: String, permissions: Vec<String>| pb::CreateRoleRequest {
        name,
        permissions,
        ..Default::default()
    };
    let reader = (admin.roles.clone())
        .create_role(role("Reader".into(), vec!["Docs:Read".into()]))
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    let padding = "x".repeat(180);
    for r in 0..LARGE_ROLES {
        let permissions = (0..1000)
            .map(|p| format!("Large{r}:{padding}:P{p}"))
            .collect();
        (admin.roles.clone())
            .create_role(role(format!("Large_{r}"), permissions))
            .await
            .unwrap();
    }
    let who = (admin.identities.clone())
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "reader@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    (admin.assignments.clone())
        .create_assignment(pb::CreateAssignmentRequest {
            identity: identity_by_id(&who.id),
            role: role_by_id(&reader.id),
            node: node_by_key("root"),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(allowed(&admin, &who).await);
    let baseline = rss_kb(pid);

    // Unread audit Watches and CheckStreams, on a connection of their own: unread
    // answers fill that connection's flow-control window, not the admin's.
    let flooder = Clients::new(connect(port).await.expect("a connection"), Some(ADMIN_KEY));
    let held: Arc<Mutex<Vec<Box<dyn std::any::Any + Send>>>> = Arc::default();
    for _ in 0..UNREAD_WATCHES {
        let watch = (flooder.audit.clone())
            .watch(pb::WatchRequest::default())
            .await
            .expect("a watch opens");
        held.lock().await.push(Box::new(watch));
    }
    for _ in 0..UNREAD_CHECK_STREAMS {
        let request = pb::CheckRequest {
            identity: identity_by_id(&who.id),
            permission: "Docs:Read".into(),
            node: node_by_key("root"),
            ..Default::default()
        };
        let requests = stream::iter(std::iter::repeat_n(request, 50_000));
        let answers = (flooder.authz.clone())
            .check_stream(requests)
            .await
            .expect("a check stream opens");
        held.lock().await.push(Box::new(answers));
    }
    // Health watches past the stream cap, on connections past the connection cap.
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let Ok(channel) = connect(port).await else {
            continue;
        };
        for _ in 0..WATCHES_PER_CONNECTION {
            let (channel, held) = (channel.clone(), Arc::clone(&held));
            tasks.push(tokio::spawn(async move {
                let mut health = HealthClient::new(channel);
                let watch = health.watch(HealthCheckRequest::default());
                if let Ok(stream) = watch.await {
                    held.lock().await.push(Box::new(stream));
                }
            }));
        }
    }
    let mut peak = 0;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak = peak.max(rss_kb(pid));
    }
    let streams_held = held.lock().await.len();
    assert!(
        streams_held >= STREAM_CAP,
        "the flood opened {streams_held} streams"
    );
    assert!(allowed(&admin, &who).await, "a check while flooded");
    peak = peak.max(rss_kb(pid));
    println!("VmRSS {baseline} kB before, {peak} kB at peak with {streams_held} streams held");
    assert!(
        peak.saturating_sub(baseline) <= RSS_GROWTH_BOUND_KB,
        "VmRSS grew from {baseline} kB to {peak} kB"
    );

    // Let go of everything: a new connection is served.
    for task in &tasks {
        task.abort();
    }
    held.lock().await.clear();
    drop(admin);
    drop(flooder);
    let mut answered = false;
    for _ in 0..50 {
        if let Ok(channel) = connect(port).await {
            let fresh = Clients::new(channel, Some(ADMIN_KEY));
            answered = allowed(&fresh, &who).await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "a check after the flood");
    let _ = child.kill().await;
    let _ = std::fs::remove_file(&db);
}
