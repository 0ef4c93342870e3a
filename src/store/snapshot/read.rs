//! Streaming a table's rows, decoded one by one, over one read transaction of
//! either database.

use futures::{TryStreamExt, future::BoxFuture, stream::BoxStream};
use sea_orm::sqlx::{self, Postgres, Sqlite, Transaction};

use super::{
    decode::Table,
    row::{StoredRow, decode},
};
use crate::domain::{Error, Result};

/// A read transaction that part of the snapshot is read in.
pub(super) trait ReadTx: Send + 'static {
    type Row: StoredRow + Send + 'static;

    /// The rows of a query without parameters.
    fn rows<'a>(&'a mut self, sql: &'static str) -> BoxStream<'a, sqlx::Result<Self::Row>>;

    /// Ends the transaction (it wrote nothing).
    fn finish(self) -> BoxFuture<'static, sqlx::Result<()>>;
}

macro_rules! read_tx {
    ($db:ty, $row:ty) => {
        impl ReadTx for Transaction<'static, $db> {
            type Row = $row;

            fn rows<'a>(&'a mut self, sql: &'static str) -> BoxStream<'a, sqlx::Result<$row>> {
                sqlx::query(sql).fetch(&mut **self)
            }

            fn finish(self) -> BoxFuture<'static, sqlx::Result<()>> {
                Box::pin(self.commit())
            }
        }
    };
}

read_tx!(Sqlite, sqlx::sqlite::SqliteRow);
read_tx!(Postgres, sqlx::postgres::PgRow);

/// Reads every row of `table` and hands each object to `each`, in the table's order.
pub(super) async fn read<X: ReadTx, T>(
    tx: &mut X,
    table: &Table<T>,
    mut each: impl FnMut(T),
) -> Result<()> {
    let mut rows = tx.rows(table.select);
    while let Some(row) = rows.try_next().await.map_err(|e| failed(table.name, &e))? {
        each(decode(table, &row)?);
    }
    Ok(())
}

/// Reads every row of `table` into a list.
pub(super) async fn read_all<X: ReadTx, T>(tx: &mut X, table: &Table<T>) -> Result<Vec<T>> {
    let mut all = Vec::new();
    read(tx, table, |item| all.push(item)).await?;
    Ok(all)
}

/// The database failed while reading `table`; its message stays in the log.
pub(super) fn failed(table: &str, e: &dyn std::fmt::Display) -> Error {
    tracing::error!(error = %e, table, "failed to read the snapshot");
    Error::Internal(format!("the database failed to read {table}"))
}
