//! The in-memory index of every environment and the decision rule of DESIGN.md;
//! knows nothing of gRPC or SQL.
//!
//! The engine is loaded from a [`Snapshot`] and kept current by [`Engine::apply`]ing
//! change-log entries in revision order, so one instance and many instances
//! following a shared database use the same path.
//!
//! # Layout
//!
//! Each environment's index interns nodes, identities, roles, assignments and
//! concrete permission names to dense `u32` slots. A check resolves the
//! identity and node references (hash lookups that store only a slot and compare
//! the key in the row; UUIDs hashed by one seeded multiply, emails case-folded on
//! the stack), walks the node's ancestors through a parent array into a small
//! stack array, then scans the identity's own grants. A grant is 32 bytes: the
//! assignment's id (so naming the winner costs no further memory access), node,
//! role, assignment slot and a window index; windows sit in a side table, since
//! most assignments have none (index 0 means "always"). A grant counts when its
//! node is on the chain, its window holds `at`, and its role holds the permission:
//! one bit test in the role's bitmap over interned permission ids, else a wildcard
//! prefix. No lock but the one below, and no allocation unless a granting role
//! name, node key or pattern exceeds 24 bytes.
//!
//! Assignment slots keep only owner and position: their id is read back from the
//! owner's grant, which makes deleting by id a few more loads and saves 16 bytes
//! an assignment (about 133 bytes per assignment on the standard dataset, 86 on
//! the large one, by the bench's counting allocator).
//!
//! On the large dataset a check is a handful of dependent cache and TLB misses
//! (identity table, row, grant list; node table, parent chain, node row). With 4 KiB
//! pages each miss also walks page tables; running with transparent huge pages
//! for the heap (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1` where THP is `madvise`)
//! cut the large check by about a third on the loaded benchmark machine, and made
//! no difference on the quiet one (BENCHMARKS.md).
//!
//! # Concurrency
//!
//! One writer applies changes while any number of threads check. Three ways of
//! sharing the indexes were built ([`IndexCell`]) and measured with
//! `cargo bench --bench engine -- cells/` (64 cache-resident queries, so the cost
//! of entering a read stands out; ns per check per thread, medians of 5 interleaved
//! runs on the 2-core machine while other builds kept it loaded):
//!
//! | design | 1 thread | 2 threads | 2 threads + writer (20k events/s) | memory |
//! |---|---|---|---|---|
//! | [`LockedIndex`]: one `parking_lot::RwLock` | 177 | 225 | 242 | 1× |
//! | [`ShardedIndex`]: a read lock striped per thread | 165 | 160 | 201 | 1× |
//! | [`DoubleBufferedIndex`]: two copies behind an `ArcSwap` | 155 | 160 | 158 | 2× |
//!
//! Instructions per check (cachegrind, standard dataset, full query mix) differ by
//! about 5% (the single lock ~50 fewer, the other two alike; 963 in all for the
//! striped lock then, about 840 since grants and roles were compacted): the
//! differences above are atomic traffic, not instructions. The table was measured
//! before that compaction, which made every design's check cheaper alike.
//! Criterion's own wall-clock figures for these runs were dominated by the
//! machine's load (two reader threads got less than two cores), so the table
//! comes from runs of the same code interleaved design by design.
//!
//! The single lock loses as soon as two cores read: every check writes the lock's
//! cache line, which then bounces between cores (+27%). Double buffering never
//! blocks a reader, and is best under writes, but holds two copies — twice the
//! bytes per assignment (then 290 instead of 145 on the standard dataset; about 265
//! instead of 133 now), over the 150-byte budget —
//! applies every event twice, and makes the writer wait for readers still on the
//! old copy (a long lookup stalls the writer). The striped lock is the choice
//! ([`DefaultCell`]): readers on different cores never share a cache line, a
//! reader waits only while one event is applied (microseconds: an event touches
//! the objects it names and at most one node's child or assignment list; only
//! deleting a role that is still assigned scans all assignments), and there is
//! one copy.
//!
//! One cell holds every environment's index, so a check takes one lock or
//! pointer load in all.

mod answer;
mod cell;
mod index;

#[doc(hidden)]
pub mod dataset;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::domain::change::Change;
use crate::domain::{
    EnvironmentId, IdentityId, IdentityRef, IdentityStatus, NodeId, NodeRef, Permission,
    PermissionPattern, Snapshot, Timestamp,
};

pub use answer::{Decision, Denial, Found, GrantedBy, IdentityEntry, NodeEntry, Reason};
pub use cell::{DoubleBufferedIndex, IndexCell, Indexes, LockedIndex, ShardedIndex};
pub use index::EnvIndex;

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
        let missing = Decision::denied(revision, Reason::UnknownIdentity);
        self.read(env, missing, |index| {
            index.check(identity, permission, node, at, revision)
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
    /// ascending by id, at most `limit` (at least 1) after the cursor `after`.
    #[allow(clippy::too_many_arguments)]
    pub fn lookup_nodes(
        &self,
        env: EnvironmentId,
        identity: &IdentityRef,
        permission: &Permission,
        root: &NodeRef,
        at: Timestamp,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Found<NodeEntry, NodeId>, Denial> {
        self.read(env, Err(Denial::UnknownIdentity), |index| {
            index.lookup_nodes(identity, permission, root, at, after, limit)
        })
    }

    /// ACTIVE identities holding `permission` at `node`, inherited assignments included,
    /// ascending by id, at most `limit` (at least 1) after the cursor `after`.
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

#[cfg(test)]
mod test_world;
#[cfg(test)]
mod tests;
