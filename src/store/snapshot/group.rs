//! Objects sorted into their environment's list as they are read.

use std::collections::HashMap;

use crate::domain::EnvironmentId;

/// One list per environment, in the order the objects came.
pub(super) struct ByEnvironment<T> {
    lists: Vec<(EnvironmentId, Vec<T>)>,
    slots: HashMap<EnvironmentId, usize>,
    /// The list the previous object went to: rows mostly come in runs of one environment.
    last: usize,
}

impl<T> Default for ByEnvironment<T> {
    fn default() -> Self {
        Self {
            lists: Vec::new(),
            slots: HashMap::new(),
            last: 0,
        }
    }
}

impl<T> ByEnvironment<T> {
    /// Appends `item` to `environment`'s list.
    pub fn push(&mut self, environment: EnvironmentId, item: T) {
        let slot = match self.lists.get(self.last) {
            Some((env, _)) if *env == environment => self.last,
            _ => *self.slots.entry(environment).or_insert_with(|| {
                self.lists.push((environment, Vec::new()));
                self.lists.len() - 1
            }),
        };
        self.last = slot;
        self.lists[slot].1.push(item);
    }

    /// Every environment's list.
    pub fn into_lists(self) -> impl Iterator<Item = (EnvironmentId, Vec<T>)> {
        self.lists.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_their_order_within_each_environment() {
        let (a, b) = (EnvironmentId::generate(), EnvironmentId::generate());
        let mut by = ByEnvironment::default();
        for (env, n) in [(a, 1), (a, 2), (b, 3), (a, 4), (b, 5)] {
            by.push(env, n);
        }
        let lists: Vec<_> = by.into_lists().collect();
        assert_eq!(lists, vec![(a, vec![1, 2, 4]), (b, vec![3, 5])]);
    }
}
