//! One Watch stream: the backlog from the store, then live changes from the
//! feed, with no gap and no repeat across the switch.
//!
//! The stream subscribes to the change feed before it reads the backlog. A change
//! is in the store before the feed broadcasts it, so every change is either
//! in the backlog read or arrives on the subscription afterwards; a change seen
//! both ways is sent once, because only revisions above the last one sent go
//! out. When the subscription lags (the client read too slowly and broadcasts
//! were dropped), the stream reads the store again from the last revision sent.
//! The stream ends with UNAUTHENTICATED or PERMISSION_DENIED once its caller
//! loses its key, its identity or `Rbacd:Audit:Read` ([`Grant`]).

use std::sync::Arc;

use tokio::sync::{
    broadcast::{self, error::RecvError},
    watch,
};
use tonic::Status;

use super::{image::Names, outbox::Outbox, render_change};
use crate::api::revocation::Grant;
use crate::{
    domain::{Change, EnvironmentId},
    proto::v1 as pb,
    store::{ChangeFilter, Store},
};

/// Changes read from the store per query while sending the backlog.
const BACKLOG_BATCH: u64 = 500;

/// Why a stream stops.
enum Stop {
    /// The client went away; there is no one to tell.
    ClientGone,
    /// The server drains: the stream ends cleanly and the client resumes elsewhere.
    Draining,
    /// Something broke; the client is told and may resume.
    Failed(Status),
}

/// How a stretch of live forwarding ended.
enum LiveEnd {
    /// Broadcasts were dropped: read the store again.
    Lagged,
    Stop(Stop),
}

/// Feeds one Watch stream.
pub(super) struct Watcher {
    pub store: Arc<Store>,
    pub environment_id: EnvironmentId,
    pub filter: ChangeFilter,
    /// The highest revision sent (or the client's `after_revision`).
    pub last_sent: u64,
    pub tx: Outbox,
    /// The access the stream was opened with; `None` is never revoked.
    pub grant: Option<Grant>,
    /// Names assignment images show, kept across the stream's changes.
    pub names: Names,
}

/// Resolves with the status that ends the stream once its access is lost.
async fn lost(grant: &mut Option<Grant>) -> Status {
    match grant {
        Some(grant) => grant.lost().await,
        None => std::future::pending().await,
    }
}

impl Watcher {
    /// Streams until the client leaves, the server drains, or the log cannot be read.
    pub async fn run(
        mut self,
        mut live: broadcast::Receiver<Arc<Change>>,
        mut draining: watch::Receiver<bool>,
    ) {
        let stop = loop {
            if let Err(stop) = self.send_backlog(&mut draining).await {
                break stop;
            }
            match self.forward_live(&mut live, &mut draining).await {
                LiveEnd::Lagged => {
                    tracing::debug!(
                        last_sent = self.last_sent,
                        "a Watch fell behind the live feed; reading the change log again"
                    );
                }
                LiveEnd::Stop(stop) => break stop,
            }
        };
        if let Stop::Failed(status) = stop {
            self.tx.end(status);
        }
    }

    /// Sends every stored change above `last_sent` that matches, to the log's current end.
    async fn send_backlog(&mut self, draining: &mut watch::Receiver<bool>) -> Result<(), Stop> {
        loop {
            let batch = self
                .store
                .environment_changes_after(
                    self.environment_id,
                    &self.filter,
                    self.last_sent,
                    BACKLOG_BATCH,
                )
                .await
                .map_err(|e| Stop::Failed(e.into()))?;
            let complete = (batch.len() as u64) < BACKLOG_BATCH;
            for change in &batch {
                self.send(change, draining).await?;
            }
            if complete {
                return Ok(());
            }
        }
    }

