//! AuthorizationService: every answer comes from the in-memory index.

mod answer;
mod explain;
mod lookups;
mod query;
mod request;
mod routes;
mod stream;
mod wire;

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::{State, caller, parse, parse::Violations, revocation::Grant};
use crate::domain::{
    Error, IdentityRef, MAX_BATCH_ITEMS, NodeRef, Permission, Timestamp, builtin, paging,
};
use crate::engine::Denial;
use crate::proto::v1::{self as pb, authorization_service_server::AuthorizationService};

use answer::Tally;
use explain::Explained;
use query::{parse_check, take_check};
pub use routes::AuthorizationRoutes;
use wire::{WireAnswer, WireBatch};

/// What a check request must pass before it is answered.
pub(super) fn validate_check(req: &pb::CheckRequest) -> crate::domain::Result<()> {
    parse_check(req).map(drop)
}

/// Serves AuthorizationService.
pub struct AuthorizationApi {
    state: State,
}

impl AuthorizationApi {
    pub fn new(state: State) -> Self {
        Self { state }
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

/// Check, BatchCheck and CheckStream as served ([`AuthorizationRoutes`]): the
/// answers are written from the decisions ([`WireAnswer`]).
impl AuthorizationApi {
    async fn check_wire(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> std::result::Result<Response<WireAnswer>, Status> {
        let caller = caller(&request)?;
        self.state.may_check(&caller)?;
        let mut req = request.into_inner();
        let query = take_check(&mut req)?;
        self.state.reach(query.min_revision).await?;
        let decision = self.state.decide(caller.environment, &query);
        self.state.metrics.checked(decision.allowed);
        Ok(Response::new(WireAnswer::Decided(Explained::new(
            req.correlation_id,
            query,
            decision,
        ))))
    }

    async fn batch_check_wire(
        &self,
        request: Request<pb::BatchCheckRequest>,
    ) -> std::result::Result<Response<WireBatch>, Status> {
        let caller = caller(&request)?;
        self.state.may_check(&caller)?;
        let mut grant = Grant::of(&self.state, &request, caller, builtin::check())?;
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
        // Access lost while waiting ends the call before anything is answered.
        tokio::select! {
            _ = self.state.reach(newest) => {}
            lost = grant.lost() => return Err(lost),
        }
        let mut tally = Tally::default();
        // One read of the index for the whole batch.
        let results = self.state.engine.checking(caller.environment, |checker| {
            checks
                .into_iter()
                .map(|check| self.state.answer_in_batch(checker, check, &mut tally))
                .collect()
        });
        tally.flush(&self.state.metrics);
        Ok(Response::new(WireBatch { results }))
    }

    fn check_stream_wire(
        &self,
        request: Request<Streaming<pb::CheckRequest>>,
    ) -> std::result::Result<Response<stream::Answers>, Status> {
        let caller = caller(&request)?;
        self.state.may_check(&caller)?;
        let grant = Grant::of(&self.state, &request, caller, builtin::check())?;
        Ok(Response::new(stream::Answers::new(
            request.into_inner(),
            self.state.clone(),
            caller.environment,
            grant,
        )))
    }
}

/// The generated service's view: the same answers as messages. The server
/// routes Check, BatchCheck and CheckStream to [`AuthorizationRoutes`] instead.
#[tonic::async_trait]
impl AuthorizationService for AuthorizationApi {
    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> std::result::Result<Response<pb::CheckResponse>, Status> {
        let answer = self.check_wire(request).await?;
        Ok(answer.map(WireAnswer::into_message))
    }

    async fn batch_check(
        &self,
        request: Request<pb::BatchCheckRequest>,
    ) -> std::result::Result<Response<pb::BatchCheckResponse>, Status> {
        let answer = self.batch_check_wire(request).await?;
        Ok(answer.map(WireBatch::into_message))
    }

    type CheckStreamStream = CheckStream;

    async fn check_stream(
        &self,
        request: Request<Streaming<pb::CheckRequest>>,
    ) -> std::result::Result<Response<Self::CheckStreamStream>, Status> {
        use futures::StreamExt;
        let answers = self.check_stream_wire(request)?;
        Ok(answers.map(|answers| -> CheckStream {
            Box::pin(answers.map(|a| a.map(WireAnswer::into_message)))
        }))
    }

    async fn list_permissions(
        &self,
        request: Request<pb::ListPermissionsRequest>,
    ) -> std::result::Result<Response<pb::ListPermissionsResponse>, Status> {
        let caller = caller(&request)?;
        self.state.may_check(&caller)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
        let node = v.check("node", parse::optional_node_ref(req.node.as_ref()));
        let at = v.check("at", parse::timestamp(req.at.as_ref()));
        let (identity, (node, at)) = v.finish(identity.zip(node.zip(at)))?;
        self.state.reach(req.min_revision).await?;
        let node = node.unwrap_or_else(NodeRef::root);
        let engine = &self.state.engine;
        let revision = engine.applied_revision();
        let held = engine
            .list_permissions(
                caller.environment,
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
        let caller = caller(&request)?;
        self.state.may_check(&caller)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
        let permission = v.check("permission", Permission::parse(&req.permission));
        let root = v.check("root", parse::optional_node_ref(req.root.as_ref()));
        let at = v.check("at", parse::timestamp(req.at.as_ref()));
        let page = v.nested(paging::TreePageRequest::parse(
            req.page_size,
            &req.page_token,
        ));
        let ((identity, permission), ((root, at), page)) =
            v.finish(identity.zip(permission).zip(root.zip(at).zip(page)))?;
        self.state.reach(req.min_revision).await?;
        let root = root.unwrap_or_else(NodeRef::root);
        let engine = &self.state.engine;
        let revision = engine.applied_revision();
        let found = engine
            .lookup_nodes(
                caller.environment,
                &identity,
                &permission,
                &root,
                at.unwrap_or_else(Timestamp::now),
                page.after.map(lookups::node_cursor),
                page.size as usize,
            )
            .map_err(|e| lookups::lookup_error(e, &identity, &root))?;
        Ok(Response::new(lookups::nodes_page(
            self.state.page_bytes,
            found,
            revision,
        )))
    }

    async fn lookup_identities(
        &self,
        request: Request<pb::LookupIdentitiesRequest>,
    ) -> std::result::Result<Response<pb::LookupIdentitiesResponse>, Status> {
        let caller = caller(&request)?;
        self.state.may_check(&caller)?;
        // It hands out emails and external ids: an identity read, too.
        self.state
            .policy
            .authorize_at_root(&caller, &crate::domain::builtin::identities_read())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let permission = v.check("permission", Permission::parse(&req.permission));
        let node = v.check("node", parse::node_ref(req.node.as_ref()));
        let at = v.check("at", parse::timestamp(req.at.as_ref()));
        let page = v.nested_page(req.page_size, &req.page_token);
        let ((permission, node), (at, page)) = v.finish(permission.zip(node).zip(at.zip(page)))?;
        self.state.reach(req.min_revision).await?;
        let engine = &self.state.engine;
        let revision = engine.applied_revision();
        let found = engine
            .lookup_identities(
                caller.environment,
                &permission,
                &node,
                at.unwrap_or_else(Timestamp::now),
                page.after.map(Into::into),
                page.size as usize,
            )
            .map_err(|d| not_found(d, None, &node))?;
        Ok(Response::new(lookups::identities_page(
            self.state.page_bytes,
            found,
            revision,
        )))
    }
}
