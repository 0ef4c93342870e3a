//! Long-lived calls keep their access only while their caller keeps it: a
//! CheckStream, BatchCheck or Watch re-checks its API key, its identity and
//! the permission it was opened with whenever this instance's change feed
//! applies a change that may take access away (every instance follows the
//! same log), and ends with UNAUTHENTICATED or PERMISSION_DENIED once lost.
//!
//! The hot path pays one atomic load per request (`has_changed`); the wake-up
//! future is polled only when the call would otherwise wait, so an idle
//! stream still ends as soon as the change is applied.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::sync::watch;
use tonic::{Request, Status};

use super::State;
use crate::access::{API_KEY_HEADER, Authenticator};
use crate::domain::{Caller, Error, Permission};

type Wake = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Ready when the feed applies another change that may revoke access.
fn wake_on_change(mut seen: watch::Receiver<u64>) -> Wake {
    Box::pin(async move {
        if seen.changed().await.is_err() {
            // The feed is gone (the server stops): nothing will revoke anymore.
            std::future::pending::<()>().await;
        }
    })
}

/// The access one long-lived call was opened with.
pub(super) struct Grant {
    authenticator: Authenticator,
    state: State,
    secret: String,
    caller: Caller,
    permission: Permission,
    seen: watch::Receiver<u64>,
    wake: Wake,
}

impl Grant {
    /// The access of `request`'s caller, which needs `permission` at the root;
    /// checked once more here, after subscribing, so nothing falls between.
    pub(super) fn of<T>(
        state: &State,
        request: &Request<T>,
        caller: Caller,
        permission: Permission,
    ) -> Result<Self, Status> {
        let secret = request
            .metadata()
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("the call carries no API key"))?
            .to_owned();
        let seen = state.feed.access_changes();
        let grant = Self {
            authenticator: Authenticator::new(
                std::sync::Arc::clone(state.feed.keys()),
                std::sync::Arc::clone(&state.engine),
            ),
            state: state.clone(),
            secret,
            caller,
            permission,
            wake: wake_on_change(seen.clone()),
            seen,
        };
        grant.recheck()?;
        Ok(grant)
    }

    /// Whether the key still stands for the same ACTIVE identity and that
    /// identity still holds the permission at the root.
    fn recheck(&self) -> Result<(), Status> {
        let now = self.authenticator.authenticate(Some(&self.secret))?;
        if now != self.caller {
            return Err(Error::Unauthenticated(
                "the API key no longer stands for the caller that opened this call".into(),
            )
            .into());
        }
        self.state
            .policy
            .authorize_at_root(&self.caller, &self.permission)
            .map_err(|e| match e {
                Error::PermissionDenied(why) => Error::PermissionDenied(format!(
                    "{why}; this call ended because that permission was taken away"
                )),
                other => other,
            })?;
        Ok(())
    }

    /// Cheap: the status that ends the call if a change applied since the
    /// last look took access away.
    pub(super) fn lost_now(&mut self) -> Option<Status> {
        if !matches!(self.seen.has_changed(), Ok(true)) {
            return None;
        }
        self.seen.borrow_and_update();
        self.wake = wake_on_change(self.seen.clone());
        self.recheck().err()
    }

    /// Ready with the status that ends the call once access is lost; while
    /// pending, the task is woken by the next change that may revoke it.
    pub(super) fn poll_lost(&mut self, cx: &mut Context<'_>) -> Poll<Status> {
        loop {
            if let Some(status) = self.lost_now() {
                return Poll::Ready(status);
            }
            if self.wake.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Woken: the next `lost_now` sees the change and re-arms.
            if !matches!(self.seen.has_changed(), Ok(true)) {
                self.wake = Box::pin(std::future::pending());
            }
        }
    }

    /// Resolves with the status that ends the call once access is lost.
    pub(super) async fn lost(&mut self) -> Status {
        std::future::poll_fn(|cx| self.poll_lost(cx)).await
    }
}
