//! Turning database errors into domain errors: details are logged, never sent.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use sea_orm::{DbErr, SqlErr};

use crate::domain::Error;

static ERRORS: AtomicU64 = AtomicU64::new(0);

/// Database operations that failed since the process started.
pub fn errors_total() -> u64 {
    ERRORS.load(Relaxed)
}

/// An internal error; the database's own message stays in the log.
pub(super) fn internal(doing: &str, e: DbErr) -> Error {
    ERRORS.fetch_add(1, Relaxed);
    tracing::error!(error = %e, "failed to {doing}");
    Error::Internal(format!("the database failed to {doing}"))
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
