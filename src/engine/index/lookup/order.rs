//! The order of each node's assignment list, which LookupIdentities relies on:
//! by role, then by the owner's identity id, then by slot. A role's run is then
//! one sorted list of identities, resumable from any identity id by binary search.

use super::super::EnvIndex;
use super::super::grants::AssignmentTable;
use super::super::identities::IdentityTable;
use super::super::nodes::NodeAssignment;
use crate::domain::IdentityId;

/// The sort key of a node's entry; the id is `None` only for a dangling entry.
pub(crate) type EntryKey = (u32, Option<IdentityId>, u32);

/// The key of an entry, read through its owner.
pub(crate) fn entry_key<'a>(
    assignments: &'a AssignmentTable,
    identities: &'a IdentityTable,
) -> impl Fn(&NodeAssignment) -> EntryKey + 'a {
    move |entry| {
        (
            entry.role,
            owner_id(assignments, identities, entry),
            entry.assignment,
        )
    }
}

/// The id of the identity holding an entry's assignment.
pub(crate) fn owner_id(
    assignments: &AssignmentTable,
    identities: &IdentityTable,
    entry: &NodeAssignment,
) -> Option<IdentityId> {
    let owner = assignments.get(entry.assignment)?.identity;
    identities.row(owner).map(|row| row.id)
}

impl EnvIndex {
    /// Puts the entry just pushed on `node` in its place.
    pub(in crate::engine::index) fn place_last_assignment(&mut self, node: u32) {
        let key = entry_key(&self.assignments, &self.identities);
        self.nodes.place_last_assignment(node, key);
    }

    /// Takes an entry off its node; call while its assignment slot still names its owner.
    pub(in crate::engine::index) fn unplace_assignment(
        &mut self,
        node: u32,
        entry: NodeAssignment,
    ) {
        let key = entry_key(&self.assignments, &self.identities);
        self.nodes.remove_assignment(node, entry, key);
    }

    /// Orders every node's list once a bulk load has pushed them all.
    pub(in crate::engine::index) fn sort_node_assignments(&mut self) {
        let key = entry_key(&self.assignments, &self.identities);
        self.nodes.sort_assignments(key);
    }
}
