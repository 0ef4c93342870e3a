//! The no-op AuthorizationService: the same proto, answers of the same shape,
//! no work. It measures the ceiling tonic itself sets on this machine.
//!
//! Every answer is a copy of one template — allowed, GRANTED, with a `granted_by`
//! and a reason padded so that the encoded answer (without its correlation id)
//! is as long as rbacd's average answer — with the request's correlation id.
//! The other RPCs are not part of the benchmark and are refused.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use prost::Message;
use rbacd::proto::v1::{self as pb, authorization_service_server::AuthorizationService};
use tonic::{Request, Response, Status, Streaming};

/// The no-op server.
pub struct Noop {
    template: pb::CheckResponse,
    /// Answer CheckStream from a spawned task through a bounded queue, as rbacd
    /// did before `fd4051b`, instead of mapping the request stream (a diagnostic).
    spawned_stream: bool,
}

const REASON: &str = "GRANTED: assignment 0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b gives role `Role12` \
(0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c) at node `node:123` (0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d), \
whose `Service3:Resource:Action4` matches `Service3:Resource:Action4`";

impl Noop {
    /// Answers encoded in `response_bytes` bytes without the correlation id (0: the reason above).
    pub fn new(response_bytes: usize, spawned_stream: bool) -> Self {
        let mut template = pb::CheckResponse {
            correlation_id: String::new(),
            allowed: true,
            revision: 6,
            reason: REASON.to_owned(),
            error: None,
            reason_code: pb::DecisionReason::Granted.into(),
            granted_by: Some(pb::Grant {
                assignment_id: "0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
                role_id: "0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c".into(),
                role_name: "Role12".into(),
                node_id: "0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d".into(),
                node_key: "node:123".into(),
                matched_permission: "Service3:Resource:Action4".into(),
            }),
        };
        if response_bytes > 0 {
            // Shorten or lengthen the reason until the size matches (the length prefix may shift by one).
            let mut reason: String = REASON.chars().cycle().take(REASON.len() * 4).collect();
            template.reason = String::new();
            let base = template.encoded_len();
            let wanted = response_bytes.saturating_sub(base + 3).max(8);
            reason.truncate(wanted);
            template.reason = reason;
            while template.encoded_len() > response_bytes && template.reason.len() > 8 {
                template.reason.pop();
            }
        }
        Self {
            template,
            spawned_stream,
        }
    }

    /// The encoded size of an answer without its correlation id.
    pub fn response_bytes(&self) -> usize {
        self.template.encoded_len()
    }

    fn answer(&self, request: pb::CheckRequest) -> pb::CheckResponse {
        let mut answer = self.template.clone();
        answer.correlation_id = request.correlation_id;
        answer
    }
}

type CheckStream = Pin<Box<dyn Stream<Item = Result<pb::CheckResponse, Status>> + Send>>;

fn refused<T>() -> Result<T, Status> {
    Err(Status::failed_precondition("no-op benchmark server"))
}

#[tonic::async_trait]
impl AuthorizationService for Noop {
    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        Ok(Response::new(self.answer(request.into_inner())))
    }

    async fn batch_check(
        &self,
        request: Request<pb::BatchCheckRequest>,
    ) -> Result<Response<pb::BatchCheckResponse>, Status> {
        let results = request
            .into_inner()
            .checks
            .into_iter()
            .map(|c| self.answer(c))
            .collect();
        Ok(Response::new(pb::BatchCheckResponse { results }))
    }

    type CheckStreamStream = CheckStream;

    async fn check_stream(
        &self,
        request: Request<Streaming<pb::CheckRequest>>,
    ) -> Result<Response<Self::CheckStreamStream>, Status> {
        let template = self.template.clone();
        if self.spawned_stream {
            let mut inbound = request.into_inner();
            let (tx, rx) = tokio::sync::mpsc::channel(256);
            tokio::spawn(async move {
                while let Some(item) = inbound.next().await {
                    let reply = item.map(|req| {
                        let mut answer = template.clone();
                        answer.correlation_id = req.correlation_id;
                        answer
                    });
                    if tx.send(reply).await.is_err() {
                        break;
                    }
                }
            });
            return Ok(Response::new(Box::pin(
                tokio_stream::wrappers::ReceiverStream::new(rx),
            )));
        }
        // Answered as the requests are read: no task, no queue (the leanest tonic can do).
        let answers = request.into_inner().map(move |item| {
            item.map(|req| {
                let mut answer = template.clone();
                answer.correlation_id = req.correlation_id;
                answer
            })
        });
        Ok(Response::new(Box::pin(answers)))
    }

    async fn list_permissions(
        &self,
        _: Request<pb::ListPermissionsRequest>,
    ) -> Result<Response<pb::ListPermissionsResponse>, Status> {
        refused()
    }

    async fn lookup_nodes(
        &self,
        _: Request<pb::LookupNodesRequest>,
    ) -> Result<Response<pb::LookupNodesResponse>, Status> {
        refused()
    }

    async fn lookup_identities(
        &self,
        _: Request<pb::LookupIdentitiesRequest>,
    ) -> Result<Response<pb::LookupIdentitiesResponse>, Status> {
        refused()
    }
}
