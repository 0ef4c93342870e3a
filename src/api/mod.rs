//! One module per gRPC service: proto to domain, a call into the store or the
//! engine, domain to proto. No business rules here.

mod assignments;
mod identities;
mod nodes;
mod parse;
mod render;
mod roles;
mod status;

use std::sync::Arc;

use tonic::{Request, Status};

use crate::store::{Scope, Store};

pub use assignments::AssignmentApi;
pub use identities::IdentityApi;
pub use nodes::NodeApi;
pub use roles::RoleApi;

/// What every handler works with.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<Store>,
}

/// The environment and actor a request was authenticated for, put there by
/// the server's interceptor.
fn scope<T>(request: &Request<T>) -> Result<Scope, Status> {
    request
        .extensions()
        .get::<Scope>()
        .copied()
        .ok_or_else(|| Status::unauthenticated("the request carries no environment"))
}
