//! Assignments: per identity a compact list of grants (what the hot path
//! scans), plus a table from assignment slot to owner, window and id for writes.

use super::slots::{KeyHasher, NONE, SlotIndex, allocate_slot};
use crate::domain::{AssignmentId, Timestamp};

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

/// Index in [`AssignmentTable::windows`] of a grant without bounds, the common case.
pub(crate) const ALWAYS: u32 = 0;

/// One assignment as its identity holds it: everything a check reads, in 32 bytes.
/// The window sits out of line (most assignments have none), which leaves room
/// for the id, so naming the granting assignment costs no extra memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub assignment_id: AssignmentId,
    pub node: u32,
    pub role: u32,
    pub assignment: u32,
    /// `ALWAYS`, or the index of the grant's window.
    pub window: u32,
}

#[derive(Clone, Copy)]
pub(crate) struct AssignmentSlot {
    /// Owner's identity slot; `NONE` for a free slot.
    pub identity: u32,
}

/// Assignment slots, their windows, and the index by id. The id itself is kept
/// only in the owner's grant, so lookups by id are given a way to read it.
#[derive(Clone)]
pub(crate) struct AssignmentTable {
    slots: Vec<AssignmentSlot>,
    free: Vec<u32>,
    by_id: SlotIndex,
    windows: Vec<Window>,
    free_windows: Vec<u32>,
}

impl Default for AssignmentTable {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_id: SlotIndex::default(),
            windows: vec![Window::new(None, None)],
            free_windows: Vec::new(),
        }
    }
}

/// The id of the assignment in a slot, read from its owner's grant.
pub(crate) trait AssignmentIds {
    fn assignment_id(&self, owner: u32, slot: u32) -> Option<AssignmentId>;
}

fn id_of(slots: &[AssignmentSlot], ids: &dyn AssignmentIds, slot: u32) -> Option<AssignmentId> {
    let owner = slots.get(slot as usize)?.identity;
    if owner == NONE {
        return None;
    }
    ids.assignment_id(owner, slot)
}

fn rehash<'a>(
    slots: &'a [AssignmentSlot],
    ids: &'a dyn AssignmentIds,
) -> impl Fn(&KeyHasher, u32) -> u64 + 'a {
    move |hasher, slot| id_of(slots, ids, slot).map_or(0, |id| hasher.uuid(id.0.as_bytes()))
}

impl AssignmentTable {
    pub fn slot_of(&self, id: &AssignmentId, ids: &dyn AssignmentIds) -> Option<u32> {
        let hash = self.by_id.hasher().uuid(id.0.as_bytes());
        self.by_id
            .find(hash, |s| id_of(&self.slots, ids, s) == Some(*id))
    }

    pub fn get(&self, slot: u32) -> Option<&AssignmentSlot> {
        self.slots.get(slot as usize).filter(|a| a.identity != NONE)
    }

    /// Whether a grant's window holds `at`.
    #[inline]
    pub fn in_effect(&self, grant: &Grant, at: Timestamp) -> bool {
        grant.window == ALWAYS
            || (self.windows.get(grant.window as usize)).is_some_and(|w| w.contains(at))
    }

    pub fn reserve(&mut self, additional: usize, ids: &dyn AssignmentIds) {
        self.slots.reserve_exact(additional);
        self.by_id.reserve(additional, rehash(&self.slots, ids));
    }

    /// Takes a slot for an assignment of `identity`; [`Self::index`] it once its grant exists.
    pub fn allocate(&mut self, identity: u32) -> Option<u32> {
        let slot = allocate_slot(&mut self.free, self.slots.len())?;
        let row = AssignmentSlot { identity };
        if slot as usize == self.slots.len() {
            self.slots.push(row);
        } else {
            self.slots[slot as usize] = row;
        }
        Some(slot)
    }

    /// Makes `slot` findable by `id`; `ids` must already give `id` for it.
    pub fn index(&mut self, id: &AssignmentId, slot: u32, ids: &dyn AssignmentIds) {
        let hash = self.by_id.hasher().uuid(id.0.as_bytes());
        self.by_id.insert(hash, slot, rehash(&self.slots, ids));
    }

    /// Stores a window; `ALWAYS` for one without bounds.
    pub fn add_window(&mut self, window: Window) -> u32 {
        if window == self.windows[ALWAYS as usize] {
            return ALWAYS;
        }
        match self.free_windows.pop() {
            Some(i) => {
                self.windows[i as usize] = window;
                i
            }
            None => {
                self.windows.push(window);
                (self.windows.len() - 1) as u32
            }
        }
    }

    /// Frees window `old` (unless `ALWAYS`) and stores `new`; returns its index.
    pub fn replace_window(&mut self, old: u32, new: Window) -> u32 {
        if old != ALWAYS && (old as usize) < self.windows.len() {
            self.free_windows.push(old);
        }
        self.add_window(new)
    }

    /// Frees the slot of the assignment `id`, and its window.
    pub fn remove(&mut self, slot: u32, id: &AssignmentId, window: u32) {
        if self.get(slot).is_none() {
            return;
        }
        let hash = self.by_id.hasher().uuid(id.0.as_bytes());
        self.by_id.remove(hash, slot);
        self.slots[slot as usize].identity = NONE;
        self.free.push(slot);
        if window != ALWAYS && (window as usize) < self.windows.len() {
            self.free_windows.push(window);
        }
    }

    /// Slots of every live assignment.
    pub fn live_slots(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.slots.len() as u32).filter(|&s| self.get(s).is_some())
    }

    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<AssignmentSlot>()
            + (self.free.capacity() + self.free_windows.capacity()) * 4
            + self.windows.capacity() * std::mem::size_of::<Window>()
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

    /// Ids kept beside the table, as the owners' grants keep them in the index.
    struct Ids(std::cell::RefCell<Vec<Option<AssignmentId>>>);

    impl AssignmentIds for Ids {
        fn assignment_id(&self, _owner: u32, slot: u32) -> Option<AssignmentId> {
            self.0.borrow().get(slot as usize).copied().flatten()
        }
    }

    #[test]
    fn assignment_slots_and_windows_are_reused() {
        let ids = Ids(Default::default());
        let mut table = AssignmentTable::default();
        let add = |table: &mut AssignmentTable, id: AssignmentId| {
            let slot = table.allocate(0).unwrap();
            {
                let mut v = ids.0.borrow_mut();
                let len = v.len().max(slot as usize + 1);
                v.resize(len, None);
                v[slot as usize] = Some(id);
            }
            table.index(&id, slot, &ids);
            slot
        };
        let a = AssignmentId::generate();
        let sa = add(&mut table, a);
        let b = AssignmentId::generate();
        let sb = add(&mut table, b);
        assert_eq!(table.slot_of(&a, &ids), Some(sa));
        assert_eq!(table.slot_of(&b, &ids), Some(sb));
        let w = table.add_window(Window::new(Some(Timestamp(1)), None));
        assert_ne!(w, ALWAYS);
        assert_eq!(table.add_window(Window::new(None, None)), ALWAYS);
        table.remove(sa, &a, w);
        assert_eq!(table.slot_of(&a, &ids), None);
        assert_eq!(table.allocate(2), Some(sa));
        assert_eq!(table.add_window(Window::new(None, Some(Timestamp(5)))), w);
    }
}
