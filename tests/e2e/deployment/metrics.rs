//! What a Prometheus scrape sees: per-RPC duration histograms by method and
//! status code (streams included), calls in flight, the index's revision and
//! lag, store errors and the process's own metrics.

use std::time::Duration;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::StreamExt;

async fn scrape(port: u16) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

fn check_request() -> pb::CheckRequest {
    pb::CheckRequest {
        identity: identity_by_email("nobody@example.com"),
        permission: "Docs:Read".into(),
        node: node_by_key("root"),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_scrape_shows_calls_by_method_and_code_and_the_index_and_process() {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let server = TestServer::start_with(|s| {
        s.metrics_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    for _ in 0..3 {
        server.authorization().check(check_request()).await.unwrap();
    }
    let anonymous = server
        .clients(None)
        .authz
        .clone()
        .check(check_request())
        .await;
    assert_eq!(anonymous.unwrap_err().code(), tonic::Code::Unauthenticated);
    // A stream, open while scraped, then closed by the client.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(check_request()).await.unwrap();
    let mut answers = server
        .authorization()
        .check_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    answers.next().await.unwrap().unwrap();

    let text = scrape(port).await;
    let check = "method=\"rbacd.v1.AuthorizationService/Check\"";
    let ok = format!("rbacd_grpc_request_duration_seconds_count{{{check},code=\"OK\"}}");
    let refused =
        format!("rbacd_grpc_request_duration_seconds_count{{{check},code=\"UNAUTHENTICATED\"}}");
    assert_eq!(sample(&text, &ok), Some(3.0), "{text}");
    assert_eq!(sample(&text, &refused), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            &format!(
                "rbacd_grpc_request_duration_seconds_bucket{{{check},code=\"OK\",le=\"+Inf\"}}"
            )
        ),
        Some(3.0)
    );
    let stream = "method=\"rbacd.v1.AuthorizationService/CheckStream\"";
    assert_eq!(
        sample(&text, &format!("rbacd_grpc_calls_in_flight{{{stream}}}")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("rbacd_grpc_streams_open{{{stream}}}")),
        Some(1.0),
        "the open CheckStream in the stream gauge: {text}"
    );
    assert_eq!(
        sample(
            &text,
            "rbacd_grpc_streams_open{method=\"rbacd.v1.AuditService/Watch\"}"
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                "rbacd_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "rbacd_checks_total{outcome=\"denied\"}"),
        Some(4.0),
        "{text}"
    );
    for name in [
        "rbacd_applied_revision",
        "rbacd_index_lag_seconds",
        "rbacd_store_errors_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(sample(&text, name).is_some(), "{name} missing: {text}");
    }
    assert!(sample(&text, "rbacd_index_lag_seconds").unwrap() < 5.0);

    drop(tx);
    drop(answers);
    let started = std::time::Instant::now();
    loop {
        let text = scrape(port).await;
        if sample(&text, &format!("rbacd_grpc_calls_in_flight{{{stream}}}")) == Some(0.0) {
            let done = format!("rbacd_grpc_request_duration_seconds_count{{{stream},code=\"OK\"}}");
            let cancelled =
                format!("rbacd_grpc_request_duration_seconds_count{{{stream},code=\"CANCELLED\"}}");
            let ended = sample(&text, &done).or(sample(&text, &cancelled));
            assert_eq!(
                ended,
                Some(1.0),
                "the stream is counted once it ends: {text}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the stream never closed: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
