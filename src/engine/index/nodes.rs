//! The resource tree: a dense parent array for ancestor walks, child lists for
//! subtree walks, and per node the assignments that sit on it.

use super::id_index::IdIndex;
use super::slots::{NONE, allocate_slot, text_heap_bytes};
use super::text_index::TextIndex;
use crate::domain::{Node, NodeId, NodeKey, NodeRef};
use compact_str::CompactString;

/// Ancestor chains up to this length are kept on the stack.
const INLINE_DEPTH: usize = 16;

/// One assignment sitting on a node: its role (inline, so a lookup finds a
/// role's run without leaving the list) and its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeAssignment {
    pub role: u32,
    pub assignment: u32,
}

#[derive(Clone)]
pub(crate) struct NodeRow {
    pub id: NodeId,
    pub key: NodeKey,
    /// The key again, cheap to copy into a decision.
    pub key_text: CompactString,
    /// Ascending by id: a subtree is listed in an order a page token can resume.
    pub children: Vec<u32>,
    /// The assignments sitting on this node, by role, then by the owner's
    /// identity id (see `lookup::order`).
    pub assignments: Vec<NodeAssignment>,
}

#[derive(Clone, Default)]
pub(crate) struct NodeTable {
    rows: Vec<Option<NodeRow>>,
    /// `parents[slot]`: the parent's slot, or `NONE` for a root, a detached or a free slot.
    parents: Vec<u32>,
    free: Vec<u32>,
    by_id: IdIndex,
    by_key: TextIndex,
}

/// A node and its ancestors, nearest first.
pub(crate) struct Ancestry {
    inline: [u32; INLINE_DEPTH],
    len: usize,
    spilled: Vec<u32>,
}

impl Ancestry {
    pub fn as_slice(&self) -> &[u32] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }

    /// How many steps up from the node `slot` is, if it is on the chain.
    pub fn distance(&self, slot: u32) -> Option<usize> {
        self.as_slice().iter().position(|&n| n == slot)
    }
}

impl NodeTable {
    /// How many steps up from `slot` the node `ancestor` is, if it is at most
    /// `limit` steps up. Cheaper than an [`Ancestry`] for the few grants most
    /// identities hold, and it stops at `limit` (the best grant found so far).
    #[inline]
    pub fn steps_up(&self, slot: u32, ancestor: u32, limit: usize) -> Option<usize> {
        // A counter rather than `0..=limit`, whose iterator costs a few
        // instructions a step on the check's hottest loop.
        let mut current = slot;
        let mut steps = 0;
        loop {
            if current == ancestor {
                return Some(steps);
            }
            if steps == limit {
                return None;
            }
            // `NONE` is past the end of `parents`, which ends the walk.
            current = *self.parents.get(current as usize)?;
            steps += 1;
        }
    }

    pub fn resolve(&self, node: &NodeRef) -> Option<u32> {
        match node {
            NodeRef::Id(id) => self.by_id.get(&id.0),
            NodeRef::Key(key) => self.by_key.get(key.as_str()),
        }
    }

    pub fn slot_of(&self, id: &NodeId) -> Option<u32> {
        self.by_id.get(&id.0)
    }

