//! A map from short texts (node keys, permission names) to slots, hashed by
//! [`KeyHasher::text`] and compared a word at a time: cheaper per lookup than a
//! general-purpose hasher's framing and a call to `memcmp`.

use compact_str::CompactString;
use hashbrown::HashTable;

use super::keys::{KeyHasher, same_text};
use super::slots::{compact_heap_bytes, table_heap_bytes};

/// Texts of up to 24 bytes sit in the table itself: comparing one reads no other memory.
#[derive(Clone, Default)]
pub(crate) struct TextIndex {
    table: HashTable<(CompactString, u32)>,
    hasher: KeyHasher,
}

impl TextIndex {
    #[inline]
    pub fn get(&self, text: &str) -> Option<u32> {
        let hash = self.hasher.text(text);
        let found = self.table.find(hash, |(key, _)| same_text(key, text));
        found.map(|&(_, slot)| slot)
    }

    /// Maps `text` to `slot`, replacing what it mapped to before.
    pub fn insert(&mut self, text: &str, slot: u32) {
        let hasher = &self.hasher;
        let hash = hasher.text(text);
        let entry = self.table.entry(
            hash,
            |(key, _)| same_text(key, text),
            |(key, _)| hasher.text(key),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut held) => held.get_mut().1 = slot,
            hashbrown::hash_table::Entry::Vacant(free) => {
                free.insert((text.into(), slot));
            }
        }
    }

    /// Forgets `text`; returns the slot it mapped to.
    pub fn remove(&mut self, text: &str) -> Option<u32> {
        let hash = self.hasher.text(text);
        let held = self.table.find_entry(hash, |(key, _)| same_text(key, text));
        held.ok().map(|entry| entry.remove().0.1)
    }

    pub fn heap_bytes(&self) -> usize {
        let texts: usize = self
            .table
            .iter()
            .map(|(key, _)| compact_heap_bytes(key))
            .sum();
        texts
            + table_heap_bytes(
                self.table.capacity(),
                std::mem::size_of::<(CompactString, u32)>(),
            )
    }

    /// The bytes of the texts themselves, inline or not.
    pub fn text_bytes(&self) -> usize {
        self.table.iter().map(|(key, _)| key.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_replaces_and_forgets_texts_of_any_length() {
        let texts: Vec<String> = (0..40).map(|n| "k".repeat(n) + "x").collect();
        let mut index = TextIndex::default();
        for (slot, text) in texts.iter().enumerate() {
            index.insert(text, slot as u32);
        }
        for (slot, text) in texts.iter().enumerate() {
            assert_eq!(index.get(text), Some(slot as u32), "{text}");
            assert_eq!(index.get(&text.to_uppercase()), None);
            let shorter = slot.checked_sub(1).map(|s| s as u32);
            assert_eq!(index.get(&text[1..]), shorter, "{text}");
            assert_eq!(index.get(&format!("{text}y")), None);
        }
        index.insert(&texts[3], 99);
        assert_eq!(index.get(&texts[3]), Some(99));
        assert_eq!(index.remove(&texts[3]), Some(99));
        assert_eq!(index.get(&texts[3]), None);
        assert_eq!(index.remove(&texts[3]), None);
        assert_eq!(index.get(&texts[4]), Some(4));
    }
}
