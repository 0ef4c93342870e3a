//! Group commit. Writes queue in a lane per environment (on SQLite, which has
//! one writer, one lane for the whole store); the requests waiting in a lane at
//! a given moment share one database transaction, each inside its own
//! SAVEPOINT, so each stays all-or-nothing on its own. The batch commits when
//! no request is queued behind the last one (or at a size cap). Some requests
//! are written for each other: whoever gets the lane first inserts every
//! CreateAssignment queued at that moment with one statement
//! ([`super::assignment_insert`]); the others are answered without taking it.
//!
//! Revisions: a request's change rows are held in memory until the batch
//! flushes; then, under the revision lock (this instance's mutex and, on
//! PostgreSQL, an advisory lock every instance shares, released by the
//! commit), all of the batch's rows are inserted in request order with
//! multi-row INSERTs. The revisions they get are consecutive, and a revision
//! never becomes visible after a higher one: nothing else inserts change rows
//! while the lock is held. On PostgreSQL a batch also holds an advisory lock of
//! its environment from BEGIN, so writes to one environment are serialized
//! across instances as they are within one; other environments never wait on it.

use std::{
    any::Any,
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst},
    },
};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, sea_query::Query};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};
use uuid::Uuid;

use super::{assignment_insert, changes::latest_revision, entity::change, error, request_records};
use crate::domain::{Change, EnvironmentId, Error, Result};

/// Key of the PostgreSQL advisory lock that orders change-row inserts across
/// instances, so revisions become visible in the order they were allocated.
pub(super) const REVISION_LOCK_KEY: i64 = 0x7262_6163_6477;
/// First key of the PostgreSQL advisory locks (two-key form) of environments.
const ENVIRONMENT_LOCK_CLASS: i32 = 0x7262_6163;
/// PostgreSQL channel notified at every commit, so other instances follow at once.
pub(super) const CHANGES_CHANNEL: &str = "rbacd_changes";

/// Requests in one batch at most.
const MAX_REQUESTS: usize = 128;
/// Change rows in one batch at most (a request may exceed it alone).
const MAX_ROWS: usize = 20_000;
/// Change rows per INSERT statement (10 values each; SQLite takes 32,766).
const ROWS_PER_INSERT: usize = 1_000;

/// Every lane of a store.
pub(super) struct Lanes {
    lanes: std::sync::Mutex<HashMap<Uuid, Arc<Lane>>>,
    /// Orders this instance's change-row inserts.
    revision: Arc<Mutex<()>>,
    /// One lane for every environment (SQLite).
    shared: bool,
    counts: Arc<Counts>,
}

/// Batches committed and the requests they held.
#[derive(Default)]
pub(super) struct Counts {
    pub batches: AtomicU64,
    pub requests: AtomicU64,
}

impl Lanes {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            lanes: std::sync::Mutex::default(),
            revision: Arc::default(),
            shared: backend == DbBackend::Sqlite,
            counts: Arc::default(),
        }
    }

    /// The lane of `env`'s writes.
    pub fn of(&self, env: EnvironmentId) -> Arc<Lane> {
        let key = if self.shared { Uuid::nil() } else { env.0 };
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(lanes.entry(key).or_insert_with(|| {
            Arc::new(Lane {
                batch: Arc::default(),
                queued: AtomicUsize::new(0),
                revision: Arc::clone(&self.revision),
                counts: Arc::clone(&self.counts),
                creates: assignment_insert::Waiting::default(),
            })
        }))
    }

    /// Batches committed so far, and the requests they held.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counts.batches.load(SeqCst),
            self.counts.requests.load(SeqCst),
        )
    }

    /// This instance's revision lock.
    pub fn revision(&self) -> Arc<Mutex<()>> {
        Arc::clone(&self.revision)
    }
}

/// One queue of writes and the batch they are gathered into.
pub(super) struct Lane {
    batch: Arc<Mutex<Batch>>,
    /// Requests waiting for the lane.
    queued: AtomicUsize,
    revision: Arc<Mutex<()>>,
    counts: Arc<Counts>,
    /// CreateAssignments waiting to be written by one statement.
    pub creates: assignment_insert::Waiting,
}

/// A request's place in the queue of a lane (see [`Lane::queue`]).
pub(super) struct Ticket {
    lane: Arc<Lane>,
    /// The request no longer needs the lane: it holds it, or another request's
    /// batch took it in.
    settled: bool,
}

