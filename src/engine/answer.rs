//! What the engine answers.

use compact_str::CompactString;

use crate::domain::{AssignmentId, Email, ExternalId, IdentityId, NodeId, NodeKey, RoleId};

/// Why a check was allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    Granted,
    NoMatchingAssignment,
    IdentityNotActive,
    UnknownIdentity,
    UnknownNode,
}

/// The assignment that granted a check: on the nearest node to the asked one,
/// and among several there the smallest assignment id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantedBy {
    pub assignment_id: AssignmentId,
    pub role_id: RoleId,
    pub role_name: CompactString,
    pub node_id: NodeId,
    pub node_key: CompactString,
    /// The role's pattern that matched: the exact permission if the role holds
    /// it, else the wildcard with the longest prefix.
    pub pattern: CompactString,
}

/// The answer to a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Every change up to this revision is reflected in the answer.
    pub revision: u64,
    pub reason: Reason,
    /// Set exactly when `allowed`.
    pub granted_by: Option<GrantedBy>,
}

impl Decision {
    pub(crate) fn denied(revision: u64, reason: Reason) -> Self {
        Self {
            allowed: false,
            revision,
            reason,
            granted_by: None,
        }
    }

    pub(crate) fn granted(revision: u64, granted_by: GrantedBy) -> Self {
        Self {
            allowed: true,
            revision,
            reason: Reason::Granted,
            granted_by: Some(granted_by),
        }
    }
}

/// Why a lookup or listing could not be answered: a reference named nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Denial {
    #[error("unknown identity")]
    UnknownIdentity,
    #[error("unknown node")]
    UnknownNode,
}

impl From<Denial> for Reason {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::UnknownIdentity => Self::UnknownIdentity,
            Denial::UnknownNode => Self::UnknownNode,
        }
    }
}

/// A node in a lookup's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEntry {
    pub id: NodeId,
    pub key: NodeKey,
}

/// An identity in a lookup's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityEntry {
    pub id: IdentityId,
    pub email: Option<Email>,
    pub external_id: Option<ExternalId>,
}

/// What a lookup found, in ascending id order, up to its limit. `next_after` is
/// the cursor of the next lookup (the last id found), `None` when nothing is left;
/// the API turns it into a page token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<T, C> {
    pub items: Vec<T>,
    pub next_after: Option<C>,
}
