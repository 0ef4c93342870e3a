//! The in-memory index of every environment and the decision rule of DESIGN.md;
//! knows nothing of gRPC or SQL.
//!
//! The engine is loaded from a [`Snapshot`] and kept current by [`Engine::apply`]ing
//! change-log entries in revision order, so one instance and many instances
//! following a shared database use the same path.
//!
//! Each environment's index interns its objects to dense `u32` slots; a check
//! walks the node's ancestors and scans the identity's grants (`index/`). One
//! writer applies changes while any number of threads check, through an
//! [`IndexCell`]: the service uses [`DefaultCell`], a read lock striped per
//! thread. The measurements behind both choices are in BENCHMARKS.md
//! ("Engine design notes").

mod answer;
mod cell;
mod index;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::domain::change::Change;
use crate::domain::{
    EnvironmentId, IdentityId, IdentityRef, IdentityStatus, NodeId, NodeRef, Permission,
    PermissionPattern, Snapshot, Timestamp,
};

pub use answer::{
    Decision, Denial, Found, GrantedBy, IdentityEntry, LookupError, NodeCursor, NodeEntry, Reason,
};
pub use cell::{IndexCell, Indexes, ShardedIndex};
pub use index::{EnvIndex, Holding};

/// The design the service uses; see the module docs for why.
pub type DefaultCell = ShardedIndex;

/// The in-memory indexes of every environment, at one applied revision.
pub struct Engine<C: IndexCell = DefaultCell> {
    indexes: C,
    applied: AtomicU64,
    revision: watch::Sender<u64>,
    /// Serializes writers; checks never take it.
    writer: Mutex<()>,
}

