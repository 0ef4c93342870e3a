//! One stored row's columns, read by position on either database (through sqlx,
//! or SQLite's own rows when read directly), borrowed where the driver allows; a
//! column that does not decode is reported with the table, the row's id and the column.

use sea_orm::sqlx::{self, Row, postgres::PgRow, sqlite::SqliteRow};
use uuid::Uuid;

use super::decode::Table;
use crate::domain::{Error, Result};

/// The column types the store's tables use.
pub(super) trait StoredRow {
    fn uuid(&self, i: usize) -> sqlx::Result<Uuid>;
    fn uuid_opt(&self, i: usize) -> sqlx::Result<Option<Uuid>>;
    fn text(&self, i: usize) -> sqlx::Result<&str>;
    fn text_opt(&self, i: usize) -> sqlx::Result<Option<&str>>;
    fn int(&self, i: usize) -> sqlx::Result<i64>;
    fn int_opt(&self, i: usize) -> sqlx::Result<Option<i64>>;
}

macro_rules! stored_row {
    ($row:ty) => {
        impl StoredRow for $row {
            fn uuid(&self, i: usize) -> sqlx::Result<Uuid> {
                self.try_get(i)
            }
            fn uuid_opt(&self, i: usize) -> sqlx::Result<Option<Uuid>> {
                self.try_get(i)
            }
            fn text(&self, i: usize) -> sqlx::Result<&str> {
                self.try_get(i)
            }
            fn text_opt(&self, i: usize) -> sqlx::Result<Option<&str>> {
                self.try_get(i)
            }
            fn int(&self, i: usize) -> sqlx::Result<i64> {
                self.try_get(i)
            }
            fn int_opt(&self, i: usize) -> sqlx::Result<Option<i64>> {
                self.try_get(i)
            }
        }
    };
}

stored_row!(SqliteRow);
stored_row!(PgRow);

/// SQLite's own row, as read in `direct`: UUIDs are 16-byte blobs, as sqlx writes them.
impl StoredRow for rusqlite::Row<'_> {
    fn uuid(&self, i: usize) -> sqlx::Result<Uuid> {
        self.uuid_opt(i)?
            .ok_or_else(|| mismatch(i, "NULL where a UUID belongs"))
    }
    fn uuid_opt(&self, i: usize) -> sqlx::Result<Option<Uuid>> {
        use rusqlite::types::ValueRef;
        match self.get_ref(i).map_err(undecodable)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(bytes) => Uuid::from_slice(bytes).map(Some).map_err(undecodable),
            ValueRef::Text(text) => Uuid::try_parse_ascii(text).map(Some).map_err(undecodable),
            other => Err(mismatch(
                i,
                format!("{:?} where a UUID belongs", other.data_type()),
            )),
        }
    }
    fn text(&self, i: usize) -> sqlx::Result<&str> {
        self.text_opt(i)?
            .ok_or_else(|| mismatch(i, "NULL where text belongs"))
    }
    fn text_opt(&self, i: usize) -> sqlx::Result<Option<&str>> {
        use rusqlite::types::ValueRef;
        match self.get_ref(i).map_err(undecodable)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(text) => std::str::from_utf8(text).map(Some).map_err(undecodable),
            other => Err(mismatch(
                i,
                format!("{:?} where text belongs", other.data_type()),
            )),
        }
    }
    fn int(&self, i: usize) -> sqlx::Result<i64> {
        self.int_opt(i)?
            .ok_or_else(|| mismatch(i, "NULL where an integer belongs"))
    }
    fn int_opt(&self, i: usize) -> sqlx::Result<Option<i64>> {
        use rusqlite::types::ValueRef;
        match self.get_ref(i).map_err(undecodable)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            other => Err(mismatch(
                i,
                format!("{:?} where an integer belongs", other.data_type()),
            )),
        }
    }
}

fn undecodable(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

fn mismatch(i: usize, what: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("column {i} holds {what}").into())
}

/// `row` of `table` as its object.
pub(super) fn decode<T>(table: &Table<T>, row: &dyn StoredRow) -> Result<T> {
    (table.decode)(&Fields::new(row, table.name)?)
}

/// A row of `table` whose first column is its id.
pub(super) struct Fields<'r, R: ?Sized + 'r> {
    row: &'r R,
    table: &'static str,
    /// The row's id, to name it when a later column does not decode.
    pub id: Uuid,
}

impl<'r, R: StoredRow + ?Sized> Fields<'r, R> {
    /// Reads the id in column 0.
    pub fn new(row: &'r R, table: &'static str) -> Result<Self> {
        let id = row.uuid(0).map_err(|e| damaged(table, None, "id", &e))?;
        Ok(Self { row, table, id })
    }

    /// Column `i`, named `column` in errors, decoded by `get`.
    pub fn get<T>(
        &self,
        i: usize,
        column: &str,
        get: impl FnOnce(&'r R, usize) -> sqlx::Result<T>,
    ) -> Result<T> {
        get(self.row, i).map_err(|e| damaged(self.table, Some(self.id), column, &e))
    }

    pub fn uuid(&self, i: usize, column: &str) -> Result<Uuid> {
        self.get(i, column, R::uuid)
    }

    pub fn uuid_opt(&self, i: usize, column: &str) -> Result<Option<Uuid>> {
        self.get(i, column, R::uuid_opt)
    }

    /// Owned text.
    pub fn text(&self, i: usize, column: &str) -> Result<String> {
        self.get(i, column, R::text).map(str::to_owned)
    }

    pub fn text_opt(&self, i: usize, column: &str) -> Result<Option<String>> {
        self.get(i, column, R::text_opt)
            .map(|t| t.map(str::to_owned))
    }

    /// Borrowed text, for values parsed rather than kept.
    pub fn str(&self, i: usize, column: &str) -> Result<&'r str> {
        self.get(i, column, R::text)
    }

    pub fn int(&self, i: usize, column: &str) -> Result<i64> {
        self.get(i, column, R::int)
    }

    pub fn int_opt(&self, i: usize, column: &str) -> Result<Option<i64>> {
        self.get(i, column, R::int_opt)
    }

    /// A column whose value decoded but means nothing.
    pub fn invalid(&self, column: &str, detail: impl std::fmt::Display) -> Error {
        damaged(self.table, Some(self.id), column, &detail)
    }
}

/// The error for a damaged stored row; the detail is logged, the message names the row.
pub(super) fn damaged(
    table: &str,
    id: Option<Uuid>,
    column: &str,
    detail: &dyn std::fmt::Display,
) -> Error {
    let row = id.map_or_else(|| "a row".to_owned(), |id| format!("row {id}"));
    tracing::error!(%detail, table, column, "stored {row} does not decode");
    Error::Internal(format!(
        "stored {row} of table {table} is damaged: column {column} does not decode"
    ))
}
