//! LookupNodes: the allowed part of a subtree is a few whole subtrees (the
//! "tops"); a page walks them in tree order from the cursor's place.

use super::super::EnvIndex;
use super::super::slots::NONE;
use super::node_entry;
use crate::domain::{IdentityRef, IdentityStatus, NodeId, NodeRef, Permission, Timestamp};
use crate::engine::answer::{Found, LookupError, NodeCursor, NodeEntry};

/// A top of the allowed region: its id path from the root, and its slot.
type Top = (Vec<NodeId>, u32);

/// A place in the walk: the index of the top being walked and a node in it.
type Place = (usize, u32);

impl EnvIndex {
    /// The nodes of `root`'s subtree (root included) where the check would allow,
    /// in tree order, starting after `after`.
    pub fn lookup_nodes(
        &self,
        identity: &IdentityRef,
        permission: &Permission,
        root: &NodeRef,
        at: Timestamp,
        after: Option<NodeCursor>,
        limit: usize,
    ) -> Result<Found<NodeEntry, NodeCursor>, LookupError> {
        let (row, root) = self.resolve(identity, root)?;
        let tops = if row.status == IdentityStatus::Active {
            let asked = self.asked(permission);
            let mut granted: Vec<u32> = (row.grants.iter())
                .filter(|g| self.grants(g, &asked, at))
                .map(|g| g.node)
                .collect();
            granted.sort_unstable();
            granted.dedup();
            self.tops(&granted, root)
        } else {
            Vec::new()
        };
        let mut place = match after {
            None => tops.first().map(|(_, slot)| (0, *slot)),
            Some(cursor) => self.resume(&tops, cursor)?,
        };
        let limit = limit.max(1);
        let mut slots = Vec::with_capacity(limit.min(1024));
        while let Some((top, slot)) = place {
            if slots.len() == limit {
                break;
            }
            slots.push(slot);
            place = self.step(&tops, top, slot);
        }
        let items: Vec<NodeEntry> = (slots.iter())
            .filter_map(|&s| {
                let parent = self.nodes.row(self.nodes.parent(s));
                self.nodes.row(s).map(|row| node_entry(row, parent))
            })
            .collect();
        let next_after = match (place, items.last()) {
            (Some(_), Some(last)) => Some(last.cursor),
            _ => None,
        };
        Ok(Found { items, next_after })
    }

    /// The highest nodes of `root`'s subtree whose whole subtree `granted`
    /// (sorted) covers, in tree order.
    fn tops(&self, granted: &[u32], root: u32) -> Vec<Top> {
        let root_chain = self.nodes.ancestry(root);
        let tops: Vec<u32> = if granted.iter().any(|&g| root_chain.distance(g).is_some()) {
            vec![root]
        } else {
            (granted.iter().copied())
                .filter(|&g| self.below_nearest_granted(g, root, granted))
                .collect()
        };
        let mut tops: Vec<Top> = tops.into_iter().map(|t| (self.path(t), t)).collect();
        tops.sort_unstable();
        tops
    }

    /// Whether `node` is below `root` with no other granted node between them.
    fn below_nearest_granted(&self, node: u32, root: u32, granted: &[u32]) -> bool {
        let mut current = self.nodes.parent(node);
        for _ in 0..=self.nodes.len() {
            if current == root {
                return true;
            }
            if current == NONE || granted.binary_search(&current).is_ok() {
                return false;
            }
            current = self.nodes.parent(current);
        }
        false
    }

    /// The ids from the root down to `slot`: comparing them is comparing places in tree order.
    fn path(&self, slot: u32) -> Vec<NodeId> {
        let chain = self.nodes.ancestry(slot);
        (chain.as_slice().iter().rev())
            .filter_map(|&s| self.nodes.row(s).map(|r| r.id))
            .collect()
    }

    /// The first allowed place after the cursor's: after its node where that is now,
    /// or, if it was deleted, after where it sat among its parent's children.
    fn resume(&self, tops: &[Top], cursor: NodeCursor) -> Result<Option<Place>, LookupError> {
        let (anchor, gone) = match self.nodes.slot_of(&cursor.last) {
            Some(slot) => (slot, None),
            None => match cursor.parent.and_then(|p| self.nodes.slot_of(&p)) {
                Some(parent) => (parent, Some(cursor.last)),
                None => return Err(LookupError::CursorLost),
            },
        };
        let mut path = self.path(anchor);
        path.extend(gone);
        let within = tops.iter().position(|(top, _)| path.starts_with(top));
        if let Some(i) = within {
            let top = tops[i].1;
            let next = match gone {
                None => self.next_in(anchor, top),
                Some(gone) => (self.nodes.child_after(anchor, &gone))
                    .or_else(|| self.next_after_subtree(anchor, top)),
            };
            if let Some(next) = next {
                return Ok(Some((i, next)));
            }
            return Ok(tops.get(i + 1).map(|(_, s)| (i + 1, *s)));
        }
        let i = tops.partition_point(|(top, _)| *top <= path);
        Ok(tops.get(i).map(|(_, s)| (i, *s)))
    }

    /// The place after `slot`, which is in top `top`.
    fn step(&self, tops: &[Top], top: usize, slot: u32) -> Option<Place> {
        match self.next_in(slot, tops[top].1) {
            Some(next) => Some((top, next)),
            None => tops.get(top + 1).map(|(_, s)| (top + 1, *s)),
        }
    }

    /// The node after `slot` in tree order within `top`'s subtree.
    fn next_in(&self, slot: u32, top: u32) -> Option<u32> {
        let first_child = self.nodes.row(slot)?.children.first().copied();
        first_child.or_else(|| self.next_after_subtree(slot, top))
    }

    /// The node after `slot`'s whole subtree, within `top`'s subtree.
    fn next_after_subtree(&self, slot: u32, top: u32) -> Option<u32> {
        let mut current = slot;
        while current != top {
            let parent = self.nodes.parent(current);
            if parent == NONE {
                return None;
            }
            let id = self.nodes.row(current)?.id;
            if let Some(next) = self.nodes.child_after(parent, &id) {
                return Some(next);
            }
            current = parent;
        }
        None
    }
}
