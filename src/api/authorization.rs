//! AuthorizationService: every answer comes from the in-memory index.

use std::{pin::Pin, sync::atomic::Ordering::Relaxed, time::Duration};

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Code, Request, Response, Status, Streaming};

use super::{Context, parse, parse::Violations, scope};
use crate::domain::{
    EnvironmentId, Error, IdentityRef, MAX_BATCH_ITEMS, NodeRef, Permission, Result, Timestamp,
    builtin, paging,
};
use crate::engine::{Decision, Denial, Reason};
use crate::proto::v1::{self as pb, authorization_service_server::AuthorizationService};

/// Responses a CheckStream buffers for a client that reads slowly; past it,
/// the server stops reading the client's requests.
const STREAM_BUFFER: usize = 256;

/// Serves AuthorizationService.
pub struct AuthorizationApi(pub Context);

/// A parsed check.
struct Query {
    identity: IdentityRef,
    permission: Permission,
    node: NodeRef,
    at: Option<Timestamp>,
    min_revision: u64,
}

fn parse_check(req: &pb::CheckRequest) -> Result<Query> {
    let mut v = Violations::default();
    let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
    let permission = v.check("permission", Permission::parse(&req.permission));
    let node = v.check("node", parse::node_ref(req.node.as_ref()));
    let at = v.check("at", parse::timestamp(req.at.as_ref()));
    let query = (|| {
        Some(Query {
            identity: identity?,
            permission: permission?,
            node: node?,
            at: at?,
            min_revision: req.min_revision,
        })
    })();
    v.finish(query)
}

fn reason_code(reason: Reason) -> pb::DecisionReason {
    match reason {
        Reason::Granted => pb::DecisionReason::Granted,
        Reason::NoMatchingAssignment => pb::DecisionReason::NoMatchingAssignment,
        Reason::IdentityNotActive => pb::DecisionReason::IdentityNotActive,
        Reason::UnknownIdentity => pb::DecisionReason::UnknownIdentity,
        Reason::UnknownNode => pb::DecisionReason::UnknownNode,
    }
}

fn explain(query: &Query, decision: &Decision) -> String {
    match (&decision.granted_by, decision.reason) {
        (Some(g), _) => format!(
            "GRANTED: assignment {} gives role `{}` ({}) at node `{}` ({}), whose `{}` matches `{}`",
            g.assignment_id,
            g.role_name,
            g.role_id,
            g.node_key,
            g.node_id,
            g.pattern,
            query.permission
        ),
        (None, Reason::NoMatchingAssignment) => format!(
            "NO_MATCHING_ASSIGNMENT: no assignment of the {} on the {} or its ancestors grants `{}` at that time",
            query.identity, query.node, query.permission
        ),
        (None, Reason::IdentityNotActive) => format!(
            "IDENTITY_NOT_ACTIVE: the {} is invited or disabled, and only ACTIVE identities are allowed anything",
            query.identity
        ),
        (None, Reason::UnknownIdentity) => format!(
            "UNKNOWN_IDENTITY: no {} in this environment",
            query.identity
        ),
        (None, Reason::UnknownNode | Reason::Granted) => {
            format!("UNKNOWN_NODE: no {} in this environment", query.node)
        }
    }
}

fn render(correlation_id: String, query: &Query, decision: &Decision) -> pb::CheckResponse {
    pb::CheckResponse {
        correlation_id,
        allowed: decision.allowed,
        revision: decision.revision,
        reason: explain(query, decision),
        error: None,
        reason_code: reason_code(decision.reason).into(),
        granted_by: decision.granted_by.as_ref().map(|g| pb::Grant {
            assignment_id: g.assignment_id.to_string(),
            role_id: g.role_id.to_string(),
            role_name: g.role_name.to_string(),
            node_id: g.node_id.to_string(),
            node_key: g.node_key.to_string(),
            matched_permission: g.pattern.to_string(),
        }),
    }
}

/// A failed item of a batch or stream: its own error, the rest go on.
fn item_error(correlation_id: String, error: Error) -> pb::CheckResponse {
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

fn item_details(status: &Status) -> Vec<prost_types::Any> {
    use prost::Message;
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| {
            let wire = tonic_types::pb::BadRequest {
                field_violations: bad
                    .field_violations
                    .into_iter()
                    .map(|v| tonic_types::pb::bad_request::FieldViolation {
                        field: v.field,
                        description: v.description,
                        ..Default::default()
                    })
                    .collect(),
            };
            prost_types::Any {
                type_url: "type.googleapis.com/google.rpc.BadRequest".into(),
                value: wire.encode_to_vec(),
            }
        })
        .into_iter()
        .collect()
}

