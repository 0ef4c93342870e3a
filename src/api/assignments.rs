//! AssignmentService.

use tonic::{Request, Response, Status};

use super::{State, assignments_bulk, caller, enums, grants, parse, parse::Violations, render};
use crate::domain::{
    AssignmentId, AssignmentState, Caller, Error, MAX_BATCH_ITEMS, NodeRef, PageRequest, Result,
    RoleRef, builtin,
};
use crate::proto::v1::{self as pb, assignment_service_server::AssignmentService};
use crate::store::{AssignmentFilter, AssignmentSelector, NewAssignment};

/// Serves AssignmentService.
pub struct AssignmentApi {
    state: State,
}

impl AssignmentApi {
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

/// Refuses handing out `role` at `node` unless the caller may: every path that
/// grants a role (create, batch, SetRoles, CreateIdentity and InviteIdentity
/// with assignments, a window change) goes through here, so the granting rule
/// has one place to live.
pub(super) async fn authorize_grant(
    state: &State,
    caller: &Caller,
    role: &RoleRef,
    node: &NodeRef,
) -> Result<()> {
    grants::authorize(state, caller, role, node).await.map(drop)
}

pub(super) fn new_assignment(
    v: &mut Violations,
    req: &pb::CreateAssignmentRequest,
) -> Option<NewAssignment> {
    let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
    let role = v.check("role", parse::role_ref(req.role.as_ref()));
    let node = v.check("node", parse::node_ref(req.node.as_ref()));
    let (effective_from, effective_to) =
        parse::window(v, req.effective_from.as_ref(), req.effective_to.as_ref())?;
    Some(NewAssignment {
        identity: identity?,
        role: role?,
        node: node?,
        effective_from,
        effective_to,
    })
}

/// What an assignment outside the caller's read reach answers: the words the
/// store uses for one that does not exist.
fn missing(id: AssignmentId) -> Error {
    Error::NotFound(format!("no assignment with id {id} in this environment"))
}

fn filter(req: &pb::ListAssignmentsRequest) -> Result<AssignmentFilter> {
    let mut v = Violations::default();
    let identity = v.check(
        "identity",
        parse::optional_identity_ref(req.identity.as_ref()),
    );
    let node = v.check("node", parse::optional_node_ref(req.node.as_ref()));
    let role = v.check("role", parse::optional_role_ref(req.role.as_ref()));
    let state = v.check(
        "state",
        enums::filter::<pb::AssignmentState, AssignmentState>(req.state, "AssignmentState"),
    );
    if req.include_inherited && node.as_ref().is_some_and(Option::is_none) {
        v.add(
            "include_inherited",
            "needs `node`: inherited assignments are those on the node's ancestors",
        );
    }
    let filter = (|| {
        Some(AssignmentFilter {
            identity: identity?,
            node: node?,
            role: role?,
            state: state?,
            include_inherited: req.include_inherited,
        })
    })();
    v.finish(filter)
}

fn selector(req: &pb::DeleteAssignmentRequest) -> Result<AssignmentSelector> {
    let triple_given = req.identity.is_some() || req.role.is_some() || req.node.is_some();
    if !req.id.is_empty() {
        if triple_given {
            return Err(crate::domain::Error::invalid(
                "id",
                "give either `id`, or `identity`, `role` and `node`, not both",
            ));
        }
        return Ok(AssignmentSelector::Id(
            parse::field("id", parse::uuid(&req.id))?.into(),
        ));
    }
    if !triple_given {
        return Err(crate::domain::Error::invalid(
            "id",
            "is required, unless `identity`, `role` and `node` name the assignment",
        ));
    }
    let mut v = Violations::default();
    let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
    let role = v.check("role", parse::role_ref(req.role.as_ref()));
    let node = v.check("node", parse::node_ref(req.node.as_ref()));
    let triple = identity.zip(role).zip(node);
    v.finish(
        triple.map(|((identity, role), node)| AssignmentSelector::Triple {
            identity,
            role,
            node,
        }),
    )
}

#[tonic::async_trait]
impl AssignmentService for AssignmentApi {
    async fn create_assignment(
        &self,
        request: Request<pb::CreateAssignmentRequest>,
    ) -> Result<Response<pb::CreateAssignmentResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let new = new_assignment(&mut v, &req);
        let new = v.finish(new)?;
        let may_grant = grants::grant_check(&self.state, &caller, &new.node)?;
        let reply = self
            .state
            .write_once(
                &caller,
                "CreateAssignment",
                &req,
                &req.request_id,
                self.state
                    .store
                    .create_assignment_granted(caller, new, may_grant),
                |view, revision| pb::CreateAssignmentResponse {
                    assignment: render::assignments(std::slice::from_ref(view)).pop(),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn batch_create_assignments(
        &self,
        request: Request<pb::BatchCreateAssignmentsRequest>,
    ) -> Result<Response<pb::BatchCreateAssignmentsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let items = &req.assignments;
        let mut v = Violations::default();
        if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
            v.add(
                "assignments",
                format!("has {} items; give 1 to {MAX_BATCH_ITEMS}", items.len()),
            );
        }
        let mut batch = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate().take(MAX_BATCH_ITEMS) {
            let start = v.len();
            let new = new_assignment(&mut v, item);
            if !item.request_id.is_empty() {
                v.add(
                    "request_id",
                    "give `request_id` on the batch, not on its items",
                );
            }
            v.prefix_from(start, &format!("assignments[{i}]"));
            batch.extend(new);
        }
        let batch = v.finish(Some(batch))?;
        let items: Vec<_> = batch.iter().map(|item| (&item.role, &item.node)).collect();
        grants::authorize_each(&self.state, &caller, &items).await?;
        let reply = self
            .state
            .write_once(
                &caller,
                "BatchCreateAssignments",
                &req,
                &req.request_id,
                self.state.store.batch_create_assignments(caller, batch),
                |views, revision| pb::BatchCreateAssignmentsResponse {
                    assignments: render::assignments(views),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_assignment(
        &self,
        request: Request<pb::GetAssignmentRequest>,
    ) -> Result<Response<pb::GetAssignmentResponse>, Status> {
        let caller = caller(&request)?;
        let id = parse::field("id", parse::uuid(&request.get_ref().id))?;
        let view = self
            .state
            .store
            .get_assignment(caller.environment, id.into())
            .await?;
        let read = builtin::assignments_read();
        self.state
            .policy
            .authorize_on(&caller, &read, &read, view.assignment.node_id, || {
                missing(id.into())
            })?;
        Ok(Response::new(pb::GetAssignmentResponse {
            assignment: render::assignments(std::slice::from_ref(&view)).pop(),
        }))
    }

    async fn list_assignments(
        &self,
        request: Request<pb::ListAssignmentsRequest>,
    ) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.get_ref();
        let filter = filter(req)?;
        let page = PageRequest::parse(req.page_size, &req.page_token)?;
        let at = filter.node.clone().unwrap_or_else(NodeRef::root);
        let read = builtin::assignments_read();
        self.state.policy.authorize(&caller, &read, &at)?;
        let mut listed = self
            .state
            .store
            .list_assignments(caller.environment, filter, page)
            .await?;
        // Inherited ones sit on ancestors, which the caller may not read.
        let policy = &self.state.policy;
        listed
            .items
            .retain(|a| policy.may(&caller, &read, a.assignment.node_id));
        let now = crate::domain::Timestamp::now();
        let (assignments, next_page_token) = super::pages::bounded(
            self.state.page_bytes,
            &listed.items,
            listed.next_page_token,
            |v| render::assignment(v, now),
            |v| crate::domain::paging::encode_token(v.assignment.id.0),
        );
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments,
            next_page_token,
        }))
    }

