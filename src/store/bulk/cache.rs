//! SQLite's page cache, widened for the length of a bulk insert.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};

use crate::domain::Result;
use crate::store::error;

/// The cache a bulk insert asks for, in KiB: room for the B-trees of a few
/// million rows, so that their pages stay in memory until the commit. SQLite
/// takes pages as it needs them, so a small insert costs no more.
const BULK_CACHE_KIB: i64 = 1 << 20;

/// The cache size to put back, when it was changed (SQLite only).
#[must_use]
pub(super) struct Widened(Option<i64>);

/// Widens the page cache of `txn`'s connection, on SQLite; PostgreSQL's buffers
/// are the server's.
pub(super) async fn widen(txn: &DatabaseTransaction) -> Result<Widened> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        return Ok(Widened(None));
    }
    let previous: i64 = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA cache_size",
        ))
        .await
        .map_err(error::on_query("read the page cache size"))?
        .map(|row| row.try_get_by_index(0))
        .transpose()
        .map_err(error::on_query("read the page cache size"))?
        .unwrap_or(-2000);
    set(txn, -BULK_CACHE_KIB).await?;
    Ok(Widened(Some(previous)))
}

/// Puts the cache size back as [`widen`] found it.
pub(super) async fn restore(txn: &DatabaseTransaction, widened: Widened) -> Result<()> {
    match widened.0 {
        Some(previous) => set(txn, previous).await,
        None => Ok(()),
    }
}

async fn set(txn: &DatabaseTransaction, size: i64) -> Result<()> {
    txn.execute_unprepared(&format!("PRAGMA cache_size = {size}"))
        .await
        .map_err(error::on_query("set the page cache size"))?;
    Ok(())
}
