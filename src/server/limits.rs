//! What one client may hold on to: streams, connections, idle time, resets.

use std::time::Duration;

use tonic::transport::Server;

/// Bounds on connections and streams; each is a `serve` flag.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most concurrent streams on one HTTP/2 connection.
    pub max_concurrent_streams: u32,
    /// Most open connections over all listeners; new ones beyond it are closed at once.
    pub max_connections: usize,
    /// Interval of the HTTP/2 pings that detect dead peers.
    pub keepalive_interval: Duration,
    /// How long a ping may go unanswered before the connection is closed.
    pub keepalive_timeout: Duration,
    /// How long a new connection has for its TLS handshake and HTTP/2 preface.
    pub preface_timeout: Duration,
    /// Streams the server may reset on one connection before sending GOAWAY.
    pub max_reset_streams: usize,
    /// Streams a client may reset before they are accepted, before GOAWAY.
    pub max_pending_reset_streams: usize,
    /// Read and write timeout of the metrics endpoint.
    pub metrics_timeout: Duration,
    /// How long an HTTP-face request may take to arrive and be answered.
    pub http_timeout: Duration,
    /// Most encoded bytes of one list page's items: the page stops before them
    /// and its token continues. Below 4 MiB, what a default gRPC client receives.
    pub max_page_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent_streams: 1000,
            max_connections: 10_000,
            keepalive_interval: Duration::from_secs(60),
            keepalive_timeout: Duration::from_secs(20),
            preface_timeout: Duration::from_secs(10),
            max_reset_streams: 1024,
            max_pending_reset_streams: 20,
            metrics_timeout: Duration::from_secs(10),
            http_timeout: Duration::from_secs(10),
            max_page_bytes: crate::domain::paging::MAX_PAGE_BYTES,
        }
    }
}

impl Limits {
    /// `server` with the HTTP/2 limits applied. The connection cap and the
    /// preface timeout are enforced where connections are accepted.
    pub fn apply(&self, server: Server) -> Server {
        // tonic's defaults are "no limit" for streams and local resets: always pass a bound.
        server
            .max_concurrent_streams(self.max_concurrent_streams.max(1))
            .http2_keepalive_interval(Some(self.keepalive_interval))
            .http2_keepalive_timeout(Some(self.keepalive_timeout))
            .http2_max_local_error_reset_streams(Some(self.max_reset_streams))
            .http2_max_pending_accept_reset_streams(Some(self.max_pending_reset_streams))
    }
}
