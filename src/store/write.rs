//! The write transaction: objects and their change-log rows commit together.

use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, DatabaseTransaction, DbBackend, Set,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::MutexGuard;

use super::{Caller, Store, Written, entity::change, error};
use crate::domain::{Change, Error, Result, Timestamp, change::Event};

/// Key of the PostgreSQL advisory lock that orders writes across instances,
/// so revisions become visible in the order they were allocated.
const WRITE_LOCK_KEY: i64 = 0x7262_6163_6477;

/// PostgreSQL channel notified at every commit, so other instances follow at once.
pub(super) const CHANGES_CHANNEL: &str = "rbacd_changes";

/// An open write: `txn` plus the change rows it has recorded so far.
pub(super) struct WriteTx<'a> {
    pub txn: DatabaseTransaction,
    pub caller: Caller,
    /// One clock reading for every row the write touches.
    pub now: Timestamp,
    /// The changes recorded so far, as the log holds them.
    changes: Vec<Change>,
    _serialized: MutexGuard<'a, ()>,
}

impl Store {
    /// Opens a write transaction, after this instance's (and, on PostgreSQL,
    /// every instance's) earlier writes.
    pub(super) async fn begin_write(&self, caller: Caller) -> Result<WriteTx<'_>> {
        let serialized = self.write_lock.lock().await;
        // IMMEDIATE takes SQLite's write lock at BEGIN, so a write that reads
        // first waits (busy timeout) for another process's write instead of
        // failing when it tries to upgrade its read lock. PostgreSQL ignores it.
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self
            .db
            .begin_with_options(options)
            .await
            .map_err(error::on_query("begin a transaction"))?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))
                .await
                .map_err(error::on_query("take the write lock"))?;
            // Delivered when (and only if) the transaction commits.
            txn.execute_unprepared(&format!("NOTIFY {CHANGES_CHANNEL}"))
                .await
                .map_err(error::on_query("announce the change"))?;
        }
        Ok(WriteTx {
            txn,
            caller,
            now: Timestamp::now(),
            changes: Vec::new(),
            _serialized: serialized,
        })
    }
}

impl WriteTx<'_> {
    /// Appends a change row for `event`; `before` is the object's prior state.
    pub async fn record(
        &mut self,
        action: &str,
        before: Option<&impl Serialize>,
        event: Event,
    ) -> Result<()> {
        let before = before.and_then(|b| serde_json::to_value(b).ok());
        let row = change::ActiveModel {
            revision: NotSet,
            environment_id: Set(self.caller.environment.0),
            at: Set(self.now.micros()),
            actor_id: Set(self.caller.actor.identity().map(|a| a.0)),
            action: Set(action.to_owned()),
            object_kind: Set(event.object_kind().as_str().to_owned()),
            object_id: Set(event.object_id()),
            before: Set(before.as_ref().map(ToString::to_string)),
            after: Set(event.after().map(|v| v.to_string())),
            signed_by: Set(self.caller.signed_by.map(|c| c.0)),
        };
        let saved = row
            .insert(&self.txn)
            .await
            .map_err(error::on_query("record the change"))?;
        self.changes.push(Change {
            revision: saved.revision as u64,
            environment_id: self.caller.environment,
            at: self.now,
            actor: self.caller.actor.identity(),
            action: action.to_owned(),
            before,
            event,
            signed_by: self.caller.signed_by,
        });
        Ok(())
    }

    /// Commits; the result carries `value` and the changes recorded.
    pub async fn commit<T: 'static>(self, value: T) -> Result<Written<T>> {
        let revision = self
            .changes
            .last()
            .map(|c| c.revision)
            .ok_or_else(|| Error::Internal("a write recorded no change".into()))?;
        super::request_records::save_pending(&self.txn, self.now, &value, revision).await?;
        self.txn
            .commit()
            .await
            .map_err(error::on_query("commit the transaction"))?;
        Ok(Written {
            value,
            revision,
            changes: self.changes,
        })
    }
}

impl WriteTx<'_> {
    /// [`WriteTx::commit`], for a write that may find nothing to change: then
    /// its revision is the latest one.
    pub async fn commit_even_if_unchanged<T: 'static>(self, value: T) -> Result<Written<T>> {
        if !self.changes.is_empty() {
            return self.commit(value).await;
        }
        let revision = super::changes::latest_revision(&self.txn).await?;
        super::request_records::save_pending(&self.txn, self.now, &value, revision).await?;
        self.txn
            .commit()
            .await
            .map_err(error::on_query("commit the transaction"))?;
        Ok(Written {
            value,
            revision,
            changes: Vec::new(),
        })
    }
}
