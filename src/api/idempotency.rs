//! Idempotent retries, once for every mutating handler: a write sent with a
//! `request_id` records its answer in its own transaction; the same id with
//! the same request (same method, same bytes) within 24 hours answers that
//! record without writing again, and with another request is INVALID_ARGUMENT.

use std::future::Future;

use prost::Message;
use sha2::{Digest, Sha256};

use super::State;
use crate::domain::{Caller, Error, Result, quote};
use crate::store::{RecordedResponse, RequestKey, Store, Written};

/// The longest `request_id` accepted.
pub const MAX_REQUEST_ID_LEN: usize = 128;

fn key(
    caller: &Caller,
    method: &str,
    request: &impl Message,
    request_id: &str,
) -> Result<RequestKey> {
    crate::domain::check_text(request_id, MAX_REQUEST_ID_LEN)
        .map_err(|m| Error::invalid("request_id", m))?;
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(request.encode_to_vec());
    let digest = hash.finalize();
    Ok(RequestKey {
        environment: caller.environment,
        identity: caller.actor.identity(),
        request_id: request_id.to_owned(),
        request_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

impl State {
    /// Runs `write` (a store write not yet awaited) and answers
    /// `render(value, revision)`, honouring `request_id` (empty: none).
    pub(super) async fn write_once<T, R, F>(
        &self,
        caller: &Caller,
        method: &str,
        request: &impl Message,
        request_id: &str,
        write: F,
        render: fn(&T, u64) -> R,
    ) -> Result<R>
    where
        T: 'static,
        R: Message + Default + 'static,
        F: Future<Output = Result<Written<T>>>,
    {
        self.write_once_redacted(caller, method, request, request_id, write, render, |_| {})
            .await
    }

    /// [`State::write_once`], keeping `redact(answer)` for retries: for
    /// answers holding what must never be stored (an API key's secret).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write_once_redacted<T, R, F>(
        &self,
        caller: &Caller,
        method: &str,
        request: &impl Message,
        request_id: &str,
        write: F,
        render: fn(&T, u64) -> R,
        redact: fn(&mut R),
    ) -> Result<R>
    where
        T: 'static,
        R: Message + Default + 'static,
        F: Future<Output = Result<Written<T>>>,
    {
        if request_id.is_empty() {
            let written = self.applied(write.await?).await?;
            return Ok(render(&written.value, written.revision));
        }
        let key = key(caller, method, request, request_id)?;
        if let Some(recorded) = self.store.recorded_response(&key).await? {
            return self.replay(&key, recorded).await;
        }
        let encode = move |value: &T, revision: u64| {
            let mut answer = render(value, revision);
            redact(&mut answer);
            answer.encode_to_vec()
        };
        match Store::recording(key.clone(), encode, write).await {
            Ok(written) => {
                let written = self.applied(written).await?;
                Ok(render(&written.value, written.revision))
            }
            // A concurrent request with the same id may have won the race.
            Err(e) => match self.store.recorded_response(&key).await? {
                Some(recorded) => self.replay(&key, recorded).await,
                None => Err(e),
            },
        }
    }

    /// The recorded answer, once this instance's index has applied its revision.
    async fn replay<R: Message + Default>(
        &self,
        key: &RequestKey,
        recorded: RecordedResponse,
    ) -> Result<R> {
        if recorded.request_sha256 != key.request_sha256 {
            return Err(Error::invalid(
                "request_id",
                format!(
                    "`{}` was used in the last 24 hours for a different request; give each new request its own request_id",
                    quote(&key.request_id)
                ),
            ));
        }
        if self.engine.applied_revision() < recorded.revision {
            self.feed.catch_up().await?;
        }
        R::decode(recorded.response.as_slice())
            .map_err(|_| Error::Internal("a recorded response does not decode".into()))
    }
}
