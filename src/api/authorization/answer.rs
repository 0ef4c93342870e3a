//! One check, from its request to its answer: parse, wait for `min_revision`
//! if the index is behind it, decide, render. Shared by Check, BatchCheck and
//! CheckStream.

use std::{future::Future, sync::atomic::Ordering::Relaxed};

use tonic::Status;

use super::explain::Explained;
use super::query::{CheckQuery, take_check};
use super::wire::WireAnswer;
use crate::api::State;
use crate::domain::{Caller, EnvironmentId, Error, Result, Timestamp, paging};
use crate::engine::{Checker, Decision};
use crate::metrics::Metrics;
use crate::proto::v1 as pb;

/// Checks answered by a batch or a stream, added to the shared counters in one
/// go rather than one contended atomic add per check.
#[derive(Debug, Default)]
pub(super) struct Tally {
    allowed: u64,
    denied: u64,
    malformed: u64,
}

impl Tally {
    fn decided(&mut self, allowed: bool) {
        if allowed {
            self.allowed += 1;
        } else {
            self.denied += 1;
        }
    }

    /// Adds what was counted to `metrics` and starts again from zero.
    pub(super) fn flush(&mut self, metrics: &Metrics) {
        for (count, counter) in [
            (&mut self.allowed, &metrics.checks_allowed),
            (&mut self.denied, &metrics.checks_denied),
            (&mut self.malformed, &metrics.checks_malformed),
        ] {
            if *count > 0 {
                counter.fetch_add(std::mem::take(count), Relaxed);
            }
        }
    }
}

/// An item of a batch or stream, as far as it can go without waiting.
// The answered variant is the one on every check's path: boxing it would bring
// back an allocation per answer to save a move of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
pub(super) enum Step {
    Answered(WireAnswer),
    /// The index has not applied the item's `min_revision` yet.
    Behind {
        correlation_id: String,
        query: CheckQuery,
    },
}

/// A failed item of a batch or stream: its own error, the rest go on.
pub(super) fn item_error(correlation_id: String, error: Error) -> pb::CheckResponse {
    let status = Status::from(error);
    pb::CheckResponse {
        correlation_id,
        error: Some(tonic_types::pb::Status {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: item_details(&status),
        }),
        ..Default::default()
    }
}

/// The details tonic-types encoded into `status` (a `google.rpc.Status`), e.g.
/// its BadRequest field violations; none when it carries no details.
fn item_details(status: &Status) -> Vec<prost_types::Any> {
    use prost::Message;
    tonic_types::pb::Status::decode(status.details())
        .map(|rich| rich.details)
        .unwrap_or_default()
}

impl State {
    /// Waits, bounded, until this instance has applied `revision`.
    pub(super) async fn reach(&self, revision: u64) -> Result<()> {
        paging::revision(revision).map_err(|m| Error::invalid("min_revision", m))?;
        if self.has_applied(revision)
            || self
                .engine
                .wait_for_revision(revision, self.min_revision_timeout)
                .await
        {
            Ok(())
        } else {
            Err(self.not_reached(revision))
        }
    }

    fn has_applied(&self, revision: u64) -> bool {
        revision == 0 || self.engine.applied_revision() >= revision
    }

    fn not_reached(&self, revision: u64) -> Error {
        Error::Unavailable(format!(
            "this instance has applied revision {} and revision {revision} did not arrive within {:?}; retry, or ask another instance",
            self.engine.applied_revision(),
            self.min_revision_timeout
        ))
    }

    /// Decides a check whose `min_revision` has been applied.
    pub(super) fn decide(&self, env: EnvironmentId, query: &CheckQuery) -> Decision {
        let at = query.at.unwrap_or_else(Timestamp::now);
        self.engine
            .check(env, &query.identity, &query.permission, &query.node, at)
    }

    /// Refuses a call of AuthorizationService when the index is too old to
    /// answer from (fail closed) or the caller lacks `Rbacd:Check`.
    pub(super) fn may_check(&self, caller: &Caller) -> Result<()> {
        self.feed.ensure_fresh()?;
        self.policy
            .authorize_at_root(caller, &crate::domain::builtin::check())
    }

    /// Answers an item of a batch or stream, through `checker`, unless it must
    /// wait for its `min_revision`; a malformed item gets its own error.
    pub(super) fn answer_now(
        &self,
        checker: &Checker<'_>,
        mut req: pb::CheckRequest,
        tally: &mut Tally,
    ) -> Step {
        if let Err(stale) = self.feed.ensure_fresh() {
            return Step::Answered(item_error(req.correlation_id, stale).into());
        }
        let query = match take_check(&mut req) {
            Ok(q) => q,
            Err(e) => {
                tally.malformed += 1;
                return Step::Answered(item_error(req.correlation_id, e).into());
            }
        };
        if query.min_revision > checker.revision() {
            return Step::Behind {
                correlation_id: req.correlation_id,
                query,
            };
        }
        let at = query.at.unwrap_or_else(Timestamp::now);
        let decision = checker.check(&query.identity, &query.permission, &query.node, at);
        tally.decided(decision.allowed);
        Step::Answered(WireAnswer::Decided(Explained::new(
            req.correlation_id,
            query,
            decision,
        )))
    }

    /// The answer to an item that was [`Step::Behind`], after a bounded wait:
    /// decided, or its own UNAVAILABLE error.
    pub(super) fn answer_later(
        &self,
        env: EnvironmentId,
        correlation_id: String,
        query: CheckQuery,
    ) -> impl Future<Output = WireAnswer> + Send + 'static {
        let state = self.clone();
        async move {
            match state.reach(query.min_revision).await {
                Ok(()) => {
                    let decision = state.decide(env, &query);
                    state.metrics.checked(decision.allowed);
                    WireAnswer::Decided(Explained::new(correlation_id, query, decision))
                }
                Err(e) => item_error(correlation_id, e).into(),
            }
        }
    }

    /// An item of a batch, after the batch's one bounded wait: not waiting again.
    pub(super) fn answer_in_batch(
        &self,
        checker: &Checker<'_>,
        req: pb::CheckRequest,
        tally: &mut Tally,
    ) -> WireAnswer {
        match self.answer_now(checker, req, tally) {
            Step::Answered(answer) => answer,
            Step::Behind {
                correlation_id,
                query,
            } => item_error(correlation_id, self.not_reached(query.min_revision)).into(),
        }
    }
}
