//! Random writes turned into change events the way the store would log them:
//! cycles refused, a deleted object's assignments deleted first, a subtree
//! deleted children first, one assignment per (identity, role, node).

use proptest::prelude::*;
use proptest::sample::Index;
use rbacd::domain::change::Event;
use rbacd::domain::{
    Assignment, AssignmentId, Email, EnvironmentId, ExternalId, Identity, IdentityId, IdentityKind,
    IdentityStatus, Node, NodeId, NodeKey, PermissionPattern, ROOT_NODE_KEY, Role, RoleId,
    RoleName, Timestamp,
};

use super::decision_rule::Rows;

/// Patterns roles may hold: exact, trailing wildcards, and `*`.
pub const PATTERNS: &[&str] = &["A:x", "A:y", "A:x:z", "B:x", "A:*", "A:x:*", "B:*", "*"];
/// Window ends; queries ask at these instants and one before each.
pub const INSTANTS: &[i64] = &[0, 5, 10];

#[derive(Clone, Debug)]
pub enum Op {
    CreateNode(Index),
    MoveNode(Index, Index),
    DeleteNode(Index),
    SetStatus(Index, u8),
    ChangeHandles(Index, u8),
    CreateIdentity(u8),
    DeleteIdentity(Index),
    EditRole(Index, Vec<Index>),
    CreateRole(Vec<Index>),
    DeleteRole(Index),
    Assign(Index, Index, Index, (u8, u8)),
    Unassign(Index),
}

pub fn op() -> impl Strategy<Value = Op> {
    let idx = any::<Index>;
    let patterns = || prop::collection::vec(any::<Index>(), 0..4);
    prop_oneof![
        2 => idx().prop_map(Op::CreateNode),
        3 => (idx(), idx()).prop_map(|(a, b)| Op::MoveNode(a, b)),
        1 => idx().prop_map(Op::DeleteNode),
        2 => (idx(), any::<u8>()).prop_map(|(i, s)| Op::SetStatus(i, s)),
        1 => (idx(), any::<u8>()).prop_map(|(i, v)| Op::ChangeHandles(i, v)),
        1 => any::<u8>().prop_map(Op::CreateIdentity),
        1 => idx().prop_map(Op::DeleteIdentity),
        2 => (idx(), patterns()).prop_map(|(r, p)| Op::EditRole(r, p)),
        1 => patterns().prop_map(Op::CreateRole),
        1 => idx().prop_map(Op::DeleteRole),
        4 => (idx(), idx(), idx(), any::<(u8, u8)>()).prop_map(|(i, r, n, w)| Op::Assign(i, r, n, w)),
        2 => idx().prop_map(Op::Unassign),
    ]
}

/// The rows plus what is needed to make fresh, unique objects.
pub struct World {
    pub env: EnvironmentId,
    pub rows: Rows,
    counter: u64,
}

const T0: Timestamp = Timestamp(0);

fn pick<'a, T>(items: &'a [T], index: &Index) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[index.index(items.len())])
}

fn instant(code: u8) -> Option<Timestamp> {
    match code % 4 {
        0 => None,
        c => Some(Timestamp(INSTANTS[c as usize - 1])),
    }
}

fn status(code: u8) -> IdentityStatus {
    [
        IdentityStatus::Active,
        IdentityStatus::Active,
        IdentityStatus::Disabled,
        IdentityStatus::Invited,
    ][code as usize % 4]
}

impl World {
    /// An environment holding only its root.
    pub fn new() -> (Self, Vec<Event>) {
        let mut world = Self {
            env: EnvironmentId::generate(),
            rows: Rows::default(),
            counter: 0,
        };
        let root = world.node(ROOT_NODE_KEY.into(), None);
        (world, vec![Event::NodeSaved(root)])
    }

    /// A fresh id: time-ordered UUIDs would make id order follow creation order, so mix.
    fn uuid(&mut self) -> uuid::Uuid {
        self.counter += 1;
        uuid::Uuid::from_u64_pair(
            self.counter
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(17),
            self.counter,
        )
    }

    fn node(&mut self, key: String, parent_id: Option<NodeId>) -> Node {
        let node = Node {
            id: NodeId(self.uuid()),
            environment_id: self.env,
            key: NodeKey::parse(&key).unwrap(),
            name: key,
            kind: String::new(),
            parent_id,
            created_at: T0,
            updated_at: T0,
        };
        self.rows.nodes.push(node.clone());
        node
    }

    fn role_patterns(picks: &[Index]) -> Vec<PermissionPattern> {
        picks
            .iter()
            .map(|p| PermissionPattern::parse(PATTERNS[p.index(PATTERNS.len())]).unwrap())
            .collect()
    }

    fn handles(&mut self, variant: u8) -> (Option<Email>, Option<ExternalId>) {
        self.counter += 1;
        let n = self.counter;
        let email = (!variant.is_multiple_of(3))
            .then(|| Email::parse(&format!("User{n}@Mail.Example")).unwrap());
        let external_id =
            (variant % 3 != 1).then(|| ExternalId::parse(&format!("ext|{n}")).unwrap());
        (email, external_id)
    }

