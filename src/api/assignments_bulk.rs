//! AssignmentService's SetRoles, UpdateAssignment and DeleteAssignments.

use tonic::{Request, Response, Status};

use super::{State, assignments::authorize_grant, caller, parse, parse::Violations, render};
use crate::domain::{MAX_BATCH_ITEMS, NodeRef, Result, RoleRef, builtin};
use crate::proto::v1 as pb;
use crate::store::{AssignmentMatch, WindowUpdate};

fn set_roles_request(
    req: &pb::SetRolesRequest,
) -> Result<(crate::domain::IdentityRef, NodeRef, Vec<RoleRef>)> {
    let mut v = Violations::default();
    let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
    let node = v.check("node", parse::node_ref(req.node.as_ref()));
    if req.roles.len() > MAX_BATCH_ITEMS {
        v.add(
            "roles",
            format!(
                "has {} items; at most {MAX_BATCH_ITEMS} are allowed",
                req.roles.len()
            ),
        );
    }
    let mut roles = Vec::with_capacity(req.roles.len());
    for (i, role) in req.roles.iter().enumerate().take(MAX_BATCH_ITEMS) {
        roles.extend(v.check(&format!("roles[{i}]"), parse::role_ref(Some(role))));
    }
    v.finish(identity.zip(node).map(|(i, n)| (i, n, roles)))
}

pub(super) async fn set_roles(
    state: &State,
    request: Request<pb::SetRolesRequest>,
) -> Result<Response<pb::SetRolesResponse>, Status> {
    let caller = caller(&request)?;
    let req = request.into_inner();
    let (identity, node, roles) = set_roles_request(&req)?;
    // Removing needs the write permission at the node; granting, the grant rule.
    state
        .policy
        .authorize(&caller, &builtin::assignments_write(), &node)?;
    for role in &roles {
        authorize_grant(state, &caller, role, &node).await?;
    }
    let reply = state
        .write_once(
            &caller,
            "SetRoles",
            &req,
            &req.request_id,
            state.store.set_roles(caller, &identity, &node, &roles),
            |set, revision| pb::SetRolesResponse {
                created: render::assignments(&set.created),
                deleted: render::assignments(&set.deleted),
                assignments: render::assignments(&set.assignments),
                revision,
            },
        )
        .await?;
    Ok(Response::new(reply))
}

fn window_update(req: &pb::UpdateAssignmentRequest) -> Result<WindowUpdate> {
    let mut v = Violations::default();
    let from = v.check(
        "effective_from",
        parse::timestamp(req.effective_from.as_ref()),
    );
    let to = v.check("effective_to", parse::timestamp(req.effective_to.as_ref()));
    let mut update = WindowUpdate::default();
    match req.update_mask.as_ref().filter(|m| !m.paths.is_empty()) {
        None => {
            update.effective_from = from;
            update.effective_to = to;
            if let (Some(Some(f)), Some(Some(t))) = (from, to)
                && t <= f
            {
                v.add("effective_to", "must be after `effective_from`");
            }
        }
        Some(mask) => {
            for path in &mask.paths {
                match path.as_str() {
                    "effective_from" => update.effective_from = from,
                    "effective_to" => update.effective_to = to,
                    other => v.add(
                        "update_mask",
                        format!(
                            "`{}` cannot be changed; give `effective_from` and/or `effective_to`",
                            crate::domain::quote(other)
                        ),
                    ),
                }
            }
        }
    }
    v.finish(Some(update))
}

pub(super) async fn update_assignment(
    state: &State,
    request: Request<pb::UpdateAssignmentRequest>,
) -> Result<Response<pb::UpdateAssignmentResponse>, Status> {
    let caller = caller(&request)?;
    let req = request.into_inner();
    let id = parse::field("id", parse::uuid(&req.id));
    let update = window_update(&req);
    let (id, update) = (id?, update?);
    let view = state
        .store
        .get_assignment(caller.environment, id.into())
        .await?;
    // A new window hands the role out anew, so it is a grant.
    authorize_grant(
        state,
        &caller,
        &RoleRef::Id(view.assignment.role_id),
        &NodeRef::Id(view.assignment.node_id),
    )
    .await?;
    let reply = state
        .write_once(
            &caller,
            "UpdateAssignment",
            &req,
            &req.request_id,
            state.store.update_assignment(caller, id.into(), update),
            |view, revision| pb::UpdateAssignmentResponse {
                assignment: render::assignments(std::slice::from_ref(view)).pop(),
                revision,
            },
        )
        .await?;
    Ok(Response::new(reply))
}

fn assignment_match(req: &pb::DeleteAssignmentsRequest) -> Result<(AssignmentMatch, u32)> {
    let mut v = Violations::default();
    let identity = v.check(
        "identity",
        parse::optional_identity_ref(req.identity.as_ref()),
    );
    let role = v.check("role", parse::optional_role_ref(req.role.as_ref()));
    let node = v.check("node", parse::optional_node_ref(req.node.as_ref()));
    if req.identity.is_none() && req.role.is_none() && req.node.is_none() {
        v.add(
            "",
            "give at least one of `identity`, `role`, `node`: deleting every assignment is not a filter",
        );
    }
    if req.include_descendants && req.node.is_none() {
        v.add(
            "include_descendants",
            "needs `node`: descendants are those of the node",
        );
    }
    let limit = match req.limit {
        0 => Some(MAX_BATCH_ITEMS as u32),
        n if n < 0 || n as usize > MAX_BATCH_ITEMS => {
            v.add(
                "limit",
                format!("is {n}; give 1 to {MAX_BATCH_ITEMS}, or 0 for {MAX_BATCH_ITEMS}"),
            );
            None
        }
        n => Some(n as u32),
    };
    let filter = (|| {
        Some(AssignmentMatch {
            identity: identity?,
            role: role?,
            node: node?,
            include_descendants: req.include_descendants,
        })
    })();
    v.finish(filter.zip(limit))
}

pub(super) async fn delete_assignments(
    state: &State,
    request: Request<pb::DeleteAssignmentsRequest>,
) -> Result<Response<pb::DeleteAssignmentsResponse>, Status> {
    let caller = caller(&request)?;
    let req = request.into_inner();
    let (filter, limit) = assignment_match(&req)?;
    // All or nothing: one match the caller may not write refuses the whole call.
    let write_permission = builtin::assignments_write();
    let authorize = |node| {
        if state.policy.may(&caller, &write_permission, node) {
            Ok(())
        } else {
            Err(crate::domain::Error::PermissionDenied(format!(
                "the filter matches an assignment at node {node}, where the caller lacks `{write_permission}`; nothing was deleted"
            )))
        }
    };
    let write =
        state
            .store
            .delete_assignments(caller, &filter, limit, req.validate_only, authorize);
    let reply = state
        .write_once(
            &caller,
            "DeleteAssignments",
            &req,
            &req.request_id,
            write,
            |count, revision| pb::DeleteAssignmentsResponse {
                deleted_count: *count,
                revision,
            },
        )
        .await?;
    Ok(Response::new(reply))
}
