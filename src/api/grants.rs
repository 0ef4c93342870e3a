//! The granting rule as handlers ask it: looks up the role being handed out,
//! then lets `access` decide (`Policy::authorize_grant`).

use super::State;
use crate::domain::{Caller, Error, NodeId, NodeRef, Result, RoleRef};

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
    state
        .policy
        .authorize(caller, &crate::domain::builtin::assignments_write(), node)?;
    let role = state.store.get_role(caller.environment, role).await?;
    state
        .policy
        .authorize_grant(caller, &role.permissions, node)
}

/// [`authorize`] for each `(role, node)` of a batch, in order; a refusal
/// names its item, `assignments[i]`.
pub(super) async fn authorize_each(
    state: &State,
    caller: &Caller,
    items: &[(&RoleRef, &NodeRef)],
) -> Result<()> {
    for (i, (role, node)) in items.iter().enumerate() {
        authorize(state, caller, role, node)
            .await
            .map_err(|e| match e {
                Error::NotFound(m) => Error::NotFound(format!("assignments[{i}]: {m}")),
                Error::PermissionDenied(m) => {
                    Error::PermissionDenied(format!("assignments[{i}]: {m}"))
                }
                other => other,
            })?;
    }
    Ok(())
}
