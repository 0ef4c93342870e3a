//! Read transactions on PostgreSQL that all see the same committed state: the
//! first exports its snapshot (`pg_export_snapshot`), the others import it.

use sea_orm::sqlx::{self, AssertSqlSafe, PgConnection, PgPool, Postgres, Transaction};

use super::{READERS, read::failed};
use crate::domain::{Error, Result, Snapshot};

const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// The snapshot, read on up to `READERS` connections of the store's pool.
pub(super) async fn load(pool: &PgPool) -> Result<Snapshot> {
    let readers = READERS.min(pool.options().get_max_connections() as usize);
    let (revision, txs) = begin(pool, readers).await?;
    super::load(revision, txs).await
}

/// `readers` read transactions at one revision, and that revision.
async fn begin(
    pool: &PgPool,
    readers: usize,
) -> Result<(u64, Vec<Transaction<'static, Postgres>>)> {
    let begin = |e: sqlx::Error| failed("the snapshot's start", &e);
    let mut first = pool.begin_with(BEGIN).await.map_err(begin)?;
    let mut txs = Vec::with_capacity(readers.max(1));
    if readers > 1 {
        let exported: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *first)
            .await
            .map_err(begin)?;
        // The id is the server's, e.g. `00000003-0000001B-1`; SET takes no parameters.
        if !exported.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(Error::Internal(format!(
                "PostgreSQL exported an unexpected snapshot id `{exported}`"
            )));
        }
        let import = format!("SET TRANSACTION SNAPSHOT '{exported}'");
        for _ in 1..readers {
            let mut tx = pool.begin_with(BEGIN).await.map_err(begin)?;
            sqlx::query(AssertSqlSafe(import.clone()))
                .execute(&mut *tx)
                .await
                .map_err(begin)?;
            txs.push(tx);
        }
    }
    let revision = revision(&mut first).await?;
    txs.insert(0, first);
    Ok((revision, txs))
}

/// The last change-log revision.
async fn revision(conn: &mut PgConnection) -> Result<u64> {
    let last: i64 = sqlx::query_scalar(super::LATEST_REVISION)
        .fetch_one(conn)
        .await
        .map_err(|e| failed("changes", &e))?;
    Ok(last as u64)
}
