//! Wake-ups when another instance (or process) may have committed changes:
//! PostgreSQL's LISTEN/NOTIFY, and on SQLite a cheap poll of
//! `PRAGMA data_version` on one dedicated connection, which changes whenever
//! another connection to the file commits.

use std::time::Duration;

use sea_orm::{
    DbBackend,
    sqlx::{Connection, Row, SqliteConnection, postgres::PgListener},
};
use tokio::sync::mpsc;

use super::{Store, write::CHANGES_CHANNEL};

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(5);
/// How often SQLite's data version is read: a few microseconds each time.
const SQLITE_POLL: Duration = Duration::from_millis(10);

impl Store {
    /// A wake-up for every batch of commits announced by any instance sharing
    /// the database.
    pub fn change_notifications(&self) -> mpsc::Receiver<()> {
        let (wake, woken) = mpsc::channel(1);
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool().clone();
                tokio::spawn(listen(pool, wake));
            }
            DbBackend::Sqlite => {
                let options = self.db.get_sqlite_connection_pool().connect_options();
                tokio::spawn(watch_data_version((*options).clone(), wake));
            }
            _ => {}
        }
        woken
    }
}

/// Sends a wake-up; false once nobody listens. A full channel already holds one.
fn wake_up(wake: &mpsc::Sender<()>) -> bool {
    !matches!(
        wake.try_send(()),
        Err(mpsc::error::TrySendError::Closed(()))
    )
}

async fn listen(pool: sea_orm::sqlx::PgPool, wake: mpsc::Sender<()>) {
    // Said once per failure streak: an outage is reported by the health watch.
    let mut said = false;
    while !wake.is_closed() {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                if !said {
                    tracing::info!(error = %e, "cannot LISTEN for changes; polling until it can");
                    said = true;
                }
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if listener.listen(CHANGES_CHANNEL).await.is_err() {
            tokio::time::sleep(RETRY).await;
            continue;
        }
        said = false;
        // Commits made while not listening are found by the catch-up this triggers.
        if !wake_up(&wake) {
            return;
        }
        while listener.recv().await.is_ok() {
            if !wake_up(&wake) {
                return;
            }
        }
    }
}

async fn watch_data_version(
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
    wake: mpsc::Sender<()>,
) {
    let mut seen = None;
    while !wake.is_closed() {
        let mut conn = match SqliteConnection::connect_with(&options).await {
            Ok(conn) => conn,
            Err(_) => {
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        loop {
            let version: i64 = match sea_orm::sqlx::query("PRAGMA data_version")
                .fetch_one(&mut conn)
                .await
                .and_then(|row| row.try_get(0))
            {
                Ok(v) => v,
                Err(_) => break,
            };
            // A new connection's versions start afresh: only a change on one connection counts.
            if seen.is_some_and(|s| s != version) && !wake_up(&wake) {
                return;
            }
            seen = Some(version);
            tokio::time::sleep(SQLITE_POLL).await;
        }
        seen = None;
        let _ = conn.close().await;
    }
}
