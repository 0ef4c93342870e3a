//! An environment as the messages of an Export stream: roles, identities,
//! nodes (parents first, the root left out), assignments, each message kept
//! well under gRPC's 4 MiB.

use std::collections::HashMap;

use prost::Message;

use crate::api::render;
use crate::domain::{
    ADMINISTRATOR_ROLE, Assignment, Identity, IdentityId, Node, NodeId, NodeKey, Role, RoleId, fold,
};
use crate::proto::v1 as pb;
use crate::store::EnvironmentExport;

/// Encoded bytes after which a message is sent.
const CHUNK_BYTES: usize = 1 << 20;

/// One object of the stream.
enum Item {
    Role(pb::BulkRole),
    Identity(pb::BulkIdentity),
    Node(pb::BulkNode),
    Assignment(pb::BulkAssignment),
}

/// The stream's messages, built as they are sent.
pub struct Chunks {
    revision: u64,
    items: std::iter::Peekable<Box<dyn Iterator<Item = Item> + Send>>,
    sent_any: bool,
}

impl Chunks {
    pub fn new(export: EnvironmentExport) -> Self {
        let EnvironmentExport {
            revision,
            state,
            admin,
        } = export;
        let root = state
            .nodes
            .iter()
            .find(|n| n.parent_id.is_none())
            .map(|n| n.id);
        let administrator = state
            .roles
            .iter()
            .find(|r| r.name.folded() == fold(ADMINISTRATOR_ROLE))
            .map(|r| r.id);
        let nodes = parents_first(state.nodes);
        let items = state
            .roles
            .into_iter()
            .map(move |r| Item::Role(role(r, administrator)))
            .chain(
                state
                    .identities
                    .into_iter()
                    .map(move |i| Item::Identity(identity(i, admin))),
            )
            .chain(nodes.into_iter().map(move |n| Item::Node(node(n, root))))
            .chain(
                state
                    .assignments
                    .into_iter()
                    .map(move |a| Item::Assignment(assignment(a, root, administrator, admin))),
            );
        let items: Box<dyn Iterator<Item = Item> + Send> = Box::new(items);
        Self {
            revision,
            items: items.peekable(),
            sent_any: false,
        }
    }
}

impl Iterator for Chunks {
    type Item = pb::ExportResponse;

    fn next(&mut self) -> Option<pb::ExportResponse> {
        if self.items.peek().is_none() && self.sent_any {
            return None;
        }
        self.sent_any = true;
        let mut message = pb::ExportResponse {
            revision: self.revision,
            ..Default::default()
        };
        let mut bytes = 0;
        while bytes < CHUNK_BYTES
            && let Some(item) = self.items.next()
        {
            // Each item's own length plus its tag and length prefix.
            bytes += 8 + match item {
                Item::Role(x) => push(&mut message.roles, x),
                Item::Identity(x) => push(&mut message.identities, x),
                Item::Node(x) => push(&mut message.nodes, x),
                Item::Assignment(x) => push(&mut message.assignments, x),
            };
        }
        Some(message)
    }
}

fn push<T: Message>(list: &mut Vec<T>, item: T) -> usize {
    let len = item.encoded_len();
    list.push(item);
    len
}

/// Every node but the root, each after its parent; siblings keep their order.
fn parents_first(nodes: Vec<Node>) -> Vec<Node> {
    let mut children: HashMap<Option<NodeId>, Vec<Node>> = HashMap::new();
    for n in nodes {
        children.entry(n.parent_id).or_default().push(n);
    }
    let roots = children.remove(&None).unwrap_or_default();
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = roots.iter().map(|r| r.id).collect();
    while let Some(parent) = stack.pop() {
        let mut kids = children.remove(&Some(parent)).unwrap_or_default();
        // Pushed in reverse so that they are expanded in order.
        stack.extend(kids.iter().rev().map(|n| n.id));
        out.append(&mut kids);
    }
    out
}

fn role(r: Role, administrator: Option<RoleId>) -> pb::BulkRole {
    let builtin = Some(r.id) == administrator;
    let rendered = render::role(&r);
    pb::BulkRole {
        id: rendered.id,
        name: rendered.name,
        description: rendered.description,
        permissions: rendered.permissions,
        builtin,
    }
}

fn identity(i: Identity, admin: Option<IdentityId>) -> pb::BulkIdentity {
    let builtin = Some(i.id) == admin;
    let rendered = render::identity(&i);
    pb::BulkIdentity {
        id: rendered.id,
        kind: rendered.kind,
        status: rendered.status,
        email: rendered.email,
        external_id: rendered.external_id,
        display_name: rendered.display_name,
        builtin,
    }
}

fn node(n: Node, root: Option<NodeId>) -> pb::BulkNode {
    pb::BulkNode {
        id: n.id.to_string(),
        key: n.key.to_string(),
        name: n.name,
        kind: n.kind,
        parent: n
            .parent_id
            .filter(|p| Some(*p) != root)
            .map(|p| node_ref(p, root)),
    }
}

fn node_ref(id: NodeId, root: Option<NodeId>) -> pb::NodeRef {
    let r#ref = if Some(id) == root {
        pb::node_ref::Ref::Key(NodeKey::root().to_string())
    } else {
        pb::node_ref::Ref::Id(id.to_string())
    };
    pb::NodeRef { r#ref: Some(r#ref) }
}

fn assignment(
    a: Assignment,
    root: Option<NodeId>,
    administrator: Option<RoleId>,
    admin: Option<IdentityId>,
) -> pb::BulkAssignment {
    let builtin = Some(a.identity_id) == admin
        && Some(a.role_id) == administrator
        && Some(a.node_id) == root
        && a.effective_from.is_none()
        && a.effective_to.is_none();
    pb::BulkAssignment {
        identity: Some(pb::IdentityRef {
            r#ref: Some(pb::identity_ref::Ref::Id(a.identity_id.to_string())),
        }),
        role: Some(pb::RoleRef {
            r#ref: Some(pb::role_ref::Ref::Id(a.role_id.to_string())),
        }),
        node: Some(node_ref(a.node_id, root)),
        effective_from: a.effective_from.map(render::timestamp),
        effective_to: a.effective_to.map(render::timestamp),
        builtin,
        id: a.id.to_string(),
    }
}
