//! Dense slot numbers for objects, and hash indexes that store only the slot.
//!
//! The big per-environment lookups (assignment, identity, email, external id)
//! are `HashTable<u32>`s that hash the key kept in the row itself, so an entry
//! costs 4 bytes plus a control byte instead of a copy of the key.

use hashbrown::HashTable;

pub(crate) use super::keys::KeyHasher;

/// "No slot": a free row, or a node without parent.
pub(crate) const NONE: u32 = u32::MAX;

/// A hash index from some key of a row to the row's slot.
#[derive(Clone, Default)]
pub(crate) struct SlotIndex {
    table: HashTable<u32>,
    hasher: KeyHasher,
}

impl SlotIndex {
    pub fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }

    pub fn find(&self, hash: u64, mut is_match: impl FnMut(u32) -> bool) -> Option<u32> {
        self.table.find(hash, |&slot| is_match(slot)).copied()
    }

    /// Adds `slot` under `hash`; `rehash` gives the hash of any stored slot when the table grows.
    pub fn insert(&mut self, hash: u64, slot: u32, rehash: impl Fn(&KeyHasher, u32) -> u64) {
        let hasher = &self.hasher;
        self.table.insert_unique(hash, slot, |&s| rehash(hasher, s));
    }

    pub fn remove(&mut self, hash: u64, slot: u32) {
        if let Ok(entry) = self.table.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
    }

    pub fn reserve(&mut self, additional: usize, rehash: impl Fn(&KeyHasher, u32) -> u64) {
        let hasher = &self.hasher;
        self.table.reserve(additional, |&s| rehash(hasher, s));
    }

    pub fn heap_bytes(&self) -> usize {
        table_heap_bytes(self.table.capacity(), std::mem::size_of::<u32>())
    }
}

/// Heap bytes of a hashbrown table able to hold `capacity` items of `item_size` bytes.
pub(crate) fn table_heap_bytes(capacity: usize, item_size: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        if capacity < 4 { 4 } else { 8 }
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    buckets * (item_size + 1) + 16
}

/// Heap bytes of a string's text.
pub(crate) fn text_heap_bytes(text: &str) -> usize {
    text.len()
}

/// Heap bytes of a `CompactString`: none while its text fits inline.
pub(crate) fn compact_heap_bytes(text: &compact_str::CompactString) -> usize {
    if text.is_heap_allocated() {
        text.capacity()
    } else {
        0
    }
}

/// Takes a slot from `free`, or the next new one.
pub(crate) fn allocate_slot(free: &mut Vec<u32>, len: usize) -> Option<u32> {
    match free.pop() {
        Some(slot) => Some(slot),
        None => u32::try_from(len).ok().filter(|&s| s != NONE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_index_finds_inserted_and_forgets_removed_slots() {
        let keys = ["a", "b", "c"];
        let mut index = SlotIndex::default();
        for (slot, key) in keys.iter().enumerate() {
            let hash = index.hasher().text(key);
            index.insert(hash, slot as u32, |h, s| h.text(keys[s as usize]));
        }
        let hash_b = index.hasher().text("b");
        assert_eq!(index.find(hash_b, |s| keys[s as usize] == "b"), Some(1));
        index.remove(hash_b, 1);
        assert_eq!(index.find(hash_b, |s| keys[s as usize] == "b"), None);
        assert!(index.heap_bytes() > 0);
    }
}
