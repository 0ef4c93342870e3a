//! CheckStream: the answers are the request stream mapped, in the task that
//! sends them. No task of its own: when the answer stream is polled and no
//! answer is ready, the requests already received (up to [`BURST`]) are read
//! and decided together under one read of the index, and their answers are
//! handed out one per poll. Nothing more is read until they are taken, and
//! h2's flow control stops polling when the client does not read, so a client
//! that never reads holds back its own stream and nothing else.
//! The stream ends with UNAUTHENTICATED or PERMISSION_DENIED once its caller
//! loses its key, its identity or `Rbacd:Check` ([`Grant`]).

use std::{
    collections::VecDeque,
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

/// Most requests read ahead and decided together.
const BURST: usize = 32;

/// How the request stream ended, once read past its last request.
enum End {
    /// Cleanly, or the client went away.
    Done,
    /// Broken: the call ends with this status.
    Failed(Status),
}

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
    /// An item waiting for its `min_revision`; the items after it wait in `inbox`.
    behind: Option<Pending<WireAnswer>>,
    /// Requests read and not yet decided, in order.
    inbox: VecDeque<pb::CheckRequest>,
    /// Answers decided and not yet handed out, in order.
    ready: VecDeque<WireAnswer>,
    /// The request stream ended after the requests in `inbox`.
    closed: Option<End>,
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
            inbox: VecDeque::new(),
            ready: VecDeque::new(),
            closed: None,
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

impl Answers {
    /// Reads the requests already received, up to [`BURST`], into `inbox`.
    /// Pending when none is there; Ready(false) once the stream is over.
    fn read(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        while self.inbox.len() < BURST && self.closed.is_none() {
            match Pin::new(&mut self.inbound).poll_next(cx) {
                Poll::Pending if self.inbox.is_empty() => return Poll::Pending,
                Poll::Pending => break,
                Poll::Ready(Some(Ok(request))) => self.inbox.push_back(request),
                Poll::Ready(None) => self.closed = Some(End::Done),
                // The client went away: there is no one to tell.
                Poll::Ready(Some(Err(status))) if status.code() == Code::Cancelled => {
                    self.closed = Some(End::Done);
                }
                // A broken request stream ends the call with its status.
                Poll::Ready(Some(Err(status))) => self.closed = Some(End::Failed(status)),
            }
        }
        Poll::Ready(!self.inbox.is_empty())
    }

    /// Decides the requests in `inbox` under one read of the index, in order,
    /// until one has to wait for its `min_revision`.
    fn decide(&mut self) {
        let Self {
            state,
            env,
            inbox,
            ready,
            tally,
            behind,
            ..
        } = self;
        state.engine.checking(*env, |checker| {
            while let Some(request) = inbox.pop_front() {
                match state.answer_now(checker, request, tally) {
                    Step::Answered(answer) => ready.push_back(answer),
                    Step::Behind {
                        correlation_id,
                        query,
                    } => {
                        *behind = Some(Box::pin(state.answer_later(*env, correlation_id, query)));
                        return;
                    }
                }
            }
        });
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
            if let Some(answer) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(answer)));
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
            if this.inbox.is_empty() {
                match this.read(cx) {
                    Poll::Ready(true) => {}
                    Poll::Ready(false) => {
                        return match this.closed.take() {
                            Some(End::Failed(status)) => this.end(Some(Err(status))),
                            _ => this.end(None),
                        };
                    }
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
                }
            }
            this.decide();
        }
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        self.tally.flush(&self.state.metrics);
    }
}