    /// Sends matching broadcast changes above `last_sent` as they are applied.
    async fn forward_live(
        &mut self,
        live: &mut broadcast::Receiver<Arc<Change>>,
        draining: &mut watch::Receiver<bool>,
    ) -> LiveEnd {
        loop {
            // Access is looked at first: the change that revoked it is not sent.
            let next = tokio::select! {
                biased;
                status = lost(&mut self.grant) => return LiveEnd::Stop(Stop::Failed(status)),
                _ = draining.wait_for(|d| *d) => return LiveEnd::Stop(Stop::Draining),
                _ = self.tx.closed() => return LiveEnd::Stop(Stop::ClientGone),
                next = live.recv() => next,
            };
            match next {
                Ok(change) if self.wants(&change) => {
                    if let Err(stop) = self.send(&change, draining).await {
                        return LiveEnd::Stop(stop);
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return LiveEnd::Lagged,
                Err(RecvError::Closed) => {
                    return LiveEnd::Stop(Stop::Failed(Status::unavailable(
                        "the change feed of this instance ended; resume with `after_revision` set to the last revision received",
                    )));
                }
            }
        }
    }

    /// Whether a live change is new to this stream and matches it.
    fn wants(&self, change: &Change) -> bool {
        change.revision > self.last_sent
            && change.environment_id == self.environment_id
            && self.filter.matches(change)
    }

    /// Sends one change, waiting while the client's buffer is full.
    async fn send(
        &mut self,
        change: &Change,
        draining: &mut watch::Receiver<bool>,
    ) -> Result<(), Stop> {
        let message = pb::WatchResponse {
            change: Some(render_change(change, &self.store, &mut self.names).await),
        };
        tokio::select! {
            sent = self.tx.send(message) => sent.map_err(|_| Stop::ClientGone)?,
            _ = draining.wait_for(|d| *d) => return Err(Stop::Draining),
            status = lost(&mut self.grant) => return Err(Stop::Failed(status)),
        }
        self.last_sent = change.revision;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::{
        domain::Caller,
        domain::{PermissionPattern, RoleName},
        store::NewRole,
    };

    async fn create_role(store: &Store, caller: Caller, name: &str) -> u64 {
        let new = NewRole {
            name: RoleName::parse(name).unwrap(),
            description: String::new(),
            permissions: vec![PermissionPattern::parse("A:B").unwrap()],
        };
        store.create_role(caller, new).await.unwrap().revision
    }

    /// A subscription that lags (capacity 2, a reader that does not read)
    /// makes the stream read the store again: still every change once, in order.
    #[tokio::test]
    async fn a_lagging_subscription_falls_back_to_the_store_without_gaps_or_repeats() {
        let path = std::env::temp_dir().join(format!("rbacd-watch-{}.db", uuid::Uuid::new_v4()));
        let store = Arc::new(
            Store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await
                .unwrap(),
        );
        store.migrate().await.unwrap();
        let env = store.create_environment("e", None).await.unwrap();
        let caller = Caller::system(env.value.environment.id);
        for i in 0..3 {
            create_role(&store, caller, &format!("early-{i}")).await;
        }
        let (feed, live) = broadcast::channel(2);
        let (tx, mut rx) = super::super::outbox::outbox(1);
        let (_drain, draining) = watch::channel(false);
        let watcher = Watcher {
            store: Arc::clone(&store),
            environment_id: caller.environment,
            filter: ChangeFilter::default(),
            last_sent: 0,
            tx,
            grant: None,
            names: Names::default(),
        };
        tokio::spawn(watcher.run(live, draining));
        let mut last = 0;
        for i in 0..10 {
            last = create_role(&store, caller, &format!("late-{i}")).await;
            let change = store.changes_after(last - 1, 1).await.unwrap().remove(0);
            feed.send(Arc::new(change)).unwrap();
        }
        let mut received = Vec::new();
        while received.last() != Some(&last) {
            let message = tokio::time::timeout(std::time::Duration::from_secs(10), rx.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            received.push(message.change.unwrap().revision);
        }
        let expected: Vec<u64> = store
            .environment_changes_after(caller.environment, &ChangeFilter::default(), 0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|c| c.revision)
            .collect();
        assert_eq!(received, expected);
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}
