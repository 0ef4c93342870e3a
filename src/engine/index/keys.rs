//! Hashing of the keys a check looks up: UUIDs by one multiply, texts by one
//! multiply per 8-byte word, emails case-folded a word at a time as they are hashed.
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
}

impl Default for KeyHasher {
    fn default() -> Self {
        let text = DefaultHashBuilder::default();
        // Odd seeds, so that a zero half of a key does not zero the product.
        let seeds = [text.hash_one(1u8) | 1, text.hash_one(2u8) | 1];
        Self { seeds }
    }
}

impl KeyHasher {
    pub fn uuid(&self, bytes: &[u8; 16]) -> u64 {
        let (hi, lo) = bytes.split_at(8);
        let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
        let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
        fold_multiply(hi ^ self.seeds[0], lo ^ self.seeds[1])
    }

    /// The hash of a text: its 8-byte words (the last one overlapping the one
    /// before) folded one by one into the seeds and the length. A general-purpose
    /// hasher spends about as much on framing as on a short text itself.
    #[inline]
    pub fn text(&self, text: &str) -> u64 {
        self.words(text.as_bytes(), |word| word).0
    }

    /// The hash of `fold(text)`: ASCII letters are lowered a word at a time as
    /// they are hashed, so this is `text` of the lower-cased text.
    #[inline]
    pub fn folded(&self, text: &str) -> u64 {
        match self.words(text.as_bytes(), lower_word) {
            (hash, high) if high & TOP_BITS == 0 => hash,
            _ => self.text(&fold(text)),
        }
    }

    /// The hash of `bytes` with each word passed through `map`, and the OR of the
    /// words as read (whose top bits say whether every byte was ASCII).
    #[inline]
    fn words(&self, bytes: &[u8], map: impl Fn(u64) -> u64) -> (u64, u64) {
        let len = bytes.len();
        let mut state = self.seeds[0] ^ len as u64;
        let mut mix = |word: u64| {
            state = fold_multiply(state ^ map(word), self.seeds[1]);
            word
        };
        if len < 8 {
            let word =
                (bytes.iter().enumerate()).fold(0, |word, (i, &b)| word | u64::from(b) << (8 * i));
            let high = mix(word);
            return (state, high);
        }
        let mut high = 0;
        let mut at = 0;
        while at + 8 <= len {
            high |= mix(word_at(bytes, at));
            at += 8;
        }
        if at < len {
            high |= mix(word_at(bytes, len - 8));
        }
        (state, high)
    }
}

/// Each byte's top bit, for eight bytes in a word.
const TOP_BITS: u64 = 0x8080_8080_8080_8080;

/// `byte` repeated in each of the eight bytes of a word.
const fn each(byte: u8) -> u64 {
    0x0101_0101_0101_0101 * byte as u64
}

/// Lower-cases the ASCII letters of eight ASCII bytes at once (bytes of 0x80 and
/// above give a meaningless word: callers check for them separately).
#[inline]
fn lower_word(word: u64) -> u64 {
    // Below 0x80, adding 0x80 - c sets a byte's top bit exactly when the byte is at
    // least c, and never carries into the next byte.
    let from_a = word.wrapping_add(each(0x80 - b'A'));
    let past_z = word.wrapping_add(each(0x80 - b'Z' - 1));
    word | ((from_a & !past_z & TOP_BITS) >> 2)
}

#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let chunk = bytes.get(at..at + 8).and_then(|c| c.try_into().ok());
    u64::from_le_bytes(chunk.unwrap_or_default())
}

/// Whether two texts are equal, compared a word at a time.
#[inline]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len();
    if len != b.len() || len < 8 {
        return a == b;
    }
    let mut differ = 0;
    let mut at = 0;
    while at + 8 <= len {
        differ |= word_at(a, at) ^ word_at(b, at);
        at += 8;
    }
    if at < len {
        differ |= word_at(a, len - 8) ^ word_at(b, len - 8);
    }
    differ == 0
}

/// Whether `stored`, case-folded, equals `query` case-folded.
pub(crate) fn same_folded(stored: &str, query: &str) -> bool {
    let (a, b) = (stored.as_bytes(), query.as_bytes());
    if a.len() == b.len() && a.len() >= 8 {
        let len = a.len();
        let (mut high, mut differ) = (0, 0);
        let mut compare = |at: usize| {
            let (x, y) = (word_at(a, at), word_at(b, at));
            high |= x | y;
            differ |= lower_word(x) ^ lower_word(y);
        };
        let mut at = 0;
        while at + 8 <= len {
            compare(at);
            at += 8;
        }
        if at < len {
            compare(len - 8);
        }
        if high & TOP_BITS == 0 {
            return differ == 0;
        }
    } else if stored.is_ascii() && query.is_ascii() {
        return stored.eq_ignore_ascii_case(query);
    }
    fold(stored) == fold(query)
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

    /// The word-at-a-time folding against the byte-at-a-time definition, over every
    /// ASCII byte at every position of texts around the word size.
    #[test]
    fn word_folding_agrees_with_ascii_folding() {
        let hasher = KeyHasher::default();
        for len in [1, 7, 8, 9, 15, 16, 17, 23, 24, 31] {
            for position in 0..len {
                for byte in 0u8..0x80 {
                    let mut text = vec![b'k'; len];
                    text[position] = byte;
                    let text = String::from_utf8(text).unwrap();
                    let lower = text.to_ascii_lowercase();
                    assert_eq!(hasher.folded(&text), hasher.text(&lower), "{text:?}");
                    assert!(same_text(&lower, &text.to_ascii_lowercase()));
                    assert_eq!(same_text(&text, &lower), text == lower, "{text:?}");
                    assert!(same_folded(&text, &lower), "{text:?}");
                    assert!(same_folded(&text.to_ascii_uppercase(), &text), "{text:?}");
                    let plain = "k".repeat(len);
                    assert_eq!(same_folded(&text, &plain), lower == plain, "{text:?}");
                }
            }
        }
        assert!(same_folded("ÀLVARO@EXAMPLE.ES", "àlvaro@example.es"));
        assert!(!same_folded("álvaro@example.es", "alvaro@example.esx"));
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
