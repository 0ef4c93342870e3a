//! The change log: one entry per mutation, the single source for audit, Watch,
//! and keeping every instance's in-memory index current.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Assignment, AssignmentId, EnvironmentId, Identity, IdentityId, Node, NodeId, Role, RoleId,
    Timestamp,
};

/// What happened to an object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    EnvironmentCreated { id: EnvironmentId, name: String },
    RoleSaved(Role),
    RoleDeleted(RoleId),
    IdentitySaved(Identity),
    IdentityDeleted(IdentityId),
    NodeSaved(Node),
    NodeDeleted(NodeId),
    AssignmentCreated(Assignment),
    AssignmentDeleted(AssignmentId),
}

/// Kinds of object the change log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    Environment,
    Role,
    Identity,
    Node,
    Assignment,
}

impl ObjectKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Environment => "ENVIRONMENT",
            Self::Role => "ROLE",
            Self::Identity => "IDENTITY",
            Self::Node => "NODE",
            Self::Assignment => "ASSIGNMENT",
        }
    }
}

/// One entry of the change log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Position in the log; monotonic per deployment.
    pub revision: u64,
    pub environment_id: EnvironmentId,
    pub at: Timestamp,
    /// The identity that made the change; `None` for the service itself.
    pub actor: Option<IdentityId>,
    /// What was done, e.g. `CreateRole`.
    pub action: String,
    pub object_kind: ObjectKind,
    pub object_id: Uuid,
    /// The object before the change, as JSON; `None` when it was created.
    pub before: Option<serde_json::Value>,
    /// The object after the change, as JSON; `None` when it was deleted.
    pub after: Option<serde_json::Value>,
    /// The typed event the index applies.
    pub event: Event,
}