impl Context {
    /// Waits, bounded, until this instance has applied `revision`.
    async fn reach(&self, revision: u64) -> Result<()> {
        self.reach_within(revision, self.min_revision_timeout).await
    }

    /// Waits up to `wait` until this instance has applied `revision`.
    async fn reach_within(&self, revision: u64, wait: Duration) -> Result<()> {
        if revision == 0 || self.follower.engine().applied_revision() >= revision {
            return Ok(());
        }
        if self
            .follower
            .engine()
            .wait_for_revision(revision, wait)
            .await
        {
            Ok(())
        } else {
            Err(Error::Unavailable(format!(
                "this instance has applied revision {} and revision {revision} did not arrive within {:?}; retry, or ask another instance",
                self.follower.engine().applied_revision(),
                self.min_revision_timeout
            )))
        }
    }

    /// Decides a check after waiting up to `wait` for its `min_revision`.
    async fn decide(&self, env: EnvironmentId, query: &Query, wait: Duration) -> Result<Decision> {
        self.reach_within(query.min_revision, wait).await?;
        let at = query.at.unwrap_or_else(Timestamp::now);
        let decision =
            self.follower
                .engine()
                .check(env, &query.identity, &query.permission, &query.node, at);
        self.metrics.checked(decision.allowed);
        Ok(decision)
    }

    /// One item of a batch or stream: a decision, or the item's own error.
    async fn answer(
        &self,
        env: EnvironmentId,
        req: pb::CheckRequest,
        wait: Duration,
    ) -> pb::CheckResponse {
        let query = match parse_check(&req) {
            Ok(q) => q,
            Err(e) => {
                self.metrics.checks_malformed.fetch_add(1, Relaxed);
                return item_error(req.correlation_id, e);
            }
        };
        match self.decide(env, &query, wait).await {
            Ok(decision) => render(req.correlation_id, &query, &decision),
            Err(e) => item_error(req.correlation_id, e),
        }
    }
}

fn not_found(denial: Denial, identity: Option<&IdentityRef>, node: &NodeRef) -> Error {
    match (denial, identity) {
        (Denial::UnknownIdentity, Some(who)) => {
            Error::NotFound(format!("no {who} in this environment"))
        }
        _ => Error::NotFound(format!("no {node} in this environment")),
    }
}