    /// Applies one write to the rows; returns the events the store would log.
    pub fn write(&mut self, op: &Op) -> Vec<Event> {
        match op {
            Op::CreateNode(parent) => {
                let Some(parent) = pick(&self.rows.nodes, parent).map(|n| n.id) else {
                    return vec![];
                };
                let key = format!("node:{}", self.counter + 1);
                vec![Event::NodeSaved(self.node(key, Some(parent)))]
            }
            Op::MoveNode(node, parent) => {
                let (Some(node), Some(parent)) =
                    (pick(&self.rows.nodes, node), pick(&self.rows.nodes, parent))
                else {
                    return vec![];
                };
                let (id, parent) = (node.id, parent.id);
                if node.parent_id.is_none() || self.rows.distance(parent, id).is_some() {
                    return vec![];
                }
                let node = self.rows.nodes.iter_mut().find(|n| n.id == id).unwrap();
                node.parent_id = Some(parent);
                vec![Event::NodeSaved(node.clone())]
            }
            Op::DeleteNode(node) => {
                let Some(top) = pick(&self.rows.nodes, node)
                    .filter(|n| n.parent_id.is_some())
                    .map(|n| n.id)
                else {
                    return vec![];
                };
                let mut subtree: Vec<(usize, NodeId)> = self
                    .rows
                    .nodes
                    .iter()
                    .filter_map(|n| self.rows.distance(n.id, top).map(|d| (d, n.id)))
                    .collect();
                subtree.sort_by_key(|&(depth, _)| std::cmp::Reverse(depth));
                let mut events = Vec::new();
                for (_, id) in subtree {
                    events.extend(self.unassign_where(|a| a.node_id == id));
                    self.rows.nodes.retain(|n| n.id != id);
                    events.push(Event::NodeDeleted(id));
                }
                events
            }
            Op::SetStatus(identity, code) => {
                self.edit_identity(identity, |i, _| i.status = status(*code))
            }
            Op::ChangeHandles(identity, variant) => {
                let (email, external_id) = self.handles(*variant);
                self.edit_identity(identity, |i, _| {
                    (i.email, i.external_id) = (email, external_id)
                })
            }
            Op::CreateIdentity(code) => {
                let id = IdentityId(self.uuid());
                let (email, external_id) = self.handles(*code / 4);
                let identity = Identity {
                    id,
                    environment_id: self.env,
                    kind: IdentityKind::User,
                    status: status(*code),
                    email,
                    external_id,
                    display_name: String::new(),
                    created_at: T0,
                    updated_at: T0,
                };
                self.rows.identities.push(identity.clone());
                vec![Event::IdentitySaved(identity)]
            }
            Op::DeleteIdentity(identity) => {
                let Some(id) = pick(&self.rows.identities, identity).map(|i| i.id) else {
                    return vec![];
                };
                let mut events = self.unassign_where(|a| a.identity_id == id);
                self.rows.identities.retain(|i| i.id != id);
                events.push(Event::IdentityDeleted(id));
                events
            }
            Op::EditRole(role, picks) => {
                let Some(id) = pick(&self.rows.roles, role).map(|r| r.id) else {
                    return vec![];
                };
                let role = self.rows.roles.iter_mut().find(|r| r.id == id).unwrap();
                role.permissions = Self::role_patterns(picks);
                vec![Event::RoleSaved(role.clone())]
            }
            Op::CreateRole(picks) => {
                let id = RoleId(self.uuid());
                let role = Role {
                    id,
                    environment_id: self.env,
                    name: RoleName::parse(&format!("Role{}", self.counter)).unwrap(),
                    description: String::new(),
                    permissions: Self::role_patterns(picks),
                    created_at: T0,
                    updated_at: T0,
                };
                self.rows.roles.push(role.clone());
                vec![Event::RoleSaved(role)]
            }
            Op::DeleteRole(role) => {
                let Some(id) = pick(&self.rows.roles, role).map(|r| r.id) else {
                    return vec![];
                };
                let mut events = self.unassign_where(|a| a.role_id == id);
                self.rows.roles.retain(|r| r.id != id);
                events.push(Event::RoleDeleted(id));
                events
            }
            Op::Assign(identity, role, node, (from, to)) => {
                let identity = pick(&self.rows.identities, identity).map(|i| i.id);
                let role = pick(&self.rows.roles, role).map(|r| r.id);
                let node = pick(&self.rows.nodes, node).map(|n| n.id);
                let (Some(identity_id), Some(role_id), Some(node_id)) = (identity, role, node)
                else {
                    return vec![];
                };
                if self.rows.assignments.iter().any(|a| {
                    (a.identity_id, a.role_id, a.node_id) == (identity_id, role_id, node_id)
                }) {
                    return vec![];
                }
                let assignment = Assignment {
                    id: AssignmentId(self.uuid()),
                    environment_id: self.env,
                    identity_id,
                    role_id,
                    node_id,
                    effective_from: instant(*from),
                    effective_to: instant(*to),
                    created_at: T0,
                };
                self.rows.assignments.push(assignment.clone());
                vec![Event::AssignmentCreated(assignment)]
            }
            Op::Unassign(which) => {
                let Some(id) = pick(&self.rows.assignments, which).map(|a| a.id) else {
                    return vec![];
                };
                self.unassign_where(|a| a.id == id)
            }
        }
    }

    fn edit_identity(&mut self, which: &Index, edit: impl FnOnce(&mut Identity, ())) -> Vec<Event> {
        let Some(id) = pick(&self.rows.identities, which).map(|i| i.id) else {
            return vec![];
        };
        let identity = self
            .rows
            .identities
            .iter_mut()
            .find(|i| i.id == id)
            .unwrap();
        edit(identity, ());
        vec![Event::IdentitySaved(identity.clone())]
    }

    fn unassign_where(&mut self, doomed: impl Fn(&Assignment) -> bool) -> Vec<Event> {
        let events = self
            .rows
            .assignments
            .iter()
            .filter(|a| doomed(a))
            .map(|a| Event::AssignmentDeleted(a.id))
            .collect();
        self.rows.assignments.retain(|a| !doomed(a));
        events
    }
}