    async fn delete_assignment(
        &self,
        request: Request<pb::DeleteAssignmentRequest>,
    ) -> Result<Response<pb::DeleteAssignmentResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let selector = selector(&req)?;
        let write = builtin::assignments_write();
        match &selector {
            AssignmentSelector::Id(id) => {
                let view = self
                    .state
                    .store
                    .get_assignment(caller.environment, *id)
                    .await?;
                self.state.policy.authorize_on(
                    &caller,
                    &write,
                    &builtin::assignments_read(),
                    view.assignment.node_id,
                    || missing(*id),
                )?;
            }
            AssignmentSelector::Triple { node, .. } => {
                self.state.policy.authorize(&caller, &write, node)?;
            }
        }
        let reply = self
            .state
            .write_once(
                &caller,
                "DeleteAssignment",
                &req,
                &req.request_id,
                self.state.store.delete_assignment(caller, selector),
                |view, revision| pb::DeleteAssignmentResponse {
                    assignment: render::assignments(std::slice::from_ref(view)).pop(),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn set_roles(
        &self,
        request: Request<pb::SetRolesRequest>,
    ) -> Result<Response<pb::SetRolesResponse>, Status> {
        assignments_bulk::set_roles(&self.state, request).await
    }

    async fn update_assignment(
        &self,
        request: Request<pb::UpdateAssignmentRequest>,
    ) -> Result<Response<pb::UpdateAssignmentResponse>, Status> {
        assignments_bulk::update_assignment(&self.state, request).await
    }

    async fn delete_assignments(
        &self,
        request: Request<pb::DeleteAssignmentsRequest>,
    ) -> Result<Response<pb::DeleteAssignmentsResponse>, Status> {
        assignments_bulk::delete_assignments(&self.state, request).await
    }
}
