//! One module per gRPC service: proto to domain, a call into the store or the
//! engine, domain to proto. No business rules here.

mod api_keys;
mod assignments;
mod audit;
mod authorization;
mod identities;
mod json;
mod nodes;
mod parse;
mod render;
mod roles;
mod status;

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;
use tonic::{Request, Status};

use crate::{
    domain::Caller,
    domain::{NodeRef, Permission, Result},
    follower::Follower,
    metrics::Metrics,
    store::{Store, Written},
};

pub use assignments::AssignmentApi;
pub use audit::AuditApi;
pub use authorization::AuthorizationApi;
pub use identities::IdentityApi;
pub use nodes::NodeApi;
pub use roles::RoleApi;

/// What every handler works with.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<Store>,
    pub follower: Arc<Follower>,
    /// How long a check waits for its `min_revision`.
    pub min_revision_timeout: Duration,
    /// Becomes true when the server drains: long-lived streams end.
    pub draining: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// Refuses the call unless its identity holds `permission` at `node`.
    fn authorize(&self, caller: &Caller, permission: &Permission, node: &NodeRef) -> Result<()> {
        crate::access::Policy::new(Arc::clone(self.follower.engine()))
            .authorize(caller, permission, node)
    }

    /// [`Context::authorize`] at the environment's root.
    fn authorize_at_root(&self, caller: &Caller, permission: &Permission) -> Result<()> {
        self.authorize(caller, permission, &NodeRef::root())
    }

    /// Passes a write on once this instance's index has applied it, so a
    /// check sent after the reply sees the write.
    async fn applied<T>(&self, written: Written<T>) -> Result<Written<T>> {
        self.follower.applied_through(written.revision).await?;
        self.metrics
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(written)
    }
}

/// The environment and actor a request was authenticated for, put there by
/// the server's interceptor.
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .copied()
        .ok_or_else(|| Status::unauthenticated("the request carries no environment"))
}
