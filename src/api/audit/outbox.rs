//! A Watch stream's outbox, bounded in bytes: the task that reads the log
//! waits while the client has more than the budget unread, however large each
//! change is, so a subscriber that never reads holds at most the budget.
//! An ending status skips the queue: a revoked caller gets nothing more.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::Stream;
use prost::Message;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tonic::Status;

use crate::proto::v1 as pb;

type Item = std::result::Result<pb::WatchResponse, Status>;

/// The client went away.
#[derive(Debug)]
pub(super) struct Gone;

/// An outbox that holds at most `budget` encoded bytes (and always at least
/// one message, however large).
pub(super) fn outbox(budget: usize) -> (Outbox, Inbox) {
    let budget = budget.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(budget));
    let (tx, rx) = mpsc::unbounded_channel();
    let (end_tx, end_rx) = oneshot::channel();
    (
        Outbox {
            tx,
            permits: Arc::clone(&permits),
            budget,
            end: Some(end_tx),
        },
        Inbox {
            rx,
            permits,
            end: end_rx,
            done: false,
        },
    )
}

/// The sending half, owned by the stream's task.
pub(super) struct Outbox {
    tx: mpsc::UnboundedSender<(pb::WatchResponse, usize)>,
    permits: Arc<Semaphore>,
    budget: usize,
    end: Option<oneshot::Sender<Status>>,
}

impl Outbox {
    /// Queues `message`, first waiting until the client's unread bytes leave room for it.
    pub(super) async fn send(&self, message: pb::WatchResponse) -> Result<(), Gone> {
        let cost = message.encoded_len().clamp(1, self.budget);
        let permit = self
            .permits
            .acquire_many(cost as u32)
            .await
            .map_err(|_| Gone)?;
        // Given back by the receiving half when the client takes the message.
        permit.forget();
        self.tx.send((message, cost)).map_err(|_| Gone)
    }

    /// Resolves when the client went away.
    pub(super) async fn closed(&self) {
        self.tx.closed().await
    }

    /// Ends the stream with `status`, ahead of anything still queued.
    pub(super) fn end(&mut self, status: Status) {
        if let Some(end) = self.end.take() {
            let _ = end.send(status);
        }
    }
}

/// The receiving half: the response stream tonic sends from.
pub(super) struct Inbox {
    rx: mpsc::UnboundedReceiver<(pb::WatchResponse, usize)>,
    permits: Arc<Semaphore>,
    end: oneshot::Receiver<Status>,
    done: bool,
}

impl Stream for Inbox {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(Ok(status)) = Pin::new(&mut this.end).poll(cx) {
            this.done = true;
            this.rx.close();
            this.permits.close();
            return Poll::Ready(Some(Err(status)));
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some((message, cost))) => {
                this.permits.add_permits(cost);
                Poll::Ready(Some(Ok(message)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        // Wakes a sender waiting for room: the client is gone.
        self.permits.close();
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn change(bytes: usize) -> pb::WatchResponse {
        pb::WatchResponse {
            change: Some(pb::Change {
                action: "x".repeat(bytes),
                ..Default::default()
            }),
        }
    }

    #[tokio::test]
    async fn a_sender_waits_while_the_unread_bytes_fill_the_budget() {
        let (tx, mut rx) = outbox(10_000);
        tx.send(change(6_000)).await.unwrap();
        let second = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            tx.send(change(6_000)),
        )
        .await;
        assert!(second.is_err(), "a second 6 kB change must wait for room");
        rx.next().await.unwrap().unwrap();
        tx.send(change(6_000)).await.unwrap();
        // A message larger than the whole budget still goes, alone.
        rx.next().await.unwrap().unwrap();
        tx.send(change(50_000)).await.unwrap();
        assert_eq!(
            rx.next()
                .await
                .unwrap()
                .unwrap()
                .change
                .unwrap()
                .action
                .len(),
            50_000
        );
    }

    #[tokio::test]
    async fn an_ending_status_goes_ahead_of_queued_changes() {
        let (mut tx, mut rx) = outbox(1_000_000);
        tx.send(change(10)).await.unwrap();
        tx.end(Status::unauthenticated("revoked"));
        let first = rx.next().await.unwrap();
        assert_eq!(first.unwrap_err().code(), tonic::Code::Unauthenticated);
        assert!(rx.next().await.is_none());
        assert!(tx.send(change(10)).await.is_err());
    }
}
