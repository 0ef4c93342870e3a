//! One environment's index: the tables, and how change events edit them.
//!
//! Objects are interned to dense `u32` slots; the hot path touches only the
//! identity's grant list, the parent array and the roles' permission sets.
//! Every edit tolerates unknown ids and dangling references: it is ignored,
//! never a panic.

mod decision_rule;
mod grants;
mod holdings;
mod id_index;
mod identities;
mod keys;
mod lookup;
mod nodes;
mod permission_set;
mod roles;
mod slots;
mod tag_index;
mod text_index;

use hashbrown::HashMap;

use crate::domain::change::Event;
use crate::domain::{
    Assignment, EnvironmentState, IdentityId, IdentityStatus, NodeId, NodeRef, RoleId,
};
use grants::{AssignmentTable, Grant, Window};
pub use holdings::Holding;
use identities::IdentityTable;
pub(crate) use keys::UuidHashBuilder;
use nodes::{NodeAssignment, NodeTable};
use roles::RoleTable;

/// The in-memory index of one environment.
#[derive(Clone, Default)]
pub struct EnvIndex {
    nodes: NodeTable,
    identities: IdentityTable,
    roles: RoleTable,
    assignments: AssignmentTable,
}

impl EnvIndex {
    /// Builds the index of a stored environment.
    pub fn from_state(state: EnvironmentState) -> Self {
        let mut index = Self::default();
        for role in &state.roles {
            index.roles.save(role);
        }
        index.load_nodes(&state.nodes);
        index.identities.reserve(state.identities.len());
        for identity in &state.identities {
            index.identities.save(identity);
        }
        index.load_assignments(&state.assignments);
        index
    }

    /// Adds nodes in any order: parents are linked once every node exists.
    fn load_nodes(&mut self, nodes: &[crate::domain::Node]) {
        for node in nodes {
            let detached = crate::domain::Node {
                parent_id: None,
                ..node.clone()
            };
            self.nodes.save(&detached);
        }
        for node in nodes.iter().filter(|n| n.parent_id.is_some()) {
            self.nodes.save(node);
        }
    }

    /// Adds assignments with every list sized exactly, since most never grow again.
    fn load_assignments(&mut self, assignments: &[Assignment]) {
        let mut per_identity: HashMap<IdentityId, usize> = HashMap::new();
        let mut per_node: HashMap<NodeId, usize> = HashMap::new();
        for a in assignments {
            *per_identity.entry(a.identity_id).or_default() += 1;
            *per_node.entry(a.node_id).or_default() += 1;
        }
        for (id, count) in per_identity {
            if let Some(row) = self
                .identities
                .slot_of(&id)
                .and_then(|s| self.identities.row_mut(s))
            {
                row.grants.reserve_exact(count);
            }
        }
        for (id, count) in per_node {
            if let Some(slot) = self.nodes.slot_of(&id) {
                self.nodes.reserve_assignments(slot, count);
            }
        }
        self.assignments
            .reserve(assignments.len(), &self.identities);
        for a in assignments {
            self.create_assignment(a);
        }
        self.sort_node_assignments();
    }

    /// An identity's status, `None` when the index has no such identity.
    pub fn identity_status(&self, id: &IdentityId) -> Option<IdentityStatus> {
        let slot = self.identities.slot_of(id)?;
        self.identities.row(slot).map(|row| row.status)
    }

    /// The id of the node `node` names, `None` when it names none.
    pub fn node_id(&self, node: &NodeRef) -> Option<NodeId> {
        let slot = self.nodes.resolve(node)?;
        self.nodes.row(slot).map(|row| row.id)
    }

