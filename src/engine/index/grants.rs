//! Assignments: per identity a compact list of grants (what the hot path
//! scans), plus a table from assignment slot to id and owner for writes.

use super::slots::{KeyHasher, NONE, SlotIndex, allocate_slot};
use crate::domain::{AssignmentId, Timestamp};
use std::hash::BuildHasher;

/// `[from, to)` stored as an inclusive range, so that an unbounded end needs no flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    first: i64,
    last: i64,
}

impl Window {
    const EMPTY: Self = Self {
        first: i64::MAX,
        last: i64::MIN,
    };

    pub fn new(from: Option<Timestamp>, to: Option<Timestamp>) -> Self {
        let first = from.map_or(i64::MIN, Timestamp::micros);
        match to {
            None => Self {
                first,
                last: i64::MAX,
            },
            Some(to) => match to.micros().checked_sub(1) {
                Some(last) => Self { first, last },
                None => Self::EMPTY,
            },
        }
    }

    pub fn contains(self, at: Timestamp) -> bool {
        self.first <= at.micros() && at.micros() <= self.last
    }
}

/// One assignment as its identity holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub node: u32,
    pub role: u32,
    pub assignment: u32,
    pub window: Window,
}

#[derive(Clone, Copy)]
pub(crate) struct AssignmentSlot {
    pub id: AssignmentId,
    /// Owner's identity slot; `NONE` for a free slot.
    pub identity: u32,
    /// Position in the node's assignment list.
    pub node_pos: u32,
}

#[derive(Clone, Default)]
pub(crate) struct AssignmentTable {
    slots: Vec<AssignmentSlot>,
    free: Vec<u32>,
    by_id: SlotIndex,
}

fn rehash(slots: &[AssignmentSlot]) -> impl Fn(&KeyHasher, u32) -> u64 + '_ {
    |hasher, slot| {
        slots
            .get(slot as usize)
            .map_or(0, |s| hasher.hash_one(s.id))
    }
}

impl AssignmentTable {
    pub fn slot_of(&self, id: &AssignmentId) -> Option<u32> {
        let hash = self.by_id.hash(id);
        self.by_id
            .find(hash, |s| self.get(s).is_some_and(|a| a.id == *id))
    }

    pub fn get(&self, slot: u32) -> Option<&AssignmentSlot> {
        self.slots.get(slot as usize).filter(|a| a.identity != NONE)
    }

    pub fn set_node_pos(&mut self, slot: u32, pos: u32) {
        if let Some(a) = self.slots.get_mut(slot as usize) {
            a.node_pos = pos;
        }
    }

    pub fn reserve(&mut self, additional: usize) {
        self.slots.reserve_exact(additional);
        self.by_id.reserve(additional, rehash(&self.slots));
    }

    /// Adds an assignment of `identity`; `None` if the id is already indexed.
    pub fn insert(&mut self, id: AssignmentId, identity: u32) -> Option<u32> {
        if self.slot_of(&id).is_some() {
            return None;
        }
        let slot = allocate_slot(&mut self.free, self.slots.len())?;
        let row = AssignmentSlot {
            id,
            identity,
            node_pos: NONE,
        };
        if slot as usize == self.slots.len() {
            self.slots.push(row);
        } else {
            self.slots[slot as usize] = row;
        }
        let hash = self.by_id.hash(&id);
        self.by_id.insert(hash, slot, rehash(&self.slots));
        Some(slot)
    }

    pub fn remove(&mut self, slot: u32) {
        let Some(row) = self.get(slot).copied() else {
            return;
        };
        let hash = self.by_id.hash(&row.id);
        self.by_id.remove(hash, slot);
        self.slots[slot as usize].identity = NONE;
        self.free.push(slot);
    }

    /// Slots of every live assignment.
    pub fn live_slots(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.slots.len() as u32).filter(|&s| self.get(s).is_some())
    }

    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<AssignmentSlot>()
            + self.free.capacity() * 4
            + self.by_id.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_include_from_and_exclude_to() {
        let w = Window::new(Some(Timestamp(10)), Some(Timestamp(20)));
        assert!(!w.contains(Timestamp(9)));
        assert!(w.contains(Timestamp(10)));
        assert!(w.contains(Timestamp(19)));
        assert!(!w.contains(Timestamp(20)));
        let open = Window::new(None, None);
        assert!(open.contains(Timestamp(i64::MIN)) && open.contains(Timestamp(i64::MAX)));
        let never = Window::new(None, Some(Timestamp(i64::MIN)));
        assert!(!never.contains(Timestamp(i64::MIN)));
        let until_max = Window::new(None, Some(Timestamp(i64::MAX)));
        assert!(!until_max.contains(Timestamp(i64::MAX)));
        assert!(until_max.contains(Timestamp(i64::MAX - 1)));
    }

    #[test]
    fn assignment_ids_are_unique_and_slots_reused() {
        let mut table = AssignmentTable::default();
        let a = AssignmentId::generate();
        let b = AssignmentId::generate();
        let sa = table.insert(a, 0);
        assert!(sa.is_some());
        assert_eq!(table.insert(a, 1), None);
        let sb = table.insert(b, 1);
        assert_eq!(table.slot_of(&b), sb);
        if let Some(sa) = sa {
            table.remove(sa);
        }
        assert_eq!(table.slot_of(&a), None);
        assert_eq!(table.insert(AssignmentId::generate(), 2), sa);
    }
}