    pub fn row(&self, slot: u32) -> Option<&NodeRow> {
        self.rows.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn row_mut(&mut self, slot: u32) -> Option<&mut NodeRow> {
        self.rows.get_mut(slot as usize).and_then(Option::as_mut)
    }

    pub fn parent(&self, slot: u32) -> u32 {
        self.parents.get(slot as usize).copied().unwrap_or(NONE)
    }

    /// Live nodes: also the longest possible ancestor chain.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// `slot` and its ancestors, nearest first.
    pub fn ancestry(&self, slot: u32) -> Ancestry {
        let mut chain = Ancestry {
            inline: [NONE; INLINE_DEPTH],
            len: 0,
            spilled: Vec::new(),
        };
        let mut current = slot;
        // `NONE` is past the end of `parents`, which ends the walk.
        while let Some(&parent) = self.parents.get(current as usize) {
            if chain.len == INLINE_DEPTH {
                return self.deep_ancestry(slot);
            }
            chain.inline[chain.len] = current;
            chain.len += 1;
            current = parent;
        }
        chain
    }

    #[cold]
    fn deep_ancestry(&self, slot: u32) -> Ancestry {
        let mut spilled = Vec::new();
        let mut current = slot;
        // The cap guards against a cycle, which `set_parent` never lets in.
        while current != NONE && spilled.len() <= self.len() {
            spilled.push(current);
            current = self.parent(current);
        }
        Ancestry {
            inline: [NONE; INLINE_DEPTH],
            len: 0,
            spilled,
        }
    }

    /// Whether `ancestor` is `slot` or one of its ancestors.
    pub fn is_within(&self, slot: u32, ancestor: u32) -> bool {
        let mut current = slot;
        for _ in 0..=self.len() {
            if current == ancestor {
                return true;
            }
            if current == NONE {
                return false;
            }
            current = self.parent(current);
        }
        false
    }

    /// Creates or updates (renames, moves) a node; returns its slot.
    pub fn save(&mut self, node: &Node) -> Option<u32> {
        let parent = node
            .parent_id
            .and_then(|p| self.slot_of(&p))
            .unwrap_or(NONE);
        let slot = match self.slot_of(&node.id) {
            Some(slot) => {
                self.rekey(slot, &node.key);
                slot
            }
            None => {
                let slot = allocate_slot(&mut self.free, self.rows.len())?;
                let row = NodeRow {
                    id: node.id,
                    key: node.key.clone(),
                    key_text: node.key.as_str().into(),
                    children: Vec::new(),
                    assignments: Vec::new(),
                };
                if slot as usize == self.rows.len() {
                    self.rows.push(Some(row));
                    self.parents.push(NONE);
                } else {
                    self.rows[slot as usize] = Some(row);
                }
                self.by_id.insert(node.id.0, slot);
                self.by_key.insert(node.key.as_str(), slot);
                slot
            }
        };
        self.set_parent(slot, parent);
        Some(slot)
    }

    fn rekey(&mut self, slot: u32, key: &NodeKey) {
        let Some(row) = self.rows.get_mut(slot as usize).and_then(Option::as_mut) else {
            return;
        };
        if row.key == *key {
            return;
        }
        if self.by_key.get(row.key.as_str()) == Some(slot) {
            self.by_key.remove(row.key.as_str());
        }
        row.key = key.clone();
        row.key_text = key.as_str().into();
        self.by_key.insert(key.as_str(), slot);
    }

    /// Moves `slot` under `parent`; a move that would make a cycle is ignored.
    fn set_parent(&mut self, slot: u32, parent: u32) {
        let old = self.parent(slot);
        if old == parent || (parent != NONE && self.is_within(parent, slot)) {
            return;
        }
        if let Some(row) = self.row_mut(old)
            && let Some(pos) = row.children.iter().position(|&c| c == slot)
        {
            row.children.remove(pos);
        }
        let pos = self
            .row(slot)
            .map(|r| r.id)
            .map(|id| self.child_rank(parent, &id));
        if let (Some(pos), Some(row)) = (pos, self.row_mut(parent)) {
            row.children.insert(pos, slot);
        }
        if let Some(p) = self.parents.get_mut(slot as usize) {
            *p = parent;
        }
    }

    /// Removes a node that has no children and no assignments left.
    pub fn remove(&mut self, slot: u32) {
        self.set_parent(slot, NONE);
        let Some(row) = self.rows.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.by_id.remove(&row.id.0);
        if self.by_key.get(row.key.as_str()) == Some(slot) {
            self.by_key.remove(row.key.as_str());
        }
        self.free.push(slot);
    }

    /// How many of `parent`'s children have an id below `id`.
    fn child_rank(&self, parent: u32, id: &NodeId) -> usize {
        let Some(row) = self.row(parent) else {
            return 0;
        };
        (row.children).partition_point(|&c| self.row(c).is_some_and(|r| r.id < *id))
    }

    /// The first child of `parent` whose id is above `id`.
    pub fn child_after(&self, parent: u32, id: &NodeId) -> Option<u32> {
        let row = self.row(parent)?;
        let pos = (row.children).partition_point(|&c| self.row(c).is_some_and(|r| r.id <= *id));
        row.children.get(pos).copied()
    }

    /// Adds `entry` at the end of `node`'s list; [`Self::place_last_assignment`] or
    /// [`Self::sort_assignments`] puts it in order.
    pub fn push_assignment(&mut self, node: u32, entry: NodeAssignment) {
        if let Some(row) = self.row_mut(node) {
            row.assignments.push(entry);
        }
    }

    /// Moves the last entry of `node`'s list to its place in the order `key` gives.
    pub fn place_last_assignment<K: Ord>(&mut self, node: u32, key: impl Fn(&NodeAssignment) -> K) {
        let Some(row) = self.row_mut(node) else {
            return;
        };
        let Some(last) = row.assignments.pop() else {
            return;
        };
        let wanted = key(&last);
        let pos = row.assignments.partition_point(|e| key(e) < wanted);
        row.assignments.insert(pos, last);
    }

    /// Removes `entry` from `node`'s list, kept in the order `key` gives.
    pub fn remove_assignment<K: Ord>(
        &mut self,
        node: u32,
        entry: NodeAssignment,
        key: impl Fn(&NodeAssignment) -> K,
    ) {
        let Some(row) = self.row_mut(node) else {
            return;
        };
        let wanted = key(&entry);
        let pos = row.assignments.partition_point(|e| key(e) < wanted);
        let pos = if row.assignments.get(pos) == Some(&entry) {
            Some(pos)
        } else {
            row.assignments.iter().position(|e| *e == entry)
        };
        if let Some(pos) = pos {
            row.assignments.remove(pos);
        }
    }

    /// Puts every node's list in the order `key` gives (after a bulk load).
    pub fn sort_assignments<K: Ord>(&mut self, key: impl Fn(&NodeAssignment) -> K) {
        for row in self.rows.iter_mut().flatten() {
            row.assignments.sort_by_cached_key(&key);
        }
    }

    /// Reserves room in `node`'s assignment list.
    pub fn reserve_assignments(&mut self, node: u32, additional: usize) {
        if let Some(row) = self.row_mut(node) {
            row.assignments.reserve_exact(additional);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let rows: usize = self
            .rows
            .iter()
            .flatten()
            .map(|r| {
                text_heap_bytes(r.key.as_str())
                    + r.children.capacity() * 4
                    + r.assignments.capacity() * std::mem::size_of::<NodeAssignment>()
            })
            .sum();
        rows + self.by_key.heap_bytes()
            + self.rows.capacity() * std::mem::size_of::<Option<NodeRow>>()
            + (self.parents.capacity() + self.free.capacity()) * 4
            + self.by_id.heap_bytes()
    }
}
