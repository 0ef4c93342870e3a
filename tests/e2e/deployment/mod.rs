//! The server as a platform team deploys it: limits, Unix sockets, TLS, logs and packaging.

mod limits;
mod packaging;
mod sidecar;
mod tls;