impl<C: IndexCell> Engine<C> {
    /// Builds the indexes of a stored state.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let environments = snapshot
            .environments
            .into_iter()
            .map(|(environment, state)| (environment.id, EnvIndex::from_state(state)));
        Self {
            indexes: C::new(Indexes::new(environments)),
            applied: AtomicU64::new(snapshot.revision),
            revision: watch::Sender::new(snapshot.revision),
            writer: Mutex::new(()),
        }
    }

    /// The last change-log revision applied.
    pub fn applied_revision(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Applies one change, unless its revision is already applied; then advances the
    /// applied revision and wakes waiters. Returns whether the change was applied.
    pub fn apply(&self, change: &Change) -> bool {
        let _writer = self.writer.lock();
        if change.revision <= self.applied_revision() {
            return false;
        }
        self.indexes.write(change.environment_id, &change.event);
        self.applied.store(change.revision, Ordering::Release);
        self.revision.send_replace(change.revision);
        true
    }

    /// Waits until `revision` is applied; false if `timeout` passes first.
    pub async fn wait_for_revision(&self, revision: u64, timeout: Duration) -> bool {
        if self.applied_revision() >= revision {
            return true;
        }
        let mut applied = self.revision.subscribe();
        let reached = applied.wait_for(|&applied| applied >= revision);
        matches!(tokio::time::timeout(timeout, reached).await, Ok(Ok(_)))
    }

    /// Runs `f` on the environment's index, or returns `missing` for an unknown environment.
    fn read<R>(&self, env: EnvironmentId, missing: R, f: impl FnOnce(&EnvIndex) -> R) -> R {
        self.indexes.read(|indexes| match indexes.get(env) {
            Some(index) => f(index),
            None => missing,
        })
    }

    /// Whether `identity` may perform `permission` on `node` at time `at`.
    pub fn check(
        &self,
        env: EnvironmentId,
        identity: &IdentityRef,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
    ) -> Decision {
        let revision = self.applied_revision();
        self.indexes.read(|indexes| match indexes.get(env) {
            Some(index) => index.check(identity, permission, node, at, revision),
            None => Decision::denied(revision, Reason::UnknownIdentity),
        })
    }

    /// Runs `f` with a [`Checker`] of `env`: the checks it makes share one read
    /// of the indexes (one lock, one environment lookup) and one applied revision.
    /// For a batch of checks asked together; `f` should not take long, as a
    /// writer waits for it.
    pub fn checking<R>(&self, env: EnvironmentId, f: impl FnOnce(&Checker<'_>) -> R) -> R {
        let revision = self.applied_revision();
        self.indexes.read(|indexes| {
            f(&Checker {
                index: indexes.get(env),
                revision,
            })
        })
    }

    /// The patterns `identity` holds at `node` at `at`, sorted and deduplicated;
    /// empty unless the identity is ACTIVE.
    pub fn list_permissions(
        &self,
        env: EnvironmentId,
        identity: &IdentityRef,
        node: &NodeRef,
        at: Timestamp,
    ) -> Result<Vec<PermissionPattern>, Denial> {
        self.read(env, Err(Denial::UnknownIdentity), |index| {
            index.list_permissions(identity, node, at)
        })
    }

    /// Nodes of `root`'s subtree (root included) where `identity` holds `permission`,
    /// in tree order (a node before its subtree, siblings ascending by id), at most
    /// `limit` (at least 1) after the cursor `after`.
    #[allow(clippy::too_many_arguments)]
    pub fn lookup_nodes(
        &self,
        env: EnvironmentId,
        identity: &IdentityRef,
        permission: &Permission,
        root: &NodeRef,
        at: Timestamp,
        after: Option<NodeCursor>,
        limit: usize,
    ) -> Result<Found<NodeEntry, NodeCursor>, LookupError> {
        self.read(env, Err(Denial::UnknownIdentity.into()), |index| {
            index.lookup_nodes(identity, permission, root, at, after, limit)
        })
    }

    /// ACTIVE identities holding `permission` at `node`, inherited assignments included,
    /// ascending by id, at most `limit` (at least 1) after the cursor `after`; a page
    /// may stop short of `limit` at its bound of work, naming a cursor all the same.
    pub fn lookup_identities(
        &self,
        env: EnvironmentId,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
        after: Option<IdentityId>,
        limit: usize,
    ) -> Result<Found<IdentityEntry, IdentityId>, Denial> {
        self.read(env, Err(Denial::UnknownNode), |index| {
            index.lookup_identities(permission, node, at, after, limit)
        })
    }

    /// The id of `identity` and each of its assignments with its role's patterns;
    /// `None` for an unknown identity.
    pub fn holdings(
        &self,
        env: EnvironmentId,
        identity: &IdentityRef,
    ) -> Option<(IdentityId, Vec<Holding>)> {
        self.read(env, None, |index| index.holdings(identity))
    }

    /// An identity's status, `None` when the environment has no such identity.
    pub fn identity_status(&self, env: EnvironmentId, id: IdentityId) -> Option<IdentityStatus> {
        self.read(env, None, |index| index.identity_status(&id))
    }

    /// The id of the node `node` names, `None` when it names none.
    pub fn node_id(&self, env: EnvironmentId, node: &NodeRef) -> Option<NodeId> {
        self.read(env, None, |index| index.node_id(node))
    }

    /// An estimate of the heap bytes of every index (of one copy, for double buffering).
    pub fn heap_bytes(&self) -> usize {
        self.indexes.read(Indexes::heap_bytes)
    }
}

/// Checks of one environment under one read of the indexes ([`Engine::checking`]).
pub struct Checker<'a> {
    index: Option<&'a EnvIndex>,
    revision: u64,
}

impl Checker<'_> {
    /// The revision every check of this read is answered at.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// As [`Engine::check`].
    pub fn check(
        &self,
        identity: &IdentityRef,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
    ) -> Decision {
        match self.index {
            Some(index) => index.check(identity, permission, node, at, self.revision),
            None => Decision::denied(self.revision, Reason::UnknownIdentity),
        }
    }
}

#[cfg(test)]
mod lookup_tests;
#[cfg(test)]
mod test_world;
#[cfg(test)]
mod tests;
