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
    /// Where it sat when listed: a page cut short resumes after any entry.
    pub cursor: NodeCursor,
}

/// An identity in a lookup's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityEntry {
    pub id: IdentityId,
    pub email: Option<Email>,
    pub external_id: Option<ExternalId>,
}

/// One page of a lookup, up to its limit. `next_after` is the cursor the next
/// page starts after, `None` when nothing is left; the API turns it into a page
/// token. A page may hold fewer items than its limit and still name a cursor,
/// when it stopped at its bound of work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<T, C> {
    pub items: Vec<T>,
    pub next_after: Option<C>,
}

/// Where a page of LookupNodes resumes: after the node `last`, which sat under
/// `parent` when it was listed (so the place is still known if `last` is deleted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeCursor {
    pub last: NodeId,
    pub parent: Option<NodeId>,
}

/// Why LookupNodes could not be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Unknown(#[from] Denial),
    /// The cursor's node and its parent were both deleted since: its place is lost.
    #[error("the node a page token resumes after was deleted, with its parent")]
    CursorLost,
}
