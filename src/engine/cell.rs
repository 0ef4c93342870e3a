//! How one environment's index is shared between the writer and the checks.
//! Three designs, compared in `benches/engine.rs`; see the module docs of
//! `engine` for the measurements and the choice.

use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_utils::sync::ShardedLock;
use parking_lot::{Mutex, RwLock};

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

/// One reader-writer lock: a read is two atomic operations on a word all readers share.
pub struct LockedIndex(RwLock<Indexes>);

impl IndexCell for LockedIndex {
    fn new(index: Indexes) -> Self {
        Self(RwLock::new(index))
    }

    fn read<R>(&self, f: impl FnOnce(&Indexes) -> R) -> R {
        f(&self.0.read())
    }

    fn write(&self, env: EnvironmentId, event: &Event) {
        self.0.write().apply(env, event);
    }
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

/// Two copies of the index: readers load the live one through an `ArcSwap` and
/// never wait; the writer brings the spare copy up to date, swaps the pointer,
/// and replays the event on the old copy at its next write. Costs twice the memory.
pub struct DoubleBufferedIndex {
    live: ArcSwap<Indexes>,
    spare: Mutex<Spare>,
}

struct Spare {
    index: Arc<Indexes>,
    /// The last event, applied to the live copy but not yet to this one.
    behind: Option<(EnvironmentId, Event)>,
}

impl IndexCell for DoubleBufferedIndex {
    fn new(index: Indexes) -> Self {
        Self {
            spare: Mutex::new(Spare {
                index: Arc::new(index.clone()),
                behind: None,
            }),
            live: ArcSwap::from_pointee(index),
        }
    }

    fn read<R>(&self, f: impl FnOnce(&Indexes) -> R) -> R {
        f(&self.live.load())
    }

    fn write(&self, env: EnvironmentId, event: &Event) {
        let mut spare = self.spare.lock();
        // Readers that loaded this copy before the last swap still hold it; each
        // check takes well under a microsecond, so this waits briefly.
        while Arc::strong_count(&spare.index) > 1 {
            std::thread::yield_now();
        }
        let spare = &mut *spare;
        let Some(index) = Arc::get_mut(&mut spare.index) else {
            return;
        };
        if let Some((behind_env, behind)) = spare.behind.take() {
            index.apply(behind_env, &behind);
        }
        index.apply(env, event);
        let updated = Arc::clone(&spare.index);
        spare.index = self.live.swap(updated);
        spare.behind = Some((env, event.clone()));
    }
}
