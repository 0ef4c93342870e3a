//! The decision rule, and the listing of effective permissions built on it;
//! the lookups are in `lookup`.

use super::EnvIndex;
use super::grants::Grant;
use super::identities::IdentityRow;
use crate::domain::{
    IdentityRef, IdentityStatus, NodeRef, Permission, PermissionPattern, Timestamp,
};
use crate::engine::answer::{Decision, Denial, GrantedBy, Reason};

/// Identities with up to this many grants have each grant's node looked for by
/// walking up from the asked node; with more, the ancestor chain is built once.
const WALKED_GRANTS: usize = 4;

/// A permission as asked: its text and, if some role holds it exactly, its id.
pub(super) struct InternedPermission<'a> {
    pub(super) text: &'a str,
    pub(super) id: Option<u32>,
}

impl EnvIndex {
    pub(super) fn asked<'a>(&self, permission: &'a Permission) -> InternedPermission<'a> {
        let text = permission.as_str();
        InternedPermission {
            text,
            id: self.roles.permission_id(text),
        }
    }

    pub(super) fn resolve(
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
    pub(super) fn grants(
        &self,
        grant: &Grant,
        asked: &InternedPermission<'_>,
        at: Timestamp,
    ) -> bool {
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
        let winner = if row.grants.len() <= WALKED_GRANTS {
            let limit = self.nodes.len();
            self.winner(&row.grants, permission, at, |n, best| {
                self.nodes.steps_up(node, n, best.unwrap_or(limit))
            })
        } else {
            let chain = self.nodes.ancestry(node);
            self.winner(&row.grants, permission, at, |n, _| chain.distance(n))
        };
        match winner.and_then(|(w, asked)| self.granted_by(w, &asked)) {
            Some(by) => Decision::granted(revision, by),
            None => Decision::denied(revision, Reason::NoMatchingAssignment),
        }
    }

    /// The grant that gives `permission` at `at` nearest to the node, the smallest
    /// assignment id among the nearest; `distance(n, best)` is how far above the
    /// node `n` is, if it is (it may say `None` for a distance past `best`).
    #[inline]
    fn winner<'a, 'p>(
        &self,
        grants: &'a [Grant],
        permission: &'p Permission,
        at: Timestamp,
        distance: impl Fn(u32, Option<usize>) -> Option<usize>,
    ) -> Option<(&'a Grant, InternedPermission<'p>)> {
        // Interned only once some grant is on the chain and in effect: most denials
        // never hash the permission.
        let mut asked: Option<InternedPermission<'_>> = None;
        let mut winner: Option<(usize, &Grant)> = None;
        for grant in grants {
            let Some(distance) = distance(grant.node, winner.map(|(d, _)| d)) else {
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
        winner.map(|(_, w)| w).zip(asked)
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
}
