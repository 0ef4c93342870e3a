//! The decision rule, and the listings and lookups built on it.

use super::EnvIndex;
use super::grants::Grant;
use super::identities::IdentityRow;
use super::nodes::Ancestry;
use crate::domain::{
    Email, ExternalId, IdentityId, IdentityRef, IdentityStatus, NodeId, NodeRef, Permission,
    PermissionPattern, Timestamp,
};
use crate::engine::answer::{Decision, Denial, Found, GrantedBy, IdentityEntry, NodeEntry, Reason};

/// A permission as asked: its text and, if some role holds it exactly, its id.
struct InternedPermission<'a> {
    text: &'a str,
    id: Option<u32>,
}

impl EnvIndex {
    fn asked<'a>(&self, permission: &'a Permission) -> InternedPermission<'a> {
        let text = permission.as_str();
        InternedPermission {
            text,
            id: self.roles.permission_id(text),
        }
    }

    fn resolve(
        &self,
        identity: &IdentityRef,
        node: &NodeRef,
    ) -> Result<(&IdentityRow, u32), Denial> {
        let row = self
            .identities
            .resolve(identity)
            .and_then(|s| self.identities.row(s))
            .ok_or(Denial::UnknownIdentity)?;
        let node = self.nodes.resolve(node).ok_or(Denial::UnknownNode)?;
        Ok((row, node))
    }

    /// Whether `grant` gives `asked` at `at`.
    fn grants(&self, grant: &Grant, asked: &InternedPermission<'_>, at: Timestamp) -> bool {
        self.assignments.in_effect(grant, at) && self.roles.grants(grant.role, asked.id, asked.text)
    }

    /// Decides whether `identity` holds `permission` at `node` at time `at`.
    pub fn check(
        &self,
        identity: &IdentityRef,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
        revision: u64,
    ) -> Decision {
        let Some(row) = (self.identities.resolve(identity)).and_then(|s| self.identities.row(s))
        else {
            return Decision::denied(revision, Reason::UnknownIdentity);
        };
        // Loads the first grant now, so that its likely cache miss overlaps the
        // node's lookup and ancestor walk instead of following them.
        std::hint::black_box(row.grants.first().map(|g| g.node));
        let Some(node) = self.nodes.resolve(node) else {
            return Decision::denied(revision, Reason::UnknownNode);
        };
        if row.status != IdentityStatus::Active {
            return Decision::denied(revision, Reason::IdentityNotActive);
        }
        if row.grants.is_empty() {
            return Decision::denied(revision, Reason::NoMatchingAssignment);
        }
        let chain = self.nodes.ancestry(node);
        // Interned only once some grant is on the chain and in effect: most denials
        // never hash the permission.
        let mut asked: Option<InternedPermission<'_>> = None;
        let mut winner: Option<(usize, &Grant)> = None;
        for grant in &row.grants {
            let Some(distance) = chain.distance(grant.node) else {
                continue;
            };
            let better = match winner {
                None => true,
                Some((d, w)) => {
                    distance < d || (distance == d && grant.assignment_id < w.assignment_id)
                }
            };
            if !better || !self.assignments.in_effect(grant, at) {
                continue;
            }
            let asked = asked.get_or_insert_with(|| self.asked(permission));
            if self.roles.grants(grant.role, asked.id, asked.text) {
                winner = Some((distance, grant));
            }
        }
        match winner
            .zip(asked)
            .and_then(|((_, w), asked)| self.granted_by(w, &asked))
        {
            Some(by) => Decision::granted(revision, by),
            None => Decision::denied(revision, Reason::NoMatchingAssignment),
        }
    }

    fn granted_by(&self, grant: &Grant, asked: &InternedPermission<'_>) -> Option<GrantedBy> {
        let role = self.roles.row(grant.role)?;
        let node = self.nodes.row(grant.node)?;
        let pattern = (self.roles).matching_pattern(grant.role, asked.id, asked.text)?;
        let pattern = role.pattern_texts.get(pattern as usize)?;
        Some(GrantedBy {
            assignment_id: grant.assignment_id,
            role_id: role.id,
            role_name: role.name_text.clone(),
            node_id: node.id,
            node_key: node.key_text.clone(),
            pattern: pattern.clone(),
        })
    }

    /// Every pattern held through an assignment in effect at `node` at `at`, sorted and
    /// deduplicated; empty unless the identity is ACTIVE.
    pub fn list_permissions(
        &self,
        identity: &IdentityRef,
        node: &NodeRef,
        at: Timestamp,
    ) -> Result<Vec<PermissionPattern>, Denial> {
        let (row, node) = self.resolve(identity, node)?;
        if row.status != IdentityStatus::Active {
            return Ok(Vec::new());
        }
        let chain = self.nodes.ancestry(node);
        let mut patterns: Vec<PermissionPattern> = row
            .grants
            .iter()
            .filter(|g| chain.distance(g.node).is_some() && self.assignments.in_effect(g, at))
            .filter_map(|g| self.roles.row(g.role))
            .flat_map(|role| role.patterns.iter().cloned())
            .collect();
        patterns.sort_unstable();
        patterns.dedup();
        Ok(patterns)
    }

    /// The nodes of `root`'s subtree (root included) where the check would allow,
    /// ascending by id, starting after `after`.
    pub fn lookup_nodes(
        &self,
        identity: &IdentityRef,
        permission: &Permission,
        root: &NodeRef,
        at: Timestamp,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Found<NodeEntry, NodeId>, Denial> {
        let (row, root) = self.resolve(identity, root)?;
        if row.status != IdentityStatus::Active {
            return Ok(nothing_found());
        }
        let asked = self.asked(permission);
        let mut granted: Vec<u32> = row
            .grants
            .iter()
            .filter(|g| self.grants(g, &asked, at))
            .map(|g| g.node)
            .collect();
        granted.sort_unstable();
        granted.dedup();
        let tops = self.subtree_tops(&granted, root, &self.nodes.ancestry(root));
        let mut found = Vec::new();
        let mut pending = tops;
        while let Some(slot) = pending.pop() {
            let Some(node) = self.nodes.row(slot) else {
                continue;
            };
            if after.is_none_or(|after| node.id > after) {
                found.push((node.id, slot));
            }
            pending.extend_from_slice(&node.children);
        }
        Ok(page(found, limit, |slot| {
            let node = self.nodes.row(slot)?;
            Some(NodeEntry {
                id: node.id,
                key: node.key.clone(),
            })
        }))
    }

    /// The highest nodes of `root`'s subtree whose whole subtree `granted` covers.
    fn subtree_tops(&self, granted: &[u32], root: u32, root_chain: &Ancestry) -> Vec<u32> {
        if granted.iter().any(|&g| root_chain.distance(g).is_some()) {
            return vec![root];
        }
        granted
            .iter()
            .copied()
            .filter(|&g| {
                // Below root, and no other granted node between it and root.
                let mut current = self.nodes.parent(g);
                for _ in 0..=self.nodes.len() {
                    if current == root {
                        return true;
                    }
                    if current == super::slots::NONE || granted.binary_search(&current).is_ok() {
                        return false;
                    }
                    current = self.nodes.parent(current);
                }
                false
            })
            .collect()
    }

    /// The ACTIVE identities the check would allow at `node`, ascending by id,
    /// starting after `after`.
    pub fn lookup_identities(
        &self,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
        after: Option<IdentityId>,
        limit: usize,
    ) -> Result<Found<IdentityEntry, IdentityId>, Denial> {
        let node = self.nodes.resolve(node).ok_or(Denial::UnknownNode)?;
        let asked = self.asked(permission);
        let mut found = Vec::new();
        for &slot in self.nodes.ancestry(node).as_slice() {
            let Some(row) = self.nodes.row(slot) else {
                continue;
            };
            for &assignment in &row.assignments {
                let Some(owner) = self.assignments.get(assignment).map(|a| a.identity) else {
                    continue;
                };
                let Some(identity) = self.identities.row(owner) else {
                    continue;
                };
                if identity.status != IdentityStatus::Active
                    || after.is_some_and(|after| identity.id <= after)
                {
                    continue;
                }
                let grant = identity.grants.iter().find(|g| g.assignment == assignment);
                if grant.is_some_and(|g| self.grants(g, &asked, at)) {
                    found.push((identity.id, owner));
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        Ok(page(found, limit, |slot| {
            let identity = self.identities.row(slot)?;
            Some(IdentityEntry {
                id: identity.id,
                email: identity.email.as_deref().and_then(|e| Email::parse(e).ok()),
                external_id: (identity.external_id.as_deref())
                    .and_then(|e| ExternalId::parse(e).ok()),
            })
        }))
    }
}

fn nothing_found<T, C>() -> Found<T, C> {
    Found {
        items: Vec::new(),
        next_after: None,
    }
}

/// The `limit` (at least one) smallest of `found`, ascending, and the cursor after them.
fn page<C: Ord + Copy, T>(
    mut found: Vec<(C, u32)>,
    limit: usize,
    item: impl Fn(u32) -> Option<T>,
) -> Found<T, C> {
    let limit = limit.max(1);
    let more = found.len() > limit;
    if more {
        found.select_nth_unstable_by_key(limit, |&(id, _)| id);
        found.truncate(limit);
    }
    found.sort_unstable_by_key(|&(id, _)| id);
    Found {
        next_after: if more {
            found.last().map(|&(id, _)| id)
        } else {
            None
        },
        items: found
            .into_iter()
            .filter_map(|(_, slot)| item(slot))
            .collect(),
    }
}
