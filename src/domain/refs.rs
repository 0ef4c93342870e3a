//! How a request names an object: by id or by one of its unique handles.

use super::{Email, ExternalId, IdentityId, NodeId, NodeKey, RoleId, RoleName, quote};

/// Names an identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IdentityRef {
    Id(IdentityId),
    ExternalId(ExternalId),
    /// Matched case-insensitively.
    Email(Email),
}

/// Names a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeRef {
    Id(NodeId),
    Key(NodeKey),
}

/// Names a role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RoleRef {
    Id(RoleId),
    /// Matched case-insensitively.
    Name(RoleName),
}

impl NodeRef {
    /// The environment's root node.
    pub fn root() -> Self {
        Self::Key(NodeKey::root())
    }
}

impl std::fmt::Display for IdentityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "identity with id {id}"),
            Self::ExternalId(e) => write!(f, "identity with external id `{}`", quote(e.as_str())),
            Self::Email(e) => write!(f, "identity with email `{}`", quote(e.as_str())),
        }
    }
}

impl std::fmt::Display for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "node with id {id}"),
            Self::Key(k) => write!(f, "node with key `{}`", quote(k.as_str())),
        }
    }
}

impl std::fmt::Display for RoleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "role with id {id}"),
            Self::Name(n) => write!(f, "role named `{}`", quote(n.as_str())),
        }
    }
}
