//! The change feed: applies the change log to the engine and the key ring in
//! revision order. This instance's own writes are applied in process when
//! they are the next revisions; the log is read only when something is
//! missing, which the store's change notifications and polling announce.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use tokio::sync::{Mutex, broadcast, watch};

use crate::{
    access::KeyRing,
    domain::{Change, Error, Result, change::Event},
    engine::Engine,
    store::{Store, Written},
};

/// Changes read from the log per query.
const BATCH: u64 = 1000;
/// Changes kept for slow Watch subscribers before they must resume from the log.
const BROADCAST_CAPACITY: usize = 4096;

/// Catching up from the log held off; see [`Feed::pause`].
pub struct Paused<'a> {
    _held: tokio::sync::MutexGuard<'a, ()>,
}

/// Keeps the engine and the key ring current with the change log.
pub struct Feed {
    store: Arc<Store>,
    engine: Arc<Engine>,
    keys: Arc<KeyRing>,
    /// One applier at a time, so changes are applied in order.
    applying: Mutex<()>,
    applied: broadcast::Sender<Arc<Change>>,
    /// When the feed started; `synced_ms` counts from it.
    started: Instant,
    /// Milliseconds after `started` at which the index last held every change in the store.
    synced_ms: AtomicU64,
    /// Set by the health watch once the index is older than `--max-staleness`:
    /// checks then fail closed.
    stale: AtomicBool,
    /// The revision of the last applied change that may take access away
    /// (keys, identities, roles, assignments): long-lived calls re-check then.
    access: watch::Sender<u64>,
}

/// Whether a change may take away a caller's key, identity or a permission it
/// holds at the root. Node changes cannot: the root never moves.
fn may_revoke(event: &Event) -> bool {
    !matches!(
        event,
        Event::EnvironmentCreated(_) | Event::NodeSaved(_) | Event::NodeDeleted(_)
    )
}

impl Feed {
    /// A feed from `store` into `engine` and `keys`, which were loaded from the store.
    pub fn new(store: Arc<Store>, engine: Arc<Engine>, keys: Arc<KeyRing>) -> Arc<Self> {
        Arc::new(Self {
            store,
            engine,
            keys,
            applying: Mutex::new(()),
            applied: broadcast::channel(BROADCAST_CAPACITY).0,
            started: Instant::now(),
            synced_ms: AtomicU64::new(0),
            stale: AtomicBool::new(false),
            access: watch::Sender::new(0),
        })
    }

    /// Changes whenever an applied change may have taken access away.
    pub fn access_changes(&self) -> watch::Receiver<u64> {
        self.access.subscribe()
    }

    /// The key ring this feed keeps current.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// Every change applied from now on, in revision order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.applied.subscribe()
    }

    /// How long since the index last held every change in the store (its
    /// load, or a catch-up that read the log to its end).
    pub fn lag(&self) -> Duration {
        let synced = Duration::from_millis(self.synced_ms.load(Relaxed));
        self.started.elapsed().saturating_sub(synced)
    }

    /// UNAVAILABLE once the index is too old to answer from; one atomic load.
    pub fn ensure_fresh(&self) -> Result<()> {
        if self.stale.load(Relaxed) {
            return Err(Error::Unavailable(format!(
                "the index was last known current {:.0} s ago, longer than --max-staleness allows, \
                 because the store is unreachable; retry, or ask another instance",
                self.lag().as_secs_f64()
            )));
        }
        Ok(())
    }

    /// Marks the index too old to answer from, or fresh again.
    pub fn set_stale(&self, stale: bool) {
        self.stale.store(stale, Relaxed);
    }

    /// Applies every change committed so far; returns the applied revision.
    pub async fn catch_up(&self) -> Result<u64> {
        let _one_at_a_time = self.applying.lock().await;
        let asked = self.started.elapsed();
        loop {
            let from = self.engine.applied_revision();
            let changes = self.store.changes_after(from, BATCH).await?;
            let done = (changes.len() as u64) < BATCH;
            for change in changes {
                self.apply(change);
            }
            if done {
                // Everything committed before the question was asked is applied.
                self.synced_ms.fetch_max(asked.as_millis() as u64, Relaxed);
                return Ok(self.engine.applied_revision());
            }
        }
    }

    /// Returns once this instance's write is applied, so the next check sees
    /// it: in process when its changes are the next revisions, else from the log.
    pub async fn apply_written<T>(&self, written: &mut Written<T>) -> Result<()> {
        let paused = self.pause().await;
        self.apply_written_paused(written, paused).await
    }

    /// Waits until no catch-up runs and keeps the next from starting until the
    /// guard is given to [`Feed::apply_written_paused`]: a large write takes it
    /// just before its commit, so that a catch-up its commit announces does not
    /// read its changes back from the log before they are applied from memory.
    pub async fn pause(&self) -> Paused<'_> {
        Paused {
            _held: self.applying.lock().await,
        }
    }

    /// [`Feed::apply_written`], for a write that took `paused` before committing.
    pub async fn apply_written_paused<T>(
        &self,
        written: &mut Written<T>,
        paused: Paused<'_>,
    ) -> Result<()> {
        let changes = std::mem::take(&mut written.changes);
        if self.engine.applied_revision() >= written.revision {
            return Ok(());
        }
        if self.follows_applied(&changes) {
            changes.into_iter().for_each(|c| self.apply(c));
            return Ok(());
        }
        drop(paused);
        let applied = self.catch_up().await?;
        if applied >= written.revision {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "revision {} was committed but the change log ends at {applied}",
                written.revision
            )))
        }
    }

    /// Whether `changes` are exactly the revisions after the applied one.
    fn follows_applied(&self, changes: &[Change]) -> bool {
        let next = self.engine.applied_revision() + 1;
        !changes.is_empty()
            && changes
                .iter()
                .zip(next..)
                .all(|(change, revision)| change.revision == revision)
    }

    /// Applies one change, unless it is applied already.
    fn apply(&self, change: Change) {
        if change.revision <= self.engine.applied_revision() {
            return;
        }
        // Keys first: the engine's revision is what writers wait for.
        self.keys.apply(&change.event);
        self.engine.apply(&change);
        if may_revoke(&change.event) {
            self.access.send_replace(change.revision);
        }
        // No subscriber is fine.
        let _ = self.applied.send(Arc::new(change));
    }

    /// Catches up every `interval`, and whenever the store announces a change.
    pub fn spawn(self: &Arc<Self>, interval: Duration) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                me.catch_up_logged().await;
            }
        });
        let me = Arc::clone(self);
        let mut announced = self.store.change_notifications();
        tokio::spawn(async move {
            while announced.recv().await.is_some() {
                me.catch_up_logged().await;
            }
        });
    }

    async fn catch_up_logged(&self) {
        match self.catch_up().await {
            Ok(_) => {}
            // The health watch reports outages, once.
            Err(Error::Unavailable(_)) => {}
            Err(e) => tracing::warn!(error = %e, "could not follow the change log"),
        }
    }
}
