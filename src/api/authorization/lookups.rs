//! LookupNodes and LookupIdentities: engine cursors to page tokens and back,
//! and pages rendered within the byte bound.

use crate::domain::{Error, IdentityRef, NodeId, NodeRef, paging};
use crate::engine::{Found, IdentityEntry, LookupError, NodeCursor, NodeEntry};
use crate::proto::v1 as pb;

use super::super::pages;

pub fn node_cursor(token: paging::TreeCursor) -> NodeCursor {
    NodeCursor {
        last: NodeId(token.last),
        parent: token.parent.map(NodeId),
    }
}

fn tree_token(cursor: &NodeCursor) -> String {
    paging::encode_tree_token(paging::TreeCursor {
        last: cursor.last.0,
        parent: cursor.parent.map(|p| p.0),
    })
}

pub fn lookup_error(error: LookupError, identity: &IdentityRef, root: &NodeRef) -> Error {
    match error {
        LookupError::Unknown(denial) => super::not_found(denial, Some(identity), root),
        LookupError::CursorLost => Error::invalid(
            "page_token",
            "the node this token continues after was deleted, and its parent too, since the \
             previous page; start again without a page token",
        ),
    }
}

pub fn nodes_page(
    budget: usize,
    found: Found<NodeEntry, NodeCursor>,
    revision: u64,
) -> pb::LookupNodesResponse {
    let next = found
        .next_after
        .as_ref()
        .map(tree_token)
        .unwrap_or_default();
    let (nodes, next_page_token) = pages::bounded(
        budget,
        &found.items,
        next,
        |n| pb::NodeSummary {
            id: n.id.to_string(),
            key: n.key.to_string(),
        },
        |n| tree_token(&n.cursor),
    );
    pb::LookupNodesResponse {
        nodes,
        next_page_token,
        revision,
    }
}

pub fn identities_page(
    budget: usize,
    found: Found<IdentityEntry, crate::domain::IdentityId>,
    revision: u64,
) -> pb::LookupIdentitiesResponse {
    let next = (found.next_after)
        .map(|id| paging::encode_token(id.0))
        .unwrap_or_default();
    let (identities, next_page_token) = pages::bounded(
        budget,
        &found.items,
        next,
        |i| pb::IdentitySummary {
            id: i.id.to_string(),
            email: i.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
            external_id: (i.external_id.as_ref())
                .map(|e| e.to_string())
                .unwrap_or_default(),
        },
        |i| paging::encode_token(i.id.0),
    );
    pb::LookupIdentitiesResponse {
        identities,
        next_page_token,
        revision,
    }
}
