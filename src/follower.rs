//! Keeps this instance's in-memory index current by applying the change log
//! in revision order — this instance's own writes and, on a shared
//! PostgreSQL, every other instance's (LISTEN/NOTIFY wakes it, polling backs it up).

use std::{sync::Arc, time::Duration};

use tokio::sync::{Mutex, broadcast};

use crate::{
    access::KeyRing,
    domain::{Change, Error, Result},
    engine::Engine,
    store::Store,
};

/// Changes read from the log per query.
const BATCH: u64 = 1000;
/// Changes kept for slow Watch subscribers before they must resume from the log.
const BROADCAST_CAPACITY: usize = 4096;

/// Applies the change log to the engine.
pub struct Follower {
    store: Arc<Store>,
    engine: Arc<Engine>,
    keys: Arc<KeyRing>,
    /// One catch-up at a time, so changes are applied in order.
    applying: Mutex<()>,
    applied: broadcast::Sender<Arc<Change>>,
}

impl Follower {
    /// A follower of `store` feeding `engine` and `keys`, which were loaded from the store.
    pub fn new(store: Arc<Store>, engine: Arc<Engine>, keys: Arc<KeyRing>) -> Arc<Self> {
        Arc::new(Self {
            store,
            engine,
            keys,
            applying: Mutex::new(()),
            applied: broadcast::channel(BROADCAST_CAPACITY).0,
        })
    }

    /// The engine it feeds.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Every change applied from now on, in revision order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.applied.subscribe()
    }

    /// Applies every change committed so far; returns the applied revision.
    pub async fn catch_up(&self) -> Result<u64> {
        let _one_at_a_time = self.applying.lock().await;
        loop {
            let from = self.engine.applied_revision();
            let changes = self.store.changes_after(from, BATCH).await?;
            let done = (changes.len() as u64) < BATCH;
            for change in changes {
                // Keys first: the engine's revision is what writers wait for.
                if change.revision > self.engine.applied_revision() {
                    self.keys.apply(&change.event);
                }
                self.engine.apply(&change);
                // No subscriber is fine.
                let _ = self.applied.send(Arc::new(change));
            }
            if done {
                return Ok(self.engine.applied_revision());
            }
        }
    }

    /// Returns once `revision`, committed by this instance, is applied, so the
    /// next check sees the write.
    pub async fn applied_through(&self, revision: u64) -> Result<()> {
        if self.engine.applied_revision() >= revision {
            return Ok(());
        }
        let applied = self.catch_up().await?;
        if applied >= revision {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "revision {revision} was committed but the change log ends at {applied}"
            )))
        }
    }

    /// Catches up every `interval`, and whenever the database announces a change.
    pub fn spawn(self: &Arc<Self>, interval: Duration, database_url: &str) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                if let Err(e) = me.catch_up().await {
                    tracing::warn!(error = %e, "could not follow the change log");
                }
            }
        });
        if database_url.starts_with("postgres") {
            let me = Arc::clone(self);
            let url = database_url.to_owned();
            tokio::spawn(async move { me.listen(&url).await });
        }
    }

    /// Wakes on PostgreSQL notifications of commits by any instance.
    async fn listen(&self, url: &str) {
        use sea_orm::sqlx::postgres::PgListener;
        loop {
            let mut listener = match PgListener::connect(url).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for changes; polling only");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            if listener
                .listen(crate::store::CHANGES_CHANNEL)
                .await
                .is_err()
            {
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            while listener.recv().await.is_ok() {
                if let Err(e) = self.catch_up().await {
                    tracing::warn!(error = %e, "could not follow the change log");
                }
            }
        }
    }
}