type CheckStream =
    Pin<Box<dyn Stream<Item = std::result::Result<pb::CheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AuthorizationService for AuthorizationApi {
    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> std::result::Result<Response<pb::CheckResponse>, Status> {
        let scope = scope(&request)?;
        self.0.authorize_at_root(&scope, &builtin::check())?;
        let req = request.into_inner();
        let query = parse_check(&req)?;
        let decision = self
            .0
            .decide(scope.environment_id, &query, self.0.min_revision_timeout)
            .await?;
        Ok(Response::new(render(req.correlation_id, &query, &decision)))
    }

    async fn batch_check(
        &self,
        request: Request<pb::BatchCheckRequest>,
    ) -> std::result::Result<Response<pb::BatchCheckResponse>, Status> {
        let scope = scope(&request)?;
        self.0.authorize_at_root(&scope, &builtin::check())?;
        let checks = request.into_inner().checks;
        if checks.is_empty() || checks.len() > MAX_BATCH_ITEMS {
            return Err(Error::invalid(
                "checks",
                format!("has {} items; give 1 to {MAX_BATCH_ITEMS}", checks.len()),
            )
            .into());
        }
        // One bounded wait for the whole batch; items still behind after it
        // get UNAVAILABLE at once instead of waiting again, one by one.
        let newest = checks.iter().map(|c| c.min_revision).max().unwrap_or(0);
        let _ = self.0.reach(newest).await;
        let mut results = Vec::with_capacity(checks.len());
        for check in checks {
            results.push(
                self.0
                    .answer(scope.environment_id, check, Duration::ZERO)
                    .await,
            );
        }
        Ok(Response::new(pb::BatchCheckResponse { results }))
    }

    type CheckStreamStream = CheckStream;

    async fn check_stream(
        &self,
        request: Request<Streaming<pb::CheckRequest>>,
    ) -> std::result::Result<Response<Self::CheckStreamStream>, Status> {
        let scope = scope(&request)?;
        self.0.authorize_at_root(&scope, &builtin::check())?;
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let context = self.0.clone();
        let mut draining = self.0.draining.clone();
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    next = inbound.next() => next,
                    _ = draining.wait_for(|d| *d) => break,
                };
                let reply = match next {
                    None => break,
                    Some(Ok(req)) => Ok(context
                        .answer(scope.environment_id, req, context.min_revision_timeout)
                        .await),
                    // A broken client stream ends the call; there is no one to tell.
                    Some(Err(status)) if status.code() == Code::Cancelled => break,
                    Some(Err(status)) => Err(status),
                };
                let stop = reply.is_err();
                if tx.send(reply).await.is_err() || stop {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn list_permissions(
        &self,
        request: Request<pb::ListPermissionsRequest>,
    ) -> std::result::Result<Response<pb::ListPermissionsResponse>, Status> {
        let scope = scope(&request)?;
        self.0.authorize_at_root(&scope, &builtin::check())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
        let node = v.check("node", parse::optional_node_ref(req.node.as_ref()));
        let at = v.check("at", parse::timestamp(req.at.as_ref()));
        let (identity, (node, at)) = v.finish(identity.zip(node.zip(at)))?;
        self.0.reach(req.min_revision).await?;
        let node = node.unwrap_or_else(NodeRef::root);
        let engine = self.0.follower.engine();
        let revision = engine.applied_revision();
        let held = engine
            .list_permissions(
                scope.environment_id,
                &identity,
                &node,
                at.unwrap_or_else(Timestamp::now),
            )
            .map_err(|d| not_found(d, Some(&identity), &node))?;
        Ok(Response::new(pb::ListPermissionsResponse {
            permissions: held.iter().map(|p| p.to_string()).collect(),
            revision,
        }))
    }

    async fn lookup_nodes(
        &self,
        request: Request<pb::LookupNodesRequest>,
    ) -> std::result::Result<Response<pb::LookupNodesResponse>, Status> {
        let scope = scope(&request)?;
        self.0.authorize_at_root(&scope, &builtin::check())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
        let permission = v.check("permission", Permission::parse(&req.permission));
        let root = v.check("root", parse::optional_node_ref(req.root.as_ref()));
        let at = v.check("at", parse::timestamp(req.at.as_ref()));
        let page = v.nested_page(req.page_size, &req.page_token);
        let ((identity, permission), ((root, at), page)) =
            v.finish(identity.zip(permission).zip(root.zip(at).zip(page)))?;
        self.0.reach(req.min_revision).await?;
        let root = root.unwrap_or_else(NodeRef::root);
        let engine = self.0.follower.engine();
        let revision = engine.applied_revision();
        let found = engine
            .lookup_nodes(
                scope.environment_id,
                &identity,
                &permission,
                &root,
                at.unwrap_or_else(Timestamp::now),
                page.after.map(Into::into),
                page.size as usize,
            )
            .map_err(|d| not_found(d, Some(&identity), &root))?;
        Ok(Response::new(pb::LookupNodesResponse {
            nodes: found
                .items
                .iter()
                .map(|n| pb::NodeSummary {
                    id: n.id.to_string(),
                    key: n.key.to_string(),
                })
                .collect(),
            next_page_token: found
                .next_after
                .map(|id| paging::encode_token(id.0))
                .unwrap_or_default(),
            revision,
        }))
    }

    async fn lookup_identities(
        &self,
        request: Request<pb::LookupIdentitiesRequest>,
    ) -> std::result::Result<Response<pb::LookupIdentitiesResponse>, Status> {
        let scope = scope(&request)?;
        self.0.authorize_at_root(&scope, &builtin::check())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let permission = v.check("permission", Permission::parse(&req.permission));
        let node = v.check("node", parse::node_ref(req.node.as_ref()));
        let at = v.check("at", parse::timestamp(req.at.as_ref()));
        let page = v.nested_page(req.page_size, &req.page_token);
        let ((permission, node), (at, page)) = v.finish(permission.zip(node).zip(at.zip(page)))?;
        self.0.reach(req.min_revision).await?;
        let engine = self.0.follower.engine();
        let revision = engine.applied_revision();
        let found = engine
            .lookup_identities(
                scope.environment_id,
                &permission,
                &node,
                at.unwrap_or_else(Timestamp::now),
                page.after.map(Into::into),
                page.size as usize,
            )
            .map_err(|d| not_found(d, None, &node))?;
        Ok(Response::new(pb::LookupIdentitiesResponse {
            identities: found
                .items
                .iter()
                .map(|i| pb::IdentitySummary {
                    id: i.id.to_string(),
                    email: i.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
                    external_id: i
                        .external_id
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            next_page_token: found
                .next_after
                .map(|id| paging::encode_token(id.0))
                .unwrap_or_default(),
            revision,
        }))
    }
}