impl Ticket {
    /// Waits for the lane.
    pub async fn lock(&mut self) -> OwnedMutexGuard<Batch> {
        let guard = Arc::clone(&self.lane.batch).lock_owned().await;
        self.settled = true;
        guard
    }

    /// The request was taken into a batch by the lane's holder, which counted
    /// it as settled.
    pub fn answered(mut self) {
        self.settled = true;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.lane.queued.fetch_sub(1, SeqCst);
        // Given up while queued: the holder may have left the batch to it.
        if !self.settled {
            self.lane.finish_later();
        }
    }
}

/// The transaction requests of a lane share, and what they left to flush.
#[derive(Default)]
pub(super) struct Batch {
    /// Open while requests are gathered; `None` between batches.
    pub txn: Option<DatabaseTransaction>,
    /// A request that ended without committing: its savepoint, to roll back to
    /// before the transaction is used again.
    pub abandoned: Option<u64>,
    members: Vec<Member>,
    rows: usize,
    next_savepoint: u64,
}

/// A request done with its statements, waiting for the batch to commit.
struct Member {
    changes: Vec<Change>,
    /// Its idempotency record, filled in once its revision is known.
    record: Option<std::sync::Mutex<Record>>,
    done: oneshot::Sender<Result<Outcome>>,
}

/// A request record to complete at flush, with the value its answer encodes.
pub(super) struct Record {
    pub pending: request_records::Pending,
    pub value: Box<dyn Any + Send>,
}

/// What a committed batch tells each of its requests.
pub(super) struct Outcome {
    /// Its changes, with their revisions.
    pub changes: Vec<Change>,
    /// Its last revision; for a request without changes, the latest before it.
    pub revision: u64,
    /// The value it handed over with a request record.
    pub value: Option<Box<dyn Any + Send>>,
}

/// Where a request waits for its batch's commit.
pub(super) type Done = oneshot::Receiver<Result<Outcome>>;

impl Lane {
    /// Waits for the lane; counted as queued meanwhile, so the holder keeps the
    /// batch open for it.
    pub async fn acquire(self: &Arc<Self>) -> OwnedMutexGuard<Batch> {
        self.queue().lock().await
    }

    /// Counts the caller as queued for the lane until the ticket is dropped.
    pub fn queue(self: &Arc<Self>) -> Ticket {
        self.queued.fetch_add(1, SeqCst);
        Ticket {
            lane: Arc::clone(self),
            settled: false,
        }
    }

    /// Requests queued for the lane.
    pub fn queued(&self) -> usize {
        self.queued.load(SeqCst)
    }

    /// Commits the lane's batch, if one is open (the lane is held as `batch`).
    pub async fn flush(&self, batch: &mut Batch) {
        flush(batch, &self.revision, &self.counts).await;
    }

    /// Takes `changes` (and `record`) into the held batch; commits the batch
    /// unless another request is queued to join it. The receiver answers once
    /// the batch has committed.
    pub fn join(
        self: &Arc<Self>,
        guard: OwnedMutexGuard<Batch>,
        txn: DatabaseTransaction,
        changes: Vec<Change>,
        record: Option<Record>,
    ) -> Done {
        let mut joined = self.join_all(guard, txn, [(changes, record)], 0);
        joined.pop().expect("one request joined")
    }

    /// [`Lane::join`] for several requests at once, `settled` of the queued
    /// ones among them: they are answered by this batch and will not wait for
    /// the lane.
    pub fn join_all(
        self: &Arc<Self>,
        mut guard: OwnedMutexGuard<Batch>,
        txn: DatabaseTransaction,
        requests: impl IntoIterator<Item = (Vec<Change>, Option<Record>)>,
        settled: usize,
    ) -> Vec<Done> {
        guard.txn = Some(txn);
        let outcomes = requests
            .into_iter()
            .map(|(changes, record)| {
                let (done, outcome) = oneshot::channel();
                guard.rows += changes.len();
                guard.members.push(Member {
                    changes,
                    record: record.map(std::sync::Mutex::new),
                    done,
                });
                outcome
            })
            .collect();
        self.release(guard, settled);
        outcomes
    }

    /// Lets go of the held lane: commits its batch unless it is full or
    /// requests other than `settled` ones are queued to join it.
    pub fn release(self: &Arc<Self>, mut guard: OwnedMutexGuard<Batch>, settled: usize) {
        if guard.txn.is_none() {
            return;
        }
        let full = guard.members.len() >= MAX_REQUESTS || guard.rows >= MAX_ROWS;
        if full || self.queued() <= settled {
            // Spawned: the batch commits even if this request's caller goes away.
            let lane = Arc::clone(self);
            tokio::spawn(async move { flush(&mut guard, &lane.revision, &lane.counts).await });
        }
    }

