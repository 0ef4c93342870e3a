//! Prometheus metrics in the text exposition format, on their own listener.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::engine::Engine;

/// Counters the handlers bump.
#[derive(Debug, Default)]
pub struct Metrics {
    pub checks_allowed: AtomicU64,
    pub checks_denied: AtomicU64,
    pub checks_malformed: AtomicU64,
    pub writes: AtomicU64,
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
    pub fn render(&self, engine: &Engine) -> String {
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
        out
    }
}

/// Answers every HTTP request on `listener` with the metrics; runs until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>, engine: Arc<Engine>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let body = metrics.render(&engine);
        tokio::spawn(async move {
            // The request itself does not matter; read what has arrived and answer.
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

/// Binds `addr` and serves metrics in the background.
pub async fn spawn(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    engine: Arc<Engine>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(serve(listener, metrics, engine));
    Ok(bound)
}
