//! What the HTTP face delegates to: the same authentication, the same
//! `Rbacd:Check` requirement and the same engine as gRPC's Check.

use std::sync::Arc;

use hyper::HeaderMap;
use tokio::sync::watch;

use super::authzen::Query;
use crate::{
    access::{API_KEY_HEADER, Authenticator, Policy},
    domain::{Caller, EnvironmentId, Error, Result, Timestamp, builtin},
    engine::{Decision, Engine},
    metrics::Metrics,
    server::Serving,
};

/// The services behind the HTTP face.
#[derive(Clone)]
pub struct Face {
    pub authenticator: Authenticator,
    pub policy: Policy,
    pub engine: Arc<Engine>,
    pub serving: watch::Receiver<Serving>,
    pub metrics: Arc<Metrics>,
}

impl Face {
    /// The caller of a request carrying `x-api-key: KEY` or `Authorization: Bearer KEY`.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller> {
        let caller = self.authenticator.authenticate(secret(headers)?)?;
        self.policy.authorize_at_root(&caller, &builtin::check())?;
        Ok(caller)
    }

    /// Whether checks are answered now (the index is loaded and fresh enough).
    pub fn checks_serving(&self) -> bool {
        self.serving.borrow().checks
    }

    /// Decides a parsed check, as Check does.
    pub fn decide(&self, env: EnvironmentId, query: &Query) -> Decision {
        let at = query.at.unwrap_or_else(Timestamp::now);
        let decision = self
            .engine
            .check(env, &query.identity, &query.permission, &query.node, at);
        self.metrics.checked(decision.allowed);
        decision
    }
}

/// The API key of a request; both headers at once must agree.
fn secret(headers: &HeaderMap) -> Result<Option<&str>> {
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map_err(|_| Error::Unauthenticated(format!("the `{name}` header is not text")))
            })
            .transpose()
    };
    let key = text(API_KEY_HEADER)?;
    let bearer = match text("authorization")? {
        None => None,
        Some(value) => {
            let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                return Err(Error::Unauthenticated(
                    "the `Authorization` header must be `Bearer <API key>`".into(),
                ));
            }
            Some(token.trim())
        }
    };
    match (key, bearer) {
        (Some(a), Some(b)) if a.trim() != b => Err(Error::Unauthenticated(
            "`x-api-key` and `Authorization: Bearer` carry different keys; send one".into(),
        )),
        (key, bearer) => Ok(key.or(bearer)),
    }
}
