//! CheckStream: the answers are the request stream mapped, item by item, in the
//! task that sends them. No task of its own and no queue: the server reads a
//! request only when the answer stream is polled for the next answer, and
//! h2's flow control stops polling it when the client does not read, so a
//! client that never reads holds back its own stream and nothing else.
//! The stream ends with UNAUTHENTICATED or PERMISSION_DENIED once its caller
//! loses its key, its identity or `Rbacd:Check` ([`Grant`]).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use futures::Stream;
use tokio::sync::watch;
use tonic::{Code, Status, Streaming};

use super::answer::{Step, Tally};
use super::wire::WireAnswer;
use crate::api::{State, revocation::Grant};
use crate::domain::EnvironmentId;
use crate::proto::v1 as pb;

type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The answers of one CheckStream, in request order.
pub(super) struct Answers {
    inbound: Streaming<pb::CheckRequest>,
    state: State,
    env: EnvironmentId,
    grant: Grant,
    /// Ready once the server drains: the stream then ends, cleanly. Polled
    /// (which registers the wake-up) only when the stream would wait; while
    /// requests keep coming, `draining.has_changed()` is the cheaper look.
    drained: Pending<()>,
    draining: watch::Receiver<bool>,
    /// An item waiting for its `min_revision`; nothing is read meanwhile.
    behind: Option<Pending<WireAnswer>>,
    tally: Tally,
    ended: bool,
}

impl Answers {
    pub(super) fn new(
        inbound: Streaming<pb::CheckRequest>,
        state: State,
        env: EnvironmentId,
        grant: Grant,
    ) -> Self {
        let mut draining = state.draining.clone();
        // Draining only ever turns on, so any change from here on means drained.
        let ended = *draining.borrow_and_update();
        let mut drain = draining.clone();
        Self {
            inbound,
            env,
            grant,
            // A dropped sender counts as drained too: the server is gone.
            drained: Box::pin(async move {
                let _ = drain.wait_for(|d| *d).await;
            }),
            draining,
            state,
            behind: None,
            tally: Tally::default(),
            ended,
        }
    }

    fn end(
        &mut self,
        last: Option<Result<WireAnswer, Status>>,
    ) -> Poll<Option<Result<WireAnswer, Status>>> {
        self.ended = true;
        self.tally.flush(&self.state.metrics);
        Poll::Ready(last)
    }
}

impl Stream for Answers {
    type Item = Result<WireAnswer, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(waiting) = this.behind.as_mut() {
                let answer = std::task::ready!(waiting.as_mut().poll(cx));
                this.behind = None;
                return Poll::Ready(Some(Ok(answer)));
            }
            if !matches!(this.draining.has_changed(), Ok(false)) {
                return this.end(None);
            }
            if let Some(lost) = this.grant.lost_now() {
                return this.end(Some(Err(lost)));
            }
            let request = match Pin::new(&mut this.inbound).poll_next(cx) {
                Poll::Pending => {
                    if this.drained.as_mut().poll(cx).is_ready() {
                        return this.end(None);
                    }
                    if let Poll::Ready(lost) = this.grant.poll_lost(cx) {
                        return this.end(Some(Err(lost)));
                    }
                    // Idle for now: the counters catch up.
                    this.tally.flush(&this.state.metrics);
                    return Poll::Pending;
                }
                Poll::Ready(None) => return this.end(None),
                // The client went away: there is no one to tell.
                Poll::Ready(Some(Err(status))) if status.code() == Code::Cancelled => {
                    return this.end(None);
                }
                // A broken request stream ends the call with its status.
                Poll::Ready(Some(Err(status))) => return this.end(Some(Err(status))),
                Poll::Ready(Some(Ok(request))) => request,
            };
            match this.state.answer_now(this.env, request, &mut this.tally) {
                Step::Answered(answer) => return Poll::Ready(Some(Ok(answer))),
                Step::Behind {
                    correlation_id,
                    query,
                } => {
                    let later = this.state.answer_later(this.env, correlation_id, query);
                    this.behind = Some(Box::pin(later));
                }
            }
        }
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        self.tally.flush(&self.state.metrics);
    }
}
