//! Reading the snapshot from SQLite.
//!
//! In WAL mode (every file database the store opens) the tables are read below
//! sqlx, on SQLite connections of their own, several at once (see `direct`):
//! sqlx's driver spends about 6 µs a row copying every value and handing rows
//! one by one between threads, 35 s for the large dataset. Without WAL (an
//! in-memory database) other connections cannot see the data, so everything is
//! read through sqlx on the store's own connection, in one transaction.

use sea_orm::sqlx::{self, SqliteConnection, SqlitePool};

use super::{direct, read::failed};
use crate::domain::Result;
use crate::domain::Snapshot;

/// The snapshot, read directly when the database is a file in WAL mode.
pub(super) async fn load(store_pool: &SqlitePool) -> Result<Snapshot> {
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store_pool)
        .await
        .map_err(|e| failed("the journal mode", &e))?;
    if journal.eq_ignore_ascii_case("wal") {
        let path = store_pool.connect_options().get_filename().to_owned();
        return direct::load(path).await;
    }
    let begin = |e: sqlx::Error| failed("the snapshot's start", &e);
    let mut tx = store_pool.begin().await.map_err(begin)?;
    let revision = revision(&mut tx).await?;
    super::load(revision, vec![tx]).await
}

/// The last change-log revision; this first read fixes what the transaction sees.
async fn revision(conn: &mut SqliteConnection) -> Result<u64> {
    let last: i64 = sqlx::query_scalar(super::LATEST_REVISION)
        .fetch_one(conn)
        .await
        .map_err(|e| failed("changes", &e))?;
    Ok(last as u64)
}
