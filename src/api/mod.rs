//! One module per gRPC service; a handler reads parse (`parse`, `enums`) →
//! authorize (`State::policy`) → call (store or engine) → render (`render`).
//! No business rules here.

mod api_keys;
mod assignments;
mod assignments_bulk;
mod audit;
mod authorization;
mod bulk;
mod enums;
mod grants;
mod idempotency;
mod identities;
mod json;
mod nodes;
mod pages;
mod parse;
mod render;
mod revocation;
mod roles;
mod signing;
mod status;
pub mod validate;

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;
use tonic::{Request, Status};

use crate::{
    access::Policy,
    domain::{Caller, Result},
    engine::Engine,
    feed::Feed,
    metrics::Metrics,
    store::{Store, Written},
};

pub use assignments::AssignmentApi;
pub use audit::AuditApi;
pub use authorization::{AuthorizationApi, AuthorizationRoutes};
pub use bulk::BulkApi;
pub use identities::IdentityApi;
pub use nodes::NodeApi;
pub use roles::RoleApi;
pub use signing::ActionSigningApi;

/// The services every handler works with.
#[derive(Clone)]
pub struct State {
    pub store: Arc<Store>,
    pub engine: Arc<Engine>,
    pub feed: Arc<Feed>,
    pub policy: Policy,
    /// How long a check waits for its `min_revision`.
    pub min_revision_timeout: Duration,
    /// Most encoded bytes of one list page's items.
    pub page_bytes: usize,
    /// Becomes true when the server drains: long-lived streams end.
    pub draining: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
}

impl State {
    /// Passes a write on once this instance's index has applied it, so a
    /// check sent after the reply sees the write.
    async fn applied<T>(&self, mut written: Written<T>) -> Result<Written<T>> {
        self.feed.apply_written(&mut written).await?;
        self.metrics
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(written)
    }
}

/// The caller a request was authenticated as, put there by the server's interceptor.
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .copied()
        .ok_or_else(|| Status::unauthenticated("the request carries no environment"))
}
