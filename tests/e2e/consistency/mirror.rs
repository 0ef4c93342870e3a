//! The world as the test believes it is stored: the rows the reference
//! evaluator reads (`support::decision_rule::Rows`), built from what the API
//! answered, plus the objects that are gone (to ask about as unknown).

use std::collections::HashMap;

use rbacd::domain::{
    Assignment, Email, EnvironmentId, ExternalId, Identity, IdentityId, IdentityKind,
    IdentityStatus, Node, NodeId, NodeKey, PermissionPattern, Role, RoleName, Timestamp,
};
use rbacd::proto::v1 as pb;

use crate::support::decision_rule::Rows;

const ENVIRONMENT: EnvironmentId = EnvironmentId(uuid::Uuid::nil());

pub struct Mirror {
    pub rows: Rows,
    /// Deleted nodes and identities: every question about them is about an unknown object.
    pub gone_nodes: Vec<(NodeId, NodeKey)>,
    pub gone_identities: Vec<IdentityId>,
    /// The bootstrap admin, whose key the test uses: never written to.
    pub admin: IdentityId,
    /// The revision of the last write.
    pub revision: u64,
}

pub fn id<T: From<uuid::Uuid>>(text: &str) -> T {
    uuid::Uuid::parse_str(text)
        .unwrap_or_else(|e| panic!("`{text}` is not a UUID: {e}"))
        .into()
}

pub fn micros_of(t: &Option<prost_types::Timestamp>) -> Option<i64> {
    t.as_ref()
        .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos / 1000))
}

pub fn timestamp(us: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1000) as i32,
    }
}

pub fn node_row(node: &pb::Node) -> Node {
    Node {
        id: id(&node.id),
        environment_id: ENVIRONMENT,
        key: NodeKey::parse(&node.key).expect("a node key"),
        name: node.name.clone(),
        kind: node.kind.clone(),
        parent_id: (!node.parent_id.is_empty()).then(|| id(&node.parent_id)),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

pub fn role_row(role: &pb::Role) -> Role {
    Role {
        id: id(&role.id),
        environment_id: ENVIRONMENT,
        name: RoleName::parse(&role.name).expect("a role name"),
        description: role.description.clone(),
        permissions: role
            .permissions
            .iter()
            .map(|p| PermissionPattern::parse(p).expect("a permission pattern"))
            .collect(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

pub fn identity_row(identity: &pb::Identity) -> Identity {
    let status = match identity.status() {
        pb::IdentityStatus::Active => IdentityStatus::Active,
        pb::IdentityStatus::Invited => IdentityStatus::Invited,
        pb::IdentityStatus::Disabled => IdentityStatus::Disabled,
        pb::IdentityStatus::Unspecified => panic!("an identity without status: {identity:?}"),
    };
    let kind = match identity.kind() {
        pb::IdentityKind::ServiceAccount => IdentityKind::ServiceAccount,
        _ => IdentityKind::User,
    };
    Identity {
        id: id(&identity.id),
        environment_id: ENVIRONMENT,
        kind,
        status,
        email: (!identity.email.is_empty())
            .then(|| Email::parse(&identity.email).expect("an email")),
        external_id: (!identity.external_id.is_empty())
            .then(|| ExternalId::parse(&identity.external_id).expect("an external id")),
        display_name: String::new(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

pub fn assignment_row(a: &pb::Assignment) -> Assignment {
    Assignment {
        id: id(&a.id),
        environment_id: ENVIRONMENT,
        identity_id: id(&a.identity_id),
        role_id: id(&a.role_id),
        node_id: id(&a.node_id),
        effective_from: micros_of(&a.effective_from).map(Timestamp),
        effective_to: micros_of(&a.effective_to).map(Timestamp),
        created_at: Timestamp(0),
    }
}

/// The node tree of the mirror, for walking subtrees quickly.
pub struct Tree {
    children: HashMap<NodeId, Vec<NodeId>>,
    parent: HashMap<NodeId, Option<NodeId>>,
}

impl Tree {
    pub fn of(rows: &Rows) -> Self {
        let mut children: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        let mut parent = HashMap::new();
        for n in &rows.nodes {
            parent.insert(n.id, n.parent_id);
            if let Some(p) = n.parent_id {
                children.entry(p).or_default().push(n.id);
            }
        }
        Self { children, parent }
    }

    /// `node` and everything below it.
    pub fn subtree(&self, node: NodeId) -> Vec<NodeId> {
        let mut found = vec![node];
        let mut next = 0;
        while next < found.len() {
            found.extend(self.children.get(&found[next]).into_iter().flatten());
            next += 1;
        }
        found
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.parent.get(&node).copied().flatten()
    }

    /// Levels below the root.
    pub fn depth(&self, node: NodeId) -> usize {
        let mut depth = 0;
        let mut current = self.parent.get(&node).copied().flatten();
        while let Some(p) = current {
            depth += 1;
            current = self.parent.get(&p).copied().flatten();
        }
        depth
    }

    /// Levels below `node` in its subtree (0 for a leaf).
    pub fn height(&self, node: NodeId) -> usize {
        self.children
            .get(&node)
            .into_iter()
            .flatten()
            .map(|c| 1 + self.height(*c))
            .max()
            .unwrap_or(0)
    }
}

impl Mirror {
    pub fn node_key(&self, node: NodeId) -> String {
        self.rows
            .nodes
            .iter()
            .find(|n| n.id == node)
            .map_or_else(|| format!("(gone {node})"), |n| n.key.to_string())
    }

    pub fn root(&self) -> NodeId {
        self.rows
            .nodes
            .iter()
            .find(|n| n.parent_id.is_none())
            .expect("the root")
            .id
    }

    /// Every instant at which some assignment starts or ends, and one microsecond before.
    pub fn boundaries(&self) -> Vec<i64> {
        let mut instants: Vec<i64> = self
            .rows
            .assignments
            .iter()
            .flat_map(|a| [a.effective_from, a.effective_to])
            .flatten()
            .flat_map(|t| [t.0, t.0 - 1])
            .collect();
        instants.sort();
        instants.dedup();
        instants
    }
}
