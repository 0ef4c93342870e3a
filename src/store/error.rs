//! Turning database errors into domain errors: details are logged, never sent.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlErr, sqlx};

use crate::domain::Error;

static ERRORS: AtomicU64 = AtomicU64::new(0);

/// Database operations that failed since the process started.
pub fn errors_total() -> u64 {
    ERRORS.load(Relaxed)
}

/// What a client is told while the database cannot be reached.
pub const UNREACHABLE: &str =
    "the store is unreachable; checks are still answered from memory, writes are not; retry later";

/// An internal error, or UNAVAILABLE when the database cannot be reached;
/// the database's own message stays in the log (at debug for an outage,
/// which the health watch reports once).
pub(super) fn internal(doing: &str, e: DbErr) -> Error {
    ERRORS.fetch_add(1, Relaxed);
    if is_unreachable(&e) {
        tracing::debug!(error = %e, "failed to {doing}");
        return Error::Unavailable(UNREACHABLE.into());
    }
    tracing::error!(error = %e, "failed to {doing}");
    Error::Internal(format!("the database failed to {doing}"))
}

/// Whether `e` says the database is out of reach (no connection, a broken
/// one, or none free in time), rather than that it refused the statement.
fn is_unreachable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            true
        }
        // Failing to open a connection at all.
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            **e,
            sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
        ),
        _ => false,
    }
}

/// Maps a failed insert or update: a unique-index violation becomes
/// ALREADY_EXISTS with `duplicate` as the message.
pub(super) fn on_write(
    doing: &str,
    duplicate: impl FnOnce() -> String,
) -> impl FnOnce(DbErr) -> Error {
    move |e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyExists(duplicate()),
        _ => internal(doing, e),
    }
}

/// Maps a failed query.
pub(super) fn on_query(doing: &'static str) -> impl FnOnce(DbErr) -> Error {
    move |e| internal(doing, e)
}