    /// Applies one change event.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::EnvironmentCreated(_) | Event::ApiKeySaved(_) | Event::CredentialSaved(_) => {}
            Event::RoleSaved(role) => {
                self.roles.save(role);
            }
            Event::RoleDeleted(id) => self.delete_role(id),
            Event::IdentitySaved(identity) => {
                self.identities.save(identity);
            }
            Event::IdentityDeleted(id) => self.delete_identity(id),
            Event::NodeSaved(node) => {
                self.nodes.save(node);
            }
            Event::NodeDeleted(id) => {
                if let Some(slot) = self.nodes.slot_of(id) {
                    self.delete_subtree(slot);
                }
            }
            Event::AssignmentCreated(a) => {
                if let Some(node) = self.create_assignment(a) {
                    self.place_last_assignment(node);
                }
            }
            Event::AssignmentUpdated(a) => self.update_window(a),
            Event::AssignmentDeleted(id) => {
                if let Some(slot) = self.assignments.slot_of(id, &self.identities) {
                    self.delete_assignment(slot);
                }
            }
        }
    }

    /// Adds an assignment, its entry pushed last on its node's list; returns the node.
    fn create_assignment(&mut self, a: &Assignment) -> Option<u32> {
        let identity = self.identities.slot_of(&a.identity_id);
        let role = self.roles.slot_of(&a.role_id);
        let node = self.nodes.slot_of(&a.node_id);
        let (Some(identity), Some(role), Some(node)) = (identity, role, node) else {
            return None;
        };
        if self.assignments.slot_of(&a.id, &self.identities).is_some() {
            return None;
        }
        let row = self.identities.row_mut(identity)?;
        let slot = self.assignments.allocate(identity)?;
        let window = Window::new(a.effective_from, a.effective_to);
        row.grants.push(Grant {
            assignment_id: a.id,
            node,
            role,
            assignment: slot,
            window: self.assignments.add_window(window),
        });
        self.assignments.index(&a.id, slot, &self.identities);
        if let Some(row) = self.roles.row_mut(role) {
            row.assignments += 1;
        }
        let entry = NodeAssignment {
            role,
            assignment: slot,
        };
        self.nodes.push_assignment(node, entry);
        Some(node)
    }

    /// Gives an assignment its new window; unknown ids are ignored.
    fn update_window(&mut self, a: &Assignment) {
        let Some(slot) = self.assignments.slot_of(&a.id, &self.identities) else {
            return;
        };
        let Some(owner) = self.assignments.get(slot).map(|s| s.identity) else {
            return;
        };
        let Some(row) = self.identities.row_mut(owner) else {
            return;
        };
        let Some(grant) = row.grants.iter_mut().find(|g| g.assignment == slot) else {
            return;
        };
        let window = Window::new(a.effective_from, a.effective_to);
        grant.window = self.assignments.replace_window(grant.window, window);
    }

    fn delete_assignment(&mut self, slot: u32) {
        let Some(owner) = self.assignments.get(slot).map(|a| a.identity) else {
            return;
        };
        let Some(row) = self.identities.row_mut(owner) else {
            return;
        };
        let Some(i) = row.grants.iter().position(|g| g.assignment == slot) else {
            return;
        };
        let grant = row.grants.swap_remove(i);
        let entry = NodeAssignment {
            role: grant.role,
            assignment: slot,
        };
        self.unplace_assignment(grant.node, entry);
        self.assignments
            .remove(slot, &grant.assignment_id, grant.window);
        if let Some(role) = self.roles.row_mut(grant.role) {
            role.assignments = role.assignments.saturating_sub(1);
        }
    }

    fn delete_role(&mut self, id: &RoleId) {
        let Some(slot) = self.roles.slot_of(id) else {
            return;
        };
        if self.roles.row(slot).is_some_and(|r| r.assignments > 0) {
            let dangling: Vec<u32> = self
                .assignments
                .live_slots()
                .filter(|&a| self.grant_of(a).is_some_and(|g| g.role == slot))
                .collect();
            for a in dangling {
                self.delete_assignment(a);
            }
        }
        self.roles.remove(id);
    }

    fn delete_identity(&mut self, id: &IdentityId) {
        let Some(slot) = self.identities.slot_of(id) else {
            return;
        };
        let held: Vec<u32> = self
            .identities
            .row(slot)
            .map(|r| r.grants.iter().map(|g| g.assignment).collect())
            .unwrap_or_default();
        for a in held {
            self.delete_assignment(a);
        }
        self.identities.remove(id);
    }

    /// Deletes a node, and (though the log deletes children first) anything below it.
    fn delete_subtree(&mut self, top: u32) {
        let mut pending = vec![top];
        let mut order = Vec::new();
        while let Some(slot) = pending.pop() {
            if let Some(row) = self.nodes.row(slot) {
                order.push(slot);
                pending.extend_from_slice(&row.children);
            }
        }
        for &slot in order.iter().rev() {
            let held = self
                .nodes
                .row(slot)
                .map(|r| {
                    r.assignments
                        .iter()
                        .map(|e| e.assignment)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            for a in held {
                self.delete_assignment(a);
            }
            self.nodes.remove(slot);
        }
    }

    fn grant_of(&self, assignment: u32) -> Option<&Grant> {
        let a = self.assignments.get(assignment)?;
        let row = self.identities.row(a.identity)?;
        row.grants.iter().find(|g| g.assignment == assignment)
    }

    /// An estimate of the heap bytes the index holds.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.heap_bytes()
            + self.identities.heap_bytes()
            + self.roles.heap_bytes()
            + self.assignments.heap_bytes()
    }

    /// Live assignments.
    pub fn assignment_count(&self) -> usize {
        self.assignments.live_slots().count()
    }
}
