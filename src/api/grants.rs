//! The granting rule as handlers ask it: looks up the role being handed out,
//! then lets `access` decide (`Policy::authorize_grant`).

use std::{collections::HashMap, sync::Arc};

use super::State;
use crate::access::Policy;
use crate::domain::{Caller, Error, NodeId, NodeRef, Result, Role, RoleRef};
use crate::store::GrantCheck;

/// Refuses granting `role` at `node` unless the caller holds
/// `Rbacd:Assignments:Write` and every permission of the role there;
/// NOT_FOUND for a role or node that does not exist. Returns the node's id.
pub(super) async fn authorize(
    state: &State,
    caller: &Caller,
    role: &RoleRef,
    node: &NodeRef,
) -> Result<NodeId> {
    // Write permission first, so that no role is looked up for a caller who
    // may not grant at the node at all.
    may_assign_at(state, caller, node)?;
    let role = state.store.get_role(caller.environment, role).await?;
    may_grant(&state.policy, caller, &role, node)
}

/// [`authorize`] for the store to finish: refuses at once a caller who may
/// not assign at `node`; the rest of the rule is asked by the store, with the
/// role as stored in the transaction that grants it.
pub(super) fn grant_check(state: &State, caller: &Caller, node: &NodeRef) -> Result<GrantCheck> {
    may_assign_at(state, caller, node)?;
    let (policy, caller, node) = (state.policy.clone(), *caller, node.clone());
    Ok(Arc::new(move |role: &Role| {
        may_grant(&policy, &caller, role, &node).map(drop)
    }))
}

fn may_assign_at(state: &State, caller: &Caller, node: &NodeRef) -> Result<()> {
    state
        .policy
        .authorize(caller, &crate::domain::builtin::assignments_write(), node)
}

fn may_grant(policy: &Policy, caller: &Caller, role: &Role, node: &NodeRef) -> Result<NodeId> {
    policy.authorize_grant(caller, &role.permissions, node)
}

/// [`authorize`] for each `(role, node)` of a batch, in order; a refusal
/// names its item, `assignments[i]`.
pub(super) async fn authorize_each(
    state: &State,
    caller: &Caller,
    items: &[(&RoleRef, &NodeRef)],
) -> Result<()> {
    // A batch names few roles many times: each is read once.
    let mut roles: HashMap<&RoleRef, Role> = HashMap::new();
    for (i, (role_ref, node)) in items.iter().enumerate() {
        let authorized = match (may_assign_at(state, caller, node), roles.get(role_ref)) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(role)) => may_grant(&state.policy, caller, role, node),
            (Ok(_), None) => match state.store.get_role(caller.environment, role_ref).await {
                Ok(role) => {
                    let authorized = may_grant(&state.policy, caller, &role, node);
                    roles.insert(role_ref, role);
                    authorized
                }
                Err(e) => Err(e),
            },
        };
        authorized.map_err(|e| match e {
            Error::NotFound(m) => Error::NotFound(format!("assignments[{i}]: {m}")),
            Error::PermissionDenied(m) => Error::PermissionDenied(format!("assignments[{i}]: {m}")),
            other => other,
        })?;
    }
    Ok(())
}
