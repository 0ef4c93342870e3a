//! Domain types, validation and errors; independent of gRPC and SQL.

mod caller;
mod error;
mod ids;
mod model;
mod names;
pub mod paging;
mod permission;
mod refs;
pub mod secret;
pub mod signing;
mod snapshot;
mod time;
mod unicode;

pub mod change;

pub use change::Change;

pub use caller::{Actor, Caller};
pub use error::{Error, FieldViolation, MAX_QUOTED_CHARS, MAX_REPORTED_VIOLATIONS, Result, quote};
pub use ids::{
    ApiKeyId, AssignmentId, ChallengeId, CredentialId, EnvironmentId, IdentityId, NodeId, RoleId,
};
pub use model::{
    ADMINISTRATOR_ROLE, ApiKey, Assignment, AssignmentState, Environment, Identity, IdentityKind,
    IdentityStatus, Node, ROOT_NODE_KEY, Role,
};
pub use names::{
    Email, ExternalId, MAX_NAME_LEN, MAX_TEXT_LEN, NodeKey, RoleName, check_text, fold,
};
pub use paging::{Page, PageRequest};
pub use permission::{MAX_PERMISSIONS_PER_ROLE, Permission, PermissionPattern, builtin};
pub use refs::{IdentityRef, NodeRef, RoleRef};
pub use snapshot::{EnvironmentState, Snapshot};
pub use time::Timestamp;

/// Most items a batch request may carry.
pub const MAX_BATCH_ITEMS: usize = 1000;
/// Deepest level a node may sit at below its environment's root (level 0).
pub const MAX_TREE_DEPTH: u32 = 128;
