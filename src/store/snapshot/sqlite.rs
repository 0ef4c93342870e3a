//! Read transactions on SQLite that all see the same committed state.
//!
//! The store's own pool has one connection, so the snapshot is read on a
//! short-lived pool of its own, with the same options. In WAL mode each
//! connection's read transaction sees the database as of its first read; while
//! one connection holds the write lock (`BEGIN IMMEDIATE`) no write can commit,
//! so readers that make their first read meanwhile all see the same state.
//! Writers wait (the busy timeout) only for that moment, not for the whole read.
//! Without WAL (e.g. an in-memory database) everything is read on the store's
//! own connection, in one transaction.

use sea_orm::sqlx::{
    self, Sqlite, SqliteConnection, SqlitePool, Transaction, sqlite::SqlitePoolOptions,
};

use super::{READERS, read::failed};
use crate::domain::{Error, Result, Snapshot};

/// Rows buffered between a connection's worker thread and the reading task
/// (sqlx's default, 50, makes them hand over nearly row by row).
const ROW_BUFFER: usize = 4096;

/// The snapshot, read on `READERS` connections when the database is in WAL mode.
pub(super) async fn load(store_pool: &SqlitePool) -> Result<Snapshot> {
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store_pool)
        .await
        .map_err(|e| failed("the journal mode", &e))?;
    if !journal.eq_ignore_ascii_case("wal") {
        let (revision, txs) = begin(store_pool, 1).await?;
        return super::load(revision, txs).await;
    }
    let options = (*store_pool.connect_options())
        .clone()
        .row_buffer_size(ROW_BUFFER);
    let pool = SqlitePoolOptions::new()
        .max_connections(READERS as u32 + 1)
        .connect_with(options)
        .await
        .map_err(|e| failed("the snapshot's connections", &e))?;
    let loaded = match begin(&pool, READERS).await {
        Ok((revision, txs)) => super::load(revision, txs).await,
        Err(e) => Err(e),
    };
    pool.close().await;
    loaded
}

/// `readers` read transactions at one revision, and that revision.
async fn begin(
    pool: &SqlitePool,
    readers: usize,
) -> Result<(u64, Vec<Transaction<'static, Sqlite>>)> {
    let begin = |e: sqlx::Error| failed("the snapshot's start", &e);
    let gate = match readers {
        0 | 1 => None,
        _ => Some(pool.begin_with("BEGIN IMMEDIATE").await.map_err(begin)?),
    };
    let mut txs = Vec::with_capacity(readers.max(1));
    let mut revisions = Vec::with_capacity(readers.max(1));
    for _ in 0..readers.max(1) {
        let mut tx = pool.begin().await.map_err(begin)?;
        revisions.push(revision(&mut tx).await?);
        txs.push(tx);
    }
    if let Some(gate) = gate {
        gate.rollback().await.map_err(begin)?;
    }
    if revisions.iter().any(|r| *r != revisions[0]) {
        // Cannot happen while the gate holds the write lock.
        return Err(Error::Internal(
            "the snapshot's read transactions saw different revisions".into(),
        ));
    }
    Ok((revisions[0], txs))
}

/// The last change-log revision; this first read fixes what the transaction sees.
async fn revision(conn: &mut SqliteConnection) -> Result<u64> {
    let last: i64 = sqlx::query_scalar(super::LATEST_REVISION)
        .fetch_one(conn)
        .await
        .map_err(|e| failed("changes", &e))?;
    Ok(last as u64)
}
