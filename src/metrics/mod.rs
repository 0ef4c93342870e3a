//! Prometheus metrics in the text exposition format, on their own listener.

mod grpc;
mod process;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use grpc::{GrpcMetrics, Method, code_name};

use crate::{engine::Engine, feed::Feed};

/// Counters the handlers bump.
#[derive(Default)]
pub struct Metrics {
    pub checks_allowed: AtomicU64,
    pub checks_denied: AtomicU64,
    pub checks_malformed: AtomicU64,
    pub writes: AtomicU64,
    /// Per-RPC durations and calls in flight, recorded by the server's layer.
    pub grpc: GrpcMetrics,
}

/// What the metrics read at scrape time besides the counters.
#[derive(Clone)]
pub struct Sources {
    pub engine: Arc<Engine>,
    pub feed: Arc<Feed>,
}

impl Metrics {
    /// Counts one decided check.
    pub fn checked(&self, allowed: bool) {
        let counter = if allowed {
            &self.checks_allowed
        } else {
            &self.checks_denied
        };
        counter.fetch_add(1, Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, sources: &Sources) -> String {
        let engine = &sources.engine;
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in samples {
                out.push_str(&format!("{name}{labels} {value}\n"));
            }
        };
        metric(
            "rbacd_checks_total",
            "counter",
            "Checks answered, by outcome.",
            &[
                ("{outcome=\"allowed\"}", self.checks_allowed.load(Relaxed)),
                ("{outcome=\"denied\"}", self.checks_denied.load(Relaxed)),
                (
                    "{outcome=\"malformed\"}",
                    self.checks_malformed.load(Relaxed),
                ),
            ],
        );
        metric(
            "rbacd_writes_total",
            "counter",
            "Writes committed by this instance.",
            &[("", self.writes.load(Relaxed))],
        );
        metric(
            "rbacd_build_info",
            "gauge",
            "The running build: always 1, labelled by version.",
            &[(concat!("{version=\"", env!("CARGO_PKG_VERSION"), "\"}"), 1)],
        );
        metric(
            "rbacd_applied_revision",
            "gauge",
            "Last change-log revision applied to the in-memory index.",
            &[("", engine.applied_revision())],
        );
        metric(
            "rbacd_index_bytes",
            "gauge",
            "Estimated heap bytes of the in-memory index.",
            &[("", engine.heap_bytes() as u64)],
        );
        metric(
            "rbacd_store_errors_total",
            "counter",
            "Database operations that failed (other than refused writes such as duplicates).",
            &[("", crate::store::errors_total())],
        );
        let lag = sources.feed.lag().as_secs_f64();
        out.push_str(&format!(
            "# HELP rbacd_index_lag_seconds Seconds since the index was last known to hold every change in the store.\n# TYPE rbacd_index_lag_seconds gauge\nrbacd_index_lag_seconds {lag}\n"
        ));
        self.grpc.render(&mut out);
        process::render(&mut out);
        out
    }
}

/// Most metrics requests served at once; more wait to be accepted.
const MAX_SCRAPES: usize = 16;
/// Longest request head read; a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;

/// Answers `GET /metrics` on `listener` (404 elsewhere), each request within
/// `timeout` for reading and for writing; runs until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    sources: Sources,
    timeout: Duration,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_SCRAPES));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Ok((socket, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let (metrics, sources) = (Arc::clone(&metrics), sources.clone());
        tokio::spawn(async move {
            let _slot = slot;
            answer(socket, timeout, || metrics.render(&sources)).await;
        });
    }
}

async fn answer(
    mut socket: tokio::net::TcpStream,
    timeout: Duration,
    body: impl FnOnce() -> String,
) {
    let Ok(Some(target)) = tokio::time::timeout(timeout, read_target(&mut socket)).await else {
        return;
    };
    let (status, body) = match target.as_str() {
        "/metrics" => ("200 OK", body()),
        _ => (
            "404 Not Found",
            "not found: metrics are at /metrics\n".to_owned(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(timeout, async {
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(body.as_bytes()).await?;
        socket.shutdown().await
    })
    .await;
}

/// The path of a `GET` request, once its whole head has arrived; `None` for anything else.
async fn read_target(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line = head.split(|b| *b == b'\r').next()?;
    let mut parts = std::str::from_utf8(line).ok()?.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET" || method == "HEAD")
        .then(|| target.split('?').next().unwrap_or(target).to_owned())
}

/// Serves metrics on `listener` in the background.
pub fn spawn(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    sources: Sources,
    timeout: Duration,
) {
    if let Ok(bound) = listener.local_addr() {
        tracing::info!(%bound, "serving Prometheus metrics at /metrics");
    }
    tokio::spawn(serve(listener, metrics, sources, timeout));
}
