//! The server as a platform team deploys it: limits, Unix sockets, TLS, logs and packaging.

mod access_log;
mod authzen;
mod limits;
mod metrics;
mod packaging;
mod sidecar;
mod tls;
