//! The write transaction: objects and their change-log rows commit together.
//!
//! A write runs in its environment's lane (see [`super::lanes`]): inside a
//! savepoint of the transaction the lane's waiting writes share, its change
//! rows held until that transaction commits them with their revisions. Bulk
//! writes that insert change rows themselves take the lane alone
//! ([`Store::begin_exclusive`]) and the revision lock only for those rows
//! ([`WriteTx::lock_revisions`]).

use std::{future::Future, marker::PhantomData, ops::Deref, sync::Arc};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    prelude::async_trait,
};
use serde::Serialize;
use tokio::sync::OwnedMutexGuard;

use super::{
    Caller, Store, Written, error,
    lanes::{self, Batch, Lane, Record},
    request_records,
};
use crate::domain::{Change, EnvironmentId, Error, Result, Timestamp, change::Event};

pub(super) use lanes::CHANGES_CHANNEL;

/// The transaction a write runs its statements in (the batch's, shared).
pub(super) struct Txn(Option<DatabaseTransaction>);

impl Txn {
    fn take(&mut self) -> Option<DatabaseTransaction> {
        self.0.take()
    }
}

impl Deref for Txn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        // Only taken by `commit` and `drop`, which consume the write.
        self.0
            .as_ref()
            .expect("a write's transaction is used after its end")
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        (**self).get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        (**self).execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        (**self).execute_unprepared(sql).await
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        (**self).query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        (**self).query_all_raw(stmt).await
    }
}

/// How a write holds its lane.
enum Hold {
    /// A member of the lane's batch, inside savepoint `savepoint`.
    Batched {
        lane: Arc<Lane>,
        batch: OwnedMutexGuard<Batch>,
        savepoint: u64,
    },
    /// Alone; commits by itself. `revisions` holds the instance's revision
    /// lock `lock` once taken.
    Exclusive {
        _lane: OwnedMutexGuard<Batch>,
        lock: Arc<tokio::sync::Mutex<()>>,
        revisions: Option<OwnedMutexGuard<()>>,
    },
    Ended,
}

/// An open write: `txn` plus the changes it has recorded so far.
pub(super) struct WriteTx<'a> {
    pub txn: Txn,
    pub caller: Caller,
    /// One clock reading for every row the write touches.
    pub now: Timestamp,
    /// The changes recorded so far; their revisions are given at commit.
    changes: Vec<Change>,
    hold: Hold,
    _store: PhantomData<&'a Store>,
}

fn sqlite_immediate() -> TransactionOptions {
    // IMMEDIATE takes SQLite's write lock at BEGIN, so a write that reads
    // first waits (busy timeout) for another process's write instead of
    // failing when it tries to upgrade its read lock. PostgreSQL ignores it.
    TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    }
}

/// A new transaction for `env`'s writes, with (on PostgreSQL) the
/// environment's lock that orders them across instances.
pub(super) async fn open_write(
    db: &DatabaseConnection,
    env: EnvironmentId,
) -> Result<DatabaseTransaction> {
    let txn = db
        .begin_with_options(sqlite_immediate())
        .await
        .map_err(error::on_query("begin a transaction"))?;
    lanes::lock_environment(&txn, env).await?;
    Ok(txn)
}

/// Opens a write in `caller`'s environment after the environment's earlier
/// writes, in a savepoint of its own inside the transaction its lane's
/// waiting writes share.
async fn begin_batched(
    db: &DatabaseConnection,
    lane: Arc<Lane>,
    caller: Caller,
) -> Result<WriteTx<'static>> {
    let mut batch = lane.acquire().await;
    let txn = match batch.resume().await? {
        Some(txn) => txn,
        None => open_write(db, caller.environment).await?,
    };
    let savepoint = match batch.savepoint(&txn).await {
        Ok(savepoint) => savepoint,
        Err(e) => {
            // The shared transaction is broken: its requests fail with this one.
            drop(txn);
            batch.fail(&e);
            return Err(e);
        }
    };
    Ok(WriteTx {
        txn: Txn(Some(txn)),
        caller,
        now: Timestamp::now(),
        changes: Vec::new(),
        hold: Hold::Batched {
            lane,
            batch,
            savepoint,
        },
        _store: PhantomData,
    })
}

impl Store {
    /// Opens a write in `caller`'s environment, after the environment's
    /// earlier writes, inside the transaction its lane's waiting writes share.
    pub(super) async fn begin_write(&self, caller: Caller) -> Result<WriteTx<'_>> {
        begin_batched(&self.db, self.lanes.of(caller.environment), caller).await
    }

    /// Opens a write that has `caller`'s environment's lane to itself, for
    /// bulk writes that insert change rows themselves: it takes the revision
    /// lock ([`WriteTx::lock_revisions`]) right before inserting them and ends
    /// with [`WriteTx::commit_exclusive`]. The lane's batch commits first.
    /// Other environments' writes go on until the revision lock is taken.
    pub(super) async fn begin_exclusive(&self, caller: Caller) -> Result<WriteTx<'_>> {
        let lane = self.lanes.of(caller.environment);
        let mut batch = lane.acquire().await;
        lane.flush(&mut batch).await;
        let txn = open_write(&self.db, caller.environment).await?;
        Ok(WriteTx {
            txn: Txn(Some(txn)),
            caller,
            now: Timestamp::now(),
            changes: Vec::new(),
            hold: Hold::Exclusive {
                _lane: batch,
                lock: self.lanes.revision(),
                revisions: None,
            },
            _store: PhantomData,
        })
    }

    /// Batches of writes committed since the store was opened, and the
    /// requests they held (a measure of group commit, for tests and benchmarks).
    #[doc(hidden)]
    pub fn write_batches(&self) -> (u64, u64) {
        self.lanes.counts()
    }

    /// Test hook: opens a write in `env` (its lane, its transaction, its locks),
    /// signals `opened`, and holds it open until `until` completes; then rolls it back.
    #[doc(hidden)]
    pub async fn hold_write_open(
        &self,
        env: EnvironmentId,
        opened: tokio::sync::oneshot::Sender<()>,
        until: impl Future<Output = ()>,
    ) -> Result<()> {
        let tx = self.begin_write(Caller::system(env)).await?;
        let _ = opened.send(());
        until.await;
        drop(tx);
        Ok(())
    }
}

