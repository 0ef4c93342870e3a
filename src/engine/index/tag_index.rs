//! A hash index from a key kept in a row to the row's slot, in one array of
//! 8-byte entries holding 32 bits of the key's hash beside the slot.
//!
//! A lookup reads one entry and then the row it names, where a hashbrown table
//! reads its control bytes and then, in another cache line, the bucket: on a
//! large index that is one dependent miss fewer per lookup, and the probe is a
//! few instructions. Linear probing, at most 3/4 full; a removal shifts the
//! entries behind it back, so there are no tombstones. Entries are placed by
//! their tag alone, so growing needs no access to the rows.

use super::slots::{KeyHasher, NONE};

/// An unused entry: its slot is `NONE`, which no row has.
const EMPTY: u64 = NONE as u64;

#[derive(Clone, Default)]
pub(crate) struct TagIndex {
    entries: Vec<u64>,
    len: usize,
    hasher: KeyHasher,
}

fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

fn entry(tag: u32, slot: u32) -> u64 {
    u64::from(tag) << 32 | u64::from(slot)
}

impl TagIndex {
    pub fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }

    /// Where an entry of `tag` is placed when nothing is in the way.
    fn home(&self, tag: u32) -> usize {
        // The tag's top bits: a multiply-shift, no division.
        ((u64::from(tag) * self.entries.len() as u64) >> 32) as usize
    }

    fn next(&self, at: usize) -> usize {
        if at + 1 == self.entries.len() {
            0
        } else {
            at + 1
        }
    }

    /// The slot under `hash` for which `is_match` holds.
    #[inline]
    pub fn find(&self, hash: u64, mut is_match: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let tag = tag_of(hash);
        let mut at = self.home(tag);
        loop {
            let found = *self.entries.get(at)?;
            if found == EMPTY {
                return None;
            }
            if (found >> 32) as u32 == tag && is_match(found as u32) {
                return Some(found as u32);
            }
            at = self.next(at);
        }
    }

    /// Adds `slot` under `hash`.
    pub fn insert(&mut self, hash: u64, slot: u32) {
        self.reserve(1);
        self.place(entry(tag_of(hash), slot));
        self.len += 1;
    }

    fn place(&mut self, new: u64) {
        let mut at = self.home((new >> 32) as u32);
        while self.entries[at] != EMPTY {
            at = self.next(at);
        }
        self.entries[at] = new;
    }

    /// Removes `slot` from under `hash`.
    pub fn remove(&mut self, hash: u64, slot: u32) {
        if self.entries.is_empty() {
            return;
        }
        let wanted = entry(tag_of(hash), slot);
        let mut at = self.home(tag_of(hash));
        loop {
            match self.entries[at] {
                EMPTY => return,
                found if found == wanted => break,
                _ => at = self.next(at),
            }
        }
        // Shift back each later entry of the run that may sit no further from
        // its home than the hole: lookups then never stop short at the hole.
        let mut hole = at;
        let mut at = self.next(hole);
        while self.entries[at] != EMPTY {
            let home = self.home((self.entries[at] >> 32) as u32);
            let len = self.entries.len();
            let from_home = (at + len - home) % len;
            let from_hole = (at + len - hole) % len;
            if from_home >= from_hole {
                self.entries[hole] = self.entries[at];
                hole = at;
            }
            at = self.next(at);
        }
        self.entries[hole] = EMPTY;
        self.len -= 1;
    }

    /// Makes room for `additional` more entries.
    pub fn reserve(&mut self, additional: usize) {
        let wanted = self.len + additional;
        if wanted * 4 <= self.entries.len() * 3 {
            return;
        }
        let capacity = (wanted * 4 / 3 + 1).next_power_of_two().max(8);
        let old = std::mem::replace(&mut self.entries, vec![EMPTY; capacity]);
        for e in old.into_iter().filter(|&e| e != EMPTY) {
            self.place(e);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys whose hashes are chosen to collide in their tag, their home, or both.
    #[test]
    fn finds_inserted_slots_and_forgets_removed_ones_through_collisions() {
        let mut index = TagIndex::default();
        // Hashes from a few tags only: long runs, wrapping around the end.
        let hash_of = |key: u32| u64::from(u32::MAX - key % 5) << 32 | u64::from(key);
        let mut live: Vec<u32> = Vec::new();
        for key in 0..200u32 {
            index.insert(hash_of(key), key);
            live.push(key);
            if key % 3 == 0 {
                let gone = live.remove(live.len() / 2);
                index.remove(hash_of(gone), gone);
            }
            for &k in &live {
                assert_eq!(index.find(hash_of(k), |s| s == k), Some(k), "{k}");
            }
        }
        for gone in (0..200u32).filter(|k| !live.contains(k)) {
            assert_eq!(index.find(hash_of(gone), |s| s == gone), None);
        }
        for k in live.clone() {
            index.remove(hash_of(k), k);
        }
        assert!(
            live.iter()
                .all(|&k| index.find(hash_of(k), |s| s == k).is_none())
        );
        assert!(index.heap_bytes() > 0);
    }
}