    /// After a request left the lane without committing: makes sure the batch
    /// it leaves behind is committed if no one else is queued to.
    pub fn finish_later(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let lane = Arc::clone(self);
        runtime.spawn(async move {
            let mut guard = Arc::clone(&lane.batch).lock_owned().await;
            if guard.txn.is_some() && lane.queued() == 0 {
                flush(&mut guard, &lane.revision, &lane.counts).await;
            }
        });
    }

    /// Hands back the transaction of a request that ends without committing,
    /// to be rolled back to its savepoint; without other requests in the
    /// batch, rolls back the lot.
    pub fn abandon(
        self: &Arc<Self>,
        mut guard: OwnedMutexGuard<Batch>,
        txn: DatabaseTransaction,
        savepoint: u64,
    ) {
        if guard.members.is_empty() {
            drop(txn);
            return;
        }
        guard.abandoned = Some(savepoint);
        guard.txn = Some(txn);
        drop(guard);
        self.finish_later();
    }
}

impl Batch {
    /// The batch's open transaction, set back to where its last committed
    /// request left it; `None` when there is none (or it broke, failing its requests).
    pub async fn resume(&mut self) -> Result<Option<DatabaseTransaction>> {
        let Some(txn) = self.txn.take() else {
            return Ok(None);
        };
        if let Some(savepoint) = self.abandoned.take()
            && let Err(e) = rollback_to(&txn, savepoint).await
        {
            drop(txn);
            self.fail(&e);
            return Err(e);
        }
        Ok(Some(txn))
    }

    /// Opens the savepoint of the next request.
    pub async fn savepoint(&mut self, txn: &DatabaseTransaction) -> Result<u64> {
        let savepoint = self.next_savepoint;
        self.next_savepoint += 1;
        txn.execute_unprepared(&format!("SAVEPOINT w{savepoint}"))
            .await
            .map_err(error::on_query("open a savepoint"))?;
        Ok(savepoint)
    }

    /// Answers every waiting request with `e`.
    pub fn fail(&mut self, e: &Error) {
        self.rows = 0;
        for member in self.members.drain(..) {
            let _ = member.done.send(Err(copy(e)));
        }
    }
}

/// Releases a request's savepoint: its statements join the batch.
pub(super) async fn release(txn: &DatabaseTransaction, savepoint: u64) -> Result<()> {
    txn.execute_unprepared(&format!("RELEASE SAVEPOINT w{savepoint}"))
        .await
        .map_err(error::on_query("release a savepoint"))
        .map(drop)
}

async fn rollback_to(txn: &DatabaseTransaction, savepoint: u64) -> Result<()> {
    for statement in ["ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT"] {
        txn.execute_unprepared(&format!("{statement} w{savepoint}"))
            .await
            .map_err(error::on_query("roll back a failed write"))?;
    }
    Ok(())
}

/// Takes the environment's advisory lock (PostgreSQL), held to the commit.
pub(super) async fn lock_environment(txn: &DatabaseTransaction, env: EnvironmentId) -> Result<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let bytes = env.0.as_u128();
    let folded = (bytes ^ (bytes >> 64)) as u64;
    let key = (folded ^ (folded >> 32)) as u32 as i32;
    txn.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock({ENVIRONMENT_LOCK_CLASS}, {key})"
    ))
    .await
    .map_err(error::on_query("take the environment's write lock"))
    .map(drop)
}

/// Takes every instance's revision lock and announces the commit (PostgreSQL);
/// both take effect with the commit.
pub(super) async fn lock_revisions(txn: &DatabaseTransaction) -> Result<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // One round trip for both; the NOTIFY is delivered when (and only if)
    // the transaction commits.
    txn.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock({REVISION_LOCK_KEY}); NOTIFY {CHANGES_CHANNEL}"
    ))
    .await
    .map_err(error::on_query("take the revision lock"))
    .map(drop)
}

