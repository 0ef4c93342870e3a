//! Wake-ups when another instance may have committed changes: PostgreSQL's
//! LISTEN/NOTIFY. SQLite has none; the change feed's polling covers it.

use std::time::Duration;

use sea_orm::{DbBackend, sqlx::postgres::PgListener};
use tokio::sync::mpsc;

use super::{Store, write::CHANGES_CHANNEL};

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(5);

impl Store {
    /// A wake-up for every batch of commits announced by any instance sharing
    /// the database; closes at once where the database cannot announce them.
    pub fn change_notifications(&self) -> mpsc::Receiver<()> {
        let (wake, woken) = mpsc::channel(1);
        if self.db.get_database_backend() == DbBackend::Postgres {
            let pool = self.db.get_postgres_connection_pool().clone();
            tokio::spawn(async move {
                while !wake.is_closed() {
                    let mut listener = match PgListener::connect_with(&pool).await {
                        Ok(listener) => listener,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot LISTEN for changes; polling only");
                            tokio::time::sleep(RETRY).await;
                            continue;
                        }
                    };
                    if listener.listen(CHANGES_CHANNEL).await.is_err() {
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                    while listener.recv().await.is_ok() {
                        // A full channel already holds a wake-up: nothing is lost.
                        if let Err(mpsc::error::TrySendError::Closed(())) = wake.try_send(()) {
                            return;
                        }
                    }
                }
            });
        }
        woken
    }
}