impl WriteTx<'_> {
    /// Takes the revision lock for an exclusive write, before it inserts
    /// change rows itself: from then until its commit no other write of this
    /// instance commits changes, and on PostgreSQL no other instance's, so
    /// its revisions are consecutive and never seen out of order.
    pub async fn lock_revisions(&mut self) -> Result<()> {
        let Hold::Exclusive {
            lock, revisions, ..
        } = &mut self.hold
        else {
            return Err(Error::Internal(
                "only an exclusive write takes the revision lock itself".into(),
            ));
        };
        if revisions.is_none() {
            *revisions = Some(Arc::clone(lock).lock_owned().await);
            lanes::lock_revisions(&self.txn).await?;
        }
        Ok(())
    }

    /// Appends a change for `event`; `before` is the object's prior state.
    /// Its row is written, with its revision, when the write commits.
    pub async fn record(
        &mut self,
        action: &str,
        before: Option<&impl Serialize>,
        event: Event,
    ) -> Result<()> {
        let before = before.and_then(|b| serde_json::to_value(b).ok());
        self.changes
            .push(change(self.caller, self.now, action, before, event));
        Ok(())
    }

    /// Commits; the result carries `value` and the changes recorded, with
    /// their revisions (consecutive; the last is the result's).
    pub async fn commit<T: Send + 'static>(self, value: T) -> Result<Written<T>> {
        if self.changes.is_empty() {
            return Err(Error::Internal("a write recorded no change".into()));
        }
        self.end(value).await
    }

    /// [`WriteTx::commit`], for a write that may find nothing to change: then
    /// its revision is the latest one.
    pub async fn commit_even_if_unchanged<T: Send + 'static>(self, value: T) -> Result<Written<T>> {
        self.end(value).await
    }

    /// Ends the write's part of the batch and waits for the batch's commit.
    async fn end<T: Send + 'static>(mut self, value: T) -> Result<Written<T>> {
        let Hold::Batched { savepoint, .. } = self.hold else {
            return Err(Error::Internal(
                "an exclusive write ends with commit_exclusive".into(),
            ));
        };
        // Its record goes in now, in its savepoint, so that a clash with a
        // concurrent request of the same id fails this write alone.
        let pending = request_records::take_pending();
        if let Some(pending) = &pending {
            request_records::insert_placeholder(&*self.txn, self.now, &pending.key).await?;
        }
        lanes::release(&self.txn, savepoint).await?;
        let Hold::Batched { lane, batch, .. } = std::mem::replace(&mut self.hold, Hold::Ended)
        else {
            unreachable!("matched above");
        };
        let txn = self.txn.take().expect("an open write has its transaction");
        let changes = std::mem::take(&mut self.changes);
        let (kept, record) = match pending {
            Some(pending) => (
                None,
                Some(Record {
                    pending,
                    value: Box::new(value),
                }),
            ),
            None => (Some(value), None),
        };
        let outcome = committed(lane.join(batch, txn, changes, record)).await?;
        let value = match (kept, outcome.value) {
            (Some(value), _) => value,
            (None, Some(value)) => *value
                .downcast::<T>()
                .map_err(|_| Error::Internal("a write's value came back of another type".into()))?,
            (None, None) => return Err(Error::Internal("a write's value was lost".into())),
        };
        Ok(Written {
            value,
            revision: outcome.revision,
            changes: outcome.changes,
        })
    }

    /// Commits an exclusive write (see [`Store::begin_exclusive`]).
    pub async fn commit_exclusive(mut self) -> Result<()> {
        let txn = self.txn.take().expect("an open write has its transaction");
        txn.commit()
            .await
            .map_err(error::on_query("commit the transaction"))?;
        self.hold = Hold::Ended;
        Ok(())
    }
}

impl Drop for WriteTx<'_> {
    /// A write that ends without committing leaves nothing: its savepoint is
    /// rolled back, and the batch it leaves carries on without it.
    fn drop(&mut self) {
        if let Hold::Batched {
            lane,
            batch,
            savepoint,
        } = std::mem::replace(&mut self.hold, Hold::Ended)
            && let Some(txn) = self.txn.take()
        {
            lane.abandon(batch, txn, savepoint);
        }
    }
}

/// A change recorded by `caller` at `now`; its revision is given at commit.
pub(super) fn change(
    caller: Caller,
    now: Timestamp,
    action: &str,
    before: Option<serde_json::Value>,
    event: Event,
) -> Change {
    Change {
        revision: 0,
        environment_id: caller.environment,
        at: now,
        actor: caller.actor.identity(),
        action: action.to_owned(),
        before,
        event,
        signed_by: caller.signed_by,
    }
}

/// Waits for the commit of the batch a request joined.
pub(super) async fn committed(done: lanes::Done) -> Result<lanes::Outcome> {
    done.await
        .map_err(|_| Error::Unavailable("the write's transaction was abandoned; retry it".into()))?
}
