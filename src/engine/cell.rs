//! How the indexes are shared between the writer and the checks. Two other
//! designs are compared with this one in `benches/engine.rs` (their code is in
//! `crates/dataset/src/cells.rs`); see the module docs of `engine` for the choice.

use crossbeam_utils::sync::ShardedLock;

use hashbrown::HashMap;

use super::index::{EnvIndex, UuidHashBuilder};
use crate::domain::EnvironmentId;
use crate::domain::change::Event;

/// Every environment's index. One cell holds them all, so a check takes a single
/// lock (or pointer load); environments are few and their writes short.
#[derive(Clone, Default)]
pub struct Indexes {
    environments: HashMap<EnvironmentId, EnvIndex, UuidHashBuilder>,
}

impl Indexes {
    pub fn new(environments: impl IntoIterator<Item = (EnvironmentId, EnvIndex)>) -> Self {
        Self {
            environments: environments.into_iter().collect(),
        }
    }

    pub fn get(&self, env: EnvironmentId) -> Option<&EnvIndex> {
        self.environments.get(&env)
    }

    /// Applies an event to the environment, created empty if the log names it first.
    pub fn apply(&mut self, env: EnvironmentId, event: &Event) {
        self.environments.entry(env).or_default().apply(event);
    }

    pub fn heap_bytes(&self) -> usize {
        self.environments.values().map(EnvIndex::heap_bytes).sum()
    }
}

/// A shared, updatable set of indexes.
pub trait IndexCell: Send + Sync + 'static {
    fn new(indexes: Indexes) -> Self;
    /// Runs `f` on a consistent state of the indexes.
    fn read<R>(&self, f: impl FnOnce(&Indexes) -> R) -> R;
    /// Applies one event; readers see all of it or none of it.
    fn write(&self, env: EnvironmentId, event: &Event);
}

/// A lock striped per thread: a reader touches only its own stripe's cache line,
/// so readers on different cores never contend; a writer takes every stripe.
pub struct ShardedIndex(ShardedLock<Indexes>);

impl IndexCell for ShardedIndex {
    fn new(index: Indexes) -> Self {
        Self(ShardedLock::new(index))
    }

    fn read<R>(&self, f: impl FnOnce(&Indexes) -> R) -> R {
        // A poisoned lock still holds a consistent index: `apply` never panics midway
        // on its own, so reading past the poison is sound.
        let guard = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    fn write(&self, env: EnvironmentId, event: &Event) {
        let mut guard = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.apply(env, event);
    }
}
