//! Hashing of the keys a check looks up: UUIDs by one multiply, texts by
//! foldhash, emails case-folded on the stack.
//!
//! A general-purpose hasher spends most of a check's hashing on framing (a
//! length prefix, a byte loop for the tail); a UUID is already 16 random-enough
//! bytes and only needs mixing with a per-table random seed.

use std::hash::{BuildHasher, Hasher};

use hashbrown::DefaultHashBuilder;

use crate::domain::fold;

/// The high and low halves of a 128-bit product, folded together.
fn fold_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Seeded hashing of UUIDs and texts, random per table.
#[derive(Clone)]
pub(crate) struct KeyHasher {
    seeds: [u64; 2],
    text: DefaultHashBuilder,
}

impl Default for KeyHasher {
    fn default() -> Self {
        let text = DefaultHashBuilder::default();
        // Odd seeds, so that a zero half of a key does not zero the product.
        let seeds = [text.hash_one(1u8) | 1, text.hash_one(2u8) | 1];
        Self { seeds, text }
    }
}

impl KeyHasher {
    pub fn uuid(&self, bytes: &[u8; 16]) -> u64 {
        let (hi, lo) = bytes.split_at(8);
        let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
        let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
        fold_multiply(hi ^ self.seeds[0], lo ^ self.seeds[1])
    }

    pub fn text(&self, text: &str) -> u64 {
        self.text.hash_one(text.as_bytes())
    }

    /// The hash of `fold(text)`, without allocating for ASCII text of up to 128 bytes.
    pub fn folded(&self, text: &str) -> u64 {
        let mut buf = [0u8; 128];
        match buf.get_mut(..text.len()) {
            Some(out) if text.is_ascii() => {
                for (o, b) in out.iter_mut().zip(text.bytes()) {
                    *o = b.to_ascii_lowercase();
                }
                self.text.hash_one(&*out)
            }
            _ => self.text.hash_one(fold(text).as_bytes()),
        }
    }
}

/// Whether `stored`, case-folded, equals `query` case-folded.
pub(crate) fn same_folded(stored: &str, query: &str) -> bool {
    if stored.is_ascii() && query.is_ascii() {
        stored.eq_ignore_ascii_case(query)
    } else {
        fold(stored) == fold(query)
    }
}

/// A [`BuildHasher`] for maps keyed by UUID newtypes (their `Hash` writes the 16 bytes).
#[derive(Clone, Default)]
pub(crate) struct UuidHashBuilder(KeyHasher);

impl BuildHasher for UuidHashBuilder {
    type Hasher = UuidHasher;

    fn build_hasher(&self) -> UuidHasher {
        UuidHasher {
            keys: self.0.seeds,
            state: 0,
        }
    }
}

pub(crate) struct UuidHasher {
    keys: [u64; 2],
    state: u64,
}

impl Hasher for UuidHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(16);
        for chunk in chunks.by_ref() {
            let (hi, lo) = chunk.split_at(8);
            let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
            let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
            self.state = fold_multiply(hi ^ self.keys[0] ^ self.state, lo ^ self.keys[1]);
        }
        for &b in chunks.remainder() {
            self.state = fold_multiply(self.state ^ u64::from(b) ^ self.keys[0], self.keys[1]);
        }
    }

    /// The length prefix of a UUID's bytes: always 16, so nothing to mix.
    fn write_usize(&mut self, _: usize) {}

    fn finish(&self) -> u64 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NodeId;

    #[test]
    fn folded_hashes_agree_for_ascii_and_unicode() {
        let hasher = KeyHasher::default();
        for (a, b) in [
            ("JDoe@Example.CO", "jdoe@example.co"),
            ("ÀLVARO@x.es", "àlvaro@X.ES"),
        ] {
            assert_eq!(hasher.folded(a), hasher.folded(b));
            assert!(same_folded(a, b));
        }
        let long = "A".repeat(300);
        assert_eq!(hasher.folded(&long), hasher.folded(&long.to_lowercase()));
        assert!(!same_folded("jdoe@example.co", "jdoe@example.com"));
    }

    #[test]
    fn uuid_maps_hash_the_whole_id() {
        let build = UuidHashBuilder::default();
        let a = NodeId::generate();
        let b = NodeId::generate();
        assert_eq!(build.hash_one(a), build.hash_one(a));
        assert_ne!(build.hash_one(a), build.hash_one(b));
        assert_ne!(build.0.uuid(a.0.as_bytes()), build.0.uuid(b.0.as_bytes()));
    }
}
