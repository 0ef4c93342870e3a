//! The client side of rbacd's hot path.
//!
//! - [`pb`]: the `rbacd.v1` messages and a client per service, generated from the
//!   repository's `proto/`.
//! - [`ApiKey`]: the `x-api-key` interceptor every authenticated call needs.
//! - [`Connector`]: a channel over plain HTTP/2, TLS (`https://`, optionally with
//!   a private CA), or a Unix socket (`unix:/path`).
//! - [`Checker`]: checks from any number of tasks multiplexed over one
//!   CheckStream, with a bounded in-flight window and reconnection.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rbacd_client::{ApiKey, Checker, CheckerOptions, Connector, pb};
//! let channel = Connector::new("http://127.0.0.1:50051")?.connect().await?;
//! let checker = Checker::new(ApiKey::new("rbacd_...")?.on(channel), CheckerOptions::default());
//! let answer = checker
//!     .check(pb::CheckRequest {
//!         identity: Some(pb::IdentityRef {
//!             r#ref: Some(pb::identity_ref::Ref::Email("ada@example.com".into())),
//!         }),
//!         permission: "Wallets:Read".into(),
//!         node: Some(pb::NodeRef { r#ref: Some(pb::node_ref::Ref::Key("wallet:42".into())) }),
//!         ..Default::default()
//!     })
//!     .await?;
//! println!("{} ({})", answer.allowed, answer.reason);
//! # Ok(()) }
//! ```

mod api_key;
mod checker;
mod connect;

pub use api_key::{ApiKey, Authed, InvalidApiKey};
pub use checker::{Checker, CheckerOptions};
pub use connect::{ConnectError, Connector};

/// The `rbacd.v1` package: messages, and `*_service_client` modules.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("rbacd.v1");
}
