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
    /// In the order they were first named; never removed.
    environments: Vec<(EnvironmentId, EnvIndex)>,
    /// Positions in `environments`, consulted once there are more than [`SCANNED`].
    positions: HashMap<EnvironmentId, usize, UuidHashBuilder>,
}

/// Up to this many environments a check finds its own by comparing ids, which
/// costs a few instructions where hashing one and probing a table costs dozens.
const SCANNED: usize = 8;

impl Indexes {
    pub fn new(environments: impl IntoIterator<Item = (EnvironmentId, EnvIndex)>) -> Self {
        let mut indexes = Self::default();
        for (env, index) in environments {
            *indexes.entry(env) = index;
        }
        indexes
    }

    #[inline]
    pub fn get(&self, env: EnvironmentId) -> Option<&EnvIndex> {
        let position = if self.environments.len() <= SCANNED {
            self.environments.iter().position(|(id, _)| *id == env)?
        } else {
            *self.positions.get(&env)?
        };
        self.environments.get(position).map(|(_, index)| index)
    }

    /// The environment's index, created empty if this is the first time it is named.
    fn entry(&mut self, env: EnvironmentId) -> &mut EnvIndex {
        let position = match self.positions.get(&env) {
            Some(&position) => position,
            None => {
                self.environments.push((env, EnvIndex::default()));
                let position = self.environments.len() - 1;
                self.positions.insert(env, position);
                position
            }
        };
        &mut self.environments[position].1
    }

    /// Applies an event to the environment, created empty if the log names it first.
    pub fn apply(&mut self, env: EnvironmentId, event: &Event) {
        self.entry(env).apply(event);
    }

    pub fn heap_bytes(&self) -> usize {
        self.environments
            .iter()
            .map(|(_, index)| index.heap_bytes())
            .sum()
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

    #[inline]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Identity, IdentityId, IdentityKind, IdentityStatus, Timestamp};

    fn identity(env: EnvironmentId) -> Identity {
        Identity {
            id: IdentityId::generate(),
            environment_id: env,
            kind: IdentityKind::User,
            status: IdentityStatus::Active,
            email: None,
            external_id: None,
            display_name: String::new(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    /// Past `SCANNED` environments the lookup switches to the table: each
    /// environment must still find its own index, before and after the switch.
    #[test]
    fn every_environment_finds_its_own_index_however_many() {
        let mut indexes = Indexes::default();
        let mut saved = Vec::new();
        for _ in 0..3 * SCANNED {
            let env = EnvironmentId::generate();
            let identity = identity(env);
            indexes.apply(env, &Event::IdentitySaved(identity.clone()));
            saved.push((env, identity.id));
            for &(env, id) in &saved {
                let index = indexes.get(env).expect("environment indexed");
                assert_eq!(index.identity_status(&id), Some(IdentityStatus::Active));
            }
            if let [(_, first), .., _] = saved[..] {
                assert_eq!(indexes.get(env).unwrap().identity_status(&first), None);
            }
        }
        assert!(indexes.get(EnvironmentId::generate()).is_none());
        let rebuilt = Indexes::new(indexes.environments.clone());
        for &(env, id) in &saved {
            assert!(rebuilt.get(env).unwrap().identity_status(&id).is_some());
        }
    }
}
