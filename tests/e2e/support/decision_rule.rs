//! A deliberately naive evaluator written straight from the decision rule of
//! DESIGN.md over plain rows: no indexes, no interning, linear scans everywhere.

use rbacd::domain::{
    Assignment, AssignmentId, Identity, IdentityRef, IdentityStatus, Node, NodeId, NodeRef,
    Permission, PermissionPattern, Role, RoleId, Timestamp, fold,
};
use rbacd::engine::Reason;

/// The stored rows of one environment.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub nodes: Vec<Node>,
    pub roles: Vec<Role>,
    pub identities: Vec<Identity>,
    pub assignments: Vec<Assignment>,
}

/// What the rule says about one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub reason: Reason,
    /// Granting assignment, its role, its node, and the matched pattern.
    pub granted_by: Option<(AssignmentId, RoleId, NodeId, String)>,
}

impl Rows {
    pub fn identity(&self, r: &IdentityRef) -> Option<&Identity> {
        self.identities.iter().find(|i| match r {
            IdentityRef::Id(id) => i.id == *id,
            IdentityRef::ExternalId(e) => i.external_id.as_ref() == Some(e),
            IdentityRef::Email(e) => i
                .email
                .as_ref()
                .is_some_and(|m| fold(m.as_str()) == fold(e.as_str())),
        })
    }

    pub fn node(&self, r: &NodeRef) -> Option<&Node> {
        self.nodes.iter().find(|n| match r {
            NodeRef::Id(id) => n.id == *id,
            NodeRef::Key(k) => n.key == *k,
        })
    }

    /// How many steps up from `node` the node `ancestor` is, if it is `node` or above it.
    pub fn distance(&self, node: NodeId, ancestor: NodeId) -> Option<usize> {
        let mut current = Some(node);
        let mut steps = 0;
        while let Some(id) = current {
            if id == ancestor {
                return Some(steps);
            }
            current = self
                .nodes
                .iter()
                .find(|n| n.id == id)
                .and_then(|n| n.parent_id);
            steps += 1;
        }
        None
    }

    fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// Assignments of `identity` sitting on `node` or an ancestor, in effect at `at`.
    fn in_effect(
        &self,
        identity: &Identity,
        node: &Node,
        at: Timestamp,
    ) -> Vec<(usize, &Assignment)> {
        self.assignments
            .iter()
            .filter(|a| a.identity_id == identity.id)
            .filter(|a| a.effective_from.is_none_or(|from| from <= at))
            .filter(|a| a.effective_to.is_none_or(|to| at < to))
            .filter_map(|a| self.distance(node.id, a.node_id).map(|d| (d, a)))
            .collect()
    }

    pub fn check(
        &self,
        identity: &IdentityRef,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
    ) -> Expected {
        let deny = |reason| Expected {
            reason,
            granted_by: None,
        };
        let Some(identity) = self.identity(identity) else {
            return deny(Reason::UnknownIdentity);
        };
        let Some(node) = self.node(node) else {
            return deny(Reason::UnknownNode);
        };
        if identity.status != IdentityStatus::Active {
            return deny(Reason::IdentityNotActive);
        }
        let mut granting: Vec<(usize, AssignmentId, &Assignment, &PermissionPattern)> = Vec::new();
        for (distance, a) in self.in_effect(identity, node, at) {
            let Some(role) = self.role(a.role_id) else {
                continue;
            };
            if let Some(pattern) = matched_pattern(role, permission) {
                granting.push((distance, a.id, a, pattern));
            }
        }
        granting.sort_by_key(|&(distance, id, ..)| (distance, id));
        match granting.first() {
            None => deny(Reason::NoMatchingAssignment),
            Some(&(_, id, a, pattern)) => Expected {
                reason: Reason::Granted,
                granted_by: Some((id, a.role_id, a.node_id, pattern.as_str().to_owned())),
            },
        }
    }

    /// Every pattern of every role in effect, sorted and deduplicated; `None` for an unknown reference.
    pub fn list_permissions(
        &self,
        identity: &IdentityRef,
        node: &NodeRef,
        at: Timestamp,
    ) -> Option<Vec<PermissionPattern>> {
        let identity = self.identity(identity)?;
        let node = self.node(node)?;
        if identity.status != IdentityStatus::Active {
            return Some(Vec::new());
        }
        let mut patterns: Vec<PermissionPattern> = self
            .in_effect(identity, node, at)
            .into_iter()
            .filter_map(|(_, a)| self.role(a.role_id))
            .flat_map(|r| r.permissions.clone())
            .collect();
        patterns.sort();
        patterns.dedup();
        Some(patterns)
    }

    /// Ids of the nodes in `root`'s subtree where the check allows, in tree
    /// order: a node before its subtree, siblings ascending by id (that is,
    /// ascending by the list of ids from the top of the tree down to the node).
    pub fn lookup_nodes(
        &self,
        identity: &IdentityRef,
        permission: &Permission,
        root: &Node,
        at: Timestamp,
    ) -> Vec<NodeId> {
        let mut found: Vec<NodeId> = self
            .nodes
            .iter()
            .filter(|n| self.distance(n.id, root.id).is_some())
            .filter(|n| {
                self.check(identity, permission, &NodeRef::Id(n.id), at)
                    .reason
                    == Reason::Granted
            })
            .map(|n| n.id)
            .collect();
        found.sort_by_cached_key(|&n| self.path(n));
        found
    }

    /// The ids from the top of the tree down to `node`.
    fn path(&self, node: NodeId) -> Vec<NodeId> {
        let mut path = vec![node];
        while let Some(parent) = (self.nodes.iter())
            .find(|n| Some(&n.id) == path.last())
            .and_then(|n| n.parent_id)
        {
            path.push(parent);
        }
        path.reverse();
        path
    }

    /// The identities the check allows at `node`, ascending by id.
    pub fn lookup_identities(
        &self,
        permission: &Permission,
        node: &Node,
        at: Timestamp,
    ) -> Vec<&Identity> {
        let mut found: Vec<&Identity> = self
            .identities
            .iter()
            .filter(|i| {
                self.check(
                    &IdentityRef::Id(i.id),
                    permission,
                    &NodeRef::Id(node.id),
                    at,
                )
                .reason
                    == Reason::Granted
            })
            .collect();
        found.sort_by_key(|i| i.id);
        found
    }
}

/// The role's pattern granting `permission`: the permission itself if held, else the
/// matching wildcard with the longest prefix.
fn matched_pattern<'a>(role: &'a Role, permission: &Permission) -> Option<&'a PermissionPattern> {
    if let Some(exact) = role
        .permissions
        .iter()
        .find(|p| p.as_str() == permission.as_str())
    {
        return Some(exact);
    }
    role.permissions
        .iter()
        .filter(|p| p.matches(permission))
        .max_by_key(|p| p.as_str().len())
}
