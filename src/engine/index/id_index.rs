//! A map from UUIDs to slots with each key stored beside its slot in one array:
//! a lookup reads one entry, where a hashbrown table reads its control bytes
//! and then, in another cache line, the bucket. Linear probing, at most 3/4
//! full; a removal shifts the entries behind it back (no tombstones).

use uuid::Uuid;

use super::slots::{KeyHasher, NONE};

#[derive(Clone, Copy)]
struct Entry {
    key: Uuid,
    /// `NONE` for an unused entry.
    slot: u32,
}

const EMPTY: Entry = Entry {
    key: Uuid::nil(),
    slot: NONE,
};

#[derive(Clone, Default)]
pub(crate) struct IdIndex {
    entries: Vec<Entry>,
    len: usize,
    hasher: KeyHasher,
}

impl IdIndex {
    /// Where `key` is placed when nothing is in the way.
    #[inline]
    fn home(&self, key: &Uuid) -> usize {
        let hash = self.hasher.uuid(key.as_bytes());
        // The hash's top bits: a multiply-shift, no division.
        ((u128::from(hash) * self.entries.len() as u128) >> 64) as usize
    }

    fn next(&self, at: usize) -> usize {
        if at + 1 == self.entries.len() {
            0
        } else {
            at + 1
        }
    }

    #[inline]
    pub fn get(&self, key: &Uuid) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let mut at = self.home(key);
        loop {
            let entry = self.entries.get(at)?;
            if entry.slot == NONE {
                return None;
            }
            if entry.key == *key {
                return Some(entry.slot);
            }
            at = self.next(at);
        }
    }

    /// Maps `key` to `slot`, replacing what it mapped to before.
    pub fn insert(&mut self, key: Uuid, slot: u32) {
        self.reserve(1);
        let mut at = self.home(&key);
        loop {
            let entry = &mut self.entries[at];
            if entry.slot == NONE {
                *entry = Entry { key, slot };
                self.len += 1;
                return;
            }
            if entry.key == key {
                entry.slot = slot;
                return;
            }
            at = self.next(at);
        }
    }

    /// Forgets `key`; returns the slot it mapped to.
    pub fn remove(&mut self, key: &Uuid) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let mut at = self.home(key);
        let removed = loop {
            let entry = self.entries[at];
            if entry.slot == NONE {
                return None;
            }
            if entry.key == *key {
                break entry.slot;
            }
            at = self.next(at);
        };
        // Shift back each later entry of the run whose home is no further on
        // than the hole: lookups then never stop short at the hole.
        let len = self.entries.len();
        let mut hole = at;
        let mut at = self.next(hole);
        while self.entries[at].slot != NONE {
            let home = self.home(&self.entries[at].key);
            if (at + len - home) % len >= (at + len - hole) % len {
                self.entries[hole] = self.entries[at];
                hole = at;
            }
            at = self.next(at);
        }
        self.entries[hole] = EMPTY;
        self.len -= 1;
        Some(removed)
    }

    fn reserve(&mut self, additional: usize) {
        let wanted = self.len + additional;
        if wanted * 4 <= self.entries.len() * 3 {
            return;
        }
        let capacity = (wanted * 4 / 3 + 1).next_power_of_two().max(8);
        let old = std::mem::replace(&mut self.entries, vec![EMPTY; capacity]);
        self.len = 0;
        for e in old.into_iter().filter(|e| e.slot != NONE) {
            self.insert(e.key, e.slot);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_replaces_and_forgets_keys_through_long_runs() {
        let mut index = IdIndex::default();
        let keys: Vec<Uuid> = (0..300u128).map(Uuid::from_u128).collect();
        let mut live: Vec<usize> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            index.insert(*key, i as u32);
            live.push(i);
            if i % 3 == 0 {
                let gone = live.remove(live.len() / 2);
                assert_eq!(index.remove(&keys[gone]), Some(gone as u32));
                assert_eq!(index.remove(&keys[gone]), None);
            }
            for &k in &live {
                assert_eq!(index.get(&keys[k]), Some(k as u32));
            }
            assert_eq!(index.len(), live.len());
        }
        index.insert(keys[live[0]], 999);
        assert_eq!(index.get(&keys[live[0]]), Some(999));
        assert_eq!(index.len(), live.len());
        for k in live {
            index.remove(&keys[k]);
        }
        assert!(keys.iter().all(|k| index.get(k).is_none()));
        assert!(index.heap_bytes() > 0);
    }
}
