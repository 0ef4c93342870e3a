//! LookupNodes and LookupIdentities. Each page resumes from its cursor in the
//! index: its work grows with the page's size and the tree's depth, never with
//! what earlier pages covered, so a page holds the read lock only briefly.
//!
//! - Nodes come in tree order (a node before its subtree, siblings ascending by
//!   id), which is the order of their id paths from the root; the cursor names
//!   the last node listed and its parent ([`tree`]).
//! - Identities come ascending by id: a merge over the sorted runs of the
//!   ancestors' assignment lists whose role grants the permission ([`merge`],
//!   kept in order by [`order`]).

mod merge;
pub(super) mod order;
mod tree;

use crate::domain::{Email, ExternalId};
use crate::engine::answer::{IdentityEntry, NodeCursor, NodeEntry};

use super::identities::IdentityRow;
use super::nodes::NodeRow;

fn node_entry(row: &NodeRow, parent: Option<&NodeRow>) -> NodeEntry {
    NodeEntry {
        id: row.id,
        key: row.key.clone(),
        cursor: NodeCursor {
            last: row.id,
            parent: parent.map(|p| p.id),
        },
    }
}

fn identity_entry(row: &IdentityRow) -> IdentityEntry {
    IdentityEntry {
        id: row.id,
        email: row.email.as_deref().and_then(|e| Email::parse(e).ok()),
        external_id: (row.external_id.as_deref()).and_then(|e| ExternalId::parse(e).ok()),
    }
}
