//! The change log: one entry per mutation, the single source for audit, Watch,
//! and keeping every instance's in-memory index current.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ApiKey, Assignment, AssignmentId, Environment, EnvironmentId, Identity, IdentityId, Node,
    NodeId, Role, RoleId, Timestamp, signing::Credential,
};

/// What happened to an object; what the index applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    EnvironmentCreated(Environment),
    /// A role was created or changed.
    RoleSaved(Role),
    RoleDeleted(RoleId),
    /// An identity was created or changed.
    IdentitySaved(Identity),
    IdentityDeleted(IdentityId),
    /// A node was created or moved.
    NodeSaved(Node),
    NodeDeleted(NodeId),
    AssignmentCreated(Assignment),
    AssignmentDeleted(AssignmentId),
    /// An assignment's window changed; its id, identity, role and node did not.
    AssignmentUpdated(Assignment),
    /// An API key was created or revoked.
    ApiKeySaved(ApiKey),
    /// A signing credential was registered or revoked.
    CredentialSaved(Credential),
}

/// Kinds of object the change log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    Environment,
    Role,
    Identity,
    Node,
    Assignment,
    ApiKey,
    Credential,
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
            Self::ApiKey => "API_KEY",
            Self::Credential => "CREDENTIAL",
        }
    }

    /// Reads the stored spelling.
    pub fn from_stored(text: &str) -> Option<Self> {
        [
            Self::Environment,
            Self::Role,
            Self::Identity,
            Self::Node,
            Self::Assignment,
            Self::ApiKey,
            Self::Credential,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

impl Event {
    /// The kind of object the event is about.
    pub fn object_kind(&self) -> ObjectKind {
        match self {
            Self::EnvironmentCreated(_) => ObjectKind::Environment,
            Self::RoleSaved(_) | Self::RoleDeleted(_) => ObjectKind::Role,
            Self::IdentitySaved(_) | Self::IdentityDeleted(_) => ObjectKind::Identity,
            Self::NodeSaved(_) | Self::NodeDeleted(_) => ObjectKind::Node,
            Self::AssignmentCreated(_)
            | Self::AssignmentDeleted(_)
            | Self::AssignmentUpdated(_) => ObjectKind::Assignment,
            Self::ApiKeySaved(_) => ObjectKind::ApiKey,
            Self::CredentialSaved(_) => ObjectKind::Credential,
        }
    }

    /// The id of the object the event is about.
    pub fn object_id(&self) -> Uuid {
        match self {
            Self::EnvironmentCreated(e) => e.id.0,
            Self::RoleSaved(r) => r.id.0,
            Self::RoleDeleted(id) => id.0,
            Self::IdentitySaved(i) => i.id.0,
            Self::IdentityDeleted(id) => id.0,
            Self::NodeSaved(n) => n.id.0,
            Self::NodeDeleted(id) => id.0,
            Self::AssignmentCreated(a) => a.id.0,
            Self::AssignmentDeleted(id) => id.0,
            Self::AssignmentUpdated(a) => a.id.0,
            Self::ApiKeySaved(k) => k.id.0,
            Self::CredentialSaved(c) => c.id.0,
        }
    }

    /// The object after the event, as JSON; `None` for a deletion.
    pub fn after(&self) -> Option<serde_json::Value> {
        let value = match self {
            Self::EnvironmentCreated(e) => serde_json::to_value(e),
            Self::RoleSaved(r) => serde_json::to_value(r),
            Self::IdentitySaved(i) => serde_json::to_value(i),
            Self::NodeSaved(n) => serde_json::to_value(n),
            Self::AssignmentCreated(a) | Self::AssignmentUpdated(a) => serde_json::to_value(a),
            Self::ApiKeySaved(k) => serde_json::to_value(k),
            Self::CredentialSaved(c) => serde_json::to_value(c),
            Self::RoleDeleted(_)
            | Self::IdentityDeleted(_)
            | Self::NodeDeleted(_)
            | Self::AssignmentDeleted(_) => return None,
        };
        value.ok()
    }

    /// [`Event::after`] as JSON text, written straight from the object (its
    /// fields in declaration order) without building a `serde_json::Value`.
    pub fn after_text(&self) -> Option<String> {
        let text = match self {
            Self::EnvironmentCreated(e) => serde_json::to_string(e),
            Self::RoleSaved(r) => serde_json::to_string(r),
            Self::IdentitySaved(i) => serde_json::to_string(i),
            Self::NodeSaved(n) => serde_json::to_string(n),
            Self::AssignmentCreated(a) | Self::AssignmentUpdated(a) => serde_json::to_string(a),
            Self::ApiKeySaved(k) => serde_json::to_string(k),
            Self::CredentialSaved(c) => serde_json::to_string(c),
            Self::RoleDeleted(_)
            | Self::IdentityDeleted(_)
            | Self::NodeDeleted(_)
            | Self::AssignmentDeleted(_) => return None,
        };
        text.ok()
    }

    /// Rebuilds the event from a stored change: its kind, object id, whether
    /// it has a before-image, and its after-image.
    pub fn from_stored(
        kind: ObjectKind,
        object_id: Uuid,
        had_before: bool,
        after: Option<serde_json::Value>,
    ) -> Result<Self, serde_json::Error> {
        use serde_json::from_value;
        Ok(match (kind, after) {
            (ObjectKind::Environment, Some(v)) => Self::EnvironmentCreated(from_value(v)?),
            (ObjectKind::Environment, None) => {
                return Err(serde::de::Error::custom(
                    "environment change without after-image",
                ));
            }
            (ObjectKind::Role, Some(v)) => Self::RoleSaved(from_value(v)?),
            (ObjectKind::Role, None) => Self::RoleDeleted(object_id.into()),
            (ObjectKind::Identity, Some(v)) => Self::IdentitySaved(from_value(v)?),
            (ObjectKind::Identity, None) => Self::IdentityDeleted(object_id.into()),
            (ObjectKind::Node, Some(v)) => Self::NodeSaved(from_value(v)?),
            (ObjectKind::Node, None) => Self::NodeDeleted(object_id.into()),
            (ObjectKind::Assignment, Some(v)) if had_before => {
                Self::AssignmentUpdated(from_value(v)?)
            }
            (ObjectKind::Assignment, Some(v)) => Self::AssignmentCreated(from_value(v)?),
            (ObjectKind::Assignment, None) => Self::AssignmentDeleted(object_id.into()),
            (ObjectKind::ApiKey, Some(v)) => Self::ApiKeySaved(from_value(v)?),
            (ObjectKind::ApiKey, None) => {
                return Err(serde::de::Error::custom(
                    "API key change without after-image",
                ));
            }
            (ObjectKind::Credential, Some(v)) => Self::CredentialSaved(from_value(v)?),
            (ObjectKind::Credential, None) => {
                return Err(serde::de::Error::custom(
                    "credential change without after-image",
                ));
            }
        })
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
    /// What was done: the RPC's name, e.g. `CreateRole`.
    pub action: String,
    /// The object before the change, as JSON; `None` when it was created.
    pub before: Option<serde_json::Value>,
    /// What happened; its object is the after-image.
    pub event: Event,
    /// The credential whose user action the change was made with, if any.
    pub signed_by: Option<super::CredentialId>,
}