/// Commits the batch: its change rows, its request records, then COMMIT; every
/// request is told its outcome. The batch is empty afterwards.
pub(super) async fn flush(batch: &mut Batch, revision: &Mutex<()>, counts: &Counts) {
    let txn = match batch.resume().await {
        Ok(Some(txn)) => txn,
        Ok(None) | Err(_) => return,
    };
    let mut members = std::mem::take(&mut batch.members);
    batch.rows = 0;
    if members.is_empty() {
        drop(txn);
        return;
    }
    let ordered = revision.lock().await;
    match write_and_commit(txn, &mut members).await {
        Ok(outcomes) => {
            drop(ordered);
            counts.batches.fetch_add(1, SeqCst);
            counts.requests.fetch_add(outcomes.len() as u64, SeqCst);
            for (member, outcome) in members.into_iter().zip(outcomes) {
                let _ = member.done.send(Ok(outcome));
            }
        }
        Err(e) => {
            drop(ordered);
            for member in members {
                let _ = member.done.send(Err(copy(&e)));
            }
        }
    }
}

async fn write_and_commit(
    txn: DatabaseTransaction,
    members: &mut [Member],
) -> Result<Vec<Outcome>> {
    lock_revisions(&txn).await?;
    let mut last = if members.iter().any(|m| m.changes.is_empty()) {
        latest_revision(&txn).await?
    } else {
        0
    };
    let mut rows: Vec<&mut Change> = members.iter_mut().flat_map(|m| &mut m.changes).collect();
    let revisions = insert_changes(&txn, &rows).await?;
    for (change, revision) in rows.iter_mut().zip(revisions) {
        change.revision = revision;
    }
    let mut outcomes = Vec::with_capacity(members.len());
    for member in members.iter_mut() {
        if let Some(c) = member.changes.last() {
            last = c.revision;
        }
        let mut value = None;
        if let Some(record) = member.record.take() {
            let Record { pending, value: v } =
                record.into_inner().unwrap_or_else(|e| e.into_inner());
            let (key, response) = request_records::answer(pending, &*v, last)?;
            request_records::fill(&txn, &key, response, last).await?;
            value = Some(v);
        }
        outcomes.push(Outcome {
            changes: std::mem::take(&mut member.changes),
            revision: last,
            value,
        });
    }
    txn.commit()
        .await
        .map_err(error::on_query("commit the transaction"))?;
    Ok(outcomes)
}

/// Inserts `rows` in order; their revisions, ascending.
async fn insert_changes(txn: &DatabaseTransaction, rows: &[&mut Change]) -> Result<Vec<u64>> {
    use change::Column as C;
    let mut revisions = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert.into_table(change::Entity).columns([
            C::EnvironmentId,
            C::At,
            C::ActorId,
            C::Action,
            C::ObjectKind,
            C::ObjectId,
            C::Before,
            C::After,
            C::SignedBy,
        ]);
        for c in chunk {
            insert.values_panic([
                c.environment_id.0.into(),
                c.at.micros().into(),
                c.actor.map(|a| a.0).into(),
                c.action.clone().into(),
                c.event.object_kind().as_str().into(),
                c.event.object_id().into(),
                c.before.as_ref().map(ToString::to_string).into(),
                c.event.after().map(|v| v.to_string()).into(),
                c.signed_by.map(|s| s.0).into(),
            ]);
        }
        insert.returning_col(C::Revision);
        let returned = txn
            .query_all(&insert)
            .await
            .map_err(error::on_query("record the changes"))?;
        for row in returned {
            let revision: i64 = row
                .try_get("", "revision")
                .map_err(error::on_query("read the changes' revisions"))?;
            revisions.push(revision as u64);
        }
    }
    if revisions.len() != rows.len() {
        return Err(Error::Internal(
            "the change log returned fewer revisions than rows inserted".into(),
        ));
    }
    // Allocated in insertion order while nothing else inserts.
    revisions.sort_unstable();
    Ok(revisions)
}

/// The same failure, for each request of a batch (a batch fails for want of
/// its database: UNAVAILABLE or INTERNAL).
pub(super) fn copy(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        Error::Internal(m) => Error::Internal(m.clone()),
        Error::NotFound(m) => Error::NotFound(m.clone()),
        Error::AlreadyExists(m) => Error::AlreadyExists(m.clone()),
        Error::FailedPrecondition(m) => Error::FailedPrecondition(m.clone()),
        Error::PermissionDenied(m) => Error::PermissionDenied(m.clone()),
        Error::Unauthenticated(m) => Error::Unauthenticated(m.clone()),
        Error::InvalidArgument(_) => Error::Internal(e.to_string()),
    }
}
