//! The two ways of sharing the indexes that the service does not use, kept to
//! be measured against its `ShardedIndex` in `benches/engine.rs`, and replayed
//! by the engine property test (see `rbacd::engine`'s docs for the choice).

use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::{Mutex, RwLock};
use rbacd::domain::EnvironmentId;
use rbacd::domain::change::Event;
use rbacd::engine::{IndexCell, Indexes};

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
