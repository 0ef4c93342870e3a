//! The stored objects, as the rest of the service sees them.

use serde::{Deserialize, Serialize};

use super::{
    ApiKeyId, AssignmentId, Email, EnvironmentId, ExternalId, IdentityId, NodeId, NodeKey,
    PermissionPattern, RoleId, RoleName, Timestamp,
};

/// Key of every environment's root node.
pub const ROOT_NODE_KEY: &str = "root";
/// Name of every environment's built-in role that holds `*`.
pub const ADMINISTRATOR_ROLE: &str = "Administrator";

/// The isolation unit; every other object belongs to exactly one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub id: EnvironmentId,
    pub name: String,
    pub created_at: Timestamp,
}

/// A named whitelist of permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub environment_id: EnvironmentId,
    pub name: RoleName,
    pub description: String,
    pub permissions: Vec<PermissionPattern>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A person or a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityKind {
    User,
    ServiceAccount,
}

/// Where an identity is in its life; only ACTIVE identities are allowed anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityStatus {
    Invited,
    Active,
    Disabled,
}

impl IdentityKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::ServiceAccount => "SERVICE_ACCOUNT",
        }
    }

    /// Reads the stored spelling.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::User, Self::ServiceAccount]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

impl IdentityStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "INVITED",
            Self::Active => "ACTIVE",
            Self::Disabled => "DISABLED",
        }
    }

    /// Reads the stored spelling.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::Invited, Self::Active, Self::Disabled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A principal that can be granted roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: IdentityId,
    pub environment_id: EnvironmentId,
    pub kind: IdentityKind,
    pub status: IdentityStatus,
    pub email: Option<Email>,
    pub external_id: Option<ExternalId>,
    pub display_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A resource in an environment's tree; only the root has no parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub environment_id: EnvironmentId,
    pub key: NodeKey,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<NodeId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An identity holding a role at a node during `[effective_from, effective_to)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub id: AssignmentId,
    pub environment_id: EnvironmentId,
    pub identity_id: IdentityId,
    pub role_id: RoleId,
    pub node_id: NodeId,
    pub effective_from: Option<Timestamp>,
    pub effective_to: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// Whether an assignment grants at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssignmentState {
    Pending,
    Active,
    Expired,
}

impl Assignment {
    /// The assignment's state at `at`.
    pub fn state_at(&self, at: Timestamp) -> AssignmentState {
        AssignmentState::of_window(self.effective_from, self.effective_to, at)
    }
}

impl AssignmentState {
    /// The state of a `[from, to)` window at `at`.
    pub fn of_window(from: Option<Timestamp>, to: Option<Timestamp>, at: Timestamp) -> Self {
        if from.is_some_and(|from| at < from) {
            Self::Pending
        } else if to.is_some_and(|to| at >= to) {
            Self::Expired
        } else {
            Self::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_closed_at_from_and_open_at_to() {
        let (from, to) = (Some(Timestamp(10)), Some(Timestamp(20)));
        let at = |t| AssignmentState::of_window(from, to, Timestamp(t));
        assert_eq!(at(9), AssignmentState::Pending);
        assert_eq!(at(10), AssignmentState::Active);
        assert_eq!(at(19), AssignmentState::Active);
        assert_eq!(at(20), AssignmentState::Expired);
        assert_eq!(
            AssignmentState::of_window(None, None, Timestamp(i64::MIN)),
            AssignmentState::Active
        );
    }
}

/// A secret bound to a SERVICE_ACCOUNT; only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub environment_id: EnvironmentId,
    pub identity_id: IdentityId,
    /// Free text for people.
    pub name: String,
    /// The secret's first characters, shown in listings to tell keys apart.
    pub prefix: String,
    /// Hex SHA-256 of the whole secret.
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}
