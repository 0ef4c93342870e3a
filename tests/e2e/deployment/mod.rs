//! The server as a platform team deploys it: limits, Unix sockets, TLS, logs, metrics, traces and packaging.

mod access_log;
mod authzen;
mod instances;
mod limits;
mod metrics;
mod outage;
mod packaging;
mod replicas;
mod sidecar;
mod tls;
mod tracing;
