//! Limits a client cannot talk its way past: streams per connection, open
//! connections, connections that never speak HTTP/2, and the metrics endpoint.

use std::time::{Duration, Instant};

use crate::support::{ADMIN_KEY, TestServer, database::TestDb};
use rbacd::server::{App, Settings};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

async fn fresh_connection(server: &TestServer) -> Channel {
    Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .expect("connect")
}

fn whole_server() -> HealthCheckRequest {
    HealthCheckRequest {
        service: String::new(),
    }
}

/// Whether the server closes `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // The server's SETTINGS frame and the like.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn the_stream_after_the_thousandth_on_one_connection_waits_for_a_free_one() {
    let server = TestServer::start().await;
    let health = HealthClient::new(fresh_connection(&server).await);
    let watches = futures::future::join_all((0..1000).map(|_| {
        let mut health = health.clone();
        async move {
            health
                .watch(whole_server())
                .await
                .expect("watch")
                .into_inner()
        }
    }))
    .await;
    let mut next = health.clone();
    let mut extra = Box::pin(async move { next.check(whole_server()).await });
    assert!(
        tokio::time::timeout(Duration::from_millis(700), &mut extra)
            .await
            .is_err(),
        "a 1,001st concurrent stream on one connection must not be opened"
    );
    drop(watches);
    let answered = tokio::time::timeout(Duration::from_secs(5), extra)
        .await
        .expect("the waiting call proceeds once streams end");
    answered.expect("health check");
    // Another connection was never limited by this one.
    HealthClient::new(fresh_connection(&server).await)
        .check(whole_server())
        .await
        .expect("a call on another connection");
}

#[tokio::test]
async fn a_connection_that_never_sends_the_preface_is_closed_after_the_timeout() {
    let server =
        TestServer::start_with(|s| s.limits.preface_timeout = Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed before the timeout: {:?}",
        started.elapsed()
    );
    // A connection that sent its preface long ago is not affected.
    let mut health = HealthClient::new(server.channel.clone());
    health
        .check(whole_server())
        .await
        .expect("health on an old connection");
    tokio::time::sleep(Duration::from_millis(500)).await;
    health
        .check(whole_server())
        .await
        .expect("still open after the timeout");
    // Half a preface is no better than none.
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(&PREFACE[..10]).await.unwrap();
    assert!(closed_within(&mut partial, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_until_one_ends() {
    // The test server's own channel holds one of the three.
    let server = TestServer::start_with(|s| s.limits.max_connections = 3).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(PREFACE).await.unwrap();
        stream
            .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
            .await
            .unwrap(); // empty SETTINGS
        assert!(!closed_within(&mut stream, Duration::from_millis(200)).await);
        held.push(stream);
    }
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_secs(2)).await,
        "a fourth connection must be closed"
    );
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    HealthClient::new(fresh_connection(&server).await)
        .check(whole_server())
        .await
        .expect("a slot was freed");
}

/// A port free a moment ago.
async fn free_port() -> u16 {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap().port()
}

async fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .expect("an answer")
        .expect("read");
    answer
}

#[tokio::test]
async fn metrics_answer_their_path_only_and_drop_slow_clients() {
    let port = free_port().await;
    let server = TestServer::start_with(|s| {
        s.metrics_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
        s.limits.metrics_timeout = Duration::from_millis(300);
    })
    .await;
    let metrics = http_get(port, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains(&format!(
            "rbacd_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{metrics}"
    );
    let other = http_get(port, "/favicon.ico").await;
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)).await,
        "a client that sends no request is dropped after the read timeout"
    );
    drop(server);
}

#[tokio::test]
async fn a_metrics_port_in_use_fails_the_start() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let db = TestDb::new().await;
    let mut settings = Settings::new(db.url.clone());
    settings.bootstrap_api_key = Some(ADMIN_KEY.into());
    settings.metrics_listen = Some(taken.local_addr().unwrap().into());
    let error = App::open(settings).await.err().expect("the start fails");
    assert!(error.to_string().contains("--metrics-listen"), "{error}");
}
