//! The exact permissions of one role, as a set of interned ids sized by the
//! role itself, not by the environment.
//!
//! Permission ids are dense over the whole environment, so a bitmap from id 0
//! would cost every role as much as the highest id anyone interned (13 KB for a
//! one-permission role once 100,000 permissions exist). The bitmap here covers
//! only the words between the role's smallest and largest id, and is kept only
//! when that window is no larger than the role's own sorted list; a role whose
//! ids are spread wider is answered by a binary search of that list.

/// A role's exact permission ids; see the module docs.
#[derive(Clone, Debug, Default)]
pub(crate) struct PermissionSet {
    /// The id of bit 0 of `words[0]`: a multiple of 64.
    first: u32,
    /// The window's bits; empty when the role's list is searched instead.
    words: Box<[u64]>,
}

/// A window of this many words is always allowed: it costs no more than the
/// allocation of a list of two entries.
const MIN_WORDS: usize = 2;

impl PermissionSet {
    /// The set of `ids`, given in ascending order.
    pub fn new(ids: impl ExactSizeIterator<Item = u32> + Clone) -> Self {
        let count = ids.len();
        let (Some(low), Some(high)) = (ids.clone().next(), ids.clone().last()) else {
            return Self::default();
        };
        let first = low - low % 64;
        let words = ((high - first) / 64 + 1) as usize;
        if words > count.max(MIN_WORDS) {
            return Self {
                first,
                words: Box::default(),
            };
        }
        let mut bits = vec![0u64; words].into_boxed_slice();
        for id in ids {
            let offset = id - first;
            bits[offset as usize / 64] |= 1 << (offset % 64);
        }
        Self { first, words: bits }
    }

    /// Whether `id` is in the set; `sorted` is the role's list of (id, pattern index)
    /// sorted by id, searched when the set keeps no window.
    #[inline]
    pub fn contains(&self, id: u32, sorted: &[(u32, u32)]) -> bool {
        if self.words.is_empty() {
            return sorted.binary_search_by_key(&id, |&(p, _)| p).is_ok();
        }
        // Ids below `first` wrap to large offsets, past the window.
        let offset = id.wrapping_sub(self.first) as usize;
        self.words
            .get(offset / 64)
            .is_some_and(|word| word >> (offset % 64) & 1 == 1)
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(ids: &[u32]) -> Vec<(u32, u32)> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect()
    }

    #[test]
    fn answers_as_the_sorted_list_whatever_the_spread() {
        for ids in [
            vec![],
            vec![0],
            vec![99_999],
            vec![63, 64],
            vec![5, 70, 130, 200],
            vec![1, 100_000],
            vec![7, 8, 9, 50_000, 50_001, 99_000],
        ] {
            let sorted = listed(&ids);
            let set = PermissionSet::new(ids.iter().copied());
            for probe in (0..=100_064u32).filter(|p| p % 97 == 0 || ids.contains(p)) {
                assert_eq!(
                    set.contains(probe, &sorted),
                    ids.contains(&probe),
                    "{probe} in {ids:?}"
                );
            }
            for near in ids.iter().flat_map(|&i| [i.wrapping_sub(1), i + 1, i + 64]) {
                assert_eq!(set.contains(near, &sorted), ids.contains(&near));
            }
        }
    }

    #[test]
    fn costs_at_most_the_list_it_indexes() {
        for ids in [
            vec![99_999],
            vec![1, 100_000],
            (0..640).collect(),
            vec![3, 4_000],
        ] {
            let set = PermissionSet::new(ids.iter().copied());
            assert!(
                set.heap_bytes() <= (ids.len().max(MIN_WORDS)) * 8,
                "{} bytes for {} ids",
                set.heap_bytes(),
                ids.len()
            );
        }
        // A dense role keeps its window: one load per test.
        let dense: Vec<u32> = (1_000..1_010).collect();
        assert_eq!(PermissionSet::new(dense.iter().copied()).words.len(), 1);
    }
}
