//! The task that owns the CheckStream: sends checks under its own correlation
//! ids, hands answers back in order, and opens a new stream when one breaks.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio_stream::{StreamExt, wrappers::UnboundedReceiverStream};
use tonic::{Code, Status, Streaming, codegen::Bytes};

use super::{Job, backoff::Backoff};
use crate::{
    Authed,
    pb::{CheckRequest, CheckResponse, authorization_service_client::AuthorizationServiceClient},
};

pub(super) struct Driver {
    pub(super) client: AuthorizationServiceClient<Authed>,
    pub(super) jobs: mpsc::UnboundedReceiver<Job>,
    pub(super) backoff: Backoff,
    pub(super) streams_opened: Arc<AtomicU64>,
}

/// A check sent on the stream, waiting for its answer.
struct Sent {
    id: u64,
    caller_id: String,
    reply: oneshot::Sender<Result<CheckResponse, Status>>,
    _slot: OwnedSemaphorePermit,
}

enum Ended {
    /// Every checker is gone and every check answered.
    Closed,
    /// The stream failed; its unanswered checks are to fail with this.
    Broken { status: Status, answered: bool },
}

impl Driver {
    pub(super) async fn run(mut self) {
        let mut next_id = 0u64;
        loop {
            if self.jobs.is_closed() && self.jobs.is_empty() {
                return;
            }
            let (requests, outbound) = mpsc::unbounded_channel();
            let opened = self
                .client
                .check_stream(UnboundedReceiverStream::new(outbound))
                .await;
            let ended = match opened {
                Ok(answers) => {
                    self.streams_opened.fetch_add(1, Ordering::Relaxed);
                    let mut sent = VecDeque::new();
                    let ended = self
                        .session(answers.into_inner(), requests, &mut sent, &mut next_id)
                        .await;
                    if let Ended::Broken { status, .. } = &ended {
                        let why = format!(
                            "the check stream broke before this check was answered ({}: {}); retry it",
                            status.code(),
                            status.message()
                        );
                        for check in sent.drain(..) {
                            let _ = check.reply.send(Err(Status::unavailable(why.clone())));
                        }
                    }
                    ended
                }
                Err(status) => {
                    // A refused key or permission will not fix itself by waiting:
                    // the checks queued now learn why; later ones retry.
                    if status.code() != Code::Unavailable {
                        while let Ok(job) = self.jobs.try_recv() {
                            let _ = job.reply.send(Err(status.clone()));
                        }
                    }
                    Ended::Broken {
                        status,
                        answered: false,
                    }
                }
            };
            match ended {
                Ended::Closed => return,
                Ended::Broken { answered, .. } => {
                    if answered {
                        self.backoff.reset();
                    }
                    tokio::time::sleep(self.backoff.next_wait()).await;
                }
            }
        }
    }

    /// Runs one stream until it breaks, or until every checker is gone and
    /// every check sent on it is answered.
    async fn session(
        &mut self,
        mut answers: Streaming<CheckResponse>,
        requests: mpsc::UnboundedSender<CheckRequest>,
        sent: &mut VecDeque<Sent>,
        next_id: &mut u64,
    ) -> Ended {
        let mut requests = Some(requests);
        let mut answered = false;
        let broken = |status, answered| Ended::Broken { status, answered };
        loop {
            tokio::select! {
                // Answers first: each one frees a slot of the window.
                biased;
                answer = answers.next() => match answer {
                    Some(Ok(answer)) => {
                        let Some(check) = sent.pop_front() else {
                            return broken(Status::internal("an answer to no check"), answered);
                        };
                        if answer.correlation_id.parse::<u64>() != Ok(check.id) {
                            let status = Status::internal(format!(
                                "answer `{}` out of order: expected `{}`",
                                answer.correlation_id, check.id
                            ));
                            sent.push_front(check);
                            return broken(status, answered);
                        }
                        answered = true;
                        let _ = check.reply.send(outcome(answer, check.caller_id));
                        if requests.is_none() && sent.is_empty() {
                            return Ended::Closed;
                        }
                    }
                    Some(Err(status)) => return broken(status, answered),
                    None if requests.is_none() && sent.is_empty() => return Ended::Closed,
                    None => {
                        let status = Status::unavailable("the server ended the check stream");
                        return broken(status, answered);
                    }
                },
                job = self.jobs.recv(), if requests.is_some() => match job {
                    Some(Job { mut request, reply, slot }) => {
                        if reply.is_closed() {
                            continue; // the caller stopped waiting before it was sent
                        }
                        let id = *next_id;
                        *next_id += 1;
                        let caller_id = std::mem::replace(&mut request.correlation_id, id.to_string());
                        sent.push_back(Sent { id, caller_id, reply, _slot: slot });
                        let out = requests.as_ref().expect("guarded by the branch condition");
                        if out.send(request).is_err() {
                            let status = Status::unavailable("the check stream stopped taking checks");
                            return broken(status, answered);
                        }
                    }
                    None => {
                        // Every checker is gone: end the request side, finish the answers.
                        requests = None;
                        if sent.is_empty() {
                            return Ended::Closed;
                        }
                    }
                },
            }
        }
    }
}

/// The caller's answer: the decision under its own correlation id, or the
/// item's own error as a status, as unary Check would have returned it.
fn outcome(mut answer: CheckResponse, caller_id: String) -> Result<CheckResponse, Status> {
    match answer.error.take() {
        None => {
            answer.correlation_id = caller_id;
            Ok(answer)
        }
        Some(error) => {
            let code = Code::from_i32(error.code);
            let message = error.message.clone();
            // The whole google.rpc.Status goes in the details, as on the wire,
            // so `tonic_types::StatusExt` finds its field violations.
            let details = Bytes::from(error.encode_to_vec());
            Err(Status::with_details(code, message, details))
        }
    }
}
